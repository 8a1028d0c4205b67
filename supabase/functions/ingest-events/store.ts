// Database side of ingest-events: its own small postgres.js pool (sized to the limiter, with a
// statement timeout), the one set-based insert per request, and the cached retention setting.
import postgres from 'postgres';
import { isUnavailable as sharedIsUnavailable } from '../_shared/db.ts';
import { env, requireEnv } from '../_shared/env.ts';
import type { ValidEvent } from './validate.ts';

// One statement per request: vigil_private.ingest_processing_events unnests the columns, inserts,
// skips (id, created_at) pairs already stored and marks the batch's hours for the rollup refresh
// (see migration 20261122003005). Each column is sent as the text of a Postgres array literal and
// cast in SQL: postgres.js passes a string through as is, whereas eight JS arrays would each be
// serialised element by element (type inference, a regex escape per element), which was a large
// part of this function's CPU. Uuids, event types and durations are written bare (validation
// guarantees their characters); stage, error_message and created_at are quoted elements.
export const INSERT_SQL = `select vigil_private.ingest_processing_events($1::text::uuid[], $2::text::uuid[], $3::text::uuid[],
  $4::text::text[], $5::text::integer[], $6::text::text[], $7::text::text[], $8::text::timestamptz[]) as inserted`;

const NEEDS_ESCAPE = /["\\]/;
const ESCAPE = /["\\]/g;

/** A text element of an array literal: always quoted (so NULL, braces, commas, spaces are data). */
export const quoteElement = (s: string): string => '"' + (NEEDS_ESCAPE.test(s) ? s.replace(ESCAPE, '\\$&') : s) + '"';

/** The statement's eight parameters: one array literal per column, in INSERT_SQL's order. */
export function columns(events: ValidEvent[]): string[] {
  const n = events.length;
  const ids = new Array<string>(n), docs = new Array<string>(n), users = new Array<string>(n), types = new Array<string>(n);
  const durations = new Array<string>(n), messages = new Array<string>(n), stages = new Array<string>(n), times = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    ids[i] = e.id;
    docs[i] = e.document_id;
    users[i] = e.user_id;
    types[i] = e.event_type;
    durations[i] = e.duration_ms === null ? 'NULL' : String(e.duration_ms);
    messages[i] = e.error_message === null ? 'NULL' : quoteElement(e.error_message);
    stages[i] = e.stage === null ? 'NULL' : quoteElement(e.stage);
    times[i] = quoteElement(e.created_at);
  }
  const lit = (xs: string[]) => '{' + xs.join(',') + '}';
  return [lit(ids), lit(docs), lit(users), lit(types), lit(durations), lit(messages), lit(stages), lit(times)];
}

const intEnv = (name: string, fallback: number) => {
  const n = Number(env(name));
  return Number.isInteger(n) && n > 0 ? n : fallback;
};

export const settings = {
  /** Concurrent statements (= pool connections) per function instance. */
  concurrency: intEnv('VIGIL_INGEST_DB_CONNECTIONS', 4),
  /** Requests allowed to wait for a connection before answering 429. */
  maxQueue: intEnv('VIGIL_INGEST_MAX_QUEUE', 64),
  maxWaitMs: intEnv('VIGIL_INGEST_MAX_WAIT_MS', 5000),
  statementTimeoutMs: intEnv('VIGIL_INGEST_STATEMENT_TIMEOUT_MS', 15000),
};

export function isUnavailable(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  // 57014: statement timeout (the database is too slow right now): retryable as well.
  return code === '57014' || code === '53300' || sharedIsUnavailable(e);
}

export function createStore(dbUrl = requireEnv('SUPABASE_DB_URL')) {
  // Named prepared statements need a direct connection (SUPABASE_DB_URL is one); set
  // VIGIL_INGEST_PREPARE=false behind a transaction pooler.
  const prepare = env('VIGIL_INGEST_PREPARE') !== 'false';
  const sql = postgres(dbUrl, {
    max: settings.concurrency,
    prepare,
    idle_timeout: 60,
    connect_timeout: 3,
    onnotice: () => {},
    connection: { application_name: 'vigil-ingest-events', statement_timeout: settings.statementTimeoutMs },
  });

  let retention = { days: 30, at: 0 };
  async function retentionDays(): Promise<number> {
    if (Date.now() - retention.at < 60_000) return retention.days;
    try {
      const [row] = await sql`select vigil_private.setting_int('retention_days', 30) as days`;
      retention = { days: Number(row!.days), at: Date.now() };
    } catch {
      // Keep the last known value; the insert will report the database state.
      retention = { ...retention, at: Date.now() - 50_000 };
    }
    return retention.days;
  }

  async function insert(events: ValidEvent[]): Promise<number> {
    // prepare: a named statement, described once per connection; sql.unsafe would otherwise use
    // an unnamed one and pay a Describe round trip before every insert.
    const rows = await sql.unsafe(INSERT_SQL, columns(events), { prepare });

    return Number(rows[0]!.inserted);
  }

  return { sql, retentionDays, insert, isUnavailable };
}
