// A real node:http server playing the ingest-events endpoint for the SDK tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  n: number; // 1-based request number
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  events: Array<Record<string, unknown>>;
  at: number;
}

/** What a scripted reply can be: a status + optional headers/body, 'hang' (never answer) or 'destroy'. */
export type Reply =
  | { status: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }
  | 'ok'
  | 'hang'
  | 'destroy';

export interface FakeServer {
  url: string;
  port: number;
  requests: Received[];
  /** ids the server has stored (accepted exactly once). */
  stored: string[];
  /** how many times each id was seen in any request (including failed ones). */
  seen: Map<string, number>;
  concurrent: number;
  maxConcurrent: number;
  /** Decides the reply for each request; default 'ok' (200 with accepted/duplicates counts, deduping by id). */
  reply: (r: Received) => Reply;
  close(): Promise<void>;
}

export async function startFakeServer(reply?: (r: Received) => Reply): Promise<FakeServer> {
  const storedSet = new Set<string>();
  const hanging = new Set<http.ServerResponse>();
  const fs: FakeServer = {
    url: '',
    port: 0,
    requests: [],
    stored: [],
    seen: new Map(),
    concurrent: 0,
    maxConcurrent: 0,
    reply: reply ?? (() => 'ok'),
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    fs.concurrent++;
    fs.maxConcurrent = Math.max(fs.maxConcurrent, fs.concurrent);
    let done = false;
    const end = () => {
      if (!done) {
        done = true;
        fs.concurrent--;
      }
    };
    res.on('close', end);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let events: Array<Record<string, unknown>> = [];
      try {
        const parsed = JSON.parse(body);
        events = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        events = [];
      }
      const r: Received = { n: fs.requests.length + 1, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, events, at: Date.now() };
      fs.requests.push(r);
      for (const e of events) {
        const id = String(e.id);
        fs.seen.set(id, (fs.seen.get(id) ?? 0) + 1);
      }
      let out: Reply;
      try {
        out = fs.reply(r);
      } catch {
        out = { status: 500 };
      }
      if (out === 'hang') {
        hanging.add(res);
        return;
      }
      if (out === 'destroy') {
        req.socket.destroy();
        end();
        return;
      }
      if (out === 'ok') {
        let accepted = 0;
        let duplicates = 0;
        for (const e of events) {
          const id = String(e.id);
          if (storedSet.has(id)) duplicates++;
          else {
            storedSet.add(id);
            fs.stored.push(id);
            accepted++;
          }
        }
        out = { status: 200, body: { accepted, duplicates, rejected: [] } };
      }
      const o = out;
      const payload = o.body === undefined ? '' : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(o.status, { 'content-type': 'application/json', ...(o.headers ?? {}) });
        res.end(payload);
      };
      if (o.delayMs) {
        hanging.add(res);
        setTimeout(send, o.delayMs);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  fs.port = port;
  fs.url = `http://127.0.0.1:${port}`;
  fs.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fs;
}

/** A 127.0.0.1 port with nothing listening (bind, read the port, close). */
export async function unusedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, stepMs = 10): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function processingEvent(i: number, extra: Record<string, unknown> = {}) {
  return {
    document_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    user_id: '11111111-1111-4111-8111-111111111111',
    event_type: 'completed' as const,
    duration_ms: i,
    ...extra,
  };
}
