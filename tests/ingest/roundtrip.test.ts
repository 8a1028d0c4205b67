// What is stored is exactly what was sent (after the documented sanitising): the function writes
// the statement's array literals itself, so text that means something to an array literal
// (quotes, backslashes, braces, commas, NULL, whitespace) must come back unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pg } from '../support/stack.ts';
import { event, ingest, rowsFor, uuid, type Sql } from './helpers.ts';

let sql: Sql;
beforeAll(async () => { sql = await pg(); });
afterAll(async () => { await sql?.end(); });

const TEXTS = [
  'plain', '"quoted"', 'back\\slash', '\\"', '{braces}', 'a,b', 'NULL', 'null', ' padded ', 'tab\there', 'line\nbreak',
  "it's", '{"json": [1, 2]}', "'); drop table public.document_processing_events; --", 'ünïcödé ✓ 🚀', '\\N', '""', '\\',
];

describe('ingest-events stores text exactly', () => {
  it('stage and error_message with array-literal and SQL metacharacters round-trip unchanged', async () => {
    const doc = uuid();
    const batch = TEXTS.map((t, i) => event(doc, {
      event_type: 'failed', stage: t.replace(/[\t\n]/g, ' '), error_message: t,
      created_at: new Date(Date.now() - 1000 - i).toISOString(),
    }));
    batch.push(event(doc, { event_type: 'failed', stage: null, error_message: '', created_at: new Date(Date.now() - 5000).toISOString() }));
    const res = await ingest(JSON.stringify(batch));
    expect(res).toMatchObject({ status: 200, body: { accepted: batch.length, duplicates: 0, rejected: [] } });
    const rows = await sql`select id, stage, error_message from public.document_processing_events where document_id = ${doc}`;
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    for (const e of batch) {
      const r = byId.get(e.id as string)!;
      expect(r, `row for ${JSON.stringify(e.error_message)}`).toBeDefined();
      expect(r.error_message).toBe(e.error_message);
      expect(r.stage).toBe(e.stage);
    }
  });

  it('stores timestamps in every accepted form at the instant they name, and uuids in lower case', async () => {
    const doc = uuid();
    const base = Date.now() - 10 * 60_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const forms = [
      iso(base), iso(base + 1).replace('T', ' '), iso(base + 2).replace('Z', '+00:00'),
      iso(base + 3 - 2 * 3600_000).replace('Z', '-02:00'),
      iso(base + 4).slice(0, 19) + '.004123Z',
    ];
    const expected = [base, base + 1, base + 2, base + 3, null];
    const upper = uuid().toUpperCase();
    const batch = forms.map((f, i) => event(doc, { created_at: f, ...(i === 0 ? { id: upper } : {}) }));
    const res = await ingest(JSON.stringify(batch));
    expect(res).toMatchObject({ status: 200, body: { accepted: forms.length } });
    const rows = await rowsFor(sql, doc);
    const got = new Map(rows.map((r) => [r.id as string, r]));
    expect(got.has(upper.toLowerCase())).toBe(true);
    batch.forEach((e, i) => {
      const r = got.get((e.id as string).toLowerCase())!;
      if (expected[i] !== null) expect((r.created_at as Date).getTime()).toBe(expected[i]);
    });
    // Microseconds are kept (not rounded to milliseconds).
    const [micro] = await sql`select extract(microseconds from created_at)::bigint % 1000 as us
                              from public.document_processing_events where id = ${(batch[4]!.id as string).toLowerCase()}`;
    expect(Number(micro!.us)).toBe(123);
  });
});
