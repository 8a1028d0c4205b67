// Notification delivery from the outbox: claim due rows (the database locks them with
// `for update skip locked` and leases them, so overlapping workers never send the same row), read
// the channels' secrets from Vault, send through the providers, report every outcome. Whether to
// retry, when, and when to give up is decided by vigil_private.complete_notifications().
import type { Sql } from '../db.ts';
import { deliver, secretNamesOf } from '../notify/registry.ts';
import type { Notification } from '../notify/types.ts';

interface Claimed {
  id: number;
  attempt: number;
  kind: string;
  payload: Notification;
  channel: { id: string; name: string; kind: string; config: Record<string, unknown>; timeout_ms: number };
}

export interface DeliverySummary {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
}

export async function readVaultSecrets(sql: Sql, names: string[]): Promise<Record<string, string>> {
  if (!names.length) return {};
  const rows = await sql<{ name: string; decrypted_secret: string }[]>`
    select name, decrypted_secret from vault.decrypted_secrets where name in (select jsonb_array_elements_text(${sql.json(names as never)}::jsonb))`;
  return Object.fromEntries(rows.map((r) => [r.name, r.decrypted_secret]));
}

/** Delivers due notifications until none are left or `budgetMs` is spent. */
export async function deliverPending(sql: Sql, opts: { batch?: number; budgetMs?: number } = {}): Promise<DeliverySummary> {
  const deadline = Date.now() + (opts.budgetMs ?? 30_000);
  const sum: DeliverySummary = { claimed: 0, sent: 0, retrying: 0, failed: 0 };
  while (Date.now() < deadline) {
    const [{ r }] = await sql<{ r: Claimed[] }[]>`select vigil_private.claim_notifications(${opts.batch ?? 50}) as r`;
    if (!r.length) break;
    sum.claimed += r.length;
    const secrets = await readVaultSecrets(sql, [...new Set(r.flatMap((c) => secretNamesOf(c.channel.config)))]);
    const results = await Promise.all(r.map(async (c) => {
      const res = await deliver(c.channel.kind, c.channel.config, c.payload, secrets, { timeoutMs: c.channel.timeout_ms });
      return { id: c.id, attempt: c.attempt, ...res };
    }));
    const [{ s }] = await sql<{ s: { sent: number; retrying: number; failed: number } }[]>`
      select vigil_private.complete_notifications(${sql.json(results as never)}) as s`;
    sum.sent += s.sent;
    sum.retrying += s.retrying;
    sum.failed += s.failed;
  }
  return sum;
}
