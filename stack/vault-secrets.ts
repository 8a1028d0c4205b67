// Vault entries the pg_cron jobs need to call edge functions (hosted: the project creates them once,
// see README). The local stack calls this on `up`: idempotent, updates the values when they change.
import type postgres from 'postgres';

export const PROBE_SECRET_NAMES = { projectUrl: 'vigil_project_url', secretKey: 'vigil_secret_key' } as const;

export async function upsertVaultSecret(sql: postgres.Sql, name: string, value: string, description = ''): Promise<void> {
  const [row] = await sql<{ id: string; same: boolean }[]>`
    select id, decrypted_secret = ${value} as same from vault.decrypted_secrets where name = ${name} order by created_at desc limit 1`;
  if (!row) await sql`select vault.create_secret(${value}, ${name}, ${description})`;
  else if (!row.same) await sql`select vault.update_secret(${row.id}::uuid, ${value})`;
}

/** Creates / refreshes vigil_project_url and vigil_secret_key for this stack. */
export async function ensureProbeSecrets(sql: postgres.Sql, status: { api_url: string; secret_key: string }): Promise<void> {
  await upsertVaultSecret(sql, PROBE_SECRET_NAMES.projectUrl, status.api_url, 'Vigil: project URL pg_cron calls edge functions on');
  await upsertVaultSecret(sql, PROBE_SECRET_NAMES.secretKey, status.secret_key, 'Vigil: secret API key pg_cron sends to edge functions');
}
