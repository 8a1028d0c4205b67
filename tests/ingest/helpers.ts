// Shared helpers for the ingest integration tests (they run against the local stack).
import { randomUUID } from 'node:crypto';
import { callFunction, pg, stack } from '../support/stack.ts';

export const FN = 'ingest-events';
export type Sql = Awaited<ReturnType<typeof pg>>;

export async function secretKey(): Promise<string> {
  return (await stack()).secret_key;
}

/** POSTs a body to ingest-events with the secret key unless headers say otherwise. */
export async function ingest(body: BodyInit | null, headers: Record<string, string> = {}, method = 'POST') {
  const key = await secretKey();
  const res = await callFunction(FN, {
    method,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
    headers: { 'content-type': 'application/json', apikey: key, ...headers },
  });
  const text = await res.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, headers: res.headers, body: json as Record<string, unknown> };
}

export const uuid = () => randomUUID();

/** A valid event for `doc`, with overrides. */
export function event(doc: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: uuid(), document_id: doc, user_id: uuid(), event_type: 'completed', duration_ms: 1200, stage: 'summary', ...over };
}

export async function rowsFor(sql: Sql, doc: string) {
  return sql`select id, document_id, user_id, event_type, duration_ms, error_message, stage, created_at
             from public.document_processing_events where document_id = ${doc} order by created_at, id`;
}

export async function totalRows(sql: Sql): Promise<number> {
  const [r] = await sql`select count(*)::int as n from public.document_processing_events`;
  return r!.n as number;
}
