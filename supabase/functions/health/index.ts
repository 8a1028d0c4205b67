// GET /functions/v1/health: proves the path client -> edge runtime -> Postgres and reports the
// database round-trip latency. Any project API key may call it (uptime monitors use the
// publishable key).
import { requireProjectKey } from '../_shared/auth.ts';
import { db, isUnavailable } from '../_shared/db.ts';
import { error, json, methodNotAllowed } from '../_shared/http.ts';

Deno.serve(async (req) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(['GET']);
  const auth = await requireProjectKey(req);
  if (auth instanceof Response) return auth;
  const started = performance.now();
  try {
    const [row] = await db()`select now() as db_time, current_setting('server_version') as version`;
    const latency = performance.now() - started;
    return json(200, {
      status: 'ok',
      database: { latency_ms: Math.round(latency * 100) / 100, time: row.db_time, version: row.version },
    });
  } catch (e) {
    if (isUnavailable(e)) return error(503, 'database_unavailable', 'the database cannot be reached', {}, { 'retry-after': '5' });
    throw e;
  }
});
