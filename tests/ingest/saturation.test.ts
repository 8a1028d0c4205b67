// 429 + Retry-After on the real stack when the ingest pool is saturated, and no loss afterwards.
//
// The test makes inserts wait without touching anything else: it inserts one event X in its own
// transaction and keeps it open. Every request below carries X (same id and created_at) plus a new
// event of its own, so its insert waits on X's primary-key entry. The function's limiter lets
// VIGIL_INGEST_DB_CONNECTIONS statements run (default 4) and VIGIL_INGEST_MAX_QUEUE requests wait
// (default 64; none longer than VIGIL_INGEST_MAX_WAIT_MS, default 5000) and answers 429 beyond
// that; the stack passes these variables from its environment to the functions server. Requests
// are sent in waves until some are refused, so the test holds for any of those settings. Then the
// transaction rolls back: the waiting requests finish (one stores X, the others find it a
// duplicate), the refused batches are retried, and every event is stored exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../packages/sdk/src/index.ts';
import { pg } from '../support/stack.ts';
import { event, ingest, rowsFor, uuid, type Sql } from './helpers.ts';

let sql: Sql;
beforeAll(async () => { sql = await pg({ max: 3 }); });
afterAll(async () => { await sql?.end(); });

type Result = Awaited<ReturnType<typeof ingest>>;

describe('ingest-events under a saturated database pool', () => {
  it('answers 429 with Retry-After, and a retried batch is stored exactly once', async () => {
    const doc = uuid();
    const createdAt = new Date(Date.now() - 60_000).toISOString();
    const x = event(doc, { id: uuidv7(), created_at: createdAt });

    const holder = await sql.reserve();
    const inFlight: { batch: Record<string, unknown>[]; result: Promise<Result> }[] = [];
    const refused: { batch: Record<string, unknown>[]; res: Result }[] = [];
    try {
      await holder`begin`;
      await holder`insert into public.document_processing_events (id, document_id, user_id, event_type, duration_ms, stage, created_at)
                   values (${x.id as string}, ${doc}, ${x.user_id as string}, 'completed', 1200, 'summary', ${createdAt})`;

      // Waves of requests until the limiter refuses some (each refusal is immediate: queue full).
      for (let wave = 0; wave < 20 && refused.length === 0; wave++) {
        const started = Array.from({ length: 25 }, () => {
          const batch = [x, event(doc, { id: uuidv7() })];
          return { batch, result: ingest(JSON.stringify(batch)) };
        });
        inFlight.push(...started);
        // Refusals come back at once; requests that got a slot or a queue place are still waiting.
        await new Promise((r) => setTimeout(r, 300));
        for (const s of started) {
          const settled = await Promise.race([s.result, new Promise<null>((r) => setTimeout(() => r(null), 0))]);
          if (settled && settled.status === 429) refused.push({ batch: s.batch, res: settled });
        }
      }
      expect(refused.length, 'the limiter refused nothing: is the pool larger than 20 waves of 25 requests?').toBeGreaterThan(0);
      for (const { res } of refused) {
        expect(res.status).toBe(429);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(res.body).toMatchObject({ error: 'overloaded' });
      }
    } finally {
      await holder`rollback`.catch(() => {});
      holder.release();
    }

    // The waiting requests now finish: exactly one of them stores X.
    const refusedBatches = new Set(refused.map((r) => r.batch));
    const waited = await Promise.all(inFlight.filter((s) => !refusedBatches.has(s.batch)).map((s) => s.result));
    for (const r of waited) expect(r.status).toBe(200);
    expect(waited.reduce((n, r) => n + (r.body.accepted as number), 0)).toBe(waited.length + 1);

    // The refused batches, retried (as the SDK does after Retry-After): their new events are stored,
    // X is a duplicate; and a second retry of the same batch stores nothing.
    for (const { batch } of refused) {
      const again = await ingest(JSON.stringify(batch));
      expect(again).toMatchObject({ status: 200, body: { accepted: 1, duplicates: 1, rejected: [] } });
    }
    const once = await ingest(JSON.stringify(refused[0]!.batch));
    expect(once).toMatchObject({ status: 200, body: { accepted: 0, duplicates: 2, rejected: [] } });

    const rows = await rowsFor(sql, doc);
    expect(rows).toHaveLength(inFlight.length + 1);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    expect(rows.filter((r) => r.id === x.id)).toHaveLength(1);
  });
});
