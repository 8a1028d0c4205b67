// The pg_net stand-in: net.http_post only queues; the request leaves after COMMIT, never after
// ROLLBACK, and its response lands in net._http_response.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pg, waitFor } from '../support/stack.ts';

let server: Server;
let url: string;
const received: { path: string; body: string; headers: IncomingMessage['headers'] }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body, headers: req.headers });
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"got":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('pg_net stand-in', () => {
  it('sends a request only after the transaction commits, and records the response', async () => {
    const sql = await pg();
    const tag = `commit-${Date.now()}`;
    let id = 0;
    await sql.begin(async (tx) => {
      const [row] = await tx`select net.http_post(url := ${`${url}/hook/${tag}`}, body := ${tx.json({ tag })},
        headers := '{"Content-Type": "application/json", "x-test": "yes"}'::jsonb) as id`;
      id = Number(row.id);
      // Still inside the transaction: the worker cannot have seen it.
      await new Promise((r) => setTimeout(r, 1500));
      expect(received.some((r) => r.path.includes(tag))).toBe(false);
    });
    const got = await waitFor(async () => received.find((r) => r.path === `/hook/${tag}`));
    expect(JSON.parse(got.body)).toEqual({ tag });
    expect(got.headers['x-test']).toBe('yes');
    const [resp] = await waitFor(async () => {
      const rows = await sql`select status_code, content, timed_out from net._http_response where id = ${id}`;
      return rows.length ? rows : null;
    });
    expect(resp).toMatchObject({ status_code: 201, timed_out: false });
    expect(JSON.parse(resp.content)).toEqual({ got: true });
    await sql.end();
  });

  it('never sends the request of a rolled-back transaction', async () => {
    const sql = await pg();
    const tag = `rollback-${Date.now()}`;
    await sql.begin(async (tx) => {
      await tx`select net.http_post(url := ${`${url}/hook/${tag}`})`;
      throw new Error('roll back');
    }).catch(() => {});
    // A committed request queued afterwards is delivered; the rolled-back one never is.
    const marker = `after-${tag}`;
    await sql`select net.http_get(url := ${`${url}/hook/${marker}`})`;
    await waitFor(async () => received.find((r) => r.path === `/hook/${marker}`));
    expect(received.some((r) => r.path.includes(`/hook/${tag}`))).toBe(false);
    const queued = await sql`select count(*)::int as n from net.http_request_queue where url like ${`%${tag}`}`;
    expect(queued[0].n).toBe(0);
    await sql.end();
  });

  it('records a timeout instead of a response when the target hangs', async () => {
    const hang = createServer(() => { /* never answers */ });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const port = (hang.address() as AddressInfo).port;
    const sql = await pg();
    const [{ id }] = await sql`select net.http_get(url := ${`http://127.0.0.1:${port}/slow`}, timeout_milliseconds := 300) as id`;
    const [resp] = await waitFor(async () => {
      const rows = await sql`select timed_out, error_msg, status_code from net._http_response where id = ${id}`;
      return rows.length ? rows : null;
    });
    expect(resp.timed_out).toBe(true);
    expect(resp.status_code).toBeNull();
    expect(resp.error_msg).toMatch(/Timeout/);
    hang.closeAllConnections();
    hang.close();
    await sql.end();
  });
});
