// Helpers shared by the notification providers: config validation, HTTP delivery with a deadline and
// retry classification, and the human-readable rendering of a notification (subject, text, HTML).
// Web-standard APIs only (fetch, AbortController), so it runs in Deno and Node alike.

import { readTextPrefix } from '../http.ts';
import type { ConfigError, DeliveryResult, Notification } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects field errors while reading a config object. */
export class ConfigReader {
  readonly errors: ConfigError[] = [];
  readonly obj: Record<string, unknown>;

  constructor(config: unknown) {
    if (isRecord(config)) {
      this.obj = config;
    } else {
      this.obj = {};
      this.errors.push({ field: '', reason: 'config must be a JSON object' });
    }
  }

  error(field: string, reason: string): void {
    this.errors.push({ field, reason });
  }

  string(field: string, opts: { required?: boolean; maxLength?: number } = {}): string | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null || v === '') {
      if (opts.required) this.error(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.error(field, 'must be a string');
      return undefined;
    }
    if (/[\u0000-\u001f\u007f]/.test(v)) {
      this.error(field, 'must not contain control characters');
      return undefined;
    }
    const max = opts.maxLength ?? 2048;
    if (v.length > max) {
      this.error(field, `must be at most ${max} characters`);
      return undefined;
    }
    return v;
  }

  boolean(field: string, fallback: boolean): boolean {
    const v = this.obj[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.error(field, 'must be true or false');
      return fallback;
    }
    return v;
  }

  integer(field: string, opts: { required?: boolean; min: number; max: number }): number | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) {
      if (opts.required) this.error(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < opts.min || v > opts.max) {
      this.error(field, `must be an integer between ${opts.min} and ${opts.max}`);
      return undefined;
    }
    return v;
  }

  httpUrl(field: string, opts: { required?: boolean } = {}): string | undefined {
    const v = this.string(field, { required: opts.required, maxLength: 2048 });
    if (v === undefined) return undefined;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      this.error(field, 'must be an absolute URL');
      return undefined;
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      this.error(field, 'must be an http(s) URL');
      return undefined;
    }
    if (u.username || u.password) {
      this.error(field, 'must not embed credentials; use a secret');
      return undefined;
    }
    return v;
  }

  /** Name of a secret the caller resolves (from Vault) and passes to send(); never the secret itself. */
  secretName(field: string, opts: { required?: boolean } = {}): string | undefined {
    const v = this.string(field, { required: opts.required, maxLength: 256 });
    if (v === undefined) return undefined;
    if (!/^[A-Za-z0-9_.:\-/]+$/.test(v)) {
      this.error(field, 'must be a secret name (letters, digits, _ . : - /)');
      return undefined;
    }
    return v;
  }

  email(field: string, opts: { required?: boolean } = {}): string | undefined {
    const v = this.string(field, { required: opts.required, maxLength: 320 });
    if (v === undefined) return undefined;
    if (!isEmailAddress(v)) {
      this.error(field, 'must be an e-mail address ("a@b.example" or "Name <a@b.example>")');
      return undefined;
    }
    return v;
  }

  emailList(field: string, opts: { required?: boolean; max?: number } = {}): string[] | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) {
      if (opts.required) this.error(field, 'is required');
      return undefined;
    }
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0) {
      this.error(field, 'must be a non-empty array of e-mail addresses');
      return undefined;
    }
    const max = opts.max ?? 50;
    if (list.length > max) {
      this.error(field, `must list at most ${max} addresses`);
      return undefined;
    }
    const out: string[] = [];
    list.forEach((a, i) => {
      if (typeof a !== 'string' || a.length > 320 || !isEmailAddress(a)) {
        this.error(`${field}[${i}]`, 'must be an e-mail address');
      } else {
        out.push(a);
      }
    });
    return out.length === list.length ? out : undefined;
  }

  /** Object of header name -> string value. */
  headers(field: string): Record<string, string> | undefined {
    const v = this.obj[field];
    if (v === undefined || v === null) return undefined;
    if (!isRecord(v)) {
      this.error(field, 'must be an object of header name to value');
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k)) {
        this.error(`${field}.${k}`, 'is not a valid header name');
      } else if (typeof val !== 'string' || /[\r\n\u0000]/.test(val) || val.length > 4096) {
        this.error(`${field}.${k}`, 'must be a single-line string');
      } else {
        out[k] = val;
      }
    }
    return out;
  }

  /** Secrets never live in channel config: reject the plain-text fields people reach for first. */
  forbid(field: string, instead: string): void {
    if (this.obj[field] !== undefined) this.error(field, `secrets are not stored in config; put it in Vault and set ${instead}`);
  }

  done<C>(config: C): { ok: true; config: C } | { ok: false; errors: ConfigError[] } {
    return this.errors.length ? { ok: false, errors: this.errors } : { ok: true, config };
  }
}

