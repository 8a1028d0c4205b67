// `stack up | down | reset | status`: the local Supabase-like stack.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { apiUrl, dbUrl, functionsUrl, paths, ports, superuser } from './config.ts';
import { demoUsers, loadOrCreateKeys, signJwt, userClaims } from './keys.ts';
import { ensureProbeSecrets } from './vault-secrets.ts';
import { adminSql, clusterExists, initCluster, isRunning, startCluster, stopCluster, waitForDb } from './postgres.ts';

const say = (msg: string) => console.error(`[vigil] ${msg}`);
const servicesPid = () => join(paths.run, 'services.pid');

function pidAlive(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8'));
  try { process.kill(pid, 0); return pid; } catch { return null; }
}

async function applyBootstrap(): Promise<void> {
  const sql = adminSql();
  try {
    for (const f of readdirSync(paths.bootstrap).filter((f) => f.endsWith('.sql')).sort()) {
      await sql.unsafe(readFileSync(join(paths.bootstrap, f), 'utf8'));
    }
  } finally {
    await sql.end();
  }
}

export function supabaseCli(args: string[], opts: { quiet?: boolean } = {}): { status: number; output: string } {
  const r = spawnSync(join(paths.bin, 'supabase'), [...args, '--workdir', paths.root], {
    encoding: 'utf8', env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (!opts.quiet) process.stderr.write(output);
  return { status: r.status ?? 1, output };
}

function pushMigrations(): void {
  const r = supabaseCli(['db', 'push', `--remote=${dbUrl('postgres')}`, '--yes'], { quiet: true });
  if (r.status !== 0) throw new Error(`supabase db push failed:\n${r.output}`);
  const applied = r.output.match(/Applying migration [^\n]+/g) ?? [];
  say(applied.length ? applied.join('\n[vigil] ') : 'migrations up to date');
}

/** What a hosted project has after sign-ups and its one-time setup: the demo users, Vault entries. */
async function ensureProjectSetup(): Promise<void> {
  const k = await loadOrCreateKeys();
  const sql = adminSql();
  try {
    for (const u of demoUsers(k)) {
      const app = u.admin ? { provider: 'email', providers: ['email'], role: 'admin' } : { provider: 'email', providers: ['email'] };
      await sql`insert into auth.users (id, email, raw_app_meta_data) values (${u.id}, ${u.email}, ${sql.json(app)})
                on conflict (id) do nothing`;
    }
    // The project URL and secret key pg_cron sends to edge functions (see README, hosted setup).
    await ensureProbeSecrets(sql, { api_url: apiUrl(), secret_key: k.secretKey });
  } finally {
    await sql.end();
  }
}

async function waitForFunctions(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`${apiUrl()}/_health`);
      if (r.ok) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`functions server did not answer on :${ports.api}; see ${join(paths.logs, 'functions.log')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startServices(): void {
  if (pidAlive(servicesPid())) return;
  const out = openSync(join(paths.logs, 'services.log'), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', join(paths.root, 'stack', 'services.ts')], {
    detached: true, stdio: ['ignore', out, out], cwd: paths.root, env: process.env,
  });
  child.unref();
}

export async function up(): Promise<void> {
  for (const d of [paths.state, paths.logs, paths.run]) mkdirSync(d, { recursive: true });
  await loadOrCreateKeys();
  if (!clusterExists()) { say('creating PostgreSQL 15 cluster'); initCluster(); }
  if (!isRunning()) { say(`starting PostgreSQL on 127.0.0.1:${ports.db}`); startCluster(); }
  await waitForDb();
  await applyBootstrap();
  pushMigrations();
  await ensureProjectSetup();
  startServices();
  await waitForFunctions();
  say(`stack up: db ${dbUrl()}  functions ${functionsUrl()}`);
}

async function stopServices(): Promise<void> {
  const pid = pidAlive(servicesPid());
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (pidAlive(servicesPid()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(servicesPid())) process.kill(pid, 'SIGKILL');
  rmSync(servicesPid(), { force: true });
}

export async function down(): Promise<void> {
  await stopServices();
  stopCluster();
  say('stack down');
}

export async function reset(): Promise<void> {
  await down();
  rmSync(join(paths.state, 'pg'), { recursive: true, force: true });
  await up();
}

export async function restartFunctions(): Promise<void> {
  const pid = pidAlive(join(paths.run, 'functions.pid'));
  if (pid) process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  await waitForFunctions();
}

export function running(): boolean {
  return isRunning() && pidAlive(servicesPid()) !== null;
}

export async function status() {
  const k = await loadOrCreateKeys();
  const users = demoUsers(k);
  const [admin, user, other] = users;
  return {
    running: running(),
    db_url: dbUrl('postgres'),
    db_superuser_url: dbUrl(superuser),
    api_url: apiUrl(),
    functions_url: functionsUrl(),
    mail_url: `http://127.0.0.1:${ports.mailUi}`,
    smtp_port: ports.smtp,
    webhook_sink_url: `http://127.0.0.1:${ports.webhookSink}`,
    upstreams_url: `http://127.0.0.1:${ports.upstreams}`,
    publishable_key: k.publishableKey,
    secret_key: k.secretKey,
    admin_user_id: admin.id,
    user_id: user.id,
    other_user_id: other.id,
    admin_jwt: await signJwt(k, userClaims(admin.id, admin.email, true)),
    user_jwt: await signJwt(k, userClaims(user.id, user.email, false)),
    other_user_jwt: await signJwt(k, userClaims(other.id, other.email, false)),
    state_dir: paths.state,
  };
}
