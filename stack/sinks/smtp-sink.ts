// Local mail sink, like the Supabase CLI's Inbucket/Mailpit: a real SMTP server (smtp-server) that
// accepts any sender, any recipient, any credentials or none, plain text (no TLS: local use only), and
// keeps the last messages in memory behind a small HTTP API:
//   GET    /api/messages            -> [{id, from, to, cc, subject, text, html, date, headers, size}] (newest last)
//          ?to=<substring>&subject=<substring> filter
//   GET    /api/messages/<id>       -> one message, 404 if unknown
//   DELETE /api/messages            -> clears
//   GET    /                        -> tiny HTML listing
// Defaults: SMTP 54325, web/API 54324 (the Supabase CLI's ports); tests pass 0 for ephemeral ports.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { listenClosable, type Listening } from './listen.ts';
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  id: string;
  /** From header as text, e.g. "Vigil <alerts@example.com>" (envelope sender when no header). */
  from: string;
  /** Envelope recipients: every address the message was delivered to (To, Cc and Bcc). */
  to: string[];
  /** To header addresses. */
  header_to: string[];
  cc: string[];
  mail_from: string;
  subject: string;
  text: string;
  html: string;
  date: string;
  received_at: string;
  headers: Record<string, string>;
  size: number;
  auth_user?: string;
}

export interface SmtpSinkOptions {
  smtpPort?: number;
  httpPort?: number;
  host?: string;
  /** Messages kept (oldest dropped first). */
  maxMessages?: number;
  /** Largest message accepted, bytes. */
  maxMessageBytes?: number;
  /** Called for each stored message. */
  onMessage?: (m: SinkMessage) => void;
}

export interface SmtpSink {
  smtpPort: number;
  httpPort: number;
  host: string;
  messages(): SinkMessage[];
  clear(): void;
  close(): Promise<void>;
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  const list = Array.isArray(a) ? a : [a];
  return list.flatMap((o) => o.value.map((v) => v.address ?? '').filter(Boolean));
}

function headerValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === 'object' && 'text' in v && typeof (v as { text: unknown }).text === 'string') return (v as { text: string }).text;
  if (v && typeof v === 'object' && 'value' in v && typeof (v as { value: unknown }).value === 'string') return (v as { value: string }).value;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = opts.host ?? '127.0.0.1';
  const maxMessages = opts.maxMessages ?? 1000;
  const maxBytes = opts.maxMessageBytes ?? 10 * 1024 * 1024;
  let store: SinkMessage[] = [];
  let seq = 0;

  const smtp = new SMTPServer({
    secure: false,
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    banner: 'Vigil local mail sink',
    size: maxBytes,
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username || 'anonymous' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e: Error) => callback(e));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          const err = new Error('Message exceeds fixed maximum message size') as Error & { responseCode: number };
          err.responseCode = 552;
          callback(err);
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw, { skipImageLinks: true })
          .then((parsed) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of parsed.headers) headers[k] = headerValue(v);
            const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            const msg: SinkMessage = {
              id: `${Date.now().toString(36)}-${(++seq).toString(36)}`,
              from: parsed.from?.text ?? mailFrom,
              to: session.envelope.rcptTo.map((r) => r.address),
              header_to: addresses(parsed.to),
              cc: addresses(parsed.cc),
              mail_from: mailFrom,
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              date: (parsed.date ?? new Date()).toISOString(),
              received_at: new Date().toISOString(),
              headers,
              size: raw.length,
            };
            const user = (session.user as unknown) ?? undefined;
            if (typeof user === 'string') msg.auth_user = user;
            store.push(msg);
            if (store.length > maxMessages) store = store.slice(store.length - maxMessages);
            try {
              opts.onMessage?.(msg);
            } catch {
              // a listener's bug must not fail the SMTP transaction
            }
            callback(null, `Queued as ${msg.id}`);
          })
          .catch((e: Error) => callback(e));
      });
    },
  });
  smtp.on('error', () => {
    // client misbehaviour (resets, garbage) is not fatal for a sink
  });

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/messages' && req.method === 'GET') {
      const to = url.searchParams.get('to')?.toLowerCase();
      const subject = url.searchParams.get('subject')?.toLowerCase();
      return send(
        200,
        store.filter(
          (m) =>
            (!to || m.to.some((a) => a.toLowerCase().includes(to)) || m.header_to.some((a) => a.toLowerCase().includes(to))) &&
            (!subject || m.subject.toLowerCase().includes(subject)),
        ),
      );
    }
    if (url.pathname === '/api/messages' && req.method === 'DELETE') {
      store = [];
      return send(200, { ok: true });
    }
    const one = /^\/api\/messages\/([^/]+)$/.exec(url.pathname);
    if (one && req.method === 'GET') {
      const m = store.find((x) => x.id === decodeURIComponent(one[1]));
      return m ? send(200, m) : send(404, { error: 'not found' });
    }
    if (url.pathname === '/' && req.method === 'GET') {
      const rows = store
        .slice()
        .reverse()
        .map((m) => `<tr><td>${esc(m.date)}</td><td>${esc(m.from)}</td><td>${esc(m.to.join(', '))}</td><td>${esc(m.subject)}</td></tr>`)
        .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><meta charset="utf-8"><title>Vigil mail sink</title><h1>Vigil mail sink</h1>` +
          `<p>${store.length} message(s). JSON: <a href="/api/messages">/api/messages</a></p>` +
          `<table border="1" cellpadding="4"><tr><th>date</th><th>from</th><th>to</th><th>subject</th></tr>${rows}</table>`,
      );
      return;
    }
    send(404, { error: 'not found' });
  });

  let smtpPort: number;
  let httpListening: Listening;
  try {
    smtpPort = await listen(smtp, opts.smtpPort ?? 54325, host);
  } catch (e) {
    throw new Error(`mail sink: cannot listen for SMTP on ${host}:${opts.smtpPort ?? 54325}: ${(e as Error).message}`);
  }
  try {
    httpListening = await listenClosable(http, opts.httpPort ?? 54324, host);
  } catch (e) {
    await new Promise<void>((r) => smtp.close(() => r()));
    throw new Error(`mail sink: cannot listen for HTTP on ${host}:${opts.httpPort ?? 54324}: ${(e as Error).message}`);
  }

  const httpPort = httpListening.port;
  let closed: Promise<void> | undefined;
  return {
    smtpPort,
    httpPort,
    host,
    messages: () => store.slice(),
    clear: () => {
      store = [];
    },
    close() {
      closed ??= Promise.all([
        new Promise<void>((r) => smtp.close(() => r())),
        httpListening.close(),
      ]).then(() => undefined);
      return closed;
    },
  };
}
