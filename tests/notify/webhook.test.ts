// Generic signed JSON webhook against the local webhook sink; Stripe-style signature verification.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  computeWebhookSignature,
  signatureHeader,
  validateWebhookConfig,
  verifyWebhookSignature,
} from '../../supabase/functions/_shared/notify/webhook/index.ts';
import { deliver } from '../../supabase/functions/_shared/notify/registry.ts';
import { startWebhookSink, type RecordedRequest, type WebhookSink } from '../../stack/sinks/index.ts';
import { notification } from './helpers.ts';

let sink: WebhookSink;
const SECRET = 'whsec_test_0123456789';

async function recorded(): Promise<RecordedRequest[]> {
  const res = await fetch(`${sink.url}/_requests`);
  return (await res.json()) as RecordedRequest[];
}

beforeAll(async () => {
  sink = await startWebhookSink({ port: 0 });
});
afterAll(async () => {
  await sink?.close();
});
beforeEach(async () => {
  await fetch(`${sink.url}/_requests`, { method: 'DELETE' });
  await fetch(`${sink.url}/_fail?status=0`, { method: 'POST' });
});

describe('webhook provider', () => {
  it('POSTs the notification + version 1, signed with HMAC-SHA256 over `${timestamp}.${body}`', async () => {
    const n = notification();
    const before = Math.floor(Date.now() / 1000);
    const r = await deliver('webhook', { url: `${sink.url}/hooks/vigil`, secret_name: 'hook_secret' }, n, { hook_secret: SECRET }, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true, retryable: false, status: 200 });

    const [req] = await recorded();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/vigil');
    expect(req.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req.body);
    expect(body).toEqual({ ...n, version: 1 });

    const ts = req.headers['x-vigil-timestamp'];
    expect(Number(ts)).toBeGreaterThanOrEqual(before);
    expect(Number(ts)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const sig = req.headers['x-vigil-signature'];
    expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);

    // Independent check with node:crypto.
    const { createHmac } = await import('node:crypto');
    expect(sig).toBe(`v1=${createHmac('sha256', SECRET).update(`${ts}.${req.body}`).digest('hex')}`);

    expect(await verifyWebhookSignature(SECRET, ts, req.body, sig)).toBe(true);
    expect(req.headers['idempotency-key']).toMatch(/^vigil-/);
    expect(req.headers['x-vigil-event']).toBe('opened');
  });

  it('rejects a tampered body, a wrong secret, an old or future timestamp, and junk headers', async () => {
    await deliver('webhook', { url: sink.url, secret_name: 's' }, notification(), { s: SECRET }, { timeoutMs: 5000 });
    const [req] = await recorded();
    const ts = req.headers['x-vigil-timestamp'];
    const sig = req.headers['x-vigil-signature'];
    expect(await verifyWebhookSignature(SECRET, ts, req.body, sig)).toBe(true);
    expect(await verifyWebhookSignature(SECRET, ts, req.body.replace('llm-api', 'llm-apj'), sig)).toBe(false);
    expect(await verifyWebhookSignature(SECRET, ts, req.body + ' ', sig)).toBe(false);
    expect(await verifyWebhookSignature('other-secret', ts, req.body, sig)).toBe(false);
    expect(await verifyWebhookSignature(SECRET, String(Number(ts) + 1), req.body, sig)).toBe(false);
    expect(await verifyWebhookSignature(SECRET, ts, req.body, sig, 300, Number(ts) + 301)).toBe(false);
    expect(await verifyWebhookSignature(SECRET, ts, req.body, sig, 300, Number(ts) - 301)).toBe(false);
    expect(await verifyWebhookSignature(SECRET, ts, req.body, sig, 300, Number(ts) + 299)).toBe(true);
    expect(await verifyWebhookSignature(SECRET, ts, req.body, undefined)).toBe(false);
    expect(await verifyWebhookSignature(SECRET, ts, req.body, '')).toBe(false);
    expect(await verifyWebhookSignature(SECRET, ts, req.body, 'v1=zz')).toBe(false);
    expect(await verifyWebhookSignature(SECRET, ts, req.body, sig!.replace('v1=', 'v0='))).toBe(false);
    expect(await verifyWebhookSignature(SECRET, 'abc', req.body, sig)).toBe(false);
    expect(await verifyWebhookSignature('', ts, req.body, sig)).toBe(false);
  });

  it('old timestamp with a valid signature is a replay: rejected', async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    const body = JSON.stringify({ hello: 'world' });
    const sig = await signatureHeader(SECRET, old, body);
    expect(await verifyWebhookSignature(SECRET, old, body, sig)).toBe(false);
    expect(await verifyWebhookSignature(SECRET, old, body, sig, 7200)).toBe(true);
  });

  it('accepts any matching v1 entry (secret rotation)', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"a":1}';
    const oldSig = await computeWebhookSignature('old-secret', ts, body);
    const newSig = await computeWebhookSignature(SECRET, ts, body);
    expect(await verifyWebhookSignature(SECRET, ts, body, `v1=${oldSig}, v1=${newSig}`)).toBe(true);
    expect(await verifyWebhookSignature('third', ts, body, `v1=${oldSig},v1=${newSig}`)).toBe(false);
  });

  it('sends no signature without secret_name; refuses when the named secret is missing', async () => {
    expect((await deliver('webhook', { url: sink.url }, notification(), {}, { timeoutMs: 5000 })).ok).toBe(true);
    const [req] = await recorded();
    expect(req.headers['x-vigil-signature']).toBeUndefined();
    expect(req.headers['x-vigil-timestamp']).toMatch(/^\d+$/);

    const r = await deliver('webhook', { url: sink.url, secret_name: 'absent' }, notification(), {}, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(await recorded()).toHaveLength(1);
  });

  it('adds static and secret headers, but never lets config override Vigil headers', async () => {
    const cfg = { url: sink.url, headers: { 'x-team': 'docs' }, secret_headers: { authorization: 'hook_token' } };
    expect((await deliver('webhook', cfg, notification(), { hook_token: 'Bearer abc' }, { timeoutMs: 5000 })).ok).toBe(true);
    const [req] = await recorded();
    expect(req.headers['x-team']).toBe('docs');
    expect(req.headers.authorization).toBe('Bearer abc');

    const bad = validateWebhookConfig({ url: sink.url, headers: { 'X-Vigil-Signature': 'forged', 'content-type': 'text/plain' } });
    expect(bad.ok).toBe(false);
    expect(validateWebhookConfig({ url: sink.url, secret: 'plain' }).ok).toBe(false);
    expect(validateWebhookConfig({ url: 'ftp://x' }).ok).toBe(false);
    expect(validateWebhookConfig({ url: 'https://user:pw@example.com/' }).ok).toBe(false);
    expect(validateWebhookConfig({}).ok).toBe(false);
  });

  it('sink failures: 500 then success (retry), 429 with Retry-After, 400 permanent', async () => {
    let res = await fetch(`${sink.url}/_fail?status=500&count=2`, { method: 'POST' });
    expect(res.status).toBe(200);
    const cfg = { url: `${sink.url}/x` };
    const a = await deliver('webhook', cfg, notification(), {}, { timeoutMs: 5000 });
    const b = await deliver('webhook', cfg, notification(), {}, { timeoutMs: 5000 });
    const c = await deliver('webhook', cfg, notification(), {}, { timeoutMs: 5000 });
    expect(a).toMatchObject({ ok: false, retryable: true, status: 500 });
    expect(b).toMatchObject({ ok: false, retryable: true, status: 500 });
    expect(c).toMatchObject({ ok: true, status: 200 });
    expect((await recorded()).map((r) => r.status)).toEqual([500, 500, 200]);

    res = await fetch(`${sink.url}/_fail?status=429&count=1&retry_after=7`, { method: 'POST' });
    const d = await deliver('webhook', cfg, notification(), {}, { timeoutMs: 5000 });
    expect(d).toMatchObject({ ok: false, retryable: true, status: 429, retry_after_ms: 7000 });

    await fetch(`${sink.url}/_fail?status=400`, { method: 'POST' });
    const e = await deliver('webhook', cfg, notification(), {}, { timeoutMs: 5000 });
    expect(e).toMatchObject({ ok: false, retryable: false, status: 400 });
    expect(e.error).toContain('HTTP 400');
  });
});
