// The ingest-events request handler, independent of Deno and of the database driver so it can be
// tested with fakes: authentication, body limits and parsing, validation, one set-based insert.
import { error, json, methodNotAllowed } from '../_shared/http.ts';
import { formatOf, parseEvents, readBodyText } from './body.ts';
import { Saturated, type Limiter } from './limiter.ts';
import { LIMITS, validateBatch, type ValidEvent } from './validate.ts';

export interface IngestDeps {
  /** null when the caller presented a valid secret key; else the 401/403 response. */
  authenticate(req: Request): Promise<Response | null>;
  /** Raw-event retention in days (cached by the store; never throws). */
  retentionDays(): Promise<number>;
  /** Stores the events in one statement; resolves to how many were new (the rest were duplicates). */
  insert(events: ValidEvent[]): Promise<number>;
  /** True when an insert error means the database cannot be reached right now. */
  isUnavailable(e: unknown): boolean;
  limiter: Limiter;
  now?: () => number;
  log?: (msg: string) => void;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: { index: number; errors: { field: string; reason: string }[] }[];
}

const RETRY_AFTER_SATURATED_S = '1';
const RETRY_AFTER_UNAVAILABLE_S = '2';

export function createIngestHandler(deps: IngestDeps): (req: Request) => Promise<Response> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((m: string) => console.error(`[ingest-events] ${m}`));

  return async (req) => {
    if (req.method !== 'POST') return methodNotAllowed(['POST']);
    const denied = await deps.authenticate(req);
    if (denied) return denied;
    const format = formatOf(req);
    if (format instanceof Response) return format;
    const text = await readBodyText(req, LIMITS.maxBytes);
    if (text instanceof Response) return text;
    const parsed = parseEvents(text, format);
    if (parsed instanceof Response) return parsed;
    if (parsed.items.length === 0) return json(200, { accepted: 0, duplicates: 0, rejected: [] } satisfies IngestResult);

    const retentionDays = await deps.retentionDays();
    const batch = validateBatch(parsed.items, { now: now(), retentionDays }, parsed.parseErrors);
    if (batch.events.length === 0) {
      return error(400, 'invalid_events', 'no event in the request is valid; nothing was stored', {
        accepted: 0, duplicates: 0, rejected: batch.rejected,
      });
    }

    let inserted: number;
    try {
      inserted = await deps.limiter.run(() => deps.insert(batch.events));
    } catch (e) {
      if (e instanceof Saturated) {
        return error(429, 'overloaded', 'too many concurrent ingest requests; retry after the indicated delay', {},
          { 'retry-after': RETRY_AFTER_SATURATED_S });
      }
      if (deps.isUnavailable(e)) {
        return error(503, 'database_unavailable', 'the database cannot be reached; nothing was stored, retry later', {},
          { 'retry-after': RETRY_AFTER_UNAVAILABLE_S });
      }
      const code = String((e as { code?: unknown })?.code ?? '');
      // Data errors the validation should have caught: refuse the batch rather than have the client
      // retry it forever.
      if (/^2[23]/.test(code)) {
        log(`insert refused by the database (${code}): ${(e as Error).message}`);
        return error(400, 'rejected_by_database', 'the database refused this batch; nothing was stored', { sqlstate: code });
      }
      log(`insert failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      return error(500, 'internal_error', 'the events could not be stored; retry later', {}, { 'retry-after': RETRY_AFTER_UNAVAILABLE_S });
    }

    const result: IngestResult = {
      accepted: inserted,
      duplicates: batch.events.length - inserted + batch.inBatchDuplicates,
      rejected: batch.rejected,
    };
    return json(200, result);
  };
}
