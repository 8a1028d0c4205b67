import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeServer, unusedPort, type FakeServer } from './fake-server.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

function run(cmd: string, args: string[], killAfterMs: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number; killed: boolean }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, killed });
    });
  });
}

let server: FakeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('runtime behaviour', () => {
  it("timers do not keep a Node process alive while the endpoint is unreachable", async () => {
    const port = await unusedPort();
    const r = await run(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/node-exit-child.ts'), String(port)], 15_000);
    expect(r.killed, `child did not exit on its own:\n${r.stderr}`).toBe(false);
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    // It really tried (and failed) to send, so a retry was pending when the process exited.
    expect(stats.retried).toBeGreaterThanOrEqual(1);
    expect(stats.queued + stats.inFlight).toBe(51);
  });

  it('works under Deno 2: records, flushes and the server receives the events', async () => {
    server = await startFakeServer();
    const r = await run('npx', ['deno', 'run', '--allow-net', '--allow-env', '--allow-read', path.join(here, 'deno-child.ts'), server.url], 90_000);
    expect(r.killed, `deno child hung:\n${r.stderr}`).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.flushed).toEqual({ sent: 25, unsent: 0, timedOut: false });
    expect(out.stats).toMatchObject({ sent: 25, dropped: 0, queued: 0 });
    const events = server.requests.flatMap((q) => q.events);
    expect(events).toHaveLength(25);
    expect(server.requests.every((q) => q.headers.authorization === 'Bearer deno-key' && q.headers.apikey === 'deno-key')).toBe(true);
    expect(events.filter((e) => e.stage === 'deno').map((e) => e.duration_ms)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(events.at(-1)).toMatchObject({ event_type: 'heartbeat', runtime: 'deno' });
    expect(new Set(events.map((e) => e.id)).size).toBe(25);
    for (const e of events) expect(String(e.id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
  });
});
