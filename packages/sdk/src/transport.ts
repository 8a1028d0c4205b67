// Transports: one attempt to deliver one batch. A transport never rejects; it classifies the result.

import type { FetchLike, SupabaseFunctionsClientLike } from './types.ts';
import { parseRetryAfter } from './backoff.ts';

export type SendOutcome =
  | { kind: 'ok'; status: number; body: unknown }
  | { kind: 'http'; status: number; retryAfterMs: number | null; message: string }
  | { kind: 'network'; message: string };

export interface Transport {
  /** `events` is the batch as JSON text (an array). Must resolve, never reject. */
  send(events: string, signal: AbortSignal): Promise<SendOutcome>;
}

function errMessage(e: unknown): string {
  try {
    if (e instanceof Error) {
      const cause = (e as { cause?: unknown }).cause;
      const c = cause instanceof Error ? `: ${cause.message}` : '';
      return `${e.name}: ${e.message}${c}`;
    }
    return String(e);
  } catch {
    return 'unknown error';
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return text;
  }
}

export function httpTransport(opts: { url: string; key: string; functionName: string; fetch: FetchLike }): Transport {
  const endpoint = `${opts.url.replace(/\/+$/, '')}/functions/v1/${opts.functionName}`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    apikey: opts.key,
    authorization: `Bearer ${opts.key}`,
  };
  const f = opts.fetch;
  return {
    async send(events, signal) {
      try {
        const res = await f(endpoint, { method: 'POST', headers, body: events, signal });
        // Always consume the body so the connection is released (and aborts still apply to it).
        let text = '';
        try {
          text = await res.text();
        } catch (e) {
          if (res.status >= 200 && res.status < 300) return { kind: 'network', message: errMessage(e) };
        }
        if (res.status >= 200 && res.status < 300) return { kind: 'ok', status: res.status, body: parseJson(text) };
        return {
          kind: 'http',
          status: res.status,
          retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
          message: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
        };
      } catch (e) {
        return { kind: 'network', message: errMessage(e) };
      }
    },
  };
}

/**
 * supabase-js mode: `supabase.functions.invoke(name, { body: events })`.
 * FunctionsHttpError / FunctionsRelayError carry the Response in `context` (→ its status decides);
 * FunctionsFetchError (and anything without a status) is a network failure.
 */
export function supabaseTransport(opts: { client: SupabaseFunctionsClientLike; functionName: string }): Transport {
  const { client, functionName } = opts;
  return {
    async send(events, signal) {
      try {
        const body: unknown = JSON.parse(events);
        const { data, error } = await client.functions.invoke(functionName, { body, signal });
        if (error == null) return { kind: 'ok', status: 200, body: typeof data === 'string' ? parseJson(data) : data };
        const ctx = (error as { context?: unknown }).context as
          | { status?: unknown; headers?: { get?: (n: string) => string | null } }
          | undefined;
        const status = ctx != null && typeof ctx === 'object' ? ctx.status : undefined;
        if (typeof status === 'number' && status >= 100) {
          let ra: string | null = null;
          try {
            ra = typeof ctx?.headers?.get === 'function' ? ctx.headers.get('retry-after') : null;
          } catch {
            ra = null;
          }
          if (status >= 200 && status < 300) return { kind: 'ok', status, body: data };
          return { kind: 'http', status, retryAfterMs: parseRetryAfter(ra), message: `HTTP ${status}: ${errMessage(error)}` };
        }
        return { kind: 'network', message: errMessage(error) };
      } catch (e) {
        return { kind: 'network', message: errMessage(e) };
      }
    },
  };
}
