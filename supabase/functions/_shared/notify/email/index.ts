// E-mail over SMTP with nodemailer (npm; runs in Deno through its Node compatibility).
// Hosted edge functions cannot reach ports 25 and 587, so the hosted choice is implicit TLS on 465
// (secure: true); the local stack's sink speaks plain SMTP on 54325. The password is never in config:
// it is secrets[password_secret_name], resolved from Vault by the caller.

import nodemailer from 'nodemailer';
import { buildEmailMessage, ConfigReader, errorMessage, isRecord, oneLine } from '../common.ts';
import type { DeliveryResult, Notification, Provider, SendOptions, ValidationResult } from '../types.ts';

export interface EmailConfig {
  host: string;
  port: number;
  /** true = implicit TLS from the first byte (port 465); false = plain, upgraded by STARTTLS if offered. */
  secure: boolean;
  from: string;
  to: string[];
  username?: string;
  password_secret_name?: string;
  reply_to?: string;
  /** Fail rather than send in clear when the server offers no STARTTLS (secure: false only). */
  require_tls: boolean;
  /** Verify the server certificate (default true). */
  tls_reject_unauthorized: boolean;
}

/** Outbound ports Supabase Edge Functions block. */
export const BLOCKED_SMTP_PORTS = [25, 587];

export function validateEmailConfig(config: unknown): ValidationResult<EmailConfig> {
  const r = new ConfigReader(config);
  const host = r.string('host', { required: true, maxLength: 253 });
  if (host !== undefined && !/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:.]+\]?$/.test(host)) r.error('host', 'must be a host name or IP address');
  const portGiven = r.obj.port !== undefined && r.obj.port !== null;
  const portValue = r.integer('port', { min: 1, max: 65535 });
  const port = portValue ?? 465;
  const secure = r.boolean('secure', port === 465);
  if (BLOCKED_SMTP_PORTS.includes(port)) {
    r.error('port', `outbound SMTP on ports 25 and 587 is blocked on Supabase Edge Functions; use 465 with secure: true, or the email-api channel`);
  }
  if (port === 465 && !secure && (portValue !== undefined || !portGiven)) r.error('secure', 'port 465 is implicit TLS: set secure to true');
  const from = r.email('from', { required: true });
  const to = r.emailList('to', { required: true });
  const username = r.string('username', { maxLength: 320 });
  const password_secret_name = r.secretName('password_secret_name');
  if (password_secret_name && !username) r.error('username', 'is required with password_secret_name');
  if (username && !password_secret_name) r.error('password_secret_name', 'is required with username');
  const reply_to = r.email('reply_to');
  r.forbid('password', 'password_secret_name');
  r.forbid('pass', 'password_secret_name');
  const require_tls = r.boolean('require_tls', false);
  const tls_reject_unauthorized = r.boolean('tls_reject_unauthorized', true);
  const out: EmailConfig = {
    host: host ?? '',
    port,
    secure,
    from: from ?? '',
    to: to ?? [],
    require_tls,
    tls_reject_unauthorized,
  };
  if (username) out.username = username;
  if (password_secret_name) out.password_secret_name = password_secret_name;
  if (reply_to) out.reply_to = reply_to;
  return r.done(out);
}

function domainOf(address: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(address);
  return m ? m[1] : 'vigil.invalid';
}

function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
}

/**
 * Message-ID / threading headers: the 'opened' mail of an alert is the thread root; later mails about
 * the same alert (renotify, escalation, recovery) reference it, so mail clients group them even though
 * the subject changes from DOWN to RECOVERED.
 */
export function threadHeaders(n: Notification, from: string): { messageId: string; references?: string; inReplyTo?: string } {
  const domain = domainOf(from);
  const root = `<vigil-alert-${idPart(n.alert_id)}@${domain}>`;
  if (n.kind === 'opened') return { messageId: root };
  const messageId = `<vigil-alert-${idPart(n.alert_id)}-${n.kind}-${idPart(n.occurred_at)}@${domain}>`;
  return { messageId, references: root, inReplyTo: root };
}

/** SMTP/nodemailer error -> DeliveryResult. SMTP 4xx replies are transient, 5xx permanent. */
export function classifySmtpError(e: unknown): DeliveryResult {
  const err = isRecord(e) ? e : {};
  const code = typeof err.code === 'string' ? err.code : undefined;
  const responseCode = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  const msg = oneLine(errorMessage(e), 500);
  const error = `SMTP${responseCode ? ` ${responseCode}` : ''}${code ? ` ${code}` : ''}: ${msg}`;
  if (responseCode !== undefined) {
    return { ok: false, retryable: responseCode >= 400 && responseCode < 500, error };
  }
  const permanent = ['EAUTH', 'ENOAUTH', 'ECONFIG', 'EENVELOPE', 'EREQUIRETLS', 'EMAXRECIPIENTS', 'EFILEACCESS', 'EURLACCESS'];
  return { ok: false, retryable: !(code && permanent.includes(code)), error };
}

export const emailProvider: Provider<EmailConfig> = {
  kind: 'email',
  validateConfig: validateEmailConfig,
  async send(config: EmailConfig, n: Notification, secrets: Record<string, string>, opts: SendOptions): Promise<DeliveryResult> {
    let auth: { user: string; pass: string } | undefined;
    if (config.username && config.password_secret_name) {
      const pass = secrets[config.password_secret_name];
      if (!pass) return { ok: false, retryable: false, error: `secret '${config.password_secret_name}' (SMTP password) is not set` };
      auth = { user: config.username, pass };
    }
    const t = Math.max(1, opts.timeoutMs);
    const transport = nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      requireTLS: config.require_tls,
      auth,
      tls: { rejectUnauthorized: config.tls_reject_unauthorized, servername: /^[\d.:[\]]+$/.test(config.host) ? undefined : config.host },
      connectionTimeout: t,
      greetingTimeout: t,
      socketTimeout: t,
      dnsTimeout: t,
      disableFileAccess: true,
      disableUrlAccess: true,
      allowInternalNetworkInterfaces: true,
    });
    const { subject, text, html } = buildEmailMessage(n);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<DeliveryResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, retryable: true, error: `timeout after ${t} ms` }), t);
    });
    const sending = (async (): Promise<DeliveryResult> => {
      try {
        const info = await transport.sendMail({
          from: config.from,
          to: config.to,
          replyTo: config.reply_to,
          subject,
          text,
          html,
          ...threadHeaders(n, config.from),
          headers: {
            'X-Vigil-Alert-Id': oneLine(n.alert_id, 200),
            'X-Vigil-Event': n.kind,
            'Auto-Submitted': 'auto-generated',
          },
        });
        const result: DeliveryResult = { ok: true, retryable: false, provider_message_id: info.messageId };
        if (info.rejected?.length) result.error = `rejected recipients: ${info.rejected.join(', ')}`;
        return result;
      } catch (e) {
        return classifySmtpError(e);
      }
    })();
    try {
      return await Promise.race([sending, deadline]);
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  },
};

export default emailProvider;
