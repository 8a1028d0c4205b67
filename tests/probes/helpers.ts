// Shared setup for the probe / alert / notification tests: own sinks on ephemeral ports, services
// and channels under a unique prefix, removed afterwards.
import type postgres from 'postgres';
import { ensureProbeSecrets, upsertVaultSecret } from '../../stack/vault-secrets.ts';
import { stack } from '../support/stack.ts';

export const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 8)}`;

export async function prepare(sql: postgres.Sql) {
  const s = await stack();
  await ensureProbeSecrets(sql, s);
  return s;
}

export { upsertVaultSecret };

/** pg_cron's probe job off while a test drives runs by hand (restored by the returned function). */
export async function pauseProbeCron(sql: postgres.Sql): Promise<() => Promise<void>> {
  const [job] = await sql<{ jobid: number; active: boolean }[]>`select jobid, active from cron.job where jobname = 'vigil-probe-dispatch'`;
  if (!job) return async () => {};
  await sql`select cron.alter_job(${job.jobid}::bigint, active := false)`;
  return async () => { await sql`select cron.alter_job(${job.jobid}::bigint, active := ${job.active})`; };
}

export async function runProbes(body: Record<string, unknown>) {
  const s = await stack();
  const res = await fetch(`${s.functions_url}/health-probe`, {
    method: 'POST',
    headers: { apikey: s.secret_key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`health-probe ${res.status}: ${JSON.stringify(json)}`);
  return json as { run_id: string; probed: number; results: { service: string; status: string; reason: string; latency_ms: number }[]; recorded: Record<string, unknown>; delivery: Record<string, number> | null };
}

export async function deliverNow() {
  const s = await stack();
  const res = await fetch(`${s.functions_url}/deliver-notifications`, { method: 'POST', headers: { apikey: s.secret_key } });
  return { status: res.status, body: await res.json() as Record<string, number> };
}

export async function cleanup(sql: postgres.Sql, prefix: string) {
  const like = `${prefix}%`;
  await sql`delete from public.notification_channels where name like ${like}`;
  await sql`delete from public.alert_events where service_name like ${like}`;
  await sql`delete from public.maintenance_windows where service_name like ${like}`;
  await sql`delete from public.alert_silences where service_name like ${like}`;
  await sql`delete from public.service_health_checks where service_name like ${like}`;
  await sql`delete from public.monitored_services where name like ${like}`;
}
