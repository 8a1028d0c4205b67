// Validation of processing events for ingest-events. Pure functions (no I/O, no Deno APIs) so they
// are unit-tested from vitest in Node as well as used by the edge function.
//
// An event is a JSON object with:
//   id             optional uuid (any version; the SDK sends UUIDv7). The idempotency key, with created_at.
//   document_id    required uuid
//   user_id        required uuid
//   event_type     required: upload_started | processing_started | completed | failed
//   duration_ms    optional integer, 0..2147483647
//   stage          optional text, 1..100 characters, no control characters
//   error_message  optional text; NUL and other control characters (except tab, LF, CR) and unpaired
//                  surrogates are replaced with U+FFFD; longer than 2000 characters is truncated
//                  (an error message is never a reason to lose a failure event)
//   created_at     optional ISO 8601 timestamp with a zone (Z or +hh:mm), not before the retention
//                  window and at most 5 minutes ahead. When absent: derived from the id if it is a
//                  UUIDv7 (so a retry maps to the same row), else the time of the request.
// null counts as absent for every optional field. Unknown fields are ignored.

export const EVENT_TYPES = ['upload_started', 'processing_started', 'completed', 'failed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const LIMITS = {
  maxEvents: 1000,
  maxBytes: 1024 * 1024,
  maxStageChars: 100,
  maxErrorMessageChars: 2000,
  maxDurationMs: 2147483647,
  maxFutureMs: 5 * 60 * 1000,
} as const;

export interface FieldError {
  field: string;
  reason: string;
}

export interface ValidEvent {
  id: string;
  document_id: string;
  user_id: string;
  event_type: EventType;
  duration_ms: number | null;
  error_message: string | null;
  stage: string | null;
  /** ISO 8601 text handed to Postgres as is (keeps microseconds). */
  created_at: string;
}

export type Validation = { ok: true; event: ValidEvent } | { ok: false; errors: FieldError[] };

export interface ValidateOptions {
  /** Current time in ms (injectable for tests). */
  now: number;
  /** Raw-event retention in days: older created_at values are rejected (they would be dropped). */
  retentionDays: number;
  /** Id generator for events without an id (default crypto.randomUUID). */
  newId?: () => string;
}

const UUID_V7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
// RFC 3339 / ISO 8601 extended format with a mandatory zone.
const TS_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;
// C0 controls except tab, LF, CR; DEL; C1 controls.
// deno-lint-ignore no-control-regex
const MESSAGE_CONTROL_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
// deno-lint-ignore no-control-regex
const MESSAGE_CONTROL_TEST_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// deno-lint-ignore no-control-regex
const ANY_CONTROL_RE = /[\u0000-\u001F\u007F-\u009F]/;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATE_RE_G = new RegExp(LONE_SURROGATE_RE.source, 'g');

// Hex digit lookup by char code (0-127): 1 for lower-case, 2 for upper-case hex digits, else 0.
const HEX = new Uint8Array(128);
for (let c = 48; c <= 57; c++) HEX[c] = 1;
for (let c = 97; c <= 102; c++) HEX[c] = 1;
for (let c = 65; c <= 70; c++) HEX[c] = 2;

/**
 * 0 when `s` is not a uuid (8-4-4-4-12 hex digits), 1 when it is one in lower case, 2 when it has
 * upper-case digits. The same strings as
 * /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, without a regex (this runs 3 times per event).
 */
function uuidKind(s: string): 0 | 1 | 2 {
  if (s.length !== 36) return 0;
  let kind: 0 | 1 | 2 = 1;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return 0;
      continue;
    }
    const h = c < 128 ? HEX[c]! : 0;
    if (h === 0) return 0;
    if (h === 2) kind = 2;
  }
  return kind;
}

export const isUuid = (v: unknown): v is string => typeof v === 'string' && uuidKind(v) !== 0;
export const isUuidV7 = (v: unknown): v is string => typeof v === 'string' && UUID_V7_RE.test(v);
/** A uuid (already checked, of kind `kind`) in lower case, without a copy when it already is. */
const lowerUuid = (s: string, kind: 0 | 1 | 2) => (kind === 2 ? s.toLowerCase() : s);

/** Checks a required uuid field, recording its error; returns its uuidKind (0 when invalid). */
function requiredUuid(field: string, v: unknown, errors: FieldError[]): 0 | 1 | 2 {
  if (v === undefined || v === null) {
    errors.push({ field, reason: 'is required' });
    return 0;
  }
  const kind = typeof v === 'string' ? uuidKind(v) : 0;
  if (kind === 0) errors.push({ field, reason: typeof v === 'string' ? 'must be a uuid' : `must be a uuid string, got ${describe(v)}` });
  return kind;
}

