// Overlap safety under real concurrency: two recordings of the same failures at once open one alert;
// two overlapping runs never claim the same service; two overlapping deliveries send each notice once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { startWebhookSink, type WebhookSink } from '../../stack/sinks/index.ts';
import { pg, stack } from '../support/stack.ts';
import { cleanup, deliverNow, pauseProbeCron, prepare, uniq } from './helpers.ts';

const P = uniq('conc');
let sql: postgres.Sql;
let hook: WebhookSink;
let resumeCron: () => Promise<void>;

beforeAll(async () => {
  sql = await pg({ max: 4 });
  await prepare(sql);
  resumeCron = await pauseProbeCron(sql);
  hook = await startWebhookSink({ port: 0 });
});
afterAll(async () => {
  await cleanup(sql, P).catch(() => {});
  await resumeCron?.();
  await hook?.close();
  await sql?.end();
});

describe('concurrency', () => {
  it('two concurrent recordings of the same failures open exactly one alert', async () => {
    await sql`insert into public.monitored_services (name, kind, target, allow_private_targets, failure_threshold)
              values (${`${P}-a`}, 'http', 'http://127.0.0.1:9/', true, 1)`;
    const s = await stack();
    const a = postgres(s.db_url, { max: 1, onnotice: () => {} });
    const b = postgres(s.db_url, { max: 1, onnotice: () => {} });
    const results = sql.json([{ service: `${P}-a`, status: 'down' }]);
    try {
      await Promise.all([
        a.begin(async (tx) => { await tx`select vigil_private.record_probe_results(${results})`; await tx`select pg_sleep(0.3)`; }),
        b.begin(async (tx) => { await tx`select pg_sleep(0.05)`; await tx`select vigil_private.record_probe_results(${results})`; }),
      ]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
    const [{ n, checks }] = await sql`
      select (select count(*)::int from public.alert_events where service_name = ${`${P}-a`} and status = 'active') as n,
             (select count(*)::int from public.service_health_checks where service_name = ${`${P}-a`}) as checks`;
    expect(checks).toBe(2);
    expect(n).toBe(1);
  });

  it('two overlapping probe runs never claim the same service', async () => {
    for (let i = 0; i < 20; i++) {
      await sql`insert into public.monitored_services (name, kind, target, allow_private_targets) values (${`${P}-s${i}`}, 'http', 'http://127.0.0.1:9/', true)`;
    }
    const s = await stack();
    const conns = [0, 1, 2].map(() => postgres(s.db_url, { max: 1, onnotice: () => {} }));
    const filter = sql.json(Array.from({ length: 20 }, (_, i) => `${P}-s${i}`));
    try {
      const runs = await Promise.all(conns.map((c) => c`
        select vigil_private.start_probe_run('test', (select array_agg(x) from jsonb_array_elements_text(${filter}::jsonb) x)) as r`));
      const claimed = runs.flatMap(([{ r }]) => (r.services as { name: string }[]).map((x) => x.name));
      expect(claimed).toHaveLength(20);
      expect(new Set(claimed).size).toBe(20);
    } finally {
      await Promise.all(conns.map((c) => c.end()));
    }
  });

  it('two overlapping deliveries send each notification once', async () => {
    await sql`insert into public.notification_channels (name, kind, config, services, backoff_seconds)
              values (${`${P}-hook`}, 'webhook', ${sql.json({ url: `${hook.url}/c` })}, ${sql.array([`${P}-b`])}::text[], 0)`;
    await sql`insert into public.monitored_services (name, kind, target, allow_private_targets, failure_threshold, recovery_threshold)
              values (${`${P}-b`}, 'http', 'http://127.0.0.1:9/', true, 1, 1)`;
    // open / resolve / open / flapping: several notices, each queued once
    for (let i = 0; i < 5; i++) {
      await sql`select vigil_private.record_probe_results(${sql.json([{ service: `${P}-b`, status: i % 2 ? 'healthy' : 'down' }])})`;
    }
    const [{ queued }] = await sql`select count(*)::int as queued from public.notification_outbox o join public.notification_channels c on c.id = o.channel_id
                                   where c.name = ${`${P}-hook`} and o.status = 'pending'`;
    expect(queued).toBeGreaterThanOrEqual(3);
    await Promise.all([deliverNow(), deliverNow(), deliverNow()]);
    const ids = hook.requests().filter((r) => r.path === '/c').map((r) => `${r.headers['x-vigil-alert-id']}/${r.headers['x-vigil-event']}`);
    expect(ids).toHaveLength(queued);
    expect(new Set(ids).size).toBe(queued);
  });
});
