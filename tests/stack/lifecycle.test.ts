// `stack up / status --json / up again / down` on a second, throw-away stack (its own state folder
// and ports), so the shared stack the other tests use is left alone.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const state = mkdtempSync(join(tmpdir(), 'vigil-lifecycle-'));
chmodSync(state, 0o755); // the postgres OS user must reach it

/** A port base whose eight ports are all free right now (other stacks may run on this machine). */
async function freePortBase(): Promise<number> {
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const srv = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  for (let i = 0; i < 50; i++) {
    const base = 40000 + Math.floor(Math.random() * 900) * 10;
    const checks = await Promise.all(Array.from({ length: 8 }, (_, k) => free(base + k)));
    if (checks.every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}
const base = await freePortBase();
const env = { ...process.env, VIGIL_PORT_BASE: String(base), VIGIL_STATE_DIR: state };
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'stack/cli.ts', ...args], { env, cwd: process.cwd(), timeout: 240_000 });

afterAll(async () => {
  await cli('down').catch(() => {});
  rmSync(state, { recursive: true, force: true });
});

describe('local stack lifecycle', () => {
  it('comes up from nothing, reports itself, is idempotent, and goes down', async () => {
    const first = await cli('up');
    expect(first.stderr).toMatch(/Applying migration 20261122000100_private_schema_and_settings\.sql/);

    const { stdout } = await cli('status', '--json');
    const s = JSON.parse(stdout);
    expect(s.running).toBe(true);
    expect(s.db_url).toBe(`postgresql://postgres:postgres@127.0.0.1:${base + 2}/postgres`);
    expect(s.functions_url).toBe(`http://127.0.0.1:${base + 1}/functions/v1`);
    expect(s.secret_key).toMatch(/^sb_secret_/);
    expect(s.publishable_key).toMatch(/^sb_publishable_/);
    expect(s.admin_user_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.user_id).toMatch(/^[0-9a-f-]{36}$/);

    // The JWTs are signed by the stack's key, published as the functions' SUPABASE_JWKS.
    const sql = postgres(s.db_url, { max: 1, onnotice: () => {} });
    const health = await fetch(`${s.functions_url}/health`, { headers: { apikey: s.publishable_key } });
    expect(health.status).toBe(200);
    const keys = JSON.parse((await import('node:fs')).readFileSync(join(state, 'keys.json'), 'utf8'));
    const jwks = createLocalJWKSet({ keys: [keys.publicJwk] });
    const admin = (await jwtVerify(s.admin_jwt, jwks)).payload as Record<string, any>;
    const user = (await jwtVerify(s.user_jwt, jwks)).payload as Record<string, any>;
    expect(admin.sub).toBe(s.admin_user_id);
    expect(admin.app_metadata.role).toBe('admin');
    expect(user.sub).toBe(s.user_id);
    expect(user.app_metadata.role).toBeUndefined();
    expect(user.role).toBe('authenticated');

    // The users exist, postgres is not a superuser, and the CLI's history lists every migration.
    const [{ n }] = await sql`select count(*)::int as n from auth.users where id in (${s.admin_user_id}, ${s.user_id})`;
    expect(n).toBe(2);
    const [{ rolsuper }] = await sql`select rolsuper from pg_roles where rolname = current_user`;
    expect(rolsuper).toBe(false);
    const history = await sql`select version from supabase_migrations.schema_migrations order by version`;
    const files = (await import('node:fs')).readdirSync('supabase/migrations').filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, 14)).sort();
    expect(history.map((r) => r.version)).toEqual(files);
    // pg_cron is preloaded (it only loads that way) and the migrations scheduled their jobs.
    const jobs = await sql`select jobname from cron.job where jobname like 'vigil-%' order by jobname`;
    expect(jobs.map((j) => j.jobname)).toContain('vigil-maintenance');
    await sql.end();

    // A second up changes nothing.
    const second = await cli('up');
    expect(second.stderr).not.toMatch(/Applying migration/);
    expect(second.stderr).toMatch(/migrations up to date/);
    const again = JSON.parse((await cli('status', '--json')).stdout);
    expect(again.secret_key).toBe(s.secret_key);
    expect(again.admin_user_id).toBe(s.admin_user_id);

    await cli('down');
    const after = JSON.parse((await cli('status', '--json')).stdout);
    expect(after.running).toBe(false);
    await expect(fetch(`${s.functions_url}/health`)).rejects.toThrow();
    const probe = postgres(s.db_url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    await expect(probe`select 1`).rejects.toThrow();
    await probe.end({ timeout: 1 });
  }, 300_000);

  it('npm start brings the stack up with the demo and Ctrl-C stops it cleanly', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'stack/cli.ts', 'start'], {
      env, cwd: process.cwd(), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 120_000;
    while (!out.includes('Ctrl-C stops') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(out).toContain(`http://127.0.0.1:${base + 1}/functions/v1`);
    expect(out).toContain(`postgresql://postgres:postgres@127.0.0.1:${base + 2}/postgres`);
    const s = JSON.parse((await cli('status', '--json')).stdout);
    expect(s.running).toBe(true);
    // Like a terminal's Ctrl-C: SIGINT to the whole process group.
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stack down');
    expect(JSON.parse((await cli('status', '--json')).stdout).running).toBe(false);
  }, 300_000);
});
