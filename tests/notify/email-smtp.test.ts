// SMTP provider (nodemailer) against the local mail sink (smtp-server): a real SMTP conversation,
// checked through the sink's HTTP API.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { emailProvider, validateEmailConfig, classifySmtpError } from '../../supabase/functions/_shared/notify/email/index.ts';
import { deliver } from '../../supabase/functions/_shared/notify/registry.ts';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../stack/sinks/index.ts';
import { closedPort, notification } from './helpers.ts';

let sink: SmtpSink;
let api: string;

async function messages(): Promise<SinkMessage[]> {
  const res = await fetch(`${api}/api/messages`);
  expect(res.status).toBe(200);
  return (await res.json()) as SinkMessage[];
}

const baseConfig = () => ({
  host: '127.0.0.1',
  port: sink.smtpPort,
  secure: false,
  from: 'Vigil Alerts <alerts@vigil.test>',
  to: ['oncall@vigil.test', 'second@vigil.test'],
});

beforeAll(async () => {
  sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
  api = `http://127.0.0.1:${sink.httpPort}`;
});
afterAll(async () => {
  await sink?.close();
});
beforeEach(async () => {
  const res = await fetch(`${api}/api/messages`, { method: 'DELETE' });
  expect(res.status).toBe(200);
});

describe('email (SMTP) provider', () => {
  it('delivers a DOWN alert: subject, recipients, text and HTML bodies', async () => {
    const r = await deliver('email', baseConfig(), notification(), {}, { timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true, retryable: false });
    expect(r.provider_message_id).toMatch(/^<vigil-alert-.*@vigil\.test>$/);

    const msgs = await messages();
    expect(msgs).toHaveLength(1);
    const m = msgs[0];
    expect(m.subject).toBe('[Vigil] DOWN: llm-api');
    expect(m.to.sort()).toEqual(['oncall@vigil.test', 'second@vigil.test']);
    expect(m.from).toContain('alerts@vigil.test');
    expect(m.text).toContain('llm-api failed 3 consecutive probes: HTTP 503');
    expect(m.text).toContain('consecutive_failures: 3');
    expect(m.text).toContain('Dashboard: http://127.0.0.1:54321/dashboard/');
    expect(m.html).toContain('<h2');
    expect(m.html).toContain('llm-api failed 3 consecutive probes');
    expect(m.headers['x-vigil-event']).toBe('opened');
    expect(m.headers['auto-submitted']).toBe('auto-generated');
  });

  it('sends RECOVERED threaded under the original alert, and escapes HTML', async () => {
    const r = await deliver(
      'email',
      baseConfig(),
      notification({ kind: 'resolved', alert_type: 'service_down', status: 'resolved', summary: 'back <b>up</b> & fine' }),
      {},
      { timeoutMs: 5000 },
    );
    expect(r.ok).toBe(true);
    const [m] = await messages();
    expect(m.subject).toBe('[Vigil] RECOVERED: llm-api');
    expect(m.headers['in-reply-to']).toBe('<vigil-alert-6f1c2a9e-0000-4000-8000-000000000001@vigil.test>');
    expect(m.html).toContain('back &lt;b&gt;up&lt;/b&gt; &amp; fine');
    expect(m.html).not.toContain('<b>up</b>');
    expect(m.text).toContain('back <b>up</b> & fine');
  });

  it('renders renotify, escalation and degraded subjects', async () => {
    for (const [over, subject] of [
      [{ kind: 'renotify' as const }, '[Vigil] STILL DOWN: llm-api'],
      [{ kind: 'escalated' as const }, '[Vigil] DOWN (escalated): llm-api'],
      [{ alert_type: 'service_degraded', severity: 'warning' as const }, '[Vigil] DEGRADED: llm-api'],
      [{ kind: 'flapping' as const }, '[Vigil] FLAPPING: llm-api'],
    ] as const) {
      expect((await deliver('email', baseConfig(), notification(over), {}, { timeoutMs: 5000 })).ok).toBe(true);
      const msgs = await messages();
      expect(msgs.at(-1)?.subject).toBe(subject);
    }
  });

  it('authenticates with the password from secrets, never from config', async () => {
    const cfg = { ...baseConfig(), username: 'vigil-user', password_secret_name: 'smtp_pw' };
    const missing = await deliver('email', cfg, notification(), {}, { timeoutMs: 5000 });
    expect(missing).toMatchObject({ ok: false, retryable: false });
    expect(missing.error).toContain("secret 'smtp_pw'");
    expect(await messages()).toHaveLength(0);

    const r = await deliver('email', cfg, notification(), { smtp_pw: 's3cret' }, { timeoutMs: 5000 });
    expect(r.ok).toBe(true);
    const [m] = await messages();
    expect(m.auth_user).toBe('vigil-user');
  });

  it('strips header-injection attempts from the subject', async () => {
    const r = await deliver('email', baseConfig(), notification({ service_name: 'evil\r\nBcc: victim@example.com' }), {}, { timeoutMs: 5000 });
    expect(r.ok).toBe(true);
    const [m] = await messages();
    expect(m.subject).toBe('[Vigil] DOWN: evil Bcc: victim@example.com');
    expect(m.to.sort()).toEqual(['oncall@vigil.test', 'second@vigil.test']);
  });

  it('validates config: required fields, blocked ports, 465 needs TLS, addresses', () => {
    expect(validateEmailConfig({ host: 'smtp.example.com', from: 'a@b.example', to: ['c@d.example'] })).toMatchObject({
      ok: true,
      config: { port: 465, secure: true, tls_reject_unauthorized: true },
    });
    const bad = validateEmailConfig({ port: 587, secure: false, from: 'not-an-address', to: [] });
    expect(bad.ok).toBe(false);
    const fields = bad.ok ? [] : bad.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['host', 'port', 'from', 'to']));
    const p25 = validateEmailConfig({ host: 'h', port: 25, secure: false, from: 'a@b.example', to: ['c@d.example'] });
    expect(p25.ok).toBe(false);
    expect(validateEmailConfig({ host: 'h', port: 465, secure: false, from: 'a@b.example', to: ['c@d.example'] }).ok).toBe(false);
    expect(validateEmailConfig({ host: 'h', port: 2525, from: 'a@b.example', to: ['c@d.example'] }).ok).toBe(true);
    const plain = validateEmailConfig({ host: 'h', port: 2525, from: 'a@b.example', to: ['c@d.example'], password: 'x' });
    expect(plain.ok ? [] : plain.errors.map((e) => e.field)).toEqual(['password']);
    expect(validateEmailConfig({ host: 'h', port: 2525, from: 'a@b.example', to: ['c@d.example'], username: 'u' }).ok).toBe(false);
    expect(validateEmailConfig('nope').ok).toBe(false);
  });

  it('connection refused is retryable', async () => {
    const port = await closedPort();
    const r = await emailProvider.send({ ...baseConfig(), port, require_tls: false, tls_reject_unauthorized: true }, notification(), {}, { timeoutMs: 3000 });
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/SMTP/);
  });

  it('SMTP 4xx replies are retryable, 5xx are not', async () => {
    let reply = 550;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_addr, _session, cb) {
        const e = new Error(reply === 550 ? 'mailbox unavailable' : 'try again later') as Error & { responseCode: number };
        e.responseCode = reply;
        cb(e);
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.server.address() as AddressInfo).port;
    try {
      const cfg = { ...baseConfig(), port };
      const permanent = await deliver('email', cfg, notification(), {}, { timeoutMs: 5000 });
      expect(permanent).toMatchObject({ ok: false, retryable: false });
      expect(permanent.error).toContain('550');
      reply = 451;
      const transient = await deliver('email', cfg, notification(), {}, { timeoutMs: 5000 });
      expect(transient).toMatchObject({ ok: false, retryable: true });
      expect(transient.error).toContain('451');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('classifySmtpError: auth failures are permanent, socket errors transient', () => {
    expect(classifySmtpError(Object.assign(new Error('Invalid login'), { code: 'EAUTH', responseCode: 535 })).retryable).toBe(false);
    expect(classifySmtpError(Object.assign(new Error('Invalid login'), { code: 'EAUTH' })).retryable).toBe(false);
    expect(classifySmtpError(Object.assign(new Error('reset'), { code: 'ESOCKET' })).retryable).toBe(true);
    expect(classifySmtpError('weird').retryable).toBe(true);
  });

  it('a server that never greets times out as retryable within the deadline', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    try {
      const t0 = Date.now();
      const r = await deliver('email', { ...baseConfig(), port }, notification(), {}, { timeoutMs: 500 });
      expect(r).toMatchObject({ ok: false, retryable: true });
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
