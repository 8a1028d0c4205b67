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
  /** The same instant in ms, for bounds checks and ordering. */
  created_at_ms: number;
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

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
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

export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID_RE.test(v);
export const isUuidV7 = (v: unknown): v is string => typeof v === 'string' && UUID_V7_RE.test(v);

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

/** Parses a strict ISO 8601 timestamp with a zone; null when malformed or not a real date. */
export function parseTimestamp(s: string): number | null {
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

  const id = get(o, 'id');
  if (id !== undefined && id !== null && !isUuid(id)) {
    errors.push({ field: 'id', reason: 'must be a uuid (8-4-4-4-12 hex digits) or absent' });
  }

  for (const field of ['document_id', 'user_id'] as const) {
    const v = get(o, field);
    if (v === undefined || v === null) errors.push({ field, reason: 'is required' });
    else if (!isUuid(v)) errors.push({ field, reason: typeof v === 'string' ? 'must be a uuid' : `must be a uuid string, got ${describe(v)}` });
  }

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
    createdMs = opts.now;
    createdText = new Date(opts.now).toISOString();
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    event: {
      id: typeof id === 'string' ? id.toLowerCase() : (opts.newId ?? (() => crypto.randomUUID()))(),
      document_id: (o.document_id as string).toLowerCase(),
      user_id: (o.user_id as string).toLowerCase(),
      event_type: eventType as EventType,
      duration_ms: typeof duration === 'number' ? duration : null,
      error_message: typeof message === 'string' ? sanitizeMessage(message) : null,
      stage: typeof stage === 'string' ? stage : null,
      created_at: createdText!,
      created_at_ms: createdMs!,
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
