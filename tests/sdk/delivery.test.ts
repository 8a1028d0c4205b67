import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVigil, type Vigil, type VigilError } from '../../packages/sdk/src/index.ts';
import { processingEvent, sleep, startFakeServer, waitFor, type FakeServer } from './fake-server.ts';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
});

let server: FakeServer;
const clients: Vigil[] = [];
function client(opts: Record<string, unknown> = {}): Vigil {
  const v = createVigil({ url: server.url, key: 'test-key', flushIntervalMs: 20, backoffBaseMs: 20, backoffMaxMs: 100, ...opts });
  clients.push(v);
  return v;
}
beforeEach(async () => {
  unhandled.length = 0;
  server = await startFakeServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown({ timeoutMs: 500 })));
  await server.close();
  expect(unhandled).toEqual([]);
});

/** Asserts the server stored exactly the recorded events (by duration_ms tag), each id once, in order. */
function expectDeliveredExactlyOnce(n: number) {
  expect(server.stored).toHaveLength(n);
  expect(new Set(server.stored).size).toBe(n);
  // every id the server ever saw (including in failed attempts) was eventually stored: retries reuse ids
  for (const id of server.seen.keys()) expect(server.stored).toContain(id);
  const byId = new Map<string, Record<string, unknown>>();
  for (const r of server.requests) for (const e of r.events) byId.set(String(e.id), e);
  expect(server.stored.map((id) => byId.get(id)!.duration_ms)).toEqual(Array.from({ length: n }, (_, i) => i));
}

describe('request format and success accounting', () => {
  it('POSTs a JSON array to /functions/v1/ingest-events with apikey and bearer headers', async () => {
    const v = client();
    v.recordProcessingEvent(processingEvent(0));
    v.recordProcessingEvent(processingEvent(1));
    const r = await v.flush({ timeoutMs: 5000 });
    expect(r).toEqual({ sent: 2, unsent: 0, timedOut: false });
    expect(server.requests).toHaveLength(1);
    const q = server.requests[0]!;
    expect(q.method).toBe('POST');
    expect(q.url).toBe('/functions/v1/ingest-events');
    expect(q.headers['content-type']).toBe('application/json');
    expect(q.headers['apikey']).toBe('test-key');
    expect(q.headers['authorization']).toBe('Bearer test-key');
    expect(Array.isArray(JSON.parse(q.body))).toBe(true);
    expect(v.stats()).toMatchObject({ sent: 2, duplicates: 0, rejected: 0, queued: 0, inFlight: 0, retried: 0 });
  });

  it('adds the server counts: accepted, duplicates, rejected by index (rejected are not retried)', async () => {
    server.reply = (r) => ({
      status: 200,
      body: { accepted: r.events.length - 2, duplicates: 1, rejected: [{ index: 1, errors: [{ field: 'user_id', reason: 'not a uuid' }] }] },
    });
    const errors: VigilError[] = [];
    const v = client({ onError: (e: VigilError) => errors.push(e) });
    for (let i = 0; i < 5; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 5000 });
    expect(r).toEqual({ sent: 4, unsent: 0, timedOut: false }); // 3 accepted + 1 duplicate delivered
    await sleep(100);
    expect(server.requests).toHaveLength(1);
    expect(v.stats()).toMatchObject({ sent: 3, duplicates: 1, rejected: 1, retried: 0 });
    expect(v.stats().lastError).toMatch(/user_id/);
    expect(errors.map((e) => e.kind)).toEqual(['rejected']);
  });
});

