// Shared fixtures for the notification tests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Notification } from '../../supabase/functions/_shared/notify/types.ts';

export function notification(over: Partial<Notification> = {}): Notification {
  return {
    alert_id: '6f1c2a9e-0000-4000-8000-000000000001',
    kind: 'opened',
    service_name: 'llm-api',
    alert_type: 'service_down',
    status: 'active',
    severity: 'critical',
    summary: 'llm-api failed 3 consecutive probes: HTTP 503',
    details: { consecutive_failures: 3, last_status: 503, url: 'http://127.0.0.1/llm/health' },
    occurred_at: '2026-11-22T05:00:00.000Z',
    dashboard_url: 'http://127.0.0.1:54321/dashboard/#/alerts/6f1c2a9e',
    ...over,
  };
}

export interface CapturedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A throwaway HTTP server: `reply` decides each answer; every request is captured. */
export async function startServer(
  reply: (req: CapturedRequest, res: ServerResponse) => void = (_r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  },
): Promise<{ url: string; requests: CapturedRequest[]; close(): Promise<void> }> {
  const requests: CapturedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      reply(r, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
