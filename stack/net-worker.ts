// The pg_net stand-in's background worker (hosted: pg_net's own bgworker). Takes committed rows
// from net.http_request_queue, sends them, and records the outcome in net._http_response.
// Rows of a rolled-back transaction never become visible, so they are never sent. No retries,
// responses pruned after 6 hours: the same contract as pg_net.
import postgres from 'postgres';

const BATCH = 32;
const TTL = '6 hours';

export interface NetWorker { stop(): Promise<void>; }

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  timeout_milliseconds: number;
}

export function startNetWorker(dbUrl: string, log: (msg: string) => void): NetWorker {
  const sql = postgres(dbUrl, { max: 3, onnotice: () => {} });
  let stopped = false;
  let draining: Promise<void> | null = null;
  let again = false;

  async function send(req: QueuedRequest) {
    const started = Date.now();
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), req.timeout_milliseconds);
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body ? Buffer.from(req.body) : undefined,
        signal: ctrl.signal,
      });
      const content = await res.text();
      await sql`
        insert into net._http_response (id, status_code, content_type, headers, content, timed_out)
        values (${req.id}, ${res.status}, ${res.headers.get('content-type')},
                ${sql.json(Object.fromEntries(res.headers))}, ${content}, false)`;
    } catch (e) {
      const timedOut = ctrl.signal.aborted;
      const msg = timedOut ? `Timeout of ${req.timeout_milliseconds} ms reached` : String((e as Error).cause ?? e);
      await sql`
        insert into net._http_response (id, timed_out, error_msg)
        values (${req.id}, ${timedOut}, ${msg})`;
      log(`request ${req.id} ${req.method} ${req.url} failed after ${Date.now() - started} ms: ${msg}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async function drainOnce(): Promise<number> {
    const rows = await sql<QueuedRequest[]>`
      delete from net.http_request_queue
      where id in (select id from net.http_request_queue order by id limit ${BATCH} for update skip locked)
      returning id, method, url, headers, body, timeout_milliseconds`;
    await Promise.all(rows.map((r) => send(r).catch((e) => log(`request ${r.id}: ${e}`))));
    return rows.length;
  }

  function drain() {
    if (draining) { again = true; return; }
    draining = (async () => {
      try {
        do { again = false; while (!stopped && (await drainOnce()) === BATCH); } while (again && !stopped);
      } catch (e) {
        if (!stopped) log(`drain failed: ${(e as Error).message}`);
      } finally {
        draining = null;
      }
    })();
  }

  let listening: { unlisten(): Promise<void> } | null = null;
  sql.listen('net_http_request', () => drain(), () => drain())
    .then((l) => { listening = l; })
    .catch((e) => log(`listen failed, polling only: ${e.message}`));
  // NOTIFY wakes the worker at once; the poll covers a dropped connection or a missed notice.
  const poll = setInterval(drain, 1000);
  const prune = setInterval(() => {
    sql`delete from net._http_response where created < now() - ${TTL}::interval`.catch(() => {});
  }, 60_000);

  return {
    async stop() {
      stopped = true;
      clearInterval(poll);
      clearInterval(prune);
      await listening?.unlisten().catch(() => {});
      await draining;
      await sql.end({ timeout: 2 });
    },
  };
}
