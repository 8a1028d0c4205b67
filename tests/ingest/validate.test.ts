// Unit tests of the ingest validation and body parsing (pure code, no stack needed).
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import {
  LIMITS, parseTimestamp, sanitizeMessage, uuidV7Millis, validateBatch, validateEvent,
} from '../../supabase/functions/ingest-events/validate.ts';
import { formatOf, parseEvents, readBodyText } from '../../supabase/functions/ingest-events/body.ts';

const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const opts = { now: NOW, retentionDays: 30, newId: () => '00000000-0000-4000-8000-000000000000' };
const DOC = '0c8c1a3e-5d7b-4c1e-9a55-2d6f0e3b9a01';
const USER = '7b1e2f90-3c4d-4e5f-8a6b-1c2d3e4f5a6b';
const base = { document_id: DOC, user_id: USER, event_type: 'completed' };
const v7At = (ms: number) => `${ms.toString(16).padStart(12, '0').replace(/^(.{8})(.{4})$/, '$1-$2')}-7abc-8def-0123456789ab`;

describe('validateEvent', () => {
  it('accepts a minimal event and fills id and created_at', () => {
    const r = validateEvent(base, opts);
    expect(r).toEqual({ ok: true, event: expect.objectContaining({ id: opts.newId(), created_at: new Date(NOW).toISOString(), duration_ms: null, stage: null, error_message: null }) });
  });

  it('derives created_at from a UUIDv7 id so retries map to the same row', () => {
    const t = NOW - 60_000;
    const id = v7At(t);
    expect(uuidV7Millis(id)).toBe(t);
    const r = validateEvent({ ...base, id }, opts);
    expect(r.ok && r.event.created_at).toBe(new Date(t).toISOString());
  });

  it('rejects a UUIDv7 id whose timestamp is outside the window when created_at is absent', () => {
    const r = validateEvent({ ...base, id: v7At(NOW - 31 * 86_400_000) }, opts);
    expect(r).toEqual({ ok: false, errors: [{ field: 'created_at', reason: expect.stringContaining('UUIDv7') }] });
  });

  it('keeps an explicit created_at text (microseconds and offsets) and checks its bounds', () => {
    const r = validateEvent({ ...base, created_at: '2026-11-22T13:59:59.123456+02:00' }, opts);
    expect(r.ok && r.event.created_at).toBe('2026-11-22T13:59:59.123456+02:00');
    expect(validateEvent({ ...base, created_at: '2026-11-22T12:06:00Z' }, opts)).toMatchObject({ ok: false, errors: [{ field: 'created_at', reason: expect.stringContaining('future') }] });
    expect(validateEvent({ ...base, created_at: '2026-10-01T00:00:00Z' }, opts)).toMatchObject({ ok: false, errors: [{ field: 'created_at', reason: expect.stringContaining('retention') }] });
  });

  it.each([
    ['2026-02-30T00:00:00Z'], ['2026-11-22T12:00:00'], ['2026-11-22'], ['yesterday'], ['2026-13-01T00:00:00Z'],
    ['2026-11-22T24:00:00Z'], ['2026-11-22T12:00:00+25:00'], ['1e12'], [''],
  ])('rejects the malformed timestamp %j', (ts) => {
    expect(parseTimestamp(ts)).toBeNull();
    expect(validateEvent({ ...base, created_at: ts }, opts)).toMatchObject({ ok: false, errors: [{ field: 'created_at' }] });
  });

  it('reports every wrong field of an event at once', () => {
    const r = validateEvent({ id: 'nope', document_id: 5, event_type: 'exploded', duration_ms: -1, stage: '', error_message: 42, created_at: 17 }, opts);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map((e) => e.field)).toEqual(['id', 'document_id', 'user_id', 'event_type', 'duration_ms', 'stage', 'error_message', 'created_at']);
  });

  it.each([[1.5], ['12'], [true], [2147483648], [Number.MAX_SAFE_INTEGER], [-0.5]])('rejects duration_ms %j', (d) => {
    expect(validateEvent({ ...base, duration_ms: d }, opts)).toMatchObject({ ok: false, errors: [{ field: 'duration_ms' }] });
  });

  it('treats null as absent and ignores unknown fields', () => {
    const r = validateEvent({ ...base, duration_ms: null, stage: null, error_message: null, created_at: null, id: null, extra: { a: 1 } }, opts);
    expect(r.ok).toBe(true);
  });

  it('rejects control characters in stage but cleans them out of error_message', () => {
    expect(validateEvent({ ...base, stage: 'o\u0000cr' }, opts)).toMatchObject({ ok: false, errors: [{ field: 'stage' }] });
    const r = validateEvent({ ...base, event_type: 'failed', error_message: 'a\u0000b\u0007c\td\ne\ud800' }, opts);
    expect(r.ok && r.event.error_message).toBe('a\uFFFDb\uFFFDc\td\ne\uFFFD');
  });

  it('truncates long error messages without splitting a surrogate pair', () => {
    expect(sanitizeMessage('x'.repeat(5000))).toHaveLength(LIMITS.maxErrorMessageChars);
    const s = sanitizeMessage('x'.repeat(1997) + '😀'.repeat(10));
    expect(s.length).toBeLessThanOrEqual(LIMITS.maxErrorMessageChars);
    expect(s.endsWith('\u2026')).toBe(true);
    expect(/[\uD800-\uDBFF]\u2026$/.test(s)).toBe(false);
  });

  it('does not read inherited properties', () => {
    const o = Object.create({ document_id: DOC, user_id: USER, event_type: 'completed' });
    expect(validateEvent(o, opts).ok).toBe(false);
  });
});