/** The unix-ms timestamp in a UUIDv7's first 48 bits. */
export function uuidV7Millis(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(y: number, m: number): number {
  if (m === 2 && (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return 29;
  return DAYS_IN_MONTH[m - 1]!;
}

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const digits2 = (s: string, i: number) => {
  const a = digit(s, i), b = digit(s, i + 1);
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/**
 * The canonical form toISOString() writes (and the SDK sends), YYYY-MM-DDTHH:MM:SS.sssZ, parsed
 * without a regex or Date.parse; undefined when `s` is not in exactly that form (the general
 * parser then decides), null when it is but is not a real date. Same answers as the general path.
 */
function parseCanonicalTimestamp(s: string): number | null | undefined {
  if (s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 ||
      s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return undefined;
  const yh = digits2(s, 0), yl = digits2(s, 2), mo = digits2(s, 5), d = digits2(s, 8), h = digits2(s, 11), mi = digits2(s, 14),
    sec = digits2(s, 17), msh = digits2(s, 20), msl = digit(s, 22);
  if (yh < 0 || yl < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || msh < 0 || msl < 0 || msl > 9) return undefined;
  const y = yh * 100 + yl;
  // Date.UTC maps years 0-99 to 1900-1999: leave those to Date.parse.
  if (y < 100) return undefined;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return null;
  return Date.UTC(y, mo - 1, d, h, mi, sec, msh * 10 + msl);
}

/** Parses a strict ISO 8601 timestamp with a zone; null when malformed or not a real date. */
export function parseTimestamp(s: string): number | null {
  const fast = parseCanonicalTimestamp(s);
  if (fast !== undefined) return fast;
  if (s.length > 40) return null;
  const m = TS_RE.exec(s);
  if (!m) return null;
  const y = +m[1]!, mo = +m[2]!, d = +m[3]!, h = +m[4]!, mi = +m[5]!, sec = m[6] === undefined ? 0 : +m[6];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return null;
  const zone = m[8]!;
  if (zone !== 'Z' && zone !== 'z') {
    const zh = +zone.slice(1, 3);
    const zm = zone.length > 3 ? +zone.slice(-2) : 0;
    if (zh > 15 || zm > 59) return null;
  }
  // Date.parse wants 'T' and 'Z'; the SDK's toISOString() text is already in that form.
  const t = Date.parse(s.charCodeAt(10) === 84 && zone !== 'z' ? s : s.replace(/[t ]/, 'T').replace(/z$/, 'Z'));
  return Number.isFinite(t) ? t : null;
}

const HAS_SURROGATE_RE = /[\uD800-\uDFFF]/;

/** error_message as stored: controls and unpaired surrogates replaced, bounded length. */
export function sanitizeMessage(s: string): string {
  let out = MESSAGE_CONTROL_TEST_RE.test(s) ? s.replace(MESSAGE_CONTROL_RE, '\uFFFD') : s;
  if (HAS_SURROGATE_RE.test(out)) out = out.replace(LONE_SURROGATE_RE_G, '\uFFFD');
  if (out.length > LIMITS.maxErrorMessageChars) {
    let cut = LIMITS.maxErrorMessageChars - 1;
    // Do not split a surrogate pair.
    if (/[\uD800-\uDBFF]/.test(out[cut - 1]!)) cut--;
    out = out.slice(0, cut) + '\u2026';
  }
  return out;
}

function get(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Validates one event. Never throws. */
export function validateEvent(input: unknown, opts: ValidateOptions): Validation {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '(event)', reason: `must be a JSON object, got ${describe(input)}` }] };
  }
  const o = input as Record<string, unknown>;
  const errors: FieldError[] = [];

  // Each uuid is checked once; its kind (lower/upper case) also decides whether it is lower-cased.
  const id = get(o, 'id');
  const idKind = typeof id === 'string' ? uuidKind(id) : 0;
  if (id !== undefined && id !== null && idKind === 0) {
    errors.push({ field: 'id', reason: 'must be a uuid (8-4-4-4-12 hex digits) or absent' });
  }

  const documentId = get(o, 'document_id');
  const documentKind = requiredUuid('document_id', documentId, errors);
  const userId = get(o, 'user_id');
  const userKind = requiredUuid('user_id', userId, errors);

  const eventType = get(o, 'event_type');
  if (eventType === undefined || eventType === null) errors.push({ field: 'event_type', reason: 'is required' });
  else if (typeof eventType !== 'string' || !(EVENT_TYPES as readonly string[]).includes(eventType)) {
    errors.push({ field: 'event_type', reason: `must be one of ${EVENT_TYPES.join(', ')}` });
  }

  const duration = get(o, 'duration_ms');
  if (duration !== undefined && duration !== null) {
    if (typeof duration !== 'number' || !Number.isInteger(duration)) {
      errors.push({ field: 'duration_ms', reason: `must be an integer number of milliseconds, got ${typeof duration === 'number' ? String(duration) : describe(duration)}` });
    } else if (duration < 0 || duration > LIMITS.maxDurationMs) {
      errors.push({ field: 'duration_ms', reason: `must be between 0 and ${LIMITS.maxDurationMs}` });
    }
  }

  const stage = get(o, 'stage');
  if (stage !== undefined && stage !== null) {
    if (typeof stage !== 'string') errors.push({ field: 'stage', reason: `must be a string, got ${describe(stage)}` });
    else if (stage.length < 1 || stage.length > LIMITS.maxStageChars) {
      errors.push({ field: 'stage', reason: `must be 1 to ${LIMITS.maxStageChars} characters` });
    } else if (ANY_CONTROL_RE.test(stage) || (HAS_SURROGATE_RE.test(stage) && LONE_SURROGATE_RE.test(stage))) {
      errors.push({ field: 'stage', reason: 'must not contain NUL, control characters or unpaired surrogates' });
    }
  }

  const message = get(o, 'error_message');
  if (message !== undefined && message !== null && typeof message !== 'string') {
    errors.push({ field: 'error_message', reason: `must be a string, got ${describe(message)}` });
  }

  const createdAt = get(o, 'created_at');
  let createdMs: number | null = null;
  let createdText: string | null = null;
  const oldest = opts.now - opts.retentionDays * 86_400_000;
  const newest = opts.now + LIMITS.maxFutureMs;
  if (createdAt !== undefined && createdAt !== null) {
    if (typeof createdAt !== 'string') {
      errors.push({ field: 'created_at', reason: `must be an ISO 8601 timestamp string, got ${describe(createdAt)}` });
    } else {
      createdMs = parseTimestamp(createdAt);
      if (createdMs === null) {
        errors.push({ field: 'created_at', reason: 'must be an ISO 8601 timestamp with a time zone, e.g. 2026-01-31T12:00:00.000Z' });
      } else if (createdMs < oldest) {
        errors.push({ field: 'created_at', reason: `is older than the ${opts.retentionDays}-day retention window` });
      } else if (createdMs > newest) {
        errors.push({ field: 'created_at', reason: 'is more than 5 minutes in the future' });
      } else createdText = createdAt;
    }
  } else if (isUuidV7(id)) {
    // A retry of an event without created_at must map to the same (id, created_at) row.
    createdMs = uuidV7Millis(id);
    if (createdMs < oldest || createdMs > newest) {
      errors.push({ field: 'created_at', reason: 'is absent and the timestamp in the UUIDv7 id is outside the accepted window' });
    } else createdText = new Date(createdMs).toISOString();
  } else {
    createdText = new Date(opts.now).toISOString();
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    event: {
      id: typeof id === 'string' ? lowerUuid(id, idKind) : (opts.newId ?? (() => crypto.randomUUID()))(),
      document_id: lowerUuid(documentId as string, documentKind),
      user_id: lowerUuid(userId as string, userKind),
      event_type: eventType as EventType,
      duration_ms: typeof duration === 'number' ? duration : null,
      error_message: typeof message === 'string' ? sanitizeMessage(message) : null,
      stage: typeof stage === 'string' ? stage : null,
      created_at: createdText!,
    },
  };
}

export interface BatchValidation {
  /** Valid events, first occurrence of each id only, in input order. */
  events: ValidEvent[];
  /** Valid events whose id already appeared earlier in the same batch (counted as duplicates). */
  inBatchDuplicates: number;
  rejected: { index: number; errors: FieldError[] }[];
}

/**
 * Validates a batch. Parse failures of NDJSON lines arrive as `{ parseError }` entries. Duplicate
 * ids inside one batch: the first valid occurrence is stored, later ones are reported as
 * duplicates (the same contract as a resent batch: an id names one event).
 */
export function validateBatch(items: unknown[], opts: ValidateOptions, parseErrors: Map<number, string> = new Map()): BatchValidation {
  const events: ValidEvent[] = [];
  const rejected: { index: number; errors: FieldError[] }[] = [];
  const seen = new Set<string>();
  let inBatchDuplicates = 0;
  for (let i = 0; i < items.length; i++) {
    const pe = parseErrors.get(i);
    if (pe !== undefined) {
      rejected.push({ index: i, errors: [{ field: '(line)', reason: pe }] });
      continue;
    }
    const r = validateEvent(items[i], opts);
    if (!r.ok) {
      rejected.push({ index: i, errors: r.errors });
      continue;
    }
    if (seen.has(r.event.id)) {
      inBatchDuplicates++;
      continue;
    }
    seen.add(r.event.id);
    events.push(r.event);
  }
  return { events, inBatchDuplicates, rejected };
}
