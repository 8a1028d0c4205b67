// Generic JSON webhook, signed like Stripe's:
//   body                = JSON of the notification plus {"version": 1}
//   x-vigil-timestamp   = unix seconds at sending time
//   x-vigil-signature   = v1=<hex HMAC-SHA256(secret, `${timestamp}.${body}`)>
// The signing secret is secrets[config.secret_name] (resolved from Vault by the caller; never in config).
// Receivers verify with verifyWebhookSignature() (exported; Web Crypto only, so Deno, Node, browsers,
// Cloudflare workers...). Every retry of the same event carries the same `idempotency-key` header.

import { ConfigReader, httpPost, idempotencyKey, oneLine } from '../common.ts';
import type { DeliveryResult, Notification, Provider, SendOptions, ValidationResult } from '../types.ts';

export interface WebhookConfig {
  url: string;
  /** Name of the secret used to sign the body; unsigned when absent. */
  secret_name?: string;
  /** Extra static headers (not secret). */
  headers?: Record<string, string>;
  /** Extra headers whose values are secrets: header name -> secret name (e.g. {"authorization": "hook_token"}). */
  secret_headers?: Record<string, string>;
}

export const SIGNATURE_HEADER = 'x-vigil-signature';
export const TIMESTAMP_HEADER = 'x-vigil-timestamp';
export const PAYLOAD_VERSION = 1;

const RESERVED = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection', 'idempotency-key']);
const isReserved = (h: string) => RESERVED.has(h.toLowerCase()) || h.toLowerCase().startsWith('x-vigil-');

export function validateWebhookConfig(config: unknown): ValidationResult<WebhookConfig> {
  const r = new ConfigReader(config);
  const url = r.httpUrl('url', { required: true });
  const secret_name = r.secretName('secret_name');
  r.forbid('secret', 'secret_name');
  const headers = r.headers('headers');
  const secret_headers = r.headers('secret_headers');
  for (const [field, h] of [['headers', headers], ['secret_headers', secret_headers]] as const) {
    for (const k of Object.keys(h ?? {})) {
      if (isReserved(k)) r.error(`${field}.${k}`, 'is set by Vigil and cannot be overridden');
    }
  }
  for (const [k, v] of Object.entries(secret_headers ?? {})) {
    if (!/^[A-Za-z0-9_.:\-/]+$/.test(v)) r.error(`secret_headers.${k}`, 'must be a secret name');
  }
  const out: WebhookConfig = { url: url ?? '' };
  if (secret_name) out.secret_name = secret_name;
  if (headers && Object.keys(headers).length) out.headers = headers;
  if (secret_headers && Object.keys(secret_headers).length) out.secret_headers = secret_headers;
  return r.done(out);
}

// ---------------------------------------------------------------------------------------------
// Signing (Web Crypto)
// ---------------------------------------------------------------------------------------------

const enc = new TextEncoder();

function bytes(s: string): Uint8Array<ArrayBuffer> {
  const e = enc.encode(s);
  const out = new Uint8Array(new ArrayBuffer(e.byteLength));
  out.set(e);
  return out;
}

function importKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', bytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

function toHex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const out = new Uint8Array(new ArrayBuffer(hex.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Hex HMAC-SHA256(secret, `${timestamp}.${body}`). */
export async function computeWebhookSignature(secret: string, timestamp: string | number, body: string): Promise<string> {
  const key = await importKey(secret, 'sign');
  return toHex(await crypto.subtle.sign('HMAC', key, bytes(`${timestamp}.${body}`)));
}

/** The x-vigil-signature header value: `v1=<hex>`. */
export async function signatureHeader(secret: string, timestamp: string | number, body: string): Promise<string> {
  return `v1=${await computeWebhookSignature(secret, timestamp, body)}`;
}

/**
 * Verifies a delivery: `timestamp` is the x-vigil-timestamp header, `body` the raw request body (exact
 * bytes as text, before any JSON parsing), `header` the x-vigil-signature header (several
 * comma-separated `v1=` values are accepted, for secret rotation). Rejects timestamps more than
 * `toleranceSec` away from now (replays). The comparison is HMAC verification by Web Crypto
 * (constant time). Never throws.
 */
export async function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | null | undefined,
  body: string,
  header: string | null | undefined,
  toleranceSec = 300,
  nowSec: number = Date.now() / 1000,
): Promise<boolean> {
  try {
    if (!secret || header === null || header === undefined || timestamp === null || timestamp === undefined) return false;
    const ts = String(timestamp).trim();
    if (!/^\d{1,12}$/.test(ts)) return false;
    if (Math.abs(nowSec - Number(ts)) > toleranceSec) return false;
    const candidates = header
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.startsWith('v1='))
      .map((p) => fromHex(p.slice(3)))
      .filter((b): b is Uint8Array<ArrayBuffer> => b !== null && b.length === 32);
    if (!candidates.length) return false;
    const key = await importKey(secret, 'verify');
    const data = bytes(`${ts}.${body}`);
    let ok = false;
    for (const sig of candidates) {
      if (await crypto.subtle.verify('HMAC', key, sig, data)) ok = true;
    }
    return ok;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Provider
// ---------------------------------------------------------------------------------------------

export function buildWebhookBody(n: Notification): string {
  return JSON.stringify({ ...n, version: PAYLOAD_VERSION });
}

export const webhookProvider: Provider<WebhookConfig> = {
  kind: 'webhook',
  validateConfig: validateWebhookConfig,
  async send(config: WebhookConfig, n: Notification, secrets: Record<string, string>, opts: SendOptions): Promise<DeliveryResult> {
    const body = buildWebhookBody(n);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = { 'user-agent': 'Vigil-Webhook/1', ...(config.headers ?? {}) };
    for (const [h, secretName] of Object.entries(config.secret_headers ?? {})) {
      const v = secrets[secretName];
      if (!v) return { ok: false, retryable: false, error: `secret '${secretName}' (header ${h}) is not set` };
      headers[h] = v;
    }
    headers['content-type'] = 'application/json';
    headers['idempotency-key'] = idempotencyKey(n);
    headers['x-vigil-event'] = n.kind;
    headers['x-vigil-alert-id'] = oneLine(n.alert_id, 200);
    headers[TIMESTAMP_HEADER] = timestamp;
    if (config.secret_name) {
      const secret = secrets[config.secret_name];
      if (!secret) return { ok: false, retryable: false, error: `signing secret '${config.secret_name}' is not set` };
      headers[SIGNATURE_HEADER] = await signatureHeader(secret, timestamp, body);
    }
    const { result } = await httpPost(config.url, body, headers, opts.timeoutMs);
    return result;
  },
};

export default webhookProvider;
