// E-mail through an HTTP e-mail API, Resend-compatible:
//   POST <endpoint> (default https://api.resend.com/emails)
//   Authorization: Bearer <secrets[api_key_secret_name]>
//   {from, to, subject, text, html, reply_to?, headers?}  ->  {"id": "..."}
// Retries of the same event send the same Idempotency-Key, so the API does not send twice.
// The endpoint is configurable (other Resend-compatible APIs, and local test servers).

import { buildEmailMessage, ConfigReader, httpPost, idempotencyKey, isRecord, oneLine } from '../common.ts';
import type { DeliveryResult, Notification, Provider, SendOptions, ValidationResult } from '../types.ts';

export const DEFAULT_EMAIL_API_ENDPOINT = 'https://api.resend.com/emails';

export interface EmailApiConfig {
  endpoint: string;
  api_key_secret_name: string;
  from: string;
  to: string[];
  reply_to?: string;
}

export function validateEmailApiConfig(config: unknown): ValidationResult<EmailApiConfig> {
  const r = new ConfigReader(config);
  const endpoint = r.httpUrl('endpoint') ?? DEFAULT_EMAIL_API_ENDPOINT;
  const api_key_secret_name = r.secretName('api_key_secret_name', { required: true });
  const from = r.email('from', { required: true });
  const to = r.emailList('to', { required: true });
  const reply_to = r.email('reply_to');
  r.forbid('api_key', 'api_key_secret_name');
  const out: EmailApiConfig = { endpoint, api_key_secret_name: api_key_secret_name ?? '', from: from ?? '', to: to ?? [] };
  if (reply_to) out.reply_to = reply_to;
  return r.done(out);
}

export function buildEmailApiBody(config: EmailApiConfig, n: Notification): Record<string, unknown> {
  const { subject, text, html } = buildEmailMessage(n);
  const body: Record<string, unknown> = {
    from: config.from,
    to: config.to,
    subject,
    text,
    html,
    headers: { 'X-Vigil-Alert-Id': oneLine(n.alert_id, 200), 'X-Vigil-Event': n.kind },
  };
  if (config.reply_to) body.reply_to = config.reply_to;
  return body;
}

export const emailApiProvider: Provider<EmailApiConfig> = {
  kind: 'email-api',
  validateConfig: validateEmailApiConfig,
  async send(config: EmailApiConfig, n: Notification, secrets: Record<string, string>, opts: SendOptions): Promise<DeliveryResult> {
    const key = secrets[config.api_key_secret_name];
    if (!key) return { ok: false, retryable: false, error: `secret '${config.api_key_secret_name}' (e-mail API key) is not set` };
    const { result, body } = await httpPost(
      config.endpoint,
      JSON.stringify(buildEmailApiBody(config, n)),
      {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey(n),
        'user-agent': 'Vigil-Notify/1',
      },
      opts.timeoutMs,
    );
    if (result.ok && body) {
      try {
        const parsed: unknown = JSON.parse(body);
        if (isRecord(parsed) && typeof parsed.id === 'string') result.provider_message_id = parsed.id;
      } catch {
        // 2xx without a JSON body: delivered all the same.
      }
    }
    return result;
  },
};

export default emailApiProvider;
