// Retry timing: exponential backoff with full jitter, and Retry-After parsing.

/**
 * "Full jitter" (AWS architecture blog): a uniformly random delay in [0, min(maxMs, baseMs * 2^(attempt-1))].
 * `attempt` is 1 for the first retry.
 */
export function fullJitterDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(maxMs, baseMs * 2 ** exp);
  return Math.floor(random() * Math.max(0, ceiling));
}

/**
 * Parses a Retry-After header value: either delay-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"). Returns milliseconds from `now` (never negative), or null when
 * the header is absent or malformed.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value == null) return null;
  const v = String(value).trim();
  if (v === '') return null;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const s = Number(v);
    return Number.isFinite(s) ? Math.round(s * 1000) : null;
  }
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}
