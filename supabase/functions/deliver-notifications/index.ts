// POST /functions/v1/deliver-notifications: sends what is due in the notification outbox (retries
// included). Called every minute by pg_cron through pg_net when something is due, or by an admin.
import { db, isUnavailable } from '../_shared/db.ts';
import { error, json, methodNotAllowed } from '../_shared/http.ts';
import { secretOrAdmin } from '../_shared/probes/caller.ts';
import { deliverPending } from '../_shared/probes/outbox.ts';

Deno.serve(async (req) => {
  if (req.method !== 'POST') return methodNotAllowed(['POST']);
  const caller = await secretOrAdmin(req);
  if (caller instanceof Response) return caller;
  await req.body?.cancel().catch(() => {});
  try {
    const sql = db();
    const [{ n }] = await sql<{ n: number }[]>`select vigil_private.enqueue_due_notifications() as n`;
    const summary = await deliverPending(sql, { budgetMs: 60_000 });
    return json(200, { enqueued: n, ...summary });
  } catch (e) {
    if (isUnavailable(e)) return error(503, 'database_unavailable', 'the database cannot be reached', {}, { 'retry-after': '5' });
    console.error('[deliver-notifications]', e);
    return error(500, 'delivery_failed', (e as Error).message.slice(0, 300));
  }
});
