// `npm start` demo of the alert cycle (issue 4). Expects the stack's sinks to be running (SMTP sink
// on ports.smtp with its API on ports.mailUi, webhook sink on ports.webhookSink, fake upstreams on
// ports.upstreams). Configures demo services and channels, makes the "storage" upstream fail, runs
// probes until the alert opens and its e-mail and webhook arrive, restores it until the recovery
// notices arrive, then leaves pg_cron probing every minute and prints how to break things by hand.
import postgres from 'postgres';
import { ports } from '../config.ts';
import { ensureProbeSecrets, upsertVaultSecret } from '../vault-secrets.ts';

type Status = { db_url: string; api_url: string; functions_url: string; secret_key: string; mail_url: string; smtp_port: number };

const say = (m: string) => console.log(`[alerts demo] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startAlertDemo(status: Status): Promise<() => Promise<void>> {
  const sql = postgres(status.db_url, { max: 1, onnotice: () => {} });
  const upstreams = `http://127.0.0.1:${ports.upstreams}`;
  const hookUrl = `http://127.0.0.1:${ports.webhookSink}`;
  let stopped = false;
  await ensureProbeSecrets(sql, status);
  await upsertVaultSecret(sql, 'vigil_demo_webhook_secret', 'demo-signing-secret', 'Vigil demo: webhook signing secret');

  const services = [
    { name: 'demo-llm-api', kind: 'http', target: `${upstreams}/llm/health`, config: { json_assertions: [{ path: 'status', equals: 'ok' }] }, degraded_latency_ms: 1000 },
    { name: 'demo-ocr-api', kind: 'http', target: `${upstreams}/ocr/health`, config: {}, degraded_latency_ms: 3000 },
    { name: 'demo-storage', kind: 'http', target: `${upstreams}/storage/health`, config: {}, degraded_latency_ms: 1000 },
    { name: 'demo-database', kind: 'postgres', target: 'database', config: {}, degraded_latency_ms: 500 },
    { name: 'demo-scheduler', kind: 'postgres', target: 'scheduler', config: {}, degraded_latency_ms: null },
  ];
  for (const s of services) {
    await sql`insert into public.monitored_services (name, kind, target, config, degraded_latency_ms, allow_private_targets, timeout_ms)
              values (${s.name}, ${s.kind}, ${s.target}, ${sql.json(s.config)}, ${s.degraded_latency_ms}, true, 5000)
              on conflict (name) do update set target = excluded.target, config = excluded.config, enabled = true`;
  }
  await sql`update public.monitored_services set depends_on = '{demo-database}' where name in ('demo-storage', 'demo-scheduler')`;
  await sql`insert into public.notification_channels (name, kind, config) values
      ('demo-email', 'email', ${sql.json({ host: '127.0.0.1', port: status.smtp_port, secure: false, from: 'Vigil <vigil@localhost>', to: ['admin@localhost'] })}),
      ('demo-webhook', 'webhook', ${sql.json({ url: `${hookUrl}/vigil`, secret_name: 'vigil_demo_webhook_secret' })})
    on conflict (name) do update set config = excluded.config, enabled = true`;

  const probe = async (names: string[]) => {
    const r = await fetch(`${status.functions_url}/health-probe`, {
      method: 'POST', headers: { apikey: status.secret_key, 'content-type': 'application/json' },
      body: JSON.stringify({ services: names, force: true }),
    });
    return r.json() as Promise<{ results?: { service: string; status: string; reason: string }[] }>;
  };
  const control = (name: string, mode: string) =>
    fetch(`${upstreams}/_control/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
  const mails = async () => ((await (await fetch(`${status.mail_url}/api/messages`)).json()) as { subject: string }[]).filter((m) => m.subject.includes('demo-storage'));
  const hooks = async () => ((await (await fetch(`${hookUrl}/_requests?path=/vigil`)).json()) as { body: string }[]).filter((r) => r.body.includes('demo-storage'));

  const cycle = (async () => {
    try {
      const first = await probe(services.map((s) => s.name));
      for (const r of first.results ?? []) say(`${r.service.padEnd(16)} ${r.status.padEnd(9)} ${r.reason}`);
      const mails0 = (await mails()).length;
      const hooks0 = (await hooks()).length;
      say('making demo-storage fail (POST /_control/storage {"mode":"fail"}); 3 failed probes open the alert');
      await control('storage', 'fail');
      for (let i = 0; i < 3 && !stopped; i++) await probe(['demo-storage']);
      const [alert] = await sql`select id, alert_type, status, details ->> 'reason' as reason from public.alert_events
                                where service_name = 'demo-storage' and status = 'active' order by created_at desc limit 1`;
      if (alert) say(`alert opened: ${alert.alert_type} (${alert.reason}) id ${alert.id}`);
      for (let i = 0; i < 50 && !stopped && ((await mails()).length <= mails0 || (await hooks()).length <= hooks0); i++) await sleep(200);
      say(`delivered: ${(await mails()).length - mails0} e-mail (see ${status.mail_url}), ${(await hooks()).length - hooks0} signed webhook (${hookUrl}/_requests)`);
      say('restoring demo-storage; 2 healthy probes resolve it');
      await control('storage', 'ok');
      for (let i = 0; i < 2 && !stopped; i++) await probe(['demo-storage']);
      const [rec] = await sql`select details ->> 'duration_seconds' as d from public.alert_events
                              where service_name = 'demo-storage' and alert_type = 'recovery' order by created_at desc limit 1`;
      if (rec) say(`recovered after ${rec.d} s; recovery notices sent`);
      for (let i = 0; i < 50 && !stopped && (await mails()).length < mails0 + 2; i++) await sleep(200);
      say(`e-mails so far: ${(await mails()).length - mails0}, webhooks: ${(await hooks()).length - hooks0}`);
      console.log(`
  pg_cron now probes every minute. Make a service fail and watch the alert, e-mail and webhook:
    curl -X POST ${upstreams}/_control/llm -H 'content-type: application/json' -d '{"mode":"fail"}'   (or "hang", "slow", "ok")
  Alerts:   psql ${status.db_url} -c "select service_name, alert_type, status, created_at from alert_events order by created_at desc limit 10"
  Mail:     ${status.mail_url}      Webhooks: ${hookUrl}/_requests
  Run now:  curl -X POST ${status.functions_url}/health-probe -H "apikey: ${status.secret_key}"
`);
    } catch (e) {
      say(`demo cycle failed: ${(e as Error).message}`);
    }
  })();

  return async () => {
    stopped = true;
    await cycle;
    await sql.end({ timeout: 2 });
  };
}
