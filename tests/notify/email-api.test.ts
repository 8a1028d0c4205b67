// HTTP e-mail API provider (Resend-compatible) against a local node:http server.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_EMAIL_API_ENDPOINT, validateEmailApiConfig } from '../../supabase/functions/_shared/notify/email-api/index.ts';
import { deliver } from '../../supabase/functions/_shared/notify/registry.ts';
import { notification, startServer } from './helpers.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const cfg = (endpoint: string) => ({
  endpoint,
  api_key_secret_name: 'resend_key',
  from: 'Vigil <alerts@vigil.test>',
  to: ['oncall@vigil.test'],
});

describe('email-api provider', () => {
  it('POSTs {from,to,subject,text,html} with the bearer key and returns the message id', async () => {
    const srv = await startServer((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'msg_123' }));
    });
    closers.push(srv.close);
    const r = await deliver('email-api', cfg(`${srv.url}/emails`), notification(), { resend_key: 're_test_key' }, { timeoutMs: 5000 });
    expect(r).toEqual({ ok: true, retryable: false, status: 200, provider_message_id: 'msg_123' });

    expect(srv.requests).toHaveLength(1);
    const req = srv.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/emails');
    expect(req.headers.authorization).toBe('Bearer re_test_key');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['idempotency-key']).toMatch(/^vigil-6f1c2a9e/);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({ from: 'Vigil <alerts@vigil.test>', to: ['oncall@vigil.test'], subject: '[Vigil] DOWN: llm-api' });
    expect(body.text).toContain('llm-api failed 3 consecutive probes');
    expect(body.html).toContain('<h2');
  });

  it('same event, same idempotency key across retries; different events differ', async () => {
    const srv = await startServer();
    closers.push(srv.close);
    for (const n of [notification(), notification(), notification({ kind: 'resolved' })]) {
      await deliver('email-api', cfg(srv.url), n, { resend_key: 'k' }, { timeoutMs: 5000 });
    }
    const keys = srv.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it('classifies API answers: 422/401 permanent, 429/500 retryable', async () => {
    let status = 422;
    const srv = await startServer((_r, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'validation_error', message: 'invalid from' }));
    });
    closers.push(srv.close);
    const send = () => deliver('email-api', cfg(srv.url), notification(), { resend_key: 'k' }, { timeoutMs: 5000 });
    expect(await send()).toMatchObject({ ok: false, retryable: false, status: 422 });
    expect((await send()).error).toContain('invalid from');
    status = 401;
    expect(await send()).toMatchObject({ ok: false, retryable: false, status: 401 });
    status = 429;
    expect(await send()).toMatchObject({ ok: false, retryable: true, status: 429 });
    status = 500;
    expect(await send()).toMatchObject({ ok: false, retryable: true, status: 500 });
  });

  it('missing API key secret: not sent, not retryable', async () => {
    const srv = await startServer();
    closers.push(srv.close);
    const r = await deliver('email-api', cfg(srv.url), notification(), {}, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(srv.requests).toHaveLength(0);
  });

  it('validates config; endpoint defaults to Resend', () => {
    const ok = validateEmailApiConfig({ api_key_secret_name: 'k', from: 'a@b.example', to: 'c@d.example' });
    expect(ok).toMatchObject({ ok: true, config: { endpoint: DEFAULT_EMAIL_API_ENDPOINT, to: ['c@d.example'] } });
    expect(DEFAULT_EMAIL_API_ENDPOINT).toBe('https://api.resend.com/emails');
    const bad = validateEmailApiConfig({ api_key: 're_plain', from: 'x', to: [] });
    expect(bad.ok ? [] : bad.errors.map((e) => e.field).sort()).toEqual(['api_key', 'api_key_secret_name', 'from', 'to']);
  });
});