describe('batching', () => {
  it('sends a batch as soon as maxBatchEvents are queued, without waiting for the timer', async () => {
    const v = client({ maxBatchEvents: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 35; i++) v.recordProcessingEvent(processingEvent(i));
    await waitFor(() => server.stored.length === 30);
    await sleep(50);
    expect(server.requests.map((r) => r.events.length)).toEqual([10, 10, 10]);
    expect(v.stats().queued).toBe(5); // the rest waits for the interval (or a flush)
    await v.flush({ timeoutMs: 5000 });
    expect(server.requests.map((r) => r.events.length)).toEqual([10, 10, 10, 5]);
    expectDeliveredExactlyOnce(35);
  });

  it('keeps every request body within maxBatchBytes', async () => {
    const v = client({ maxBatchBytes: 2000, flushIntervalMs: 60_000 });
    for (let i = 0; i < 40; i++) v.recordProcessingEvent(processingEvent(i, { stage: 'é'.repeat(50) }));
    await v.flush({ timeoutMs: 5000 });
    expect(server.requests.length).toBeGreaterThan(4);
    for (const r of server.requests) expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(2000);
    expectDeliveredExactlyOnce(40);
  });

  it('rejects locally a single event larger than maxBatchBytes and sends the rest', async () => {
    const v = client({ maxBatchBytes: 2000 });
    v.recordProcessingEvent(processingEvent(0));
    v.recordProcessingEvent(processingEvent(99, { error_message: 'x'.repeat(5000) }));
    v.recordProcessingEvent(processingEvent(1));
    await v.flush({ timeoutMs: 5000 });
    expectDeliveredExactlyOnce(2);
    expect(v.stats()).toMatchObject({ sent: 2, rejected: 1 });
  });

  it('sends on the timer when the batch does not fill', async () => {
    const v = client({ flushIntervalMs: 50 });
    for (let i = 0; i < 3; i++) v.recordProcessingEvent(processingEvent(i));
    expect(server.requests).toHaveLength(0);
    await waitFor(() => server.stored.length === 3, 3000);
    expect(server.requests).toHaveLength(1);
    expectDeliveredExactlyOnce(3);
  });
});

describe('non-retryable responses', () => {
  it('400/404/422 reject the batch without retrying', async () => {
    for (const status of [400, 404, 415, 422]) {
      server.requests.length = 0;
      server.reply = () => ({ status, body: { error: 'nope' } });
      const v = client();
      v.recordProcessingEvent(processingEvent(0));
      v.recordProcessingEvent(processingEvent(1));
      const r = await v.flush({ timeoutMs: 5000 });
      expect(r).toEqual({ sent: 0, unsent: 0, timedOut: false });
      await sleep(80);
      expect(server.requests).toHaveLength(1);
      expect(v.stats()).toMatchObject({ rejected: 2, retried: 0, queued: 0 });
      expect(v.stats().lastError).toContain(String(status));
    }
  });

  it('401/403 are reported once through onError, not retried', async () => {
    server.reply = () => ({ status: 401, body: { error: 'bad key' } });
    const errors: VigilError[] = [];
    const v = client({ maxBatchEvents: 2, onError: (e: VigilError) => errors.push(e) });
    for (let i = 0; i < 6; i++) v.recordProcessingEvent(processingEvent(i));
    await v.flush({ timeoutMs: 5000 });
    expect(server.requests).toHaveLength(3);
    expect(v.stats()).toMatchObject({ rejected: 6, retried: 0 });
    expect(errors.filter((e) => e.kind === 'auth')).toHaveLength(1);
    expect(errors[0]!.status).toBe(401);
  });
});

describe('413 splitting', () => {
  it('halves a batch on 413 and resends each half; a single event still 413 is rejected', async () => {
    // The server refuses bodies with more than 3 events, and any event tagged "huge".
    server.reply = (r) => (r.events.length > 3 || r.events.some((e) => e.stage === 'huge') ? { status: 413 } : 'ok');
    const v = client({ maxBatchEvents: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 5000 });
    expect(r).toEqual({ sent: 10, unsent: 0, timedOut: false });
    const sizes = server.requests.map((q) => q.events.length);
    expect(sizes.slice(0, 3)).toEqual([10, 5, 3]); // 10 → 413 → first half (5) → 413 → 3
    expect(server.requests[1]!.events.map((e) => e.id)).toEqual(server.requests[0]!.events.slice(0, 5).map((e) => e.id));
    expectDeliveredExactlyOnce(10);
    expect(v.stats().retried).toBe(0);

    // a lone event that is still too large is rejected, the others get through
    server.stored.length = 0;
    server.requests.length = 0;
    server.seen.clear();
    const v2 = client({ flushIntervalMs: 60_000 });
    v2.recordProcessingEvent(processingEvent(0));
    v2.recordProcessingEvent(processingEvent(100, { stage: 'huge' }));
    v2.recordProcessingEvent(processingEvent(1));
    await v2.flush({ timeoutMs: 5000 });
    expect(v2.stats()).toMatchObject({ sent: 2, rejected: 1 });
    expect(server.requests.map((q) => q.events.length)).toEqual([3, 2, 1, 1, 1]); // [0,h,1] 413 → [0,h] 413 → [0] ok, [h] 413 (rejected), [1] ok
    expect(server.requests.at(-2)!.events[0]!.stage).toBe('huge');
  });
});

describe('retries', () => {
  it('after 503s, every event is eventually delivered exactly once, in order', async () => {
    server.reply = (r) => (r.n <= 4 ? { status: 503, body: 'db down' } : 'ok');
    const v = client({ maxBatchEvents: 20 });
    for (let i = 0; i < 50; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 10_000 });
    expect(r).toEqual({ sent: 50, unsent: 0, timedOut: false });
    expectDeliveredExactlyOnce(50);
    expect(v.stats()).toMatchObject({ sent: 50, duplicates: 0, retried: 4, queued: 0, inFlight: 0 });
    // the first failed batch was retried with the same ids
    expect(server.requests[4]!.events.map((e) => e.id)).toEqual(server.requests[0]!.events.map((e) => e.id));
  });

  it('a batch the server stored but whose response was lost is deduplicated by id', async () => {
    // first request: the server stores the events, then answers 503 (as if the response were lost)
    let first = true;
    const stored = new Set<string>();
    server.reply = (r) => {
      const dup = r.events.filter((e) => stored.has(String(e.id))).length;
      for (const e of r.events) stored.add(String(e.id));
      if (first) {
        first = false;
        return { status: 503 };
      }
      return { status: 200, body: { accepted: r.events.length - dup, duplicates: dup, rejected: [] } };
    };
    const v = client();
    for (let i = 0; i < 5; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 5000 });
    expect(r).toEqual({ sent: 5, unsent: 0, timedOut: false });
    expect(v.stats()).toMatchObject({ sent: 0, duplicates: 5, retried: 1 });
    expect(stored.size).toBe(5);
  });

  it('429 honours Retry-After in seconds and as an HTTP date', async () => {
    for (const header of ['1', () => new Date(Date.now() + 2000).toUTCString()]) {
      server.requests.length = 0;
      server.reply = (r) => (r.n === 1 ? { status: 429, headers: { 'retry-after': typeof header === 'string' ? header : header() } } : 'ok');
      const v = client({ backoffBaseMs: 1, backoffMaxMs: 1 });
      v.recordProcessingEvent(processingEvent(0));
      const r = await v.flush({ timeoutMs: 10_000 });
      expect(r.sent).toBe(1);
      expect(server.requests).toHaveLength(2);
      const gap = server.requests[1]!.at - server.requests[0]!.at;
      expect(gap).toBeGreaterThanOrEqual(900); // without Retry-After the 1 ms backoff would retry at once
      expect(v.stats().retried).toBe(1);
    }
  });

  it('while the endpoint fails: one probe at a time, no retry storm, then full delivery', async () => {
    const failUntil = Date.now() + 1200;
    let arrivalsWhileFailing = 0;
    let concurrentProbes = 0;
    server.reply = (r) => {
      if (Date.now() < failUntil) {
        arrivalsWhileFailing++;
        // concurrency at arrival; the first requests may overlap (the SDK did not know yet)
        if (r.n > 4 && server.concurrent > 1) concurrentProbes++;
        return { status: 503, delayMs: 40 }; // slow failures, so parallel requests would overlap
      }
      return 'ok';
    };
    const v = client({ maxBatchEvents: 5, maxConcurrentRequests: 4, backoffBaseMs: 50, backoffMaxMs: 200 });
    for (let i = 0; i < 100; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 15_000 });
    expect(r).toEqual({ sent: 100, unsent: 0, timedOut: false });
    expect(concurrentProbes).toBe(0); // after the first failures, never more than one request at a time
    expect(arrivalsWhileFailing).toBeLessThan(60); // 20 batches hammering would be hundreds
    expect(server.maxConcurrent).toBeLessThanOrEqual(4);
    expect(server.stored).toHaveLength(100);
    expect(new Set(server.stored).size).toBe(100);
  });

  it('network errors (server closing sockets) are retried until delivered', async () => {
    server.reply = (r) => (r.n <= 3 ? 'destroy' : 'ok');
    const errors: VigilError[] = [];
    const v = client({ onError: (e: VigilError) => errors.push(e) });
    for (let i = 0; i < 7; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 10_000 });
    expect(r.sent).toBe(7);
    expectDeliveredExactlyOnce(7);
    expect(v.stats().retried).toBe(3);
    expect(errors.map((e) => e.kind)).toEqual(['network']); // once per failure streak, not per attempt
  });

  it('a request that hangs is aborted after requestTimeoutMs and retried', async () => {
    server.reply = (r) => (r.n === 1 ? 'hang' : 'ok');
    const v = client({ requestTimeoutMs: 200 });
    for (let i = 0; i < 4; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 10_000 });
    expect(r.sent).toBe(4);
    expectDeliveredExactlyOnce(4);
    expect(v.stats().retried).toBe(1);
    expect(v.stats().lastError).toMatch(/timeout|abort/i);
  });

  it('maxRetries bounds the attempts per event; then they are dropped and counted', async () => {
    server.reply = () => ({ status: 503 });
    const v = client({ maxRetries: 2, backoffBaseMs: 1, backoffMaxMs: 5 });
    for (let i = 0; i < 3; i++) v.recordProcessingEvent(processingEvent(i));
    await waitFor(() => v.stats().dropped === 3, 5000);
    expect(server.requests).toHaveLength(3); // 1 try + 2 retries
    expect(v.stats()).toMatchObject({ queued: 0, inFlight: 0, retried: 3 });
  });

  it('while the endpoint is down the queue stays bounded and new events are dropped', async () => {
    server.reply = () => ({ status: 503 });
    const v = client({ maxQueue: 500, backoffBaseMs: 5, backoffMaxMs: 20 });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++) v.recordProcessingEvent(processingEvent(i));
      const s = v.stats();
      expect(s.queued + s.inFlight).toBeLessThanOrEqual(500);
      await sleep(10);
    }
    const s = v.stats();
    expect(s.queued + s.inFlight).toBe(500);
    expect(s.dropped).toBe(1500);
    expect(s.retried).toBeGreaterThan(0);
  });
});

