// Direct Postgres access for edge functions (postgres.js over SUPABASE_DB_URL, the documented
// choice). A small pool per instance; `prepare: false` keeps it usable behind the transaction
// pooler (port 6543) as well as on the direct connection.
import postgres from 'postgres';
import { requireEnv } from './env.ts';

export type Sql = postgres.Sql;
let pool: Sql | null = null;

export function db(): Sql {
  pool ??= postgres(requireEnv('SUPABASE_DB_URL'), {
    max: 4,
    prepare: false,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
  });
  return pool;
}

/** True when the error means the database could not be reached (retry later: 503). */
export function isUnavailable(e: unknown): boolean {
  const err = e as { code?: string; errno?: string; message?: string };
  const code = err?.code ?? err?.errno ?? '';
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED',
    'CONNECTION_DESTROYED', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006'].includes(code) ||
    /connect|terminat|closed/i.test(err?.message ?? '');
}

/**
 * Runs `fn` in a transaction as the calling user, the way PostgREST does: role and JWT claims are
 * set for the transaction only, so RLS decides what the caller sees, not function code.
 */
export function asUser<T>(claims: Record<string, unknown>, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  const role = claims.role === 'service_role' ? 'service_role' : claims.role === 'anon' ? 'anon' : 'authenticated';
  return db().begin(async (tx) => {
    await tx`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    return fn(tx);
  }) as Promise<T>;
}
