// Runs the claimed probes concurrently (bounded), each cut off by its own timeout: a probe that
// ignores its abort signal is still answered 'down (timeout)' at its deadline, so one hanging
// upstream never holds up the run beyond the longest timeout.
import type { Sql } from '../db.ts';
import { httpProbe } from './http.ts';
import { postgresProbe } from './postgres.ts';
import type { ClaimedService, ProbeContext, ProbeOutcome, ProbeResult } from './types.ts';

export interface RunOptions {
  concurrency?: number;
  sql?: Sql;
  resolve?: (host: string) => Promise<string[]>;
}

/** Names of the Vault secrets the services reference (probe headers). */
export function secretNamesOfServices(services: ClaimedService[]): string[] {
  const names = new Set<string>();
  for (const s of services) {
    const sh = s.config?.secret_headers;
    if (sh && typeof sh === 'object') for (const v of Object.values(sh as Record<string, unknown>)) if (typeof v === 'string') names.add(v);
  }
  return [...names];
}

function heartbeatOutcome(svc: ClaimedService): ProbeOutcome {
  const v = svc.heartbeat;
  if (!v || v.status === 'pending') return null;
  const { status, reason, ...rest } = v;
  return { status: status as 'healthy' | 'degraded' | 'down', latency_ms: null, details: { ...rest, reason: reason ?? String(status) } };
}

async function probeOne(svc: ClaimedService, secrets: Record<string, string>, opts: RunOptions): Promise<ProbeResult | null> {
  const checkedAt = new Date().toISOString();
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<ProbeOutcome>((resolve) => {
    timer = setTimeout(() => {
      ctl.abort(new Error('timeout'));
      // grace for the probe to report its own timeout, then answer for it
      setTimeout(() => resolve({ status: 'down', latency_ms: svc.timeout_ms, details: { reason: `timeout after ${svc.timeout_ms} ms`, timeout: true } }), 25);
    }, svc.timeout_ms);
  });
  const own: Record<string, string> = {};
  const sh = svc.config?.secret_headers;
  if (sh && typeof sh === 'object') for (const v of Object.values(sh as Record<string, unknown>)) if (typeof v === 'string' && v in secrets) own[v] = secrets[v];
  const ctx: ProbeContext = { signal: ctl.signal, secrets: own, resolve: opts.resolve };
  let run: Promise<ProbeOutcome>;
  switch (svc.kind) {
    case 'http': run = httpProbe(svc, ctx); break;
    case 'postgres':
      run = opts.sql ? postgresProbe(svc, ctx, opts.sql) : Promise.resolve({ status: 'down', latency_ms: null, details: { reason: 'no database connection' } });
      break;
    case 'heartbeat': run = Promise.resolve(heartbeatOutcome(svc)); break;
    default: run = Promise.resolve({ status: 'down', latency_ms: null, details: { reason: `unknown kind ${String((svc as { kind: unknown }).kind)}` } });
  }
  let outcome: ProbeOutcome;
  try {
    outcome = await Promise.race([run.catch((e): ProbeOutcome => ({ status: 'down', latency_ms: null, details: { reason: `probe error: ${(e as Error).message}` } })), deadline]);
  } finally {
    clearTimeout(timer);
  }
  if (!outcome) return null;
  return { service_id: svc.id, status: outcome.status, latency_ms: outcome.latency_ms, checked_at: checkedAt, details: { kind: svc.kind, ...outcome.details } };
}

/** Probes every service, at most `concurrency` at a time; results in the input order (pending heartbeats omitted). */
export async function runProbes(services: ClaimedService[], secrets: Record<string, string>, opts: RunOptions = {}): Promise<ProbeResult[]> {
  const limit = Math.max(1, Math.min(opts.concurrency ?? 50, 500));
  const out: (ProbeResult | null)[] = new Array(services.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < services.length) {
      const i = next++;
      out[i] = await probeOne(services[i], secrets, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, services.length) }, worker));
  return out.filter((r): r is ProbeResult => r !== null);
}
