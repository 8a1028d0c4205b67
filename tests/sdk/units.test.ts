import { describe, expect, it } from 'vitest';
import { fullJitterDelay, isUuid, parseRetryAfter, uuidv7, uuidv7Timestamp } from '../../packages/sdk/src/index.ts';
import { Deque } from '../../packages/sdk/src/queue.ts';
import { normalizeCreatedAt, safeJsonStringify, utf8Length } from '../../packages/sdk/src/serialize.ts';

describe('uuidv7', () => {
  it('has RFC 9562 layout: version 7, variant 10, 48-bit ms timestamp', () => {
    const ms = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(ms);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Timestamp(id)).toBe(ms);
    expect(isUuid(id)).toBe(true);
  });

  it('is unique and strictly increasing within a millisecond and across many calls', () => {
    const ms = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 20_000; i++) ids.push(uuidv7(ms)); // forces counter overflow → timestamp bump
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('never goes backwards when the clock does', () => {
    const a = uuidv7(Date.now() + 5000);
    const b = uuidv7(Date.now() - 5000);
    expect(b > a).toBe(true);
  });

  it('random bits differ between ids', () => {
    const a = uuidv7(1_700_000_000_000 + 10_000_000);
    const b = uuidv7(1_700_000_000_000 + 20_000_000);
    expect(a.slice(19)).not.toBe(b.slice(19));
  });
});

describe('backoff', () => {
  it('full jitter stays within [0, min(max, base*2^(n-1))]', () => {
    expect(fullJitterDelay(1, 100, 10_000, () => 0.999999)).toBe(99);
    expect(fullJitterDelay(4, 100, 10_000, () => 0.999999)).toBe(799);
    expect(fullJitterDelay(40, 100, 10_000, () => 0.999999)).toBe(9999);
    expect(fullJitterDelay(3, 100, 10_000, () => 0)).toBe(0);
  });

  it('parses Retry-After as seconds or HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
  });
});

describe('Deque', () => {
  it('keeps FIFO order across growth, and unshiftAll puts items back in order at the front', () => {
    const d = new Deque<number>(2);
    for (let i = 0; i < 100; i++) d.push(i);
    expect(d.shift()).toBe(0);
    expect(d.shift()).toBe(1);
    d.unshiftAll([-2, -1, 0, 1]);
    expect(d.length).toBe(102);
    const out: number[] = [];
    let v: number | undefined;
    while ((v = d.shift()) !== undefined) out.push(v);
    expect(out.slice(0, 6)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(out.at(-1)).toBe(99);
  });
});

describe('serialize', () => {
  it('survives BigInt, cycles, throwing getters and toJSON', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    const thrower = Object.defineProperty({ ok: 1 }, 'bad', { enumerable: true, get() { throw new Error('boom'); } });
    const s = safeJsonStringify({ big: 10n, huge: 2n ** 80n, cyc, thrower, sym: Symbol('x'), fn: () => 1, nan: NaN, j: { toJSON() { throw new Error('x'); } } });
    expect(s).not.toBeNull();
    const o = JSON.parse(s!);
    expect(o.big).toBe(10);
    expect(o.huge).toBe((2n ** 80n).toString());
    expect(o.cyc.self).toBe('[Circular]');
    expect(o.thrower).toEqual({ ok: 1 });
    expect(o.nan).toBeNull();
    expect('sym' in o).toBe(false);
  });

  it('utf8Length matches TextEncoder', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b€é', '\ud800x']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });

  it('normalizeCreatedAt keeps valid values and drops invalid ones', () => {
    expect(normalizeCreatedAt('2025-01-01T00:00:00Z')).toBe('2025-01-01T00:00:00Z');
    expect(normalizeCreatedAt(new Date('2025-01-01T00:00:00Z'))).toBe('2025-01-01T00:00:00.000Z');
    expect(normalizeCreatedAt(new Date('nope'))).toBeUndefined();
    expect(normalizeCreatedAt('yesterday-ish')).toBeUndefined();
    expect(normalizeCreatedAt({})).toBeUndefined();
  });
});
