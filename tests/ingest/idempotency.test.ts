// Client-supplied ids make retries idempotent: a resent batch stores nothing twice and reports
// the events as duplicates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../packages/sdk/src/index.ts';
import { pg } from '../support/stack.ts';
import { event, ingest, rowsFor, uuid, type Sql } from './helpers.ts';

let sql: Sql;
beforeAll(async () => { sql = await pg(); });
afterAll(async () => { await sql?.end(); });

describe('ingest-events idempotency', () => {
  it('stores each event of a batch sent twice once', async () => {
    const doc = uuid();
    const batch = Array.from({ length: 25 }, (_, i) => event(doc, { id: uuidv7(), created_at: new Date(Date.now() - i * 1000).toISOString() }));
    const first = await ingest(JSON.stringify(batch));
    expect(first).toMatchObject({ status: 200, body: { accepted: 25, duplicates: 0, rejected: [] } });
    const second = await ingest(JSON.stringify(batch));
    expect(second).toMatchObject({ status: 200, body: { accepted: 0, duplicates: 25, rejected: [] } });
    const rows = await rowsFor(sql, doc);
    expect(rows).toHaveLength(25);
    expect(new Set(rows.map((r) => r.id)).size).toBe(25);
  });

  it('derives created_at from a UUIDv7 id, so a resent event without created_at is still a duplicate', async () => {
    const doc = uuid();
    const batch = Array.from({ length: 10 }, () => event(doc, { id: uuidv7() }));
    expect((await ingest(JSON.stringify(batch))).body).toEqual({ accepted: 10, duplicates: 0, rejected: [] });
    await new Promise((r) => setTimeout(r, 5)); // a later request time must not change anything
    expect((await ingest(JSON.stringify(batch))).body).toEqual({ accepted: 0, duplicates: 10, rejected: [] });
    const rows = await rowsFor(sql, doc);
    expect(rows).toHaveLength(10);
    for (const r of rows) {
      const id = r.id as string;
      expect((r.created_at as Date).getTime()).toBe(parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
    }
  });

  it('stores a batch sent concurrently five times once (NDJSON and gzip alike)', async () => {
    const doc = uuid();
    const batch = Array.from({ length: 40 }, () => event(doc, { id: uuidv7() }));
    const ndjson = batch.map((e) => JSON.stringify(e)).join('\n');
    const results = await Promise.all([
      ingest(JSON.stringify(batch)),
      ingest(ndjson, { 'content-type': 'application/x-ndjson' }),
      ingest(JSON.stringify(batch)),
      ingest(ndjson, { 'content-type': 'application/x-ndjson' }),
      ingest(JSON.stringify(batch)),
    ]);
    for (const r of results) expect(r.status).toBe(200);
    const accepted = results.reduce((n, r) => n + (r.body.accepted as number), 0);
    const duplicates = results.reduce((n, r) => n + (r.body.duplicates as number), 0);
    expect(accepted).toBe(40);
    expect(duplicates).toBe(4 * 40);
    expect(await rowsFor(sql, doc)).toHaveLength(40);
  });

  it('resending part of a batch with new events stores only the new ones', async () => {
    const doc = uuid();
    const a = Array.from({ length: 5 }, () => event(doc, { id: uuidv7() }));
    const b = Array.from({ length: 3 }, () => event(doc, { id: uuidv7() }));
    expect((await ingest(JSON.stringify(a))).body).toEqual({ accepted: 5, duplicates: 0, rejected: [] });
    expect((await ingest(JSON.stringify([...b, ...a]))).body).toEqual({ accepted: 3, duplicates: 5, rejected: [] });
    expect(await rowsFor(sql, doc)).toHaveLength(8);
  });

  it('cannot deduplicate events sent without an id (documented: send ids to make retries safe)', async () => {
    const doc = uuid();
    const e = event(doc);
    delete e.id;
    await ingest(JSON.stringify(e));
    await ingest(JSON.stringify(e));
    expect(await rowsFor(sql, doc)).toHaveLength(2);
  });
});
