// SDK micro-benchmark: the cost of recordProcessingEvent on the caller's thread, and heap behaviour
// while the endpoint is down. Run: npx tsx -e "import('./bench/sdk.ts').then(m => m.benchSdk())"
// (VIGIL_BENCH_SDK_DOWN_S shortens the 60 s endpoint-down phase.)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createVigil, type FetchLike } from '../packages/sdk/src/index.ts';

function getGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function unusedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(1);

export async function benchSdk(): Promise<void> {
  const gc = getGc();

  // ---- 1. hot-path cost -------------------------------------------------------------------------
  // An instant in-process "server" so the queue drains between measured chunks (the cost measured is
  // only the synchronous call; sending happens between chunks and is not timed).
  const okFetch: FetchLike = async (_url, init) => {
    const n = (init.body.match(/"id":/g) ?? []).length;
    return { status: 200, headers: { get: () => null }, text: async () => `{"accepted":${n},"duplicates":0,"rejected":[]}` };
  };
  const vigil = createVigil({ url: 'http://127.0.0.1:1', key: 'bench', fetch: okFetch, flushIntervalMs: 1000 });
  const CALLS = Number(process.env.VIGIL_BENCH_SDK_CALLS ?? 200_000);
  const PER_SAMPLE = 100; // calls per timed sample (hrtime resolution/overhead amortised)
  const PER_CHUNK = 5000; // calls between flushes (stays under maxQueue, so no call hits the drop path)
  const doc = '00000000-0000-4000-8000-000000000000';
  const user = '11111111-1111-4111-8111-111111111111';
  const types = ['upload_started', 'processing_started', 'completed', 'failed'] as const;
  // warm-up
  for (let w = 0; w < 4; w++) {
    for (let i = 0; i < 5000; i++) vigil.recordProcessingEvent({ document_id: doc, user_id: user, event_type: types[i & 3]!, duration_ms: i });
    await vigil.flush({ timeoutMs: 10_000 });
  }

  const samples: number[] = [];
  let done = 0;
  while (done < CALLS) {
    for (let c = 0; c < PER_CHUNK; c += PER_SAMPLE) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < PER_SAMPLE; i++) {
        vigil.recordProcessingEvent({ document_id: doc, user_id: user, event_type: types[i & 3]!, duration_ms: i, stage: 'ocr' });
      }
      const t1 = process.hrtime.bigint();
      samples.push(Number(t1 - t0) / 1000 / PER_SAMPLE);
    }
    done += PER_CHUNK;
    await vigil.flush({ timeoutMs: 10_000 });
  }
  const st = vigil.stats();
  await vigil.shutdown({ timeoutMs: 1000 });
  samples.sort((a, b) => a - b);

  // ---- 2. endpoint down: record continuously, watch the heap -----------------------------------
  const downS = Number(process.env.VIGIL_BENCH_SDK_DOWN_S ?? 60);
  const port = await unusedPort();
  const down = createVigil({ url: `http://127.0.0.1:${port}`, key: 'bench', backoffBaseMs: 50, backoffMaxMs: 500, requestTimeoutMs: 1000 });
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const end = Date.now() + downS * 1000;
  let recorded = 0;
  let heapMax = 0;
  let tick = 0;
  // Heap once the queue has filled (after ~20% of the window): from here on it should stay flat.
  const plateauAt = Date.now() + Math.max(1, downS * 0.2) * 1000;
  let heapPlateau = NaN;
  while (Date.now() < end) {
    if (Number.isNaN(heapPlateau) && Date.now() >= plateauAt) {
      gc?.();
      heapPlateau = process.memoryUsage().heapUsed;
    }
    for (let i = 0; i < 1000; i++) {
      down.recordProcessingEvent({ document_id: doc, user_id: user, event_type: 'failed', error_message: 'storage timeout', duration_ms: i });
    }
    recorded += 1000;
    await new Promise((r) => setTimeout(r, 10)); // ~100k events/s offered
    if (++tick % 50 === 0) heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
  }
  const ds = down.stats();
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  await down.shutdown({ timeoutMs: 100 });

  console.log('\nSDK benchmark (@vigil/sdk)');
  console.table([
    { metric: 'recordProcessingEvent p50', value: `${percentile(samples, 50).toFixed(3)} µs`, note: `${CALLS} calls, ${PER_SAMPLE}/sample` },
    { metric: 'recordProcessingEvent p99', value: `${percentile(samples, 99).toFixed(3)} µs`, note: percentile(samples, 99) < 5 ? 'goal < 5 µs: met' : 'goal < 5 µs: MISSED' },
    { metric: 'recordProcessingEvent max', value: `${samples.at(-1)!.toFixed(3)} µs`, note: `${st.sent} events delivered to the in-process fake` },
    { metric: `heap before (endpoint down ${downS}s)`, value: `${mb(heapBefore)} MiB`, note: gc ? 'after gc, empty queue' : 'no gc available' },
    { metric: 'heap once queue full', value: `${mb(heapPlateau)} MiB`, note: `at ${Math.max(1, downS * 0.2).toFixed(0)} s (maxQueue 10 000 events held)` },
    { metric: 'heap after', value: `${mb(heapAfter)} MiB`, note: `vs queue full: ${mb(heapAfter - heapPlateau)} MiB; vs before: ${mb(heapAfter - heapBefore)} MiB` },
    { metric: 'heap max sampled', value: `${mb(heapMax)} MiB`, note: 'during the down phase, before gc' },
    { metric: 'events offered while down', value: String(recorded), note: `queued ${ds.queued + ds.inFlight}, dropped ${ds.dropped}, retried ${ds.retried}` },
  ]);
}

const isMain = typeof process !== 'undefined' && process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) await benchSdk();
