import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVigil, uuidv7Timestamp, type Vigil } from '../../packages/sdk/src/index.ts';
import { processingEvent, startFakeServer, unusedPort, waitFor, type FakeServer } from './fake-server.ts';

// Any unhandled rejection or uncaught exception during these tests fails them.
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
  const v = createVigil({ url: server.url, key: 'test-key', flushIntervalMs: 20, ...opts });
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

function garbageInputs(): unknown[] {
  const cyclic: Record<string, unknown> = { document_id: 'd', user_id: 'u', event_type: 'completed' };
  cyclic.self = cyclic;
  cyclic.stage = cyclic;
  const throwingGetters = {
    get document_id(): string {
      throw new Error('getter boom');
    },
    get event_type(): string {
      throw new Error('getter boom');
    },
  };
  const hostileProxy = new Proxy(
    {},
    {
      get() {
        throw new Error('proxy get');
      },
      ownKeys() {
        throw new Error('proxy keys');
      },
      getPrototypeOf() {
        throw new Error('proxy proto');
      },
      has() {
        throw new Error('proxy has');
      },
    },
  );
  const evilDate = new Date();
  evilDate.getTime = () => {
    throw new Error('evil date');
  };
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  return [
    null,
    undefined,
    0,
    NaN,
    '',
    'a string',
    Symbol('s'),
    10n,
    () => 1,
    [],
    [1, 2, 3],
    {},
    cyclic,
    throwingGetters,
    hostileProxy,
    revocable.proxy,
    { document_id: 1n, user_id: Symbol('u'), event_type: 'completed', duration_ms: 2n ** 70n },
    { document_id: 'd', user_id: 'u', event_type: 'failed', error_message: 'x'.repeat(2_000_000) },
    { document_id: 'd', user_id: 'u', event_type: 'completed', created_at: evilDate },
    { document_id: 'd', user_id: 'u', event_type: 'completed', created_at: { toString() { throw new Error('x'); } } },
    { document_id: 'd', user_id: 'u', event_type: 'completed', stage: { toJSON() { throw new Error('toJSON'); } } },
    Object.create(null),
    JSON.parse('{"__proto__": {"polluted": true}, "document_id": "d"}'),
  ];
}

