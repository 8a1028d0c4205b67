// End to end on the real stack: an upstream fails -> after the threshold exactly one alert, one
// e-mail (SMTP sink) and one signed webhook; restored -> one recovery and its notices. A hanging
// upstream is recorded down (timeout) in the same run as healthy ones. A failing channel is retried
// and then marked failed. SSRF targets are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import { startFakeUpstreams, startSmtpSink, startWebhookSink, type FakeUpstreams, type SmtpSink, type WebhookSink } from '../../stack/sinks/index.ts';
import { verifyWebhookSignature } from '../../supabase/functions/_shared/notify/webhook/index.ts';
import { pg, waitFor } from '../support/stack.ts';
import { cleanup, deliverNow, pauseProbeCron, prepare, runProbes, uniq, upsertVaultSecret } from './helpers.ts';

const P = uniq('e2e');
const HOOK_SECRET = `whsec_${Math.random().toString(36).slice(2)}`;
let sql: postgres.Sql;
let smtp: SmtpSink;
let hook: WebhookSink;
let up: FakeUpstreams;
let resumeCron: () => Promise<void>;

beforeAll(async () => {
  sql = await pg();
  await prepare(sql);
  resumeCron = await pauseProbeCron(sql);
  [smtp, hook, up] = await Promise.all([
    startSmtpSink({ smtpPort: 0, httpPort: 0 }),
    startWebhookSink({ port: 0 }),
    startFakeUpstreams({ port: 0, ocrDelayMs: 50, services: { hang: { mode: 'hang' } } }),
  ]);
  await upsertVaultSecret(sql, `${P}-hook-secret`, HOOK_SECRET);
  const svc = (name: string, path: string, extra: Record<string, unknown> = {}) => ({
    name: `${P}-${name}`, kind: 'http', target: `${up.url}/${path}/health`, allow_private_targets: true,
    failure_threshold: 3, recovery_threshold: 2, timeout_ms: 3000, interval_seconds: 3600, config: {}, ...extra,
  });
  for (const s of [
    svc('llm', 'llm', { config: { json_assertions: [{ path: 'status', equals: 'ok' }] } }),
    svc('ocr', 'ocr'),
    svc('storage', 'storage'),
    svc('hang', 'hang', { timeout_ms: 1500 }),
  ]) {
    await sql`insert into public.monitored_services ${sql(s as never, 'name', 'kind', 'target', 'allow_private_targets', 'failure_threshold', 'recovery_threshold', 'timeout_ms', 'interval_seconds', 'config')}`;
  }
  const only = sql.array([`${P}-llm`]);
  await sql`insert into public.notification_channels (name, kind, config, services, backoff_seconds) values
    (${`${P}-mail`}, 'email', ${sql.json({ host: '127.0.0.1', port: smtp.smtpPort, secure: false, from: 'Vigil <vigil@example.com>', to: ['oncall@example.com'] })}, ${only}::text[], 0),
    (${`${P}-hook`}, 'webhook', ${sql.json({ url: `${hook.url}/vigil`, secret_name: `${P}-hook-secret` })}, ${only}::text[], 0)`;
});

afterAll(async () => {
  await cleanup(sql, P).catch(() => {});
  await sql`delete from vault.secrets where name = ${`${P}-hook-secret`}`.catch(() => {});
  await resumeCron?.();
  await Promise.all([smtp?.close(), hook?.close(), up?.close()]);
  await sql?.end();
});

const names = (...n: string[]) => n.map((x) => `${P}-${x}`);