describe('flush and shutdown deadlines', () => {
  it('flush and shutdown resolve by their deadline when the server never answers', async () => {
    server.reply = () => 'hang';
    const v = client({ requestTimeoutMs: 60_000 });
    for (let i = 0; i < 10; i++) v.recordProcessingEvent(processingEvent(i));

    let t0 = Date.now();
    const f = await v.flush({ timeoutMs: 200 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(f).toEqual({ sent: 0, unsent: 10, timedOut: true });

    t0 = Date.now();
    const s = await v.shutdown({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s).toEqual({ sent: 0, unsent: 10, timedOut: true });
    expect(v.stats()).toMatchObject({ queued: 0, inFlight: 0, dropped: 10 });
  });

  it('flush only waits for what was queued when it was called', async () => {
    const v = client({ flushIntervalMs: 60_000 });
    v.recordProcessingEvent(processingEvent(0));
    const p = v.flush({ timeoutMs: 5000 });
    v.recordProcessingEvent(processingEvent(1)); // recorded after the flush call
    const r = await p;
    expect(r).toEqual({ sent: 1, unsent: 0, timedOut: false });
    await v.flush({ timeoutMs: 5000 });
    expect(server.stored).toHaveLength(2);
  });

  it('shutdown does not sit out the SDK\'s own backoff: it probes once more', async () => {
    server.reply = (r) => (r.n === 1 ? { status: 503 } : 'ok');
    const v = client({ backoffBaseMs: 120_000, backoffMaxMs: 120_000 });
    v.recordProcessingEvent(processingEvent(0));
    await waitFor(() => v.stats().retried === 1);
    const r = await v.shutdown({ timeoutMs: 3000 });
    expect(r).toEqual({ sent: 1, unsent: 0, timedOut: false });
    expect(server.requests).toHaveLength(2);
  });

  it('shutdown delivers what is queued when the server is healthy', async () => {
    const v = client({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 30; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.shutdown({ timeoutMs: 5000 });
    expect(r).toEqual({ sent: 30, unsent: 0, timedOut: false });
    expectDeliveredExactlyOnce(30);
  });
});
