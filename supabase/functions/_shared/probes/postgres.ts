// The `postgres` probe kind: target 'database' (round trip + connection saturation, decided by
// vigil_private.database_health) or 'scheduler' (pg_cron alive, failed job runs, scheduled probe
// runs arriving: vigil_private.scheduler_health). service.degraded_latency_ms applies to the round trip.
import type { Sql } from '../db.ts';
import type { ClaimedService, ProbeContext, ProbeOutcome, ProbeStatus } from './types.ts';

export async function postgresProbe(svc: ClaimedService, ctx: ProbeContext, sql: Sql): Promise<ProbeOutcome> {
  const started = performance.now();
  const fn = svc.target === 'scheduler' ? 'scheduler_health' : 'database_health';
  try {
    const q = fn === 'scheduler_health'
      ? sql`select vigil_private.scheduler_health(${sql.json(svc.config as never)}) as v`
      : sql`select vigil_private.database_health(${sql.json(svc.config as never)}) as v`;
    const onAbort = () => q.cancel();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let rows;
    try {
      rows = await q;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    const latency = Math.round(performance.now() - started);
    const v = rows[0].v as Record<string, unknown> & { status: ProbeStatus; reason: string };
    let status = v.status;
    let reason = v.reason;
    if (status === 'healthy' && svc.degraded_latency_ms && latency > svc.degraded_latency_ms) {
      status = 'degraded';
      reason = `round trip ${latency} ms above ${svc.degraded_latency_ms} ms`;
    }
    return { status, latency_ms: latency, details: { ...v, status: undefined, reason, check: fn } };
  } catch (e) {
    const latency = Math.round(performance.now() - started);
    if (ctx.signal.aborted) return { status: 'down', latency_ms: latency, details: { reason: `timeout after ${svc.timeout_ms} ms`, timeout: true, check: fn } };
    return { status: 'down', latency_ms: latency, details: { reason: `query failed: ${(e as Error).message}`.slice(0, 500), check: fn } };
  }
}
