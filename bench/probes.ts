// npm run bench -- probes: a probe cycle of 100 services, 5 of them hanging (timeout 2 s), the
// others answering in 200-600 ms (seeded, like real upstream APIs). Reports
//   - the run's wall time against the longest timeout (goal <= 1.1x), in-process and end to end
//     through the health-probe function on the running stack (claim + probes + one recording
//     transaction, delivery off)
//   - against probing one after another with the same code (goal >= 20x faster).
import postgres from 'postgres';
import { startFakeUpstreams, type UpstreamMode } from '../stack/sinks/index.ts';
import { running, status } from '../stack/stack.ts';
import { runProbes } from '../supabase/functions/_shared/probes/runner.ts';
import type { ClaimedService } from '../supabase/functions/_shared/probes/types.ts';

const N = 100;
const HANGING = 5;
const TIMEOUT_MS = 2000;

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}

export async function benchProbes(): Promise<void> {
  const rand = rng(42);
  const defs: Record<string, { mode: UpstreamMode; delay_ms?: number }> = {};
  for (let i = 0; i < N; i++) {
    defs[`b${i}`] = i < HANGING ? { mode: 'hang' } : { mode: 'slow', delay_ms: 200 + Math.floor(rand() * 400) };
  }
  const up = await startFakeUpstreams({ port: 0, services: defs });
  const services: ClaimedService[] = Object.keys(defs).map((name, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name, kind: 'http', target: `${up.url}/${name}/health`,
    config: {}, timeout_ms: TIMEOUT_MS, degraded_latency_ms: null, allow_private_targets: true,
  }));
  const time = async (concurrency: number) => {
    const t = performance.now();
    const res = await runProbes(services, {}, { concurrency });
    return { ms: performance.now() - t, res };
  };
  try {
    await time(100); // warm-up
    const par = await time(100);
    const down = par.res.filter((r) => r.status === 'down').length;
    const healthy = par.res.filter((r) => r.status === 'healthy').length;
    console.log(`services ${N} (${HANGING} hanging, timeout ${TIMEOUT_MS} ms; others 200-600 ms)`);
    console.log(`concurrent run (in-process)   ${par.ms.toFixed(0)} ms  = ${(par.ms / TIMEOUT_MS).toFixed(3)}x the longest timeout (goal <= 1.1x); ${healthy} healthy, ${down} down`);

    if (running()) {
      const s = await status();
      const sql = postgres(s.db_url, { max: 1, onnotice: () => {} });
      const prefix = `bench-${Date.now().toString(36)}`;
      try {
        for (const svc of services) {
          await sql`insert into public.monitored_services (name, kind, target, timeout_ms, allow_private_targets, interval_seconds, enabled)
                    values (${`${prefix}-${svc.name}`}, 'http', ${svc.target}, ${TIMEOUT_MS}, true, 3600, true)`;
        }
        const names = services.map((x) => `${prefix}-${x.name}`);
        const t = performance.now();
        const r = await fetch(`${s.functions_url}/health-probe`, {
          method: 'POST', headers: { apikey: s.secret_key, 'content-type': 'application/json' },
          body: JSON.stringify({ services: names, force: true, deliver: false }),
        });
        const body = await r.json() as { probed: number; probe_ms: number; recorded: { recorded: number } };
        const ms = performance.now() - t;
        console.log(`end to end (health-probe fn)   ${ms.toFixed(0)} ms  = ${(ms / TIMEOUT_MS).toFixed(3)}x (probes ${body.probe_ms} ms; ${body.probed} claimed, ${body.recorded?.recorded} recorded in one transaction)`);
      } finally {
        await sql`delete from public.alert_events where service_name like ${`${prefix}-%`}`;
        await sql`delete from public.service_health_checks where service_name like ${`${prefix}-%`}`;
        await sql`delete from public.monitored_services where name like ${`${prefix}-%`}`;
        await sql.end();
      }
    } else {
      console.log('end to end: skipped (stack not running; `npm run stack -- up` first)');
    }

    const seq = await time(1);
    console.log(`one after another (in-process) ${seq.ms.toFixed(0)} ms`);
    console.log(`speed-up                       ${(seq.ms / par.ms).toFixed(1)}x (goal >= 20x)`);
  } finally {
    await up.close();
  }
}
