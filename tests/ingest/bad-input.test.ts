// The bad-input corpus: every case sends one request to the running ingest-events function and
// asserts the documented status and body, and that exactly the expected rows (usually none) were
// written: the table's total row count moves by exactly the number of valid events, and the rows
// of the case's document hold the expected values.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pg, stack } from '../support/stack.ts';
import { event, ingest, rowsFor, totalRows, uuid, type Sql } from './helpers.ts';

let sql: Sql;
beforeAll(async () => { sql = await pg(); });
afterAll(async () => { await sql?.end(); });

type Req = { body: BodyInit | null; headers?: Record<string, string>; method?: string };
type Res = Awaited<ReturnType<typeof ingest>>;
type Rows = Awaited<ReturnType<typeof rowsFor>>;

interface Case {
  name: string;
  req: (doc: string) => Req | Promise<Req>;
  status: number;
  /** Partial match of the JSON body. */
  body?: Record<string, unknown>;
  /** Rows expected to be written (checked on the whole table and on the case's document). */
  stored?: number;
  check?: (res: Res, rows: Rows) => void;
}

const json = (v: unknown): Req => ({ body: JSON.stringify(v) });
const MiB = 1024 * 1024;
const rejectedField = (field: string, index = 0) => ({
  error: 'invalid_events', accepted: 0, duplicates: 0,
  rejected: [{ index, errors: expect.arrayContaining([expect.objectContaining({ field, reason: expect.any(String) })]) }],
});
const days = (n: number) => n * 86_400_000;
// An instant an hour ago, sent with an explicit offset and microseconds.
const at = new Date(Math.floor((Date.now() - 3_600_000) / 3_600_000) * 3_600_000 + 123).toISOString();
const SQLI = "'); drop table public.document_processing_events; -- \" or 1=1; select pg_sleep(10);";

