// Turning whatever the caller handed us into JSON, without ever throwing.
//
// The fast path is a plain JSON.stringify. Only if that throws (BigInt, cycles, a getter or toJSON
// that throws, a hostile Proxy...) do we fall back to a defensive copy that converts or drops the
// offending values.

const MAX_DEPTH = 32;

/** Stringifies `value`, or returns null if even the defensive path fails. Never throws. */
export function safeJsonStringify(value: unknown): string | null {
  try {
    const s = JSON.stringify(value);
    return typeof s === 'string' ? s : null;
  } catch {
    // fall through to the defensive copy
  }
  try {
    const s = JSON.stringify(toJsonSafe(value, 0, []));
    return typeof s === 'string' ? s : null;
  } catch {
    return null;
  }
}

function read(obj: object, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** A JSON-safe deep copy: BigInt → number (or string if unsafe), cycles → "[Circular]", throwing parts dropped. */
function toJsonSafe(v: unknown, depth: number, stack: object[]): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v === null) return null;
  const obj = v as object;
  if (depth >= MAX_DEPTH) return '[MaxDepth]';
  if (stack.includes(obj)) return '[Circular]';
  if (obj instanceof Date) {
    const t = obj.getTime();
    return Number.isNaN(t) ? null : obj.toISOString();
  }
  const toJSON = read(obj, 'toJSON');
  if (typeof toJSON === 'function') {
    let r: unknown;
    try {
      r = (toJSON as () => unknown).call(obj);
    } catch {
      return undefined;
    }
    if (r !== obj) return toJsonSafe(r, depth + 1, stack);
  }
  stack.push(obj);
  try {
    if (Array.isArray(obj)) {
      const out: unknown[] = [];
      let n = 0;
      try {
        n = obj.length;
      } catch {
        n = 0;
      }
      for (let i = 0; i < n; i++) {
        const x = toJsonSafe(read(obj, String(i)), depth + 1, stack);
        out.push(x === undefined ? null : x);
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    let keys: string[] = [];
    try {
      keys = Object.keys(obj);
    } catch {
      keys = [];
    }
    for (const k of keys) {
      if (k === '__proto__') continue;
      const x = toJsonSafe(read(obj, k), depth + 1, stack);
      if (x !== undefined) out[k] = x;
    }
    return out;
  } finally {
    stack.pop();
  }
}

/** UTF-8 byte length of a JS string (lone surrogates count as the 3-byte replacement character). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 4 bytes for 2 code units
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/**
 * The caller's created_at if it is usable (a valid Date, or a string Date.parse accepts, or a finite
 * epoch-milliseconds number), as an ISO string; otherwise undefined (the SDK then stamps record time).
 */
export function normalizeCreatedAt(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    if (v.length > 64) return undefined;
    return Number.isNaN(Date.parse(v)) ? undefined : v;
  }
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? undefined : v.toISOString();
  }
  if (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 8.64e15) return new Date(v).toISOString();
  return undefined;
}
