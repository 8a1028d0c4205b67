// Local webhook receiver: records every request and answers 200 {"ok":true}, or a chosen failure.
//   GET    /_requests                    -> [{id, method, path, query, headers, body, status, received_at}]
//          ?path=<prefix> filter
//   DELETE /_requests                    -> clears
//   POST   /_fail?status=500&count=N     -> the next N deliveries answer `status` (retry tests);
//          &retry_after=<s> adds a Retry-After header; count defaults to 1; status=0 clears
//   anything else                        -> recorded; 200 {"ok":true} (or the queued failure)
// Default port 54326 (VIGIL_PORT_BASE + 6); tests pass 0.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenClosable } from './listen.ts';

export interface RecordedRequest {
  id: number;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  /** Raw body as received (UTF-8), exactly the bytes a signature covers. */
  body: string;
  /** Status the sink answered. */
  status: number;
  received_at: string;
}

export interface WebhookSinkOptions {
  port?: number;
  host?: string;
  /** Requests kept (oldest dropped first). */
  maxRequests?: number;
  /** Largest body accepted, bytes (413 beyond). */
  maxBodyBytes?: number;
}

export interface WebhookSink {
  port: number;
  host: string;
  url: string;
  requests(): RecordedRequest[];
  clear(): void;
  /** Same as POST /_fail. */
  failNext(status: number, count?: number, retryAfterSec?: number): void;
  close(): Promise<void>;
}

export async function startWebhookSink(opts: WebhookSinkOptions = {}): Promise<WebhookSink> {
  const host = opts.host ?? '127.0.0.1';
  const maxRequests = opts.maxRequests ?? 1000;
  const maxBody = opts.maxBodyBytes ?? 5 * 1024 * 1024;
  let store: RecordedRequest[] = [];
  let seq = 0;
  let failure: { status: number; remaining: number; retryAfter?: number } | undefined;

  const failNext = (status: number, count = 1, retryAfterSec?: number) => {
    failure = status > 0 && count > 0 ? { status, remaining: count, retryAfter: retryAfterSec } : undefined;
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) tooBig = true;
      else chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (url.pathname === '/_requests') {
        if (req.method === 'GET') {
          const prefix = url.searchParams.get('path');
          return json(res, 200, prefix ? store.filter((r) => r.path.startsWith(prefix)) : store);
        }
        if (req.method === 'DELETE') {
          store = [];
          return json(res, 200, { ok: true });
        }
        return json(res, 405, { error: 'method not allowed' });
      }
      if (url.pathname === '/_fail' && req.method === 'POST') {
        const status = Number(url.searchParams.get('status') ?? 500);
        const count = Number(url.searchParams.get('count') ?? 1);
        const ra = url.searchParams.get('retry_after');
        if (!Number.isInteger(status) || (status !== 0 && (status < 200 || status > 599)) || !Number.isInteger(count) || count < 0) {
          return json(res, 400, { error: 'status must be 200-599 (or 0 to clear), count a non-negative integer' });
        }
        failNext(status, count, ra !== null && /^\d+$/.test(ra) ? Number(ra) : undefined);
        return json(res, 200, { ok: true, failing: failure ?? null });
      }

      let status = 200;
      let headers: Record<string, string> = {};
      if (tooBig) status = 413;
      else if (failure) {
        status = failure.status;
        if (failure.retryAfter !== undefined) headers = { 'retry-after': String(failure.retryAfter) };
        if (--failure.remaining <= 0) failure = undefined;
      }
      const hdrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) hdrs[k] = Array.isArray(v) ? v.join(', ') : v;
      store.push({
        id: ++seq,
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search,
        headers: hdrs,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
        received_at: new Date().toISOString(),
      });
      if (store.length > maxRequests) store = store.slice(store.length - maxRequests);
      if (status >= 200 && status < 300) json(res, status, { ok: true });
      else json(res, status, { ok: false, error: `sink answering ${status} on request` }, headers);
    });
  });

  const listening = await listenClosable(server, opts.port ?? 54326, host);
  const port = listening.port;

  return {
    port,
    host,
    url: `http://${host}:${port}`,
    requests: () => store.slice(),
    clear: () => {
      store = [];
    },
    failNext,
    close: listening.close,
  };
}