const cases: Case[] = [
  // --- authentication, method, media type -------------------------------------------------
  { name: 'no API key', req: (d) => ({ ...json(event(d)), headers: { apikey: '' } }), status: 401, body: { error: 'missing_api_key' } },
  { name: 'wrong API key', req: (d) => ({ ...json(event(d)), headers: { apikey: 'sb_secret_wrong' } }), status: 403, body: { error: 'invalid_api_key' } },
  { name: 'publishable key instead of secret key', req: async (d) => ({ ...json(event(d)), headers: { apikey: (await stack()).publishable_key } }), status: 403, body: { error: 'invalid_api_key' } },
  { name: 'user JWT instead of secret key', req: async (d) => ({ ...json(event(d)), headers: { apikey: '', authorization: `Bearer ${(await stack()).admin_jwt}` } }), status: 403, body: { error: 'invalid_api_key' } },
  { name: 'GET', req: () => ({ body: null, method: 'GET' }), status: 405, body: { error: 'method_not_allowed' }, check: (r) => expect(r.headers.get('allow')).toBe('POST') },
  { name: 'PUT', req: (d) => ({ ...json(event(d)), method: 'PUT' }), status: 405, body: { error: 'method_not_allowed' } },
  { name: 'text/plain body', req: (d) => ({ ...json(event(d)), headers: { 'content-type': 'text/plain' } }), status: 415, body: { error: 'unsupported_media_type' } },
  { name: 'form-encoded body', req: (d) => ({ body: `document_id=${d}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), status: 415, body: { error: 'unsupported_media_type' } },
  { name: 'non-UTF-8 charset', req: (d) => ({ ...json(event(d)), headers: { 'content-type': 'application/json; charset=iso-8859-1' } }), status: 415, body: { error: 'unsupported_media_type' } },
  { name: 'brotli content encoding', req: (d) => ({ ...json(event(d)), headers: { 'content-encoding': 'br' } }), status: 415, body: { error: 'unsupported_content_encoding' } },

  // --- body framing and size ---------------------------------------------------------------
  { name: 'empty body', req: () => ({ body: '' }), status: 400, body: { error: 'empty_body' } },
  { name: 'truncated JSON', req: (d) => ({ body: JSON.stringify(event(d)).slice(0, 40) }), status: 400, body: { error: 'invalid_json' } },
  { name: 'JSON with trailing garbage', req: (d) => ({ body: `${JSON.stringify(event(d))} trailing` }), status: 400, body: { error: 'invalid_json' } },
  { name: 'NDJSON sent as application/json', req: (d) => ({ body: `${JSON.stringify(event(d))}\n${JSON.stringify(event(d))}` }), status: 400, body: { error: 'invalid_json' } },
  { name: 'top-level number', req: () => ({ body: '42' }), status: 400, body: { error: 'invalid_body' } },
  { name: 'top-level string', req: () => ({ body: '"completed"' }), status: 400, body: { error: 'invalid_body' } },
  { name: 'top-level null', req: () => ({ body: 'null' }), status: 400, body: { error: 'invalid_body' } },
  { name: 'invalid UTF-8 bytes', req: (d) => ({ body: Buffer.concat([Buffer.from(JSON.stringify(event(d)).slice(0, -1)), Buffer.from([0xc3, 0x28]), Buffer.from('}')]) }), status: 400, body: { error: 'invalid_utf8' } },
  { name: 'body over 1 MiB', req: (d) => json([event(d, { event_type: 'failed', error_message: 'x'.repeat(MiB + 10) })]), status: 413, body: { error: 'payload_too_large', limit_bytes: MiB, limit_events: 1000 } },
  { name: '1001 events in a JSON array', req: (d) => json(Array.from({ length: 1001 }, () => event(d))), status: 413, body: { error: 'too_many_events', limit_events: 1000, received: 1001 } },
  { name: '1001 NDJSON lines', req: (d) => ({ body: Array.from({ length: 1001 }, () => JSON.stringify(event(d))).join('\n'), headers: { 'content-type': 'application/x-ndjson' } }), status: 413, body: { error: 'too_many_events', limit_events: 1000 } },
  { name: 'gzip header on a plain body', req: (d) => ({ ...json(event(d)), headers: { 'content-encoding': 'gzip' } }), status: 400, body: { error: 'invalid_gzip' } },
  { name: 'truncated gzip', req: (d) => { const z = gzipSync(JSON.stringify([event(d), event(d)])); return { body: z.subarray(0, z.length - 12), headers: { 'content-encoding': 'gzip' } }; }, status: 400, body: { error: 'invalid_gzip' } },
  { name: 'gzip bomb (over 1 MiB inflated)', req: () => ({ body: gzipSync(Buffer.alloc(8 * MiB, 32)), headers: { 'content-encoding': 'gzip' } }), status: 413, body: { error: 'payload_too_large', limit_bytes: MiB } },
  { name: 'deeply nested arrays', req: () => ({ body: '['.repeat(200_000) + ']'.repeat(200_000) }), status: 400, body: { error: expect.stringMatching(/^invalid_(json|events)$/) } },

  // --- per-event validation: nothing valid -> 400 with every reason ---------------------------
  { name: 'unknown event_type', req: (d) => json(event(d, { event_type: 'exploded' })), status: 400, body: rejectedField('event_type') },
  { name: 'SQL in event_type', req: (d) => json(event(d, { event_type: SQLI })), status: 400, body: rejectedField('event_type') },
  { name: 'event_type of the wrong case', req: (d) => json(event(d, { event_type: 'COMPLETED' })), status: 400, body: rejectedField('event_type') },
  { name: 'document_id not a uuid', req: () => json(event('not-a-uuid')), status: 400, body: rejectedField('document_id') },
  { name: 'SQL in document_id', req: () => json(event(SQLI)), status: 400, body: rejectedField('document_id') },
  { name: 'user_id a number', req: (d) => json(event(d, { user_id: 12345 })), status: 400, body: rejectedField('user_id') },
  { name: 'empty object', req: () => json({}), status: 400, check: (r) => expect((r.body.rejected as { errors: { field: string }[] }[])[0]!.errors.map((e) => e.field)).toEqual(['document_id', 'user_id', 'event_type']) },
  { name: 'negative duration_ms', req: (d) => json(event(d, { duration_ms: -5 })), status: 400, body: rejectedField('duration_ms') },
  { name: 'fractional duration_ms', req: (d) => json(event(d, { duration_ms: 12.5 })), status: 400, body: rejectedField('duration_ms') },
  { name: 'duration_ms as a string', req: (d) => json(event(d, { duration_ms: '1200' })), status: 400, body: rejectedField('duration_ms') },
  { name: 'duration_ms beyond int4', req: (d) => json(event(d, { duration_ms: 2 ** 31 })), status: 400, body: rejectedField('duration_ms') },
  { name: 'duration_ms 1e400 (Infinity)', req: (d) => ({ body: JSON.stringify(event(d)).replace('"duration_ms":1200', '"duration_ms":1e400') }), status: 400, body: rejectedField('duration_ms') },
  { name: 'stage of 101 characters', req: (d) => json(event(d, { stage: 's'.repeat(101) })), status: 400, body: rejectedField('stage') },
  { name: 'empty stage', req: (d) => json(event(d, { stage: '' })), status: 400, body: rejectedField('stage') },
  { name: 'NUL byte in stage', req: (d) => json(event(d, { stage: 'ocr\u0000' })), status: 400, body: rejectedField('stage') },
  { name: 'error_message an object', req: (d) => json(event(d, { error_message: { message: 'x' } })), status: 400, body: rejectedField('error_message') },
  { name: 'id not a uuid', req: (d) => json(event(d, { id: 'abc' })), status: 400, body: rejectedField('id') },
  { name: 'created_at in 1970', req: (d) => json(event(d, { created_at: '1970-01-01T00:00:00Z' })), status: 400, body: rejectedField('created_at') },
  { name: 'created_at a day ahead', req: (d) => json(event(d, { created_at: new Date(Date.now() + days(1)).toISOString() })), status: 400, body: rejectedField('created_at') },
  { name: 'created_at without a time zone', req: (d) => json(event(d, { created_at: '2026-11-22T10:00:00' })), status: 400, body: rejectedField('created_at') },
  { name: 'created_at not a date', req: (d) => json(event(d, { created_at: "now(); drop table x; --" })), status: 400, body: rejectedField('created_at') },
  { name: 'created_at as epoch number', req: (d) => json(event(d, { created_at: Date.now() })), status: 400, body: rejectedField('created_at') },
  { name: 'UUIDv7 id from 40 days ago without created_at', req: (d) => { const t = (Date.now() - days(40)).toString(16).padStart(12, '0'); return json(event(d, { id: `${t.slice(0, 8)}-${t.slice(8)}-7000-8000-000000000001` })); }, status: 400, body: rejectedField('created_at') },
  { name: 'array of non-objects', req: () => json([1, 'two', null, [4]]), status: 400, check: (r) => expect((r.body.rejected as { index: number }[]).map((x) => x.index)).toEqual([0, 1, 2, 3]) },

  // --- partially or wholly valid: valid events stored, exact values --------------------------
  { name: 'mixed batch stores the valid events', req: (d) => json([event(d), { ...event(d), event_type: 'nope' }, event(d), 7]), status: 200, stored: 2,
    body: { accepted: 2, duplicates: 0, rejected: [{ index: 1, errors: [expect.objectContaining({ field: 'event_type' })] }, { index: 3, errors: [expect.objectContaining({ field: '(event)' })] }] } },
  { name: 'NDJSON with one malformed line', req: (d) => ({ body: `${JSON.stringify(event(d))}\n{oops\n\n${JSON.stringify(event(d))}\n`, headers: { 'content-type': 'application/x-ndjson' } }), status: 200, stored: 2,
    body: { accepted: 2, duplicates: 0, rejected: [{ index: 1, errors: [expect.objectContaining({ field: '(line)' })] }] } },
  { name: 'duplicate ids in one batch: first stored, rest duplicates', req: (d) => { const e = event(d); return json([e, { ...e, duration_ms: 1 }, e]); }, status: 200, stored: 1,
    body: { accepted: 1, duplicates: 2, rejected: [] }, check: (_r, rows) => expect(rows[0]!.duration_ms).toBe(1200) },
  { name: 'huge error_message is truncated, not rejected', req: (d) => json(event(d, { event_type: 'failed', error_message: 'e'.repeat(500_000) })), status: 200, stored: 1,
    body: { accepted: 1, duplicates: 0, rejected: [] }, check: (_r, rows) => { expect(rows[0]!.error_message).toHaveLength(2000); expect(rows[0]!.error_message.endsWith('\u2026')).toBe(true); } },
  { name: 'NUL bytes and controls in error_message are replaced', req: (d) => json(event(d, { event_type: 'failed', error_message: 'bad\u0000byte\u001b[31m\nline2\ud800' })), status: 200, stored: 1,
    check: (_r, rows) => expect(rows[0]!.error_message).toBe('bad\uFFFDbyte\uFFFD[31m\nline2\uFFFD') },
  { name: 'SQL-looking text is stored verbatim', req: (d) => json(event(d, { event_type: 'failed', error_message: SQLI, stage: "x'; delete from t; --" })), status: 200, stored: 1,
    check: (_r, rows) => { expect(rows[0]!.error_message).toBe(SQLI); expect(rows[0]!.stage).toBe("x'; delete from t; --"); } },
  { name: '__proto__ and unknown fields are ignored', req: (d) => ({ body: JSON.stringify(event(d)).replace('{', '{"__proto__":{"polluted":true},"extra":[1,2],') }), status: 200, stored: 1,
    check: () => expect(({} as Record<string, unknown>).polluted).toBeUndefined() },
  { name: 'gzip NDJSON with CRLF line ends and a BOM', req: (d) => ({ body: gzipSync(`\uFEFF${JSON.stringify(event(d))}\r\n${JSON.stringify(event(d))}\r\n`), headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' } }), status: 200, stored: 2,
    body: { accepted: 2, duplicates: 0, rejected: [] } },
  { name: 'secret key as Bearer token, created_at with an offset and microseconds', req: async (d) => ({ ...json(event(d, { created_at: at.replace('Z', '456+00:00') })), headers: { apikey: '', authorization: `Bearer ${(await stack()).secret_key}` } }), status: 200, stored: 1,
    body: { accepted: 1, duplicates: 0, rejected: [] }, check: (_r, rows) => expect((rows[0]!.created_at as Date).toISOString()).toBe(at) },
];

describe('ingest-events bad-input corpus', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const doc = uuid();
    const before = await totalRows(sql);
    const r = await c.req(doc);
    const res = await ingest(r.body, r.headers ?? {}, r.method ?? 'POST');
    expect(res.status).toBe(c.status);
    expect(typeof res.body).toBe('object');
    if (c.status >= 400) expect(res.body).toMatchObject({ error: expect.any(String) });
    if (c.body) expect(res.body).toMatchObject(c.body);
    if (c.status === 200) {
      expect(res.body).toEqual({ accepted: expect.any(Number), duplicates: expect.any(Number), rejected: expect.any(Array) });
    }
    const rows = await rowsFor(sql, doc);
    expect(rows).toHaveLength(c.stored ?? 0);
    expect(await totalRows(sql)).toBe(before + (c.stored ?? 0));
    c.check?.(res, rows);
  });

  it('left the table in place (SQL in the input is data, never code)', async () => {
    const [r] = await sql`select to_regclass('public.document_processing_events') is not null as ok`;
    expect(r!.ok).toBe(true);
  });
});
