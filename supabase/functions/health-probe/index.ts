// POST /functions/v1/health-probe: one probe run. Called every minute by pg_cron through pg_net
// (secret key from Vault), or by an admin (JWT) or with the secret key to run now.
// Body (optional): {"services": ["llm-api"], "force": true}  force = ignore the interval (not for cron).
// Flow: vigil_private.start_probe_run() claims the due services under a lease -> probes run
// concurrently, each bounded by its own timeout -> vigil_private.record_probe_results() records all
// results and applies the state machine in ONE transaction (alerts + outbox) -> the outbox is
// delivered right away (pg_cron's deliver-notifications job retries what is left).
import { db, isUnavailable } from '../_shared/db.ts';
import { env } from '../_shared/env.ts';
import { error, json, methodNotAllowed } from '../_shared/http.ts';
import { secretOrAdmin } from '../_shared/probes/caller.ts';
import { deliverPending, readVaultSecrets } from '../_shared/probes/outbox.ts';
import { runProbes, secretNamesOfServices } from '../_shared/probes/runner.ts';
import type { ClaimedService } from '../_shared/probes/types.ts';

const MAX_BODY = 64 * 1024;

Deno.serve(async (req) => {
  if (req.method !== 'POST') return methodNotAllowed(['POST']);
  const caller = await secretOrAdmin(req);
  if (caller instanceof Response) return caller;

  let body: { services?: unknown; force?: unknown; trigger?: unknown; deliver?: unknown } = {};
  const text = await req.text();
  if (text.length > MAX_BODY) return error(413, 'body_too_large', `body must be at most ${MAX_BODY} bytes`);
  if (text.trim()) {
    try {
      body = JSON.parse(text);
    } catch {
      return error(400, 'invalid_json', 'body must be a JSON object');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return error(400, 'invalid_body', 'body must be a JSON object');
  }
  const services = body.services;
  if (services !== undefined && (!Array.isArray(services) || services.length > 1000 || !services.every((s) => typeof s === 'string' && s.length <= 200))) {
    return error(400, 'invalid_services', 'services must be an array of service names');
  }
  const cron = caller.kind === 'secret' && body.trigger === 'cron';
  const trigger = cron ? 'cron' : caller.kind === 'admin' ? 'admin' : 'api';
  const force = !cron && body.force === true;
  const requestedBy = caller.kind === 'admin' ? caller.sub : null;

  const sql = db();
  try {
    const [{ r: run }] = await sql<{ r: { run_id: string; services: ClaimedService[] } }[]>`
      select vigil_private.start_probe_run(${trigger}, (select array_agg(x) from jsonb_array_elements_text(${services ? sql.json(services as never) : null}::jsonb) x), ${force}, ${requestedBy}::uuid) as r`;
    const started = performance.now();
    let results: Awaited<ReturnType<typeof runProbes>> = [];
    if (run.services.length) {
      const secrets = await readVaultSecrets(sql, secretNamesOfServices(run.services));
      results = await runProbes(run.services, secrets, { sql, concurrency: Number(env('VIGIL_PROBE_CONCURRENCY') ?? 50) });
    }
    const probeMs = Math.round(performance.now() - started);
    const [{ r: recorded }] = await sql<{ r: Record<string, unknown> }[]>`
      select vigil_private.record_probe_results(${sql.json(results as never)}, ${run.run_id}::uuid) as r`;
    const delivery = body.deliver === false ? null : await deliverPending(sql, { budgetMs: 20_000 });
    return json(200, {
      run_id: run.run_id,
      trigger,
      probed: run.services.length,
      probe_ms: probeMs,
      results: results.map((r) => ({
        service: run.services.find((s) => s.id === r.service_id)?.name,
        status: r.status,
        latency_ms: r.latency_ms,
        reason: r.details.reason,
      })),
      recorded,
      delivery,
    });
  } catch (e) {
    if (isUnavailable(e)) return error(503, 'database_unavailable', 'the database cannot be reached', {}, { 'retry-after': '5' });
    console.error('[health-probe]', e);
    return error(500, 'probe_run_failed', (e as Error).message.slice(0, 300));
  }
});
