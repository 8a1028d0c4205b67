// Database side of ingest-events: its own small postgres.js pool (sized to the limiter, with a
// statement timeout), the one set-based insert per request, and the cached retention setting.
import postgres from 'postgres';
import { isUnavailable as sharedIsUnavailable } from '../_shared/db.ts';
import { env, requireEnv } from '../_shared/env.ts';
import type { ValidEvent } from './validate.ts';

// One statement per request: vigil_private.ingest_processing_events unnests the columns, inserts,
// skips (id, created_at) pairs already stored and marks the hours that got new rows for the rollup
// refresh (see migration 20261122003005).
export const INSERT_SQL = `select vigil_private.ingest_processing_events($1::uuid[], $2::uuid[], $3::uuid[], $4::text[],
  $5::integer[], $6::text[], $7::text[], $8::timestamptz[]) as inserted`;

export const columns = (events: ValidEvent[]) => [
  events.map((e) => e.id),
  events.map((e) => e.document_id),
  events.map((e) => e.user_id),
  events.map((e) => e.event_type),
  events.map((e) => e.duration_ms),
  events.map((e) => e.error_message),
  events.map((e) => e.stage),
  events.map((e) => e.created_at),
];

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
  const sql = postgres(dbUrl, {
    max: settings.concurrency,
    // Named prepared statements need a direct connection (SUPABASE_DB_URL is one); set
    // VIGIL_INGEST_PREPARE=false behind a transaction pooler.
    prepare: env('VIGIL_INGEST_PREPARE') !== 'false',
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
    const rows = await sql.unsafe(INSERT_SQL, columns(events) as never[]);
    return Number(rows[0]!.inserted);
  }

  return { sql, retentionDays, insert, isUnavailable };
}
