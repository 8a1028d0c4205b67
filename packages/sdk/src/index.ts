// @vigil/sdk — public API.
export { createVigil } from './client.ts';
export { uuidv7, isUuid, uuidv7Timestamp } from './uuidv7.ts';
export { parseRetryAfter, fullJitterDelay } from './backoff.ts';
export type {
  FetchLike,
  FlushResult,
  ProcessingEvent,
  ProcessingEventType,
  ResponseLike,
  SupabaseFunctionsClientLike,
  Vigil,
  VigilError,
  VigilOptions,
  VigilStats,
  VigilSupabaseOptions,
  VigilTuning,
  VigilUrlOptions,
} from './types.ts';
