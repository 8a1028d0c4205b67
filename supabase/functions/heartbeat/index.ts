// POST|GET /functions/v1/heartbeat/<service>: the application's own jobs report that they ran.
// Token (from vigil_private.rotate_heartbeat_token) in the x-vigil-token header, as
// Authorization: Bearer <token>, or ?token=. Optional ?status=fail (or JSON {"status": "fail",
// "message": "..."}) reports a failed run. The token is compared with its stored SHA-256 in
// constant time; unknown services and wrong tokens get the same answer.
import { safeEqual } from '../_shared/auth.ts';
import { db, isUnavailable } from '../_shared/db.ts';
import { error, json, methodNotAllowed } from '../_shared/http.ts';

const DUMMY = '0'.repeat(64);

async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

Deno.serve(async (req) => {
  if (req.method !== 'POST' && req.method !== 'GET') return methodNotAllowed(['POST', 'GET']);
  const url = new URL(req.url);
  const name = decodeURIComponent(url.pathname.split('/').filter(Boolean)[1] ?? '');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) return error(404, 'unknown_service', 'use /heartbeat/<service name>');
  const token = req.headers.get('x-vigil-token')?.trim() ||
    req.headers.get('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] || url.searchParams.get('token') || '';
  if (!token) return error(401, 'missing_token', 'send the heartbeat token in the x-vigil-token header');
  if (token.length > 200) return error(403, 'invalid_token', 'the token is not valid for this service');

  let status = url.searchParams.get('status') ?? 'ok';
  let message: string | null = url.searchParams.get('message');
  if (req.method === 'POST') {
    const text = (await req.text()).slice(0, 8192);
    if (text.trim()) {
      try {
        const b = JSON.parse(text);
        if (b && typeof b === 'object') {
          if (typeof b.status === 'string') status = b.status;
          if (typeof b.message === 'string') message = b.message;
        }
      } catch { /* a plain-text body is just ignored */ }
    }
  }
  if (status !== 'ok' && status !== 'fail') return error(400, 'invalid_status', 'status must be ok or fail');

  try {
    const sql = db();
    const rows = await sql<{ id: string; digest: string | null }[]>`
      select s.id, encode(t.token_sha256, 'hex') as digest
      from public.monitored_services s left join vigil_private.heartbeat_tokens t on t.service_id = s.id
      where s.name = ${name} and s.kind = 'heartbeat' and s.enabled`;
    const presented = await sha256Hex(token);
    const ok = safeEqual(presented, rows[0]?.digest ?? DUMMY);
    if (!rows.length || !rows[0].digest || !ok) return error(403, 'invalid_token', 'the token is not valid for this service');
    const [{ at }] = await sql<{ at: Date }[]>`select vigil_private.record_heartbeat(${rows[0].id}::uuid, ${status === 'ok'}, ${message}) as at`;
    return json(200, { ok: true, service: name, status, received_at: at });
  } catch (e) {
    if (isUnavailable(e)) return error(503, 'database_unavailable', 'the database cannot be reached', {}, { 'retry-after': '5' });
    console.error('[heartbeat]', e);
    return error(500, 'heartbeat_failed', 'could not record the heartbeat');
  }
});