const ADDR = /^[^\s@<>(),;:"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export function isEmailAddress(s: string): boolean {
  if (/[\r\n\u0000]/.test(s)) return false;
  const m = /^\s*(?:"?([^"<>]*)"?\s*)?<([^<>]+)>\s*$/.exec(s);
  return ADDR.test(m ? m[2] : s.trim());
}

// ---------------------------------------------------------------------------------------------
// HTTP delivery and retry classification
// ---------------------------------------------------------------------------------------------

/** HTTP status -> retryable? Timeouts (408), rate limits (429) and server errors (5xx) are; other 4xx are not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export function parseRetryAfter(v: string | null, nowMs = Date.now()): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Math.min(Number(t), 86_400) * 1000;
  const d = Date.parse(t);
  if (Number.isNaN(d)) return undefined;
  return Math.max(0, Math.min(d - nowMs, 86_400_000));
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : undefined;
    const causeMsg = cause instanceof Error ? cause.message : undefined;
    const extra = code ?? causeMsg;
    return extra && !e.message.includes(extra) ? `${e.message} (${extra})` : e.message;
  }
  return String(e);
}

export interface HttpResponseInfo {
  result: DeliveryResult;
  /** Response body (first 16 KiB) when one was read. */
  body?: string;
  headers?: Headers;
}

const MAX_RESPONSE_BYTES = 16 * 1024;


/**
 * POSTs `body` and classifies the outcome. Never throws. The whole exchange (connect, send, read the
 * answer) is bounded by `timeoutMs`; redirects are not followed (a notification endpoint that redirects
 * is misconfigured, and following it would send the payload somewhere the admin did not choose).
 */