describe('probe run -> alert -> notifications -> recovery', () => {
  it('probes the services and records checks', async () => {
    const run = await runProbes({ services: names('llm', 'ocr', 'storage'), force: true });
    expect(run.probed).toBe(3);
    expect(run.results.every((r) => r.status === 'healthy')).toBe(true);
    const [{ n }] = await sql`select count(*)::int as n from public.service_health_checks where service_name = any(${sql.array(names('llm', 'ocr', 'storage'))})`;
    expect(n).toBe(3);
  });

  it('a failing upstream opens exactly one alert after the threshold, one e-mail and one signed webhook', async () => {
    up.setMode('llm', 'fail');
    for (let i = 0; i < 2; i++) await runProbes({ services: names('llm'), force: true });
    let [{ n }] = await sql`select count(*)::int as n from public.alert_events where service_name = ${`${P}-llm`}`;
    expect(n).toBe(0);
    for (let i = 0; i < 3; i++) await runProbes({ services: names('llm'), force: true });
    const alerts = await sql`select * from public.alert_events where service_name = ${`${P}-llm`}`;
    expect(alerts).toHaveLength(1);
    expect(alerts[0].alert_type).toBe('service_down');
    expect(alerts[0].status).toBe('active');
    expect(alerts[0].details.reason).toMatch(/HTTP 503/);

    await waitFor(async () => smtp.messages().length >= 1 && hook.requests().length >= 1);
    await deliverNow();
    expect(smtp.messages()).toHaveLength(1);
    expect(smtp.messages()[0].subject).toContain(`DOWN: ${P}-llm`);
    const reqs = hook.requests();
    expect(reqs).toHaveLength(1);
    const r = reqs[0];
    expect(await verifyWebhookSignature(HOOK_SECRET, r.headers['x-vigil-timestamp'], r.body, r.headers['x-vigil-signature'])).toBe(true);
    expect(await verifyWebhookSignature('wrong-secret', r.headers['x-vigil-timestamp'], r.body, r.headers['x-vigil-signature'])).toBe(false);
    const payload = JSON.parse(r.body);
    expect(payload).toMatchObject({ kind: 'opened', service_name: `${P}-llm`, alert_type: 'service_down', alert_id: alerts[0].id });
    [{ n }] = await sql`select count(*)::int as n from public.notification_outbox o join public.alert_events a on a.id = o.alert_id
                        where a.service_name = ${`${P}-llm`} and o.status = 'sent'`;
    expect(n).toBe(2);
  });

  it('recovery: one recovery event, one resolve e-mail and webhook', async () => {
    up.setMode('llm', 'ok');
    await runProbes({ services: names('llm'), force: true });
    const [{ status }] = await sql`select status from public.alert_events where service_name = ${`${P}-llm`} and alert_type = 'service_down'`;
    expect(status).toBe('active');
    await runProbes({ services: names('llm'), force: true });
    const rows = await sql`select alert_type, status from public.alert_events where service_name = ${`${P}-llm`} order by created_at`;
    expect(rows.map((x) => `${x.alert_type}/${x.status}`)).toEqual(['service_down/resolved', 'recovery/resolved']);
    await waitFor(async () => smtp.messages().length >= 2 && hook.requests().length >= 2);
    await deliverNow();
    expect(smtp.messages()).toHaveLength(2);
    expect(smtp.messages()[1].subject).toContain(`RECOVERED: ${P}-llm`);
    expect(hook.requests()).toHaveLength(2);
    expect(JSON.parse(hook.requests()[1].body).kind).toBe('resolved');
  });

  it('a hanging upstream is recorded down with a timeout while the others are recorded normally in the same run', async () => {
    const run = await runProbes({ services: names('ocr', 'storage', 'hang'), force: true });
    expect(run.probed).toBe(3);
    const checks = await sql`
      select service_name, status, probe_details from public.service_health_checks
      where service_name = any(${sql.array(names('ocr', 'storage', 'hang'))}) and created_at >= (select started_at from vigil_private.probe_runs where id = ${run.run_id})
      order by service_name`;
    const by = Object.fromEntries(checks.map((c) => [c.service_name, c]));
    expect(by[`${P}-hang`].status).toBe('down');
    expect(by[`${P}-hang`].probe_details.timeout).toBe(true);
    expect(by[`${P}-hang`].probe_details.reason).toMatch(/timeout after 1500 ms/);
    expect(by[`${P}-ocr`].status).toBe('healthy');
    expect(by[`${P}-storage`].status).toBe('healthy');
  });

  it('a failing channel is retried and then marked failed', async () => {
    await sql`insert into public.monitored_services (name, kind, target, allow_private_targets, failure_threshold, interval_seconds)
              values (${`${P}-flaky`}, 'http', ${`${up.url}/flaky/health`}, true, 1, 3600)`;
    await sql`insert into public.notification_channels (name, kind, config, services, max_attempts, backoff_seconds)
              values (${`${P}-badhook`}, 'webhook', ${sql.json({ url: `${hook.url}/bad` })}, ${sql.array([`${P}-flaky`])}::text[], 3, 0)`;
    hook.failNext(500, 100);
    up.setMode('flaky', 'fail');
    await runProbes({ services: names('flaky'), force: true }); // opens the alert, first attempt fails
    await waitFor(async () => {
      await deliverNow();
      const [o] = await sql`select o.status, o.attempts from public.notification_outbox o join public.notification_channels c on c.id = o.channel_id
                            where c.name = ${`${P}-badhook`}`;
      return o?.status === 'failed' ? o : null;
    });
    hook.failNext(0);
    const [o] = await sql`select o.id, o.status, o.attempts, o.last_error from public.notification_outbox o join public.notification_channels c on c.id = o.channel_id
                          where c.name = ${`${P}-badhook`}`;
    expect(o).toMatchObject({ status: 'failed', attempts: 3 });
    expect(o.last_error).toMatch(/500/);
    const attempts = await sql`select ok, retryable, http_status from public.notification_attempts where outbox_id = ${o.id} order by attempt`;
    expect(attempts.map((a) => [a.ok, a.http_status])).toEqual([[false, 500], [false, 500], [false, 500]]);
    expect(hook.requests().filter((r) => r.path === '/bad')).toHaveLength(3);
  });

  it('SSRF targets are refused (configuration and run time)', async () => {
    await expect(sql`insert into public.monitored_services (name, kind, target, allow_private_targets)
                     values (${`${P}-meta`}, 'http', 'http://169.254.169.254/latest/meta-data/', true)`).rejects.toThrow(/link-local|metadata/);
    // a host spelling the database cannot see through (hex IPv4): refused when probed
    await sql`insert into public.monitored_services (name, kind, target, interval_seconds) values (${`${P}-hexlo`}, 'http', 'http://0x7f000001:9/', 3600)`;
    const run = await runProbes({ services: names('hexlo'), force: true });
    expect(run.results[0].status).toBe('down');
    expect(run.results[0].reason).toMatch(/target refused: .*private or loopback/);
  });
});
