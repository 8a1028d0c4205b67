// The local stack's sinks and fake upstreams: HTTP control surfaces and modes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { startFakeUpstreams, startSmtpSink, startWebhookSink, type FakeUpstreams } from '../../stack/sinks/index.ts';

async function timed(url: string, init: RequestInit = {}, timeoutMs = 5000) {
  const t0 = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, text, ms: Date.now() - t0, error: undefined as string | undefined };
  } catch (e) {
    return { status: 0, text: '', ms: Date.now() - t0, error: (e as Error).name };
  }
}

describe('fake upstreams', () => {
  let up: FakeUpstreams;
  beforeAll(async () => {
    up = await startFakeUpstreams({ port: 0, ocrDelayMs: 400 });
  });
  afterAll(async () => {
    await up?.close();
  });

  it('defaults: llm healthy and fast, ocr slow, storage healthy', async () => {
    const llm = await timed(`${up.url}/llm/health`);
    expect(llm.status).toBe(200);
    expect(JSON.parse(llm.text)).toEqual({ status: 'ok' });
    expect(llm.ms).toBeLessThan(1000);
    const ocr = await timed(`${up.url}/ocr/health`);
    expect(ocr.status).toBe(200);
    expect(ocr.ms).toBeGreaterThanOrEqual(380);
    expect((await timed(`${up.url}/storage/health`)).status).toBe(200);
    expect((await timed(`${up.url}/nope/health`)).status).toBe(404);
  });

  it('storage on command: fail -> 503, hang -> client timeout, slow -> delayed, ok again', async () => {
    const set = (body: unknown) =>
      fetch(`${up.url}/_control/storage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    expect((await set({ mode: 'fail' })).status).toBe(200);
    const fail = await timed(`${up.url}/storage/health`);
    expect(fail.status).toBe(503);

    expect((await set({ mode: 'hang' })).status).toBe(200);
    const hang = await timed(`${up.url}/storage/health`, {}, 300);
    expect(hang.status).toBe(0);
    expect(hang.error).toMatch(/TimeoutError|AbortError/);
    expect(hang.ms).toBeGreaterThanOrEqual(280);

    expect((await set({ mode: 'slow', delay_ms: 250 })).status).toBe(200);
    const slow = await timed(`${up.url}/storage/health`);
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(230);

    expect((await set({ mode: 'degraded' })).status).toBe(200);
    expect(JSON.parse((await timed(`${up.url}/storage/health`)).text)).toEqual({ status: 'degraded' });

    expect((await set({ mode: 'reset' })).status).toBe(200);
    expect((await timed(`${up.url}/storage/health`)).status).toBe(0);

    expect((await set({ mode: 'ok' })).status).toBe(200);
    expect((await timed(`${up.url}/storage/health`)).status).toBe(200);

    const control = (await (await fetch(`${up.url}/_control`)).json()) as Record<string, { mode: string; hits: number }>;
    expect(control.storage.mode).toBe('ok');
    expect(control.storage.hits).toBeGreaterThanOrEqual(6);
    expect(control.llm.mode).toBe('ok');
    expect(control.ocr.mode).toBe('slow');
  });

  it('every service is controllable the same way; bad control input is a 400', async () => {
    const r = await fetch(`${up.url}/_control/llm`, { method: 'POST', body: JSON.stringify({ mode: 'fail' }) });
    expect(r.status).toBe(200);
    expect((await timed(`${up.url}/llm/health`)).status).toBe(503);
    await fetch(`${up.url}/_control/payments`, { method: 'POST', body: JSON.stringify({ mode: 'ok' }) });
    expect((await timed(`${up.url}/payments/health`)).status).toBe(200);
    expect((await fetch(`${up.url}/_control/llm`, { method: 'POST', body: '{"mode":"explode"}' })).status).toBe(400);
    expect((await fetch(`${up.url}/_control/llm`, { method: 'POST', body: 'not json' })).status).toBe(400);
    expect((await fetch(`${up.url}/_control/llm`, { method: 'POST', body: '{"mode":"slow","delay_ms":-1}' })).status).toBe(400);
    expect((await fetch(`${up.url}/_control`, { method: 'DELETE' })).status).toBe(200);
    expect((await timed(`${up.url}/llm/health`)).status).toBe(200);
    expect((await timed(`${up.url}/payments/health`)).status).toBe(404);
  });

  it('close() ends hanging requests promptly', async () => {
    const u = await startFakeUpstreams({ port: 0 });
    u.setMode('storage', 'hang');
    const pending = timed(`${u.url}/storage/health`, {}, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await u.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    const r = await pending;
    expect(r.status).toBe(0);
    expect(r.ms).toBeLessThan(5000);
  });
});

describe('webhook sink', () => {
  it('records method, path, headers and raw body; _fail answers N times; DELETE clears', async () => {
    const sink = await startWebhookSink({ port: 0 });
    try {
      const raw = '{"b": 1,   "a": "x"}';
      const r1 = await fetch(`${sink.url}/some/path?q=1`, { method: 'POST', headers: { 'x-test': 'yes', 'content-type': 'application/json' }, body: raw });
      expect(r1.status).toBe(200);
      expect(await r1.json()).toEqual({ ok: true });
      expect((await fetch(`${sink.url}/_fail?status=503&count=2`, { method: 'POST' })).status).toBe(200);
      expect((await fetch(`${sink.url}/a`, { method: 'POST', body: 'x' })).status).toBe(503);
      expect((await fetch(`${sink.url}/b`, { method: 'PUT', body: 'y' })).status).toBe(503);
      expect((await fetch(`${sink.url}/c`)).status).toBe(200);
      const list = (await (await fetch(`${sink.url}/_requests`)).json()) as { method: string; path: string; query: string; body: string; headers: Record<string, string>; status: number }[];
      expect(list.map((r) => [r.method, r.path, r.status])).toEqual([
        ['POST', '/some/path', 200],
        ['POST', '/a', 503],
        ['PUT', '/b', 503],
        ['GET', '/c', 200],
      ]);
      expect(list[0].body).toBe(raw);
      expect(list[0].query).toBe('?q=1');
      expect(list[0].headers['x-test']).toBe('yes');
      expect((await fetch(`${sink.url}/_fail?status=abc`, { method: 'POST' })).status).toBe(400);
      expect((await fetch(`${sink.url}/_requests`, { method: 'DELETE' })).status).toBe(200);
      expect(await (await fetch(`${sink.url}/_requests`)).json()).toEqual([]);
    } finally {
      await sink.close();
    }
  });
});

describe('smtp sink', () => {
  it('accepts mail with or without auth, keeps the last N, DELETE clears', async () => {
    const sink = await startSmtpSink({ smtpPort: 0, httpPort: 0, maxMessages: 3 });
    const api = `http://127.0.0.1:${sink.httpPort}`;
    try {
      const anon = nodemailer.createTransport({ host: '127.0.0.1', port: sink.smtpPort, secure: false });
      const authed = nodemailer.createTransport({ host: '127.0.0.1', port: sink.smtpPort, secure: false, auth: { user: 'any', pass: 'thing' } });
      for (let i = 1; i <= 5; i++) {
        const t = i % 2 ? anon : authed;
        await t.sendMail({ from: 'a@vigil.test', to: `r${i}@vigil.test`, subject: `m${i}`, text: `body ${i}`, html: `<p>body ${i}</p>` });
      }
      anon.close();
      authed.close();
      const msgs = (await (await fetch(`${api}/api/messages`)).json()) as { id: string; subject: string; to: string[]; text: string; html: string; from: string; date: string }[];
      expect(msgs.map((m) => m.subject)).toEqual(['m3', 'm4', 'm5']);
      expect(msgs[2]).toMatchObject({ to: ['r5@vigil.test'], from: 'a@vigil.test' });
      expect(msgs[2].text.trim()).toBe('body 5');
      expect(msgs[2].html).toContain('<p>body 5</p>');
      expect(Date.parse(msgs[2].date)).not.toBeNaN();
      const one = await fetch(`${api}/api/messages/${msgs[0].id}`);
      expect(((await one.json()) as { subject: string }).subject).toBe('m3');
      const filtered = (await (await fetch(`${api}/api/messages?to=r4@`)).json()) as unknown[];
      expect(filtered).toHaveLength(1);
      expect((await fetch(`${api}/`)).headers.get('content-type')).toContain('text/html');
      expect((await fetch(`${api}/api/messages`, { method: 'DELETE' })).status).toBe(200);
      expect(await (await fetch(`${api}/api/messages`)).json()).toEqual([]);
    } finally {
      const t0 = Date.now();
      await sink.close();
      expect(Date.now() - t0).toBeLessThan(2000);
    }
  });
});
