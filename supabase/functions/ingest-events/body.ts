// Reading and parsing an ingest request body: content type, gzip, size limits, JSON / NDJSON.
// Web-standard APIs only (runs in Deno and in Node for tests).
import { error } from '../_shared/http.ts';
import { LIMITS } from './validate.ts';

export type Format = 'json' | 'ndjson';

const JSON_TYPES = new Set(['application/json']);
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines']);

export const tooLarge = (limitBytes: number) =>
  error(413, 'payload_too_large', `the request body is limited to ${limitBytes} bytes (after decompression) and ${LIMITS.maxEvents} events`, {
    limit_bytes: limitBytes,
    limit_events: LIMITS.maxEvents,
  });

export const tooManyEvents = (received: number) =>
  error(413, 'too_many_events', `at most ${LIMITS.maxEvents} events per request; split the batch`, {
    limit_events: LIMITS.maxEvents,
    limit_bytes: LIMITS.maxBytes,
    received,
  });

/** The body format from Content-Type, or a 415 response. */
export function formatOf(req: Request): Format | Response {
  const header = req.headers.get('content-type');
  const unsupported = () =>
    error(415, 'unsupported_media_type', 'send application/json (an event or an array of events) or application/x-ndjson (one event per line), UTF-8', {
      accepted: ['application/json', 'application/x-ndjson'],
    });
  if (!header) return unsupported();
  const [type, ...params] = header.split(';').map((s) => s.trim().toLowerCase());
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k === 'charset' && v !== 'utf-8' && v !== 'utf8') return unsupported();
  }
  if (JSON_TYPES.has(type!)) return 'json';
  if (NDJSON_TYPES.has(type!)) return 'ndjson';
  return unsupported();
}

class TooLarge extends Error {}

/** Reads a stream into one buffer, failing with TooLarge past `limit` bytes. */
async function readCapped(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        reader.cancel().catch(() => {});
        throw new TooLarge();
      }
      chunks.push(value);
    }
  } finally {
    try { reader.releaseLock(); } catch { /* already released */ }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * The request body as text: at most `limit` bytes on the wire and `limit` bytes decompressed,
 * gzip undone, valid UTF-8 (a BOM is dropped). Otherwise the 400/413/415 response to return.
 */
export async function readBodyText(req: Request, limit = LIMITS.maxBytes): Promise<string | Response> {
  const encoding = (req.headers.get('content-encoding') ?? '').trim().toLowerCase();
  const gzip = encoding === 'gzip' || encoding === 'x-gzip';
  if (!gzip && encoding !== '' && encoding !== 'identity') {
    return error(415, 'unsupported_content_encoding', 'Content-Encoding must be gzip or absent', { accepted: ['gzip', 'identity'] });
  }
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return tooLarge(limit);
  if (!req.body) return error(400, 'empty_body', 'the request has no body; send an event, an array of events or NDJSON');

  let bytes: Uint8Array;
  try {
    if (gzip) {
      // The wire size is capped too, and the decompressed size is counted as it streams out, so a
      // gzip bomb stops at the limit instead of filling memory.
      let wire = 0;
      const counted = req.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          wire += chunk.byteLength;
          if (wire > limit) ctl.error(new TooLarge());
          else ctl.enqueue(chunk);
        },
      }));
      const inflated = counted.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
      bytes = await readCapped(inflated, limit);
    } else {
      bytes = await readCapped(req.body, limit);
    }
  } catch (e) {
    if (e instanceof TooLarge) return tooLarge(limit);
    if (gzip) return error(400, 'invalid_gzip', 'the body is not valid gzip data (Content-Encoding: gzip)');
    return error(400, 'unreadable_body', 'the request body could not be read');
  }

  if (bytes.byteLength === 0) return error(400, 'empty_body', 'the request body is empty; send an event, an array of events or NDJSON');
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return text;
  } catch {
    return error(400, 'invalid_utf8', 'the request body is not valid UTF-8');
  }
}

export interface Parsed {
  items: unknown[];
  /** NDJSON lines that are not valid JSON, by event index. */
  parseErrors: Map<number, string>;
}

const shortReason = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 200);

/** Parses the body into events, or the 400/413 response to return. */
export function parseEvents(text: string, format: Format): Parsed | Response {
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return error(400, 'invalid_json', `the body is not valid JSON: ${shortReason(e)}`);
    }
    if (Array.isArray(value)) {
      if (value.length > LIMITS.maxEvents) return tooManyEvents(value.length);
      return { items: value, parseErrors: new Map() };
    }
    if (value !== null && typeof value === 'object') return { items: [value], parseErrors: new Map() };
    return error(400, 'invalid_body', 'the body must be an event object or an array of event objects');
  }
  // NDJSON: one JSON value per line; blank lines are skipped and do not count as events.
  const items: unknown[] = [];
  const parseErrors = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (items.length === LIMITS.maxEvents) {
      const total = text.split('\n').filter((l) => l.trim() !== '').length;
      return tooManyEvents(total);
    }
    try {
      items.push(JSON.parse(line));
    } catch (e) {
      parseErrors.set(items.length, `not valid JSON: ${shortReason(e)}`);
      items.push(undefined);
    }
  }
  if (items.length === 0) return error(400, 'empty_body', 'the NDJSON body has no events');
  return { items, parseErrors };
}
