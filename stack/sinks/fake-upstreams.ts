// Fake upstream services for the local demo and tests: what Vigil probes.
//   GET  /<name>/health           answers according to the service's mode:
//          ok        200 {"status":"ok"} at once
//          slow      200 {"status":"ok"} after delay_ms (default 1500)
//          degraded  200 {"status":"degraded"}
//          fail      503 {"status":"error"}
//          hang      never answers (until the client gives up or the server closes)
//          reset     drops the connection without an answer
//        (any other path under /<name>/ behaves the same)
//   POST /_control/<name>  {"mode": "...", "delay_ms"?: n}   sets a mode (creates the service if new)
//   GET  /_control         {"<name>": {mode, delay_ms, hits}, ...};  GET /_control/<name> one
//   DELETE /_control       back to the defaults, hit counters zeroed
// Defaults: llm ok, ocr slow (1500 ms), storage ok. Default port 54327 (VIGIL_PORT_BASE + 7).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenClosable } from './listen.ts';

export const UPSTREAM_MODES = ['ok', 'slow', 'degraded', 'fail', 'hang', 'reset'] as const;
export type UpstreamMode = (typeof UPSTREAM_MODES)[number];

export interface UpstreamState {
  mode: UpstreamMode;
  delay_ms: number;
  hits: number;
}

export interface FakeUpstreamsOptions {
  port?: number;
  host?: string;
  /** Delay of the slow OCR service (default 1500 ms). */
  ocrDelayMs?: number;
  /** Extra services or overrides of the defaults. */
  services?: Record<string, { mode: UpstreamMode; delay_ms?: number }>;
}

export interface FakeUpstreams {
  port: number;
  host: string;
  url: string;
  setMode(name: string, mode: UpstreamMode, delayMs?: number): void;
  state(): Record<string, UpstreamState>;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_SLOW_MS = 1500;
const MAX_DELAY_MS = 10 * 60_000;

export async function startFakeUpstreams(opts: FakeUpstreamsOptions = {}): Promise<FakeUpstreams> {
  const host = opts.host ?? '127.0.0.1';
  const defaults = (): Map<string, UpstreamState> => {
    const m = new Map<string, UpstreamState>([
      ['llm', { mode: 'ok', delay_ms: DEFAULT_SLOW_MS, hits: 0 }],
      ['ocr', { mode: 'slow', delay_ms: opts.ocrDelayMs ?? DEFAULT_SLOW_MS, hits: 0 }],
      ['storage', { mode: 'ok', delay_ms: DEFAULT_SLOW_MS, hits: 0 }],
    ]);
    for (const [name, s] of Object.entries(opts.services ?? {})) {
      m.set(name, { mode: s.mode, delay_ms: s.delay_ms ?? DEFAULT_SLOW_MS, hits: 0 });
    }
    return m;
  };
  let services = defaults();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const setMode = (name: string, mode: UpstreamMode, delayMs?: number) => {
    const cur = services.get(name);
    services.set(name, {
      mode,
      delay_ms: delayMs ?? cur?.delay_ms ?? DEFAULT_SLOW_MS,
      hits: cur?.hits ?? 0,
    });
  };
  const state = () => Object.fromEntries([...services].map(([k, v]) => [k, { ...v }]));

  const json = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 64 * 1024) {
          reject(new Error('body too large'));
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://upstreams');
    const parts = url.pathname.split('/').filter(Boolean);

    if (parts[0] === '_control') {
      if (parts.length === 1 && req.method === 'GET') return json(res, 200, state());
      if (parts.length === 1 && req.method === 'DELETE') {
        services = defaults();
        return json(res, 200, state());
      }
      if (parts.length === 2 && req.method === 'GET') {
        const s = services.get(parts[1]);
        return s ? json(res, 200, s) : json(res, 404, { error: `unknown service '${parts[1]}'` });
      }
      if (parts.length === 2 && req.method === 'POST') {
        const name = parts[1];
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) return json(res, 400, { error: 'service name must be 1-64 of [A-Za-z0-9_-]' });
        readBody(req)
          .then((text) => {
            let body: unknown;
            try {
              body = text ? JSON.parse(text) : {};
            } catch {
              return json(res, 400, { error: 'body must be JSON {"mode": ..., "delay_ms"?: n}' });
            }
            const b = (body ?? {}) as { mode?: unknown; delay_ms?: unknown };
            if (typeof b.mode !== 'string' || !(UPSTREAM_MODES as readonly string[]).includes(b.mode)) {
              return json(res, 400, { error: `mode must be one of ${UPSTREAM_MODES.join(', ')}` });
            }
            if (b.delay_ms !== undefined && (typeof b.delay_ms !== 'number' || !Number.isInteger(b.delay_ms) || b.delay_ms < 0 || b.delay_ms > MAX_DELAY_MS)) {
              return json(res, 400, { error: `delay_ms must be an integer between 0 and ${MAX_DELAY_MS}` });
            }
            setMode(name, b.mode as UpstreamMode, b.delay_ms as number | undefined);
            json(res, 200, { [name]: services.get(name) });
          })
          .catch(() => json(res, 400, { error: 'bad request body' }));
        return;
      }
      return json(res, 405, { error: 'method not allowed' });
    }

    const svc = parts[0] ? services.get(parts[0]) : undefined;
    if (!svc) return json(res, 404, { error: 'unknown service', services: [...services.keys()] });
    svc.hits++;
    // Drain any request body so the connection stays usable.
    req.resume();
    switch (svc.mode) {
      case 'ok':
        return json(res, 200, { status: 'ok' });
      case 'degraded':
        return json(res, 200, { status: 'degraded' });
      case 'fail':
        return json(res, 503, { status: 'error', error: 'service unavailable' });
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        return; // never answered; close() destroys the socket
      case 'slow': {
        const t = setTimeout(() => {
          timers.delete(t);
          json(res, 200, { status: 'ok' });
        }, svc.delay_ms);
        timers.add(t);
        res.on('close', () => {
          clearTimeout(t);
          timers.delete(t);
        });
        return;
      }
    }
  });
  const listening = await listenClosable(server, opts.port ?? 54327, host);
  const port = listening.port;

  return {
    port,
    host,
    url: `http://${host}:${port}`,
    setMode,
    state,
    reset: () => {
      services = defaults();
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return listening.close();
    },
  };
}
