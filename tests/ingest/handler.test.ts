// The ingest handler with fake dependencies: overload (429), database down (503), database
// refusals, and the concurrency limiter itself. No stack needed.
import { describe, expect, it } from 'vitest';
import { createIngestHandler, type IngestDeps } from '../../supabase/functions/ingest-events/handler.ts';
import { createLimiter, Saturated } from '../../supabase/functions/ingest-events/limiter.ts';
import type { ValidEvent } from '../../supabase/functions/ingest-events/validate.ts';

const event = { document_id: '0c8c1a3e-5d7b-4c1e-9a55-2d6f0e3b9a01', user_id: '7b1e2f90-3c4d-4e5f-8a6b-1c2d3e4f5a6b', event_type: 'completed' };
const post = (body: unknown) => new Request('http://x/ingest-events', {
  method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', apikey: 'k' },
});

function deps(over: Partial<IngestDeps> = {}): IngestDeps {
  return {
    authenticate: async () => null,
    retentionDays: async () => 30,
    insert: async (events: ValidEvent[]) => events.length,
    isUnavailable: (e) => (e as { code?: string }).code === 'ECONNREFUSED',
    limiter: createLimiter({ concurrency: 1, maxQueue: 1, maxWaitMs: 1000 }),
    log: () => {},
    ...over,
  };
}

describe('ingest handler', () => {
  it('answers 429 with Retry-After when the wait queue is full', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const h = createIngestHandler(deps({ insert: async (e) => { await gate; return e.length; } }));
    const first = h(post(event));
    const second = h(post(event));
    await new Promise((r) => setTimeout(r, 20));
    const third = await h(post(event));
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(await third.json()).toMatchObject({ error: 'overloaded' });
    release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
  });

  it('answers 503 with Retry-After when the database is unreachable', async () => {
    const h = createIngestHandler(deps({ insert: async () => { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }); } }));
    const r = await h(post([event]));
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('2');
    expect(await r.json()).toMatchObject({ error: 'database_unavailable' });
  });

  it('answers 400 (not retryable) when the database refuses the data, 500 otherwise', async () => {
    const refused = createIngestHandler(deps({ insert: async () => { throw Object.assign(new Error('bad'), { code: '23514' }); } }));
    expect((await refused(post([event]))).status).toBe(400);
    const broken = createIngestHandler(deps({ insert: async () => { throw new Error('bug'); } }));
    expect((await broken(post([event]))).status).toBe(500);
  });

  it('counts events the database already had as duplicates', async () => {
    const h = createIngestHandler(deps({ insert: async () => 1 }));
    const r = await h(post([event, event, event]));
    expect(await r.json()).toEqual({ accepted: 1, duplicates: 2, rejected: [] });
  });

  it('does not call the database for an empty batch or when nothing is valid', async () => {
    let calls = 0;
    const h = createIngestHandler(deps({ insert: async (e) => { calls++; return e.length; } }));
    expect(await (await h(post([]))).json()).toEqual({ accepted: 0, duplicates: 0, rejected: [] });
    expect((await h(post([{}]))).status).toBe(400);
    expect(calls).toBe(0);
  });
});

describe('limiter', () => {
  it('runs at most `concurrency` at once and hands slots to waiters in order', async () => {
    const l = createLimiter({ concurrency: 2, maxQueue: 10, maxWaitMs: 5000 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 8 }, (_, i) => l.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      order.push(i);
      running--;
    })));
    expect(peak).toBe(2);
    expect(order).toHaveLength(8);
    expect(l.stats()).toEqual({ active: 0, queued: 0 });
  });

  it('rejects waiters that wait too long, and frees the slot after a failure', async () => {
    const l = createLimiter({ concurrency: 1, maxQueue: 5, maxWaitMs: 10 });
    let release!: () => void;
    const hold = l.run(() => new Promise<void>((r) => { release = r; }));
    await expect(l.run(async () => 1)).rejects.toBeInstanceOf(Saturated);
    release();
    await hold;
    await expect(l.run(async () => { throw new Error('x'); })).rejects.toThrow('x');
    expect(await l.run(async () => 2)).toBe(2);
  });
});