export async function httpPost(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpResponseInfo> {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort(new Error(`timeout after ${timeoutMs} ms`));
  }, Math.max(1, timeoutMs));
  try {
    const res = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: ctl.signal });
    let text = '';
    try {
      text = await readTextPrefix(res, MAX_RESPONSE_BYTES, ctl.signal);
    } catch {
      // The status line already came back; a body cut short by the deadline changes nothing.
    }
    const status = res.status;
    if (status >= 200 && status < 300) {
      return { result: { ok: true, retryable: false, status }, body: text, headers: res.headers };
    }
    const retryable = isRetryableStatus(status);
    let error: string;
    if (status >= 300 && status < 400) {
      error = `HTTP ${status}: redirect to ${res.headers.get('location') ?? '(no location)'} not followed; configure the final URL`;
    } else {
      const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 300);
      error = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
    }
    const result: DeliveryResult = { ok: false, retryable, status, error };
    const ra = parseRetryAfter(res.headers.get('retry-after'));
    if (ra !== undefined && retryable) result.retry_after_ms = ra;
    return { result, body: text, headers: res.headers };
  } catch (e) {
    const error = timedOut ? `timeout after ${timeoutMs} ms` : `network error: ${errorMessage(e)}`;
    return { result: { ok: false, retryable: true, error } };
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/** The state word for humans: DOWN, DEGRADED, RECOVERED, FLAPPING, ... */
export function stateLabel(n: Notification): string {
  if (n.kind === 'resolved' || n.alert_type === 'recovery') return 'RECOVERED';
  if (n.kind === 'flapping') return 'FLAPPING';
  switch (n.alert_type) {
    case 'service_down':
      return 'DOWN';
    case 'service_degraded':
      return 'DEGRADED';
    default:
      return (n.alert_type || 'ALERT').replace(/^service_/, '').replace(/[_-]+/g, ' ').toUpperCase();
  }
}

/** e.g. "DOWN: llm-api", "STILL DOWN: llm-api", "DOWN (escalated): llm-api", "RECOVERED: llm-api". */
export function headline(n: Notification): string {
  const label = stateLabel(n);
  const name = oneLine(n.service_name, 200);
  if (n.kind === 'renotify') return `STILL ${label}: ${name}`;
  if (n.kind === 'escalated') return `${label} (escalated): ${name}`;
  return `${label}: ${name}`;
}

export function emailSubject(n: Notification): string {
  return `[Vigil] ${headline(n)}`;
}

/** The rendered e-mail, shared by the SMTP and HTTP e-mail providers. */
export function buildEmailMessage(n: Notification): { subject: string; text: string; html: string } {
  return { subject: emailSubject(n), text: textBody(n), html: htmlBody(n) };
}

/** Collapses whitespace/control characters and bounds the length (safe for subjects and headers). */
export function oneLine(s: unknown, max = 500): string {
  const str = typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
  const t = str.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Flattened, bounded key/value view of `details` for humans. */
export function detailPairs(n: Notification, maxPairs = 20): [string, string][] {
  const out: [string, string][] = [];
  if (!isRecord(n.details)) return out;
  for (const [k, v] of Object.entries(n.details)) {
    if (out.length >= maxPairs) break;
    let s: string;
    if (typeof v === 'string') s = v;
    else {
      try {
        s = JSON.stringify(v) ?? String(v);
      } catch {
        s = String(v);
      }
    }
    out.push([oneLine(k, 80), oneLine(s, 500)]);
  }
  return out;
}

export function textBody(n: Notification): string {
  const lines = [
    headline(n),
    '',
    oneLine(n.summary, 2000),
    '',
    `Service:   ${oneLine(n.service_name, 200)}`,
    `Alert:     ${oneLine(n.alert_type, 100)} (${oneLine(n.status, 50)})`,
    `Severity:  ${n.severity}`,
    `Event:     ${n.kind}`,
    `When:      ${oneLine(n.occurred_at, 64)}`,
    `Alert id:  ${oneLine(n.alert_id, 100)}`,
  ];
  const pairs = detailPairs(n);
  if (pairs.length) {
    lines.push('', 'Details:');
    for (const [k, v] of pairs) lines.push(`  ${k}: ${v}`);
  }
  if (n.dashboard_url) lines.push('', `Dashboard: ${oneLine(n.dashboard_url, 2048)}`);
  lines.push('', '-- ', 'Sent by Vigil monitoring');
  return lines.join('\n') + '\n';
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function severityColor(n: Notification): string {
  if (n.kind === 'resolved' || n.alert_type === 'recovery') return '#2EB67D';
  switch (n.severity) {
    case 'critical':
      return '#E01E5A';
    case 'warning':
      return '#ECB22E';
    default:
      return '#36C5F0';
  }
}

function safeHttpUrl(u: string | undefined): string | undefined {
  if (!u) return undefined;
  try {
    const p = new URL(u);
    return p.protocol === 'https:' || p.protocol === 'http:' ? p.toString() : undefined;
  } catch {
    return undefined;
  }
}

export function htmlBody(n: Notification): string {
  const color = severityColor(n);
  const rows: [string, string][] = [
    ['Service', oneLine(n.service_name, 200)],
    ['Alert', `${oneLine(n.alert_type, 100)} (${oneLine(n.status, 50)})`],
    ['Severity', n.severity],
    ['Event', n.kind],
    ['When', oneLine(n.occurred_at, 64)],
    ['Alert id', oneLine(n.alert_id, 100)],
    ...detailPairs(n),
  ];
  const tr = rows
    .map(
      ([k, v]) =>
        `<tr><td style="padding:2px 12px 2px 0;color:#555;vertical-align:top">${escapeHtml(k)}</td><td style="padding:2px 0">${escapeHtml(v)}</td></tr>`,
    )
    .join('');
  const url = safeHttpUrl(n.dashboard_url);
  const link = url ? `<p><a href="${escapeHtml(url)}">Open the Vigil dashboard</a></p>` : '';
  return (
    `<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#222">` +
    `<div style="border-left:4px solid ${color};padding:8px 12px">` +
    `<h2 style="margin:0 0 8px 0;font-size:18px">${escapeHtml(headline(n))}</h2>` +
    `<p style="margin:0 0 12px 0">${escapeHtml(oneLine(n.summary, 2000))}</p>` +
    `<table style="border-collapse:collapse">${tr}</table>${link}</div>` +
    `<p style="color:#888;font-size:12px">Sent by Vigil monitoring</p></body></html>`
  );
}

/** Stable key for one notification event, for receivers that de-duplicate retries. */
export function idempotencyKey(n: Notification): string {
  return `vigil-${oneLine(n.alert_id, 100)}-${n.kind}-${oneLine(n.occurred_at, 64)}`.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 256);
}
