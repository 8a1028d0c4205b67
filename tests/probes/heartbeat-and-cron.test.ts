// Heartbeats (per-service token, constant-time compare, period + grace) and pg_cron firing the
// probe dispatch through the pg_net stand-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import { startFakeUpstreams, type FakeUpstreams } from '../../stack/sinks/index.ts';
import { classifyAddress, checkTarget } from '../../supabase/functions/_shared/probes/ssrf.ts';
import { pg, stack, waitFor } from '../support/stack.ts';
import { cleanup, prepare, runProbes, uniq } from './helpers.ts';

const P = uniq('hbc');
let sql: postgres.Sql;
let up: FakeUpstreams;

beforeAll(async () => {
  sql = await pg();
  await prepare(sql);
  up = await startFakeUpstreams({ port: 0 });
});
afterAll(async () => {
  await cleanup(sql, P).catch(() => {});
  await up?.close();
  await sql?.end();
});

async function ping(name: string, token: string | null, query = '') {
  const s = await stack();
  const res = await fetch(`${s.functions_url}/heartbeat/${name}${query}`, { method: 'POST', headers: token ? { 'x-vigil-token': token } : {} });
  return { status: res.status, body: await res.json() };
}

describe('heartbeat', () => {
  it('accepts only the service token and turns a missed period into down', async () => {
    const name = `${P}-job`;
    await sql`insert into public.monitored_services (name, kind, config, interval_seconds, failure_threshold)
              values (${name}, 'heartbeat', ${sql.json({ period_seconds: 60, grace_seconds: 30 })}, 60, 1)`;
    const [{ token }] = await sql`select vigil_private.rotate_heartbeat_token(${name}) as token`;
    expect((await ping(name, null)).status).toBe(401);
    expect((await ping(name, `${token}x`)).status).toBe(403);
    expect((await ping(`${P}-nope`, token)).status).toBe(403);
    expect((await ping(name, token)).status).toBe(200);

    let run = await runProbes({ services: [name], force: true });
    expect(run.results[0]).toMatchObject({ status: 'healthy' });
    await sql`update vigil_private.service_state set last_heartbeat_at = now() - interval '2 minutes'
              where service_id = (select id from public.monitored_services where name = ${name})`;
    run = await runProbes({ services: [name], force: true });
    expect(run.results[0].status).toBe('down');
    expect(run.results[0].reason).toMatch(/last ping \d+ s ago/);
    const [{ n }] = await sql`select count(*)::int as n from public.alert_events where service_name = ${name} and alert_type = 'service_down' and status = 'active'`;
    expect(n).toBe(1);
    expect((await ping(name, token, '?status=fail&message=disk%20full')).status).toBe(200);
    run = await runProbes({ services: [name], force: true });
    expect(run.results[0].reason).toMatch(/disk full/);
  });
});

describe('SSRF classification', () => {
  it('classifies addresses', () => {
    for (const a of ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '::ffff:169.254.169.254', 'fe80::1', '0.0.0.0', '::']) expect(classifyAddress(a)).toBe('blocked');
    for (const a of ['127.0.0.1', '10.0.0.1', '192.168.1.1', '172.16.0.1', '::1', 'fc00::1', '::ffff:127.0.0.1']) expect(classifyAddress(a)).toBe('private');
    for (const a of ['8.8.8.8', '2606:4700::1111']) expect(classifyAddress(a)).toBe('public');
  });
  it('checks every resolved address, not just the host name', async () => {
    const resolve = async (h: string) => (h === 'evil.example' ? ['93.184.216.34', '169.254.169.254'] : ['127.0.0.1']);
    await expect(checkTarget(new URL('http://evil.example/'), true, resolve)).rejects.toThrow(/never probed/);
    await expect(checkTarget(new URL('http://intranet.example/'), false, resolve)).rejects.toThrow(/allow_private_targets/);
    await expect(checkTarget(new URL('http://intranet.example/'), true, resolve)).resolves.toEqual(['127.0.0.1']);
    await expect(checkTarget(new URL('http://metadata.google.internal/'), true, resolve)).rejects.toThrow(/metadata/);
  });
});

describe('pg_cron', () => {
  it('fires the probe dispatch, pg_net calls health-probe, checks appear', async () => {
    const name = `${P}-cron`;
    const since = new Date();
    await sql`insert into public.monitored_services (name, kind, target, allow_private_targets, interval_seconds)
              values (${name}, 'http', ${`${up.url}/llm/health`}, true, 60)`;
    const [job] = await sql`select active from cron.job where jobname = 'vigil-probe-dispatch'`;
    expect(job.active).toBe(true);
    const check = await waitFor(async () => {
      const [row] = await sql`
        select c.status, r.trigger from public.service_health_checks c
        join vigil_private.probe_runs r on r.started_at <= c.created_at and r.finished_at >= c.created_at
        where c.service_name = ${name} and c.created_at >= ${since} and r.trigger = 'cron' limit 1`;
      return row;
    }, 80_000, 1000);
    expect(check).toMatchObject({ status: 'healthy', trigger: 'cron' });
    const [{ ok }] = await sql`select exists (select 1 from net._http_response r join vigil_private.dispatches d on d.request_id = r.id
                                               where d.function_name = 'health-probe' and r.status_code = 200 and d.created_at >= ${since}) as ok`;
    expect(ok).toBe(true);
  }, 90_000);
});
