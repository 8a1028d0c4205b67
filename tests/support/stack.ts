// What integration tests need from the running local stack (npm test starts it first).
import postgres from 'postgres';
import { status } from '../../stack/stack.ts';

export type StackStatus = Awaited<ReturnType<typeof status>>;
let cached: Promise<StackStatus> | null = null;

export function stack(): Promise<StackStatus> {
  cached ??= status();
  return cached;
}

/** A connection as `postgres` (the migrations' role, not a superuser), like the functions use. */
export async function pg(opts: { max?: number } = {}) {
  const s = await stack();
  return postgres(s.db_url, { max: opts.max ?? 2, onnotice: () => {} });
}

/** A superuser connection, for platform-level checks only (e.g. inspecting net/vault internals). */
export async function pgSuper() {
  const s = await stack();
  return postgres(s.db_superuser_url, { max: 1, onnotice: () => {} });
}

export async function callFunction(name: string, init: RequestInit & { path?: string } = {}) {
  const s = await stack();
  return fetch(`${s.functions_url}/${name}${init.path ?? ''}`, init);
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
