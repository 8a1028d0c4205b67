// Public types of @vigil/sdk.

export type ProcessingEventType = 'upload_started' | 'processing_started' | 'completed' | 'failed';

export interface ProcessingEvent {
  document_id: string;
  user_id: string;
  event_type: ProcessingEventType;
  duration_ms?: number;
  error_message?: string;
  stage?: string;
  /** When the event happened. Kept if valid; otherwise the SDK stamps the time of the call. */
  created_at?: string | Date;
  /** Optional caller-chosen UUID (idempotency key). Generated (UUIDv7) when absent or not a UUID. */
  id?: string;
}

/** The minimal shape of a Response the SDK needs (the global fetch's Response satisfies it). */
export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export type FetchLike = (
  input: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<ResponseLike>;

/** The part of a supabase-js client the SDK uses: `supabase.functions.invoke`. */
export interface SupabaseFunctionsClientLike {
  functions: {
    invoke(
      name: string,
      opts: { body: unknown; headers?: Record<string, string>; signal?: AbortSignal },
    ): Promise<{ data: unknown; error: unknown }>;
  };
}

/** Passed to `onError`. `kind` says what happened; `status` is the HTTP status when there was one. */
export interface VigilError {
  kind: 'auth' | 'rejected' | 'unavailable' | 'network' | 'timeout' | 'dropped' | 'config';
  message: string;
  status?: number;
  /** Number of events concerned. */
  events?: number;
}

export interface VigilTuning {
  /** Max events per request (default 500). */
  maxBatchEvents?: number;
  /** Max request body size in bytes (default 512 KiB). A single event larger than this is rejected locally. */
  maxBatchBytes?: number;
  /** Max time an event waits for a batch to fill before it is sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Max events held (queued + in flight). When full, NEW events are dropped and counted (default 10 000). */
  maxQueue?: number;
  /** Per-request timeout (default 10 000 ms). */
  requestTimeoutMs?: number;
  /** Max retries per event before it is dropped (default: unlimited while the queue has room). */
  maxRetries?: number;
  /** Backoff base (default 500 ms) and cap (default 30 000 ms); full jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Upper bound applied to a server's Retry-After (default 60 000 ms). */
  maxRetryAfterMs?: number;
  /** Max concurrent requests while the endpoint is healthy (default 1). While failing: one probe at a time. */
  maxConcurrentRequests?: number;
  /** Default deadline for flush()/shutdown() without timeoutMs (default 30 000 ms). */
  defaultFlushTimeoutMs?: number;
  /** Called (never awaited; exceptions swallowed) on delivery problems. Rate-limited: see README. */
  onError?: (err: VigilError) => void;
}

export interface VigilUrlOptions extends VigilTuning {
  /** Project URL, e.g. http://127.0.0.1:54321 (events go to `${url}/functions/v1/${functionName}`). */
  url: string;
  /** Key sent as `apikey` and `Authorization: Bearer`. */
  key: string;
  functionName?: string;
  /** Injectable fetch (default: globalThis.fetch). */
  fetch?: FetchLike;
}

export interface VigilSupabaseOptions extends VigilTuning {
  supabase: SupabaseFunctionsClientLike;
  /** Edge function name (default 'ingest-events'). */
  functionName?: string;
}

export type VigilOptions = VigilUrlOptions | VigilSupabaseOptions;

export interface FlushResult {
  /** Events (of those pending when flush was called) the server acknowledged (accepted or duplicate). */
  sent: number;
  /** Events (of those pending when flush was called) still queued or in flight when it resolved. */
  unsent: number;
  /** True when the deadline passed with events still unsent. */
  timedOut: boolean;
}

export interface VigilStats {
  /** Events waiting in the queue. */
  queued: number;
  /** Events in requests currently in flight. */
  inFlight: number;
  /** Events the server accepted (newly stored). */
  sent: number;
  /** Events the server already had (idempotent retry). */
  duplicates: number;
  /** Events refused as invalid (by the server, or locally: unserializable / too large / not an object). */
  rejected: number;
  /** Events lost: queue full, recorded after shutdown, maxRetries exhausted, or unsent at shutdown. */
  dropped: number;
  /** Failed requests (429 / 5xx / network / timeout) whose events were put back to be retried. */
  retried: number;
  lastError: string | null;
}

export interface Vigil {
  recordProcessingEvent(e: ProcessingEvent): void;
  track(event_type: string, fields: Record<string, unknown>): void;
  flush(opts?: { timeoutMs?: number }): Promise<FlushResult>;
  shutdown(opts?: { timeoutMs?: number }): Promise<FlushResult>;
  stats(): VigilStats;
}
