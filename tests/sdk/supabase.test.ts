import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVigil, type VigilError } from '../../packages/sdk/src/index.ts';
import { processingEvent } from './fake-server.ts';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

// Shapes of supabase-js (functions-js) errors: FunctionsHttpError / FunctionsRelayError carry the
// Response as `context`; FunctionsFetchError carries the underlying fetch error.
class FunctionsHttpError extends Error {
  constructor(public context: Response) {
    super('Edge Function returned a non-2xx status code');
    this.name = 'FunctionsHttpError';
  }
}
class FunctionsFetchError extends Error {
  constructor(public context: unknown) {
    super('Failed to send a request to the Edge Function');
    this.name = 'FunctionsFetchError';
  }
}

type Call = { name: string; body: unknown; headers?: Record<string, string> };
type Result = { data: unknown; error: unknown } | 'hang' | 'throw';

function fakeSupabase(script: (n: number, events: Array<Record<string, unknown>>) => Result) {
  const calls: Call[] = [];
  const stored = new Set<string>();
  const supabase = {
    functions: {
      invoke(name: string, opts: { body: unknown; headers?: Record<string, string> }) {
        calls.push({ name, body: opts.body, headers: opts.headers });
        const events = opts.body as Array<Record<string, unknown>>;
        const r = script(calls.length, events);
        if (r === 'hang') return new Promise<never>(() => {});
        if (r === 'throw') throw new Error('invoke threw synchronously');
        if (r.error == null && r.data === undefined) {
          let accepted = 0;
          let duplicates = 0;
          for (const e of events) {
            if (stored.has(String(e.id))) duplicates++;
            else {
              stored.add(String(e.id));
              accepted++;
            }
          }
          return Promise.resolve({ data: { accepted, duplicates, rejected: [] }, error: null });
        }
        return Promise.resolve(r);
      },
    },
  };
  return { supabase, calls, stored };
}

const OK: Result = { data: undefined, error: null };

describe('supabase-js client mode', () => {
  it('invokes the function with the events array and maps errors onto the retry rules', async () => {
    const { supabase, calls, stored } = fakeSupabase((n) => {
      if (n === 1) return { data: null, error: new FunctionsHttpError(new Response('busy', { status: 503, headers: { 'retry-after': '0' } })) };
      if (n === 2) return { data: null, error: new FunctionsFetchError(new TypeError('fetch failed')) };
      if (n === 3) return 'throw';
      return OK;
    });
    const errors: VigilError[] = [];
    const v = createVigil({ supabase, flushIntervalMs: 10, backoffBaseMs: 1, backoffMaxMs: 5, onError: (e) => errors.push(e) });
    for (let i = 0; i < 4; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 5000 });
    expect(r).toEqual({ sent: 4, unsent: 0, timedOut: false });
    expect(calls).toHaveLength(4);
    expect(calls.every((c) => c.name === 'ingest-events')).toBe(true);
    expect(Array.isArray(calls[0]!.body)).toBe(true);
    const ids = (calls[0]!.body as Array<Record<string, unknown>>).map((e) => e.id);
    expect((calls[3]!.body as Array<Record<string, unknown>>).map((e) => e.id)).toEqual(ids); // same ids on retry
    expect(stored.size).toBe(4);
    expect(v.stats()).toMatchObject({ sent: 4, retried: 3, rejected: 0 });
    expect(errors.map((e) => [e.kind, e.status])).toEqual([['unavailable', 503]]);
    await v.shutdown({ timeoutMs: 100 });
  });

  it('uses functionName, treats 401 as non-retryable auth and 413 as split', async () => {
    const { supabase, calls } = fakeSupabase((n, events) => {
      if (n === 1) return { data: null, error: new FunctionsHttpError(new Response('', { status: 401 })) };
      if (events.length > 2) return { data: null, error: new FunctionsHttpError(new Response('', { status: 413 })) };
      return OK;
    });
    const errors: VigilError[] = [];
    const v = createVigil({ supabase, functionName: 'my-ingest', flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    v.recordProcessingEvent(processingEvent(0));
    await v.flush({ timeoutMs: 5000 });
    expect(v.stats()).toMatchObject({ rejected: 1, retried: 0 });
    expect(errors.map((e) => e.kind)).toEqual(['auth']);
    for (let i = 0; i < 4; i++) v.recordProcessingEvent(processingEvent(i));
    const r = await v.flush({ timeoutMs: 5000 });
    expect(r).toEqual({ sent: 4, unsent: 0, timedOut: false });
    expect(calls.map((c) => (c.body as unknown[]).length)).toEqual([1, 4, 2, 2]);
    expect(calls.every((c) => c.name === 'my-ingest')).toBe(true);
    await v.shutdown({ timeoutMs: 100 });
  });

  it('a hanging invoke is timed out, and shutdown meets its deadline', async () => {
    const { supabase, calls } = fakeSupabase(() => 'hang');
    const v = createVigil({ supabase, flushIntervalMs: 1, requestTimeoutMs: 100, backoffBaseMs: 10, backoffMaxMs: 20 });
    v.recordProcessingEvent(processingEvent(0));
    const t0 = Date.now();
    const r = await v.shutdown({ timeoutMs: 400 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r).toEqual({ sent: 0, unsent: 1, timedOut: true });
    expect(calls.length).toBeGreaterThanOrEqual(2); // timed out and retried within the window
    expect(v.stats().lastError).toMatch(/timeout|shutdown/);
  });
});