describe('validateBatch', () => {
  it('keeps the first of duplicate ids and counts the rest as duplicates', () => {
    const id = '3f1e2d3c-4b5a-4678-9abc-def012345678';
    const b = validateBatch([{ ...base, id }, { ...base, id, duration_ms: 5 }, { ...base, id: id.toUpperCase() }, { nope: 1 }], opts);
    expect(b.events).toHaveLength(1);
    expect(b.events[0]!.duration_ms).toBeNull();
    expect(b.inBatchDuplicates).toBe(2);
    expect(b.rejected.map((r) => r.index)).toEqual([3]);
  });
});

describe('body', () => {
  const req = (body: BodyInit | null, headers: Record<string, string> = {}) =>
    new Request('http://x/ingest-events', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('picks the format from Content-Type', () => {
    expect(formatOf(req('x'))).toBe('json');
    expect(formatOf(req('x', { 'content-type': 'application/x-ndjson; charset=utf-8' }))).toBe('ndjson');
    expect((formatOf(req('x', { 'content-type': 'text/plain' })) as Response).status).toBe(415);
    expect((formatOf(req('x', { 'content-type': 'application/json; charset=latin1' })) as Response).status).toBe(415);
  });

  it('inflates gzip and stops a gzip bomb at the limit', async () => {
    expect(await readBodyText(req(gzipSync('[1,2]'), { 'content-encoding': 'gzip' }))).toBe('[1,2]');
    const bomb = gzipSync(Buffer.alloc(LIMITS.maxBytes + 1, 32));
    const r = (await readBodyText(req(bomb, { 'content-encoding': 'gzip' }))) as Response;
    expect(r.status).toBe(413);
  });

  it('answers 400 for bad gzip and 415 for other encodings', async () => {
    expect(((await readBodyText(req('not gzip', { 'content-encoding': 'gzip' }))) as Response).status).toBe(400);
    expect(((await readBodyText(req('x', { 'content-encoding': 'br' }))) as Response).status).toBe(415);
  });

  it('parses NDJSON, skipping blank lines and reporting bad lines by index', () => {
    const p = parseEvents('{"a":1}\n\n  \r\n{bad\n[1]\n', 'ndjson');
    expect(p).toMatchObject({ items: [{ a: 1 }, undefined, [1]] });
    expect(!(p instanceof Response) && [...p.parseErrors.keys()]).toEqual([1]);
  });

  it('limits the number of events', () => {
    const many = JSON.stringify(Array.from({ length: LIMITS.maxEvents + 1 }, () => ({})));
    expect((parseEvents(many, 'json') as Response).status).toBe(413);
    expect((parseEvents('{}\n'.repeat(LIMITS.maxEvents + 1), 'ndjson') as Response).status).toBe(413);
    expect(parseEvents('{}\n'.repeat(LIMITS.maxEvents), 'ndjson')).not.toBeInstanceOf(Response);
  });
});
