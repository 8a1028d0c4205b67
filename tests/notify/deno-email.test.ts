// The SMTP provider (nodemailer through npm:, resolved by the root deno.json) must work under Deno 2,
// the edge runtime's engine: a Deno process sends one e-mail to the local sink.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../stack/sinks/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'tests', 'notify', 'fixtures', 'deno-send-email.ts');

function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink({ smtpPort: 0, httpPort: 0 });
});
afterAll(async () => {
  await sink?.close();
});

describe('notify under Deno 2', () => {
  it('sends an e-mail through notify/email from a Deno process', async () => {
    const denoBin = join(root, 'node_modules', '.bin', 'deno');
    const [cmd, pre] = existsSync(denoBin) ? [denoBin, []] : ['npx', ['deno']];
    const out = await run(
      cmd,
      [...pre, 'run', '-A', '--no-lock', '--config', join(root, 'deno.json'), script],
      { VIGIL_TEST_SMTP_PORT: String(sink.smtpPort) },
      50_000,
    );
    expect(out.stderr + out.stdout).not.toMatch(/error: /i);
    expect(out.code).toBe(0);
    const line = out.stdout.trim().split('\n').at(-1)!;
    const parsed = JSON.parse(line) as { runtime: string; result: { ok: boolean } };
    expect(parsed.runtime).toBe('deno');
    expect(parsed.result.ok).toBe(true);

    const msgs = (await (await fetch(`http://127.0.0.1:${sink.httpPort}/api/messages`)).json()) as SinkMessage[];
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ subject: '[Vigil] DOWN: ocr-api', to: ['deno-oncall@vigil.test'], auth_user: 'vigil' });
    expect(msgs[0].text).toContain('sent from deno');
  });

  it('implicit TLS (the port-465 mode hosted functions use) works from Deno too', async () => {
    const received: { subject: string; text: string; secure: boolean }[] = [];
    // smtp-server's built-in self-signed certificate; logger: false also silences its warning about it.
    const tlsServer = new SMTPServer({
      secure: true,
      logger: false,
      authOptional: true,
      onAuth: (_auth, _session, cb) => cb(null, { user: 'vigil' }),
      onData(stream, session, cb) {
        simpleParser(stream)
          .then((m) => {
            received.push({ subject: m.subject ?? '', text: m.text ?? '', secure: Boolean(session.secure) });
            cb();
          })
          .catch(cb);
      },
    });
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (tlsServer.server.address() as AddressInfo).port;
      const denoBin = join(root, 'node_modules', '.bin', 'deno');
      const [cmd, pre] = existsSync(denoBin) ? [denoBin, []] : ['npx', ['deno']];
      const out = await run(
        cmd,
        [...pre, 'run', '-A', '--no-lock', '--config', join(root, 'deno.json'), script],
        { VIGIL_TEST_SMTP_PORT: String(port), VIGIL_TEST_SMTP_SECURE: '1' },
        50_000,
      );
      expect(out.code, out.stderr + out.stdout).toBe(0);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ subject: '[Vigil] DOWN: ocr-api', secure: true });
      expect(received[0].text).toContain('sent from deno over TLS');
    } finally {
      await new Promise<void>((r) => tlsServer.close(() => r()));
    }
  });

  it('the notify modules type-check under Deno', async () => {
    const denoBin = join(root, 'node_modules', '.bin', 'deno');
    const [cmd, pre] = existsSync(denoBin) ? [denoBin, []] : ['npx', ['deno']];
    const out = await run(
      cmd,
      [...pre, 'check', '--no-lock', '--config', join(root, 'deno.json'), join(root, 'supabase/functions/_shared/notify/registry.ts')],
      {},
      50_000,
    );
    expect(out.stderr).not.toMatch(/error/i);
    expect(out.code).toBe(0);
  });
});
