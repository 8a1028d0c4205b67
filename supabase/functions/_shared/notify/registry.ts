// Channel kind -> provider, and deliver(): the one entry point the delivery worker calls.
// deliver() never throws and never outlives its deadline; every outcome is a DeliveryResult whose
// `retryable` says whether the outbox should try again:
//   network error, timeout, HTTP 5xx / 429 / 408, SMTP 4xx, provider exception -> retryable
//   other HTTP 4xx, SMTP 5xx, invalid config, unknown kind, missing secret     -> not retryable

import { errorMessage, isRecord, isRetryableStatus } from './common.ts';
import { emailApiProvider } from './email-api/index.ts';
import { emailProvider } from './email/index.ts';
import { slackProvider } from './slack/index.ts';
import type { ConfigError, DeliveryResult, Notification, Provider, SendOptions } from './types.ts';
import { webhookProvider } from './webhook/index.ts';

// deno-lint-ignore no-explicit-any
export const providers: Record<string, Provider<any>> = {
  [slackProvider.kind]: slackProvider,
  [webhookProvider.kind]: webhookProvider,
  [emailProvider.kind]: emailProvider,
  [emailApiProvider.kind]: emailApiProvider,
};

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Extra time a provider gets past its own timeout before deliver() gives up on it. */
const GRACE_MS = 1_000;

export type ChannelValidation = { ok: true; config: unknown } | { ok: false; errors: ConfigError[] };

/** Validates a channel's config for its kind (for the admin API's channel CRUD). Never throws. */
export function validateChannelConfig(kind: string, config: unknown): ChannelValidation {
  const provider = Object.hasOwn(providers, kind) ? providers[kind] : undefined;
  if (!provider) return { ok: false, errors: [{ field: 'kind', reason: `unknown channel kind '${kind}' (one of ${Object.keys(providers).join(', ')})` }] };
  try {
    return provider.validateConfig(config);
  } catch (e) {
    return { ok: false, errors: [{ field: '', reason: `config could not be validated: ${errorMessage(e)}` }] };
  }
}

/**
 * Names of the secrets a channel config refers to (`secret_name`, `*_secret_name`, values of
 * `secret_headers`), so the caller knows what to read from Vault before calling deliver().
 */
export function secretNamesOf(config: unknown): string[] {
  const names = new Set<string>();
  if (!isRecord(config)) return [];
  for (const [k, v] of Object.entries(config)) {
    if ((k === 'secret_name' || k.endsWith('_secret_name')) && typeof v === 'string' && v) names.add(v);
    if (k === 'secret_headers' && isRecord(v)) {
      for (const s of Object.values(v)) if (typeof s === 'string' && s) names.add(s);
    }
  }
  return [...names];
}

function normalize(r: unknown): DeliveryResult {
  if (!isRecord(r) || typeof r.ok !== 'boolean') {
    return { ok: false, retryable: true, error: 'provider returned no result' };
  }
  const res = r as unknown as DeliveryResult;
  if (res.ok) return { ...res, retryable: false };
  const out: DeliveryResult = { ...res, retryable: Boolean(res.retryable) };
  // HTTP statuses are classified the same way whatever the provider said.
  if (typeof res.status === 'number' && res.status >= 400) out.retryable = isRetryableStatus(res.status);
  if (!out.error) out.error = typeof res.status === 'number' ? `HTTP ${res.status}` : 'delivery failed';
  return out;
}

/**
 * Validates `config` for `kind`, sends `n` through the provider and classifies the outcome.
 * Never throws; resolves by opts.timeoutMs (+1 s grace) even if a provider hangs.
 */
export async function deliver(
  kind: string,
  config: unknown,
  n: Notification,
  secrets: Record<string, string> = {},
  opts: Partial<SendOptions> = {},
): Promise<DeliveryResult> {
  const timeoutMs =
    typeof opts.timeoutMs === 'number' && Number.isFinite(opts.timeoutMs) && opts.timeoutMs > 0 ? opts.timeoutMs : DEFAULT_TIMEOUT_MS;
  const provider = Object.hasOwn(providers, kind) ? providers[kind] : undefined;
  if (!provider) return { ok: false, retryable: false, error: `unknown channel kind '${kind}'` };

  const v = validateChannelConfig(kind, config);
  if (!v.ok) {
    return {
      ok: false,
      retryable: false,
      error: `invalid ${kind} config: ${v.errors.map((e) => (e.field ? `${e.field} ${e.reason}` : e.reason)).join('; ')}`,
    };
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const sending = Promise.resolve()
      .then(() => provider.send(v.config, n, secrets ?? {}, { timeoutMs }))
      .then(normalize, (e: unknown): DeliveryResult => ({ ok: false, retryable: true, error: `provider error: ${errorMessage(e)}` }));
    const deadline = new Promise<DeliveryResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, retryable: true, error: `timeout after ${timeoutMs} ms` }), timeoutMs + GRACE_MS);
    });
    return await Promise.race([sending, deadline]);
  } catch (e) {
    return { ok: false, retryable: true, error: `provider error: ${errorMessage(e)}` };
  } finally {
    clearTimeout(timer);
  }
}

export type { DeliveryResult, Notification, Provider } from './types.ts';