describe('recording never throws', () => {
  it('recordProcessingEvent and track return undefined for any input and never throw', async () => {
    const v = client({ maxBatchBytes: 1024 * 1024 });
    for (const g of garbageInputs()) {
      expect(() => v.recordProcessingEvent(g as never)).not.toThrow();
      expect(v.recordProcessingEvent(g as never)).toBeUndefined();
      expect(() => v.track(g as never, g as never)).not.toThrow();
      expect(v.track('custom', g as never)).toBeUndefined();
      expect(() => v.track(Symbol('t') as never, {})).not.toThrow();
    }
    // Also with no server at all and after shutdown.
    const dead = createVigil({ url: `http://127.0.0.1:${await unusedPort()}`, key: 'k', flushIntervalMs: 1, backoffBaseMs: 1 });
    for (const g of garbageInputs()) dead.recordProcessingEvent(g as never);
    await dead.shutdown({ timeoutMs: 100 });
    for (const g of garbageInputs()) expect(dead.recordProcessingEvent(g as never)).toBeUndefined();
    // Invalid configuration does not throw either.
    const configErrors: string[] = [];
    const noConfig = createVigil({ onError: (e: { kind: string }) => configErrors.push(e.kind) } as never);
    expect(configErrors).toEqual(['config']);
    expect(noConfig.recordProcessingEvent(processingEvent(1))).toBeUndefined();
    expect(noConfig.stats().dropped).toBe(1);
    expect(noConfig.stats().lastError).toMatch(/url, key/);

    const r = await v.flush({ timeoutMs: 5000 });
    expect(r.timedOut).toBe(false);
    const s = v.stats();
    expect(s.queued + s.inFlight).toBe(0);
    // The server received only well-formed JSON, and every object-shaped record made it or was counted.
    for (const req of server.requests) expect(() => JSON.parse(req.body)).not.toThrow();
    expect(unhandled).toEqual([]);
  });

  it('an onError callback that throws or rejects does not escape', async () => {
    const port = await unusedPort();
    const v = createVigil({
      url: `http://127.0.0.1:${port}`,
      key: 'k',
      flushIntervalMs: 1,
      backoffBaseMs: 1,
      backoffMaxMs: 5,
      maxRetries: 1,
      onError: () => {
        throw new Error('user callback throws');
      },
    });
    const v2 = createVigil({ url: `http://127.0.0.1:${port}`, key: 'k', flushIntervalMs: 1, maxRetries: 0, onError: async () => Promise.reject(new Error('async boom')) });
    v.recordProcessingEvent(processingEvent(1));
    v2.recordProcessingEvent(processingEvent(2));
    await waitFor(() => v.stats().dropped === 1 && v2.stats().dropped === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
    await v.shutdown({ timeoutMs: 100 });
    await v2.shutdown({ timeoutMs: 100 });
  });
});

describe('event identity', () => {
  it('stamps a UUIDv7 id and an ISO created_at at record time, keeping valid caller values', async () => {
    const v = client({ flushIntervalMs: 60_000 });
    const before = Date.now();
    v.recordProcessingEvent(processingEvent(1));
    v.recordProcessingEvent(processingEvent(2, { created_at: '2024-05-06T07:08:09.000Z' }));
    v.recordProcessingEvent(processingEvent(3, { created_at: new Date('2024-01-01T00:00:00Z') }));
    v.recordProcessingEvent(processingEvent(4, { created_at: 'garbage' }));
    v.recordProcessingEvent(processingEvent(5, { id: '0190f6a8-0000-7000-8000-000000000001' }));
    v.track('heartbeat', { job: 'nightly', n: 1, created_at: '2024-02-02T00:00:00Z' });
    const after = Date.now();
    await new Promise((r) => setTimeout(r, 30)); // sending later must not change the timestamps
    const res = await v.flush({ timeoutMs: 5000 });
    expect(res).toEqual({ sent: 6, unsent: 0, timedOut: false });
    const evs = server.requests.flatMap((r) => r.events);
    expect(evs).toHaveLength(6);
    const [a, b, c, d, e, t] = evs as Array<Record<string, unknown>>;
    for (const ev of [a!, d!]) {
      const ts = Date.parse(String(ev.created_at));
      expect(ts).toBeGreaterThanOrEqual(before);
      expect(ts).toBeLessThanOrEqual(after);
      expect(uuidv7Timestamp(String(ev.id))).toBe(ts);
    }
    expect(b!.created_at).toBe('2024-05-06T07:08:09.000Z');
    expect(c!.created_at).toBe('2024-01-01T00:00:00.000Z');
    expect(e!.id).toBe('0190f6a8-0000-7000-8000-000000000001');
    expect(t).toMatchObject({ event_type: 'heartbeat', job: 'nightly', n: 1, created_at: '2024-02-02T00:00:00Z' });
    expect(String(t!.id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(a).toMatchObject({ document_id: processingEvent(1).document_id, user_id: processingEvent(1).user_id, event_type: 'completed', duration_ms: 1 });
    expect(Object.keys(a!).sort()).toEqual(['created_at', 'document_id', 'duration_ms', 'event_type', 'id', 'user_id']);
    const ids = evs.map((x) => String(x.id));
    expect(new Set(ids).size).toBe(6);
  });

  it('the caller mutating its object after recording does not change the recorded event', async () => {
    const v = client({ flushIntervalMs: 60_000 });
    const ev = processingEvent(1);
    v.recordProcessingEvent(ev);
    ev.duration_ms = 999;
    await v.flush({ timeoutMs: 5000 });
    expect(server.requests[0]!.events[0]!.duration_ms).toBe(1);
  });
});

describe('bounded queue', () => {
  it('drops NEW events beyond maxQueue and counts them', async () => {
    const port = await unusedPort();
    const errors: string[] = [];
    const v = createVigil({ url: `http://127.0.0.1:${port}`, key: 'k', maxQueue: 100, flushIntervalMs: 60_000, maxBatchEvents: 1000, onError: (e) => errors.push(e.kind) });
    for (let i = 0; i < 250; i++) v.recordProcessingEvent(processingEvent(i));
    const s = v.stats();
    expect(s.queued).toBe(100);
    expect(s.dropped).toBe(150);
    expect(errors.filter((k) => k === 'dropped')).toHaveLength(1); // reported once, not 150 times
    // The kept ones are the OLDEST: point the client at a live server and check which arrived.
    const r = await v.shutdown({ timeoutMs: 300 });
    expect(r.sent).toBe(0);
    expect(v.stats().dropped).toBe(250); // unsent at shutdown are dropped too

    const v2 = client({ maxQueue: 100, flushIntervalMs: 60_000, maxBatchEvents: 1000 });
    for (let i = 0; i < 250; i++) v2.recordProcessingEvent(processingEvent(i));
    expect(v2.stats().dropped).toBe(150);
    await v2.flush({ timeoutMs: 5000 });
    const durations = server.requests.flatMap((q) => q.events.map((e) => e.duration_ms));
    expect(durations).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('events recorded after shutdown are dropped and counted', async () => {
    const v = client();
    v.recordProcessingEvent(processingEvent(1));
    const r = await v.shutdown({ timeoutMs: 5000 });
    expect(r).toEqual({ sent: 1, unsent: 0, timedOut: false });
    v.recordProcessingEvent(processingEvent(2));
    v.track('x', {});
    expect(v.stats()).toMatchObject({ sent: 1, dropped: 2, queued: 0 });
    expect(await v.flush({ timeoutMs: 10 })).toEqual({ sent: 0, unsent: 0, timedOut: false });
    expect(await v.shutdown()).toEqual(r);
  });
});
