// Small response helpers: every error names a status, a machine-readable code and a reason.
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

export function error(status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return json(status, { error: code, message, ...extra }, headers);
}

export function methodNotAllowed(allowed: string[]): Response {
  return error(405, 'method_not_allowed', `use ${allowed.join(' or ')}`, {}, { allow: allowed.join(', ') });
}

/**
 * Reads at most `limit` bytes of a response body as text (the rest is discarded and the connection
 * freed), so a huge or endless upstream body cannot exhaust memory. Stops early when `signal` aborts.
 */
export async function readTextPrefix(res: Response, limit: number, signal?: AbortSignal): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, limit));
  let off = 0;
  for (const c of chunks) {
    if (off >= all.byteLength) break;
    const take = Math.min(c.byteLength, all.byteLength - off);
    all.set(c.subarray(0, take), off);
    off += take;
  }
  return new TextDecoder().decode(all);
}
