// Notification provider contract. One folder per provider (slack/, webhook/, email/, email-api/),
// all behind Provider<C>; registry.ts maps a channel kind to its provider and never throws.
// Runs unchanged under Deno (edge functions) and Node (tests, local stack).

export type NotificationKind = 'opened' | 'escalated' | 'renotify' | 'resolved' | 'flapping';
export type Severity = 'critical' | 'warning' | 'info';

export interface Notification {
  alert_id: string;
  kind: NotificationKind;
  service_name: string;
  alert_type: string;
  status: string;
  severity: Severity;
  summary: string;
  details: Record<string, unknown>;
  occurred_at: string;
  dashboard_url?: string;
}

export interface DeliveryResult {
  ok: boolean;
  /** true when the same delivery may succeed later (network error, timeout, HTTP 5xx/429/408, SMTP 4xx). */
  retryable: boolean;
  /** HTTP status of the provider's answer (HTTP providers only; SMTP reply codes go in `error`). */
  status?: number;
  error?: string;
  provider_message_id?: string;
  /** Delay the receiver asked for (HTTP Retry-After), in milliseconds, when it gave one. */
  retry_after_ms?: number;
}

export interface ConfigError {
  field: string;
  reason: string;
}

export type ValidationResult<C> = { ok: true; config: C } | { ok: false; errors: ConfigError[] };

export interface SendOptions {
  timeoutMs: number;
}

export interface Provider<C> {
  kind: string;
  validateConfig(config: unknown): ValidationResult<C>;
  send(config: C, n: Notification, secrets: Record<string, string>, opts: SendOptions): Promise<DeliveryResult>;
}
