// No loss: while the SDK sends a steady stream, Postgres is restarted (and, separately, the
// functions server); after flush() the table holds every event exactly once and the SDK's stats
// agree. Outages are detected through the SDK's own stats, never by timing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigil, type Vigil } from '../../packages/sdk/src/index.ts';
import { paths, pgBin } from '../../stack/config.ts';
import { asPgUser } from '../../stack/os.ts';
import { restartFunctions } from '../../stack/stack.ts';
import { pg, stack, waitFor } from '../support/stack.ts';
import { uuid, type Sql } from './helpers.ts';

let sql: Sql;
beforeAll(async () => { sql = await pg(); });
afterAll(async () => { await sql?.end(); });

function pgCtl(action: 'stop' | 'start'): Promise<void> {
  const args = ['-D', paths.pgData, '-w', '-t', '60'];
  if (action === 'stop') args.push('-m', 'fast', 'stop');
  else args.push('-l', join(paths.state, 'pg', 'postgres.log'), 'start');
  const [cmd, argv] = asPgUser(join(pgBin, 'pg_ctl'), args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${action} exited ${code}`))));
  });
}

/** Records events every few ms until stopped; returns how many were recorded. */
function steadyStream(vigil: Vigil, user: string) {
  let n = 0;
  const stages = ['upload', 'ocr', 'llm', 'summary'];
  const timer = setInterval(() => {
    for (let i = 0; i < 5; i++) {
      const failed = n % 17 === 0;
      vigil.recordProcessingEvent({
        document_id: uuid(), user_id: user, event_type: failed ? 'failed' : 'completed',
        duration_ms: 100 + (n % 1000), stage: stages[n % stages.length], error_message: failed ? 'upstream timeout' : undefined,
      });
      n++;
    }
  }, 5);
  return { stop: () => { clearInterval(timer); return n; }, count: () => n };
}

async function runScenario(outage: (vigil: Vigil, streamCount: () => number) => Promise<void>) {
  const s = await stack();
  const user = uuid();
  const vigil = createVigil({
    url: s.api_url, key: s.secret_key,
    maxBatchEvents: 50, flushIntervalMs: 20, backoffBaseMs: 50, backoffMaxMs: 500, maxRetryAfterMs: 500, requestTimeoutMs: 5000,
  });
  const stream = steadyStream(vigil, user);
  // Some traffic before the outage, some during, some after.
  await waitFor(async () => vigil.stats().sent >= 200, 30_000, 20);
  await outage(vigil, stream.count);
  const atRecovery = stream.count();
  await waitFor(async () => stream.count() >= atRecovery + 300, 30_000, 20);
  const recorded = stream.stop();
  const flushed = await vigil.flush({ timeoutMs: 60_000 });
  const stats = vigil.stats();
  await vigil.shutdown({ timeoutMs: 5_000 });

  const [row] = await sql`select count(*)::int as n, count(distinct id)::int as ids
                          from public.document_processing_events where user_id = ${user}`;
  return { recorded, flushed, stats, rows: row!.n as number, ids: row!.ids as number };
}

describe('no event lost across restarts', () => {
  it('Postgres restarted while the SDK streams: every event stored exactly once', async () => {
    const r = await runScenario(async (vigil, count) => {
      await pgCtl('stop');
      // The SDK has seen the database outage (503s put back to retry), and more events were
      // recorded meanwhile, before Postgres comes back.
      await waitFor(async () => vigil.stats().retried > 0, 30_000, 20);
      const during = count();
      await waitFor(async () => count() >= during + 200, 30_000, 20);
      await pgCtl('start');
    });
    expect(r.flushed).toMatchObject({ unsent: 0, timedOut: false });
    expect(r.stats).toMatchObject({ queued: 0, inFlight: 0, rejected: 0, dropped: 0 });
    expect(r.stats.retried).toBeGreaterThan(0);
    console.log('[no-loss] Postgres restart:', JSON.stringify({ recorded: r.recorded, ...r.stats }));
    expect(r.rows).toBe(r.recorded);
    expect(r.ids).toBe(r.recorded);
    expect(r.stats.sent + r.stats.duplicates).toBe(r.recorded);
  });

  it('functions server restarted while the SDK streams: every event stored exactly once', async () => {
    let retriedBefore = 0;
    const r = await runScenario(async (vigil) => {
      retriedBefore = vigil.stats().retried;
      await restartFunctions();
    });
    // Requests failed while the server was down and were retried.
    expect(r.stats.retried).toBeGreaterThan(retriedBefore);
    expect(r.flushed).toMatchObject({ unsent: 0, timedOut: false });
    expect(r.stats).toMatchObject({ queued: 0, inFlight: 0, rejected: 0, dropped: 0 });
    expect(r.rows).toBe(r.recorded);
    expect(r.ids).toBe(r.recorded);
    expect(r.stats.sent + r.stats.duplicates).toBe(r.recorded);
    console.log('[no-loss] functions restart:', JSON.stringify({ recorded: r.recorded, ...r.stats }));
  });
});
