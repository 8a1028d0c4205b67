// createVigil: the recording hot path, the batching pump, retries and the circuit, flush/shutdown.
//
// Hot path (recordProcessingEvent / track): copy the caller's fields into a small object, stamp the
// record time, push onto a bounded deque. No serialization, no id formatting, no promise, no timer
// per call. Everything costly happens at send time, once per event: the id (UUIDv7 from the record
// time) and created_at are filled in and the event is stringified; the JSON string is cached on the
// entry so retries reuse it.
//
// Sending: a single "pump" decides when a batch is ready (count, bytes, age of the oldest event, or
// a pending flush) and whether the circuit allows a request. Failures put the batch back at the front
// of the queue (order kept) and open the circuit for a backoff delay (full jitter, or Retry-After);
// after the delay exactly one probe request is allowed, and only a success closes the circuit again.

import type {
  FetchLike,
  FlushResult,
  ProcessingEvent,
  Vigil,
  VigilError,
  VigilOptions,
  VigilStats,
  VigilSupabaseOptions,
  VigilUrlOptions,
} from './types.ts';
import { Deque } from './queue.ts';
import { uuidv7, isUuid } from './uuidv7.ts';
import { fullJitterDelay } from './backoff.ts';
import { normalizeCreatedAt, safeJsonStringify, utf8Length } from './serialize.ts';
import { httpTransport, supabaseTransport, type SendOutcome, type Transport } from './transport.ts';

interface Entry {
  seq: number;
  /** Record time (ms since epoch). Drives the id timestamp, the default created_at and batch age. */
  t: number;
  /** Rough size estimate used to trigger a send early; exact size is computed at serialization. */
  est: number;
  /** The event fields until serialized; null afterwards. */
  fields: Record<string, unknown> | null;
  json: string | null;
  bytes: number;
  attempts: number;
  /** Max batch size this entry may be sent in (after a 413); 0 = no limit. */
  cap: number;
}

interface InFlight {
  entries: Entry[];
  ctrl: AbortController;
  timer: ReturnType<typeof setTimeout> | null;
  done: boolean;
}

interface Waiter {
  upto: number;
  remaining: number;
  sent: number;
  finish: () => void;
}

type Timer = ReturnType<typeof setTimeout>;

const NON_RETRYABLE = new Set([400, 401, 403, 404, 405, 409, 410, 411, 414, 415, 422]);

/** Makes a timer never keep the process alive (Node: unref(); Deno: Deno.unrefTimer). */
function unrefTimer(t: Timer): Timer {
  const anyT = t as unknown as { unref?: () => void };
  if (typeof anyT.unref === 'function') anyT.unref();
  else {
    const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
    if (deno && typeof deno.unrefTimer === 'function' && typeof t === 'number') {
      try {
        deno.unrefTimer(t);
      } catch {
        /* ignore */
      }
    }
  }
  return t;
}

function read(o: object, k: string): unknown {
  try {
    return (o as Record<string, unknown>)[k];
  } catch {
    return undefined;
  }
}

function strLen(v: unknown): number {
  return typeof v === 'string' ? v.length : 16;
}

function posInt(v: unknown, dflt: number, min = 1): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : dflt;
}

function nonNeg(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : dflt;
}

function noop(): void {}

export function createVigil(opts: VigilOptions): Vigil {
  const o = (opts ?? {}) as Partial<VigilUrlOptions & VigilSupabaseOptions>;

  // ---- configuration (never throws: a bad configuration yields a client that drops and reports) ----
  const maxBatchEvents = posInt(o.maxBatchEvents, 500);
  const maxBatchBytes = posInt(o.maxBatchBytes, 512 * 1024, 64);
  const flushIntervalMs = nonNeg(o.flushIntervalMs, 1000);
  const maxQueue = posInt(o.maxQueue, 10_000);
  const requestTimeoutMs = posInt(o.requestTimeoutMs, 10_000);
  const maxRetries = typeof o.maxRetries === 'number' && o.maxRetries >= 0 ? o.maxRetries : Infinity;
  const backoffBaseMs = nonNeg(o.backoffBaseMs, 500);
  const backoffMaxMs = nonNeg(o.backoffMaxMs, 30_000);
  const maxRetryAfterMs = nonNeg(o.maxRetryAfterMs, 60_000);
  const maxConcurrent = posInt(o.maxConcurrentRequests, 1);
  const defaultFlushTimeoutMs = nonNeg(o.defaultFlushTimeoutMs, 30_000);
  const onError = typeof o.onError === 'function' ? o.onError : null;
  const functionName = typeof o.functionName === 'string' && o.functionName ? o.functionName : 'ingest-events';

  let transport: Transport | null = null;
  let configError: string | null = null;
  try {
    if (o.supabase && typeof o.supabase === 'object' && typeof o.supabase.functions?.invoke === 'function') {
      transport = supabaseTransport({ client: o.supabase, functionName });
    } else if (typeof o.url === 'string' && o.url && typeof o.key === 'string' && o.key) {
      const f: FetchLike | undefined =
        typeof o.fetch === 'function' ? o.fetch : typeof globalThis.fetch === 'function' ? (globalThis.fetch as FetchLike) : undefined;
      if (f) transport = httpTransport({ url: o.url, key: o.key, functionName, fetch: f });
      else configError = 'no fetch implementation available';
    } else {
      configError = 'createVigil needs { url, key } or { supabase }';
    }
  } catch (e) {
    configError = `invalid options: ${String(e)}`;
  }

  // ---- state ----
  const queue = new Deque<Entry>(Math.min(maxQueue, 1024));
  const inFlight = new Set<InFlight>();
  const waiters: Waiter[] = [];
  let seq = 0;
  let queuedEst = 0;
  let inFlightEvents = 0;
  let closing = false; // shutdown() called: new records are dropped
  let stopped = false; // shutdown finished: no more sending

  let sent = 0;
  let duplicates = 0;
  let rejected = 0;
  let dropped = 0;
  let retried = 0;
  let lastError: string | null = configError;

  // circuit: closed (healthy) → open (paused until pausedUntil) → half-open (one probe) → closed
  let failures = 0; // consecutive retryable failures
  let pausedUntil = 0;
  let pauseIsServerRequested = false; // the pause came from a Retry-After header
  let probing = false;

  let wakeTimer: Timer | null = null;
  let wakeAt = Infinity;
  let kickPending = false;
  let authReported = false;
  let overflowReported = false;
  let invalidReported = false;

  function report(err: VigilError): void {
    if (!onError) return;
    try {
      const r = (onError as (e: VigilError) => unknown)(err);
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, noop);
    } catch {
      /* onError must never throw into the SDK or the caller */
    }
  }

  if (configError) {
    if (onError) report({ kind: 'config', message: configError });
    else {
      try {
        console.warn(`[vigil] ${configError}; events will be dropped`);
      } catch {
        /* ignore */
      }
    }
  }

  // ---- hot path ----
  function enqueue(fields: Record<string, unknown>, est: number): void {
    if (closing || transport === null || queue.length + inFlightEvents >= maxQueue) {
      dropped++;
      if (!closing && transport !== null && !overflowReported) {
        overflowReported = true;
        lastError = `queue full (${maxQueue}): dropping new events`;
        report({ kind: 'dropped', message: lastError });
      }
      return;
    }
    const t = Date.now();
    queue.push({ seq: ++seq, t, est, fields, json: null, bytes: 0, attempts: 0, cap: 0 });
    queuedEst += est;
    if (queue.length >= maxBatchEvents || queuedEst >= maxBatchBytes) kick();
    else if (wakeTimer === null && inFlight.size === 0) armWake(t + flushIntervalMs);
  }

  function invalid(what: string): void {
    rejected++;
    lastError = `invalid event: ${what}`;
    if (!invalidReported) {
      invalidReported = true;
      report({ kind: 'rejected', message: lastError, events: 1 });
    }
  }

  function recordProcessingEvent(e: ProcessingEvent): void {
    try {
      if (e === null || typeof e !== 'object') {
        if (closing || transport === null) dropped++;
        else invalid('not an object');
        return;
      }
      const id = read(e, 'id');
      const document_id = read(e, 'document_id');
      const user_id = read(e, 'user_id');
      const error_message = read(e, 'error_message');
      const stage = read(e, 'stage');
      const fields: Record<string, unknown> = {
        id: isUuid(id) ? id : undefined,
        document_id,
        user_id,
        event_type: read(e, 'event_type'),
        duration_ms: read(e, 'duration_ms'),
        error_message,
        stage,
        created_at: normalizeCreatedAt(read(e, 'created_at')),
      };
      enqueue(fields, 192 + strLen(document_id) + strLen(user_id) + (error_message === undefined ? 0 : strLen(error_message)) + (stage === undefined ? 0 : strLen(stage)));
    } catch {
      dropped++; // unreachable in practice; never throw into the caller
    }
  }

  function track(event_type: string, fields: Record<string, unknown>): void {
    try {
      let type: unknown = event_type;
      if (typeof type !== 'string') {
        try {
          type = String(type);
        } catch {
          type = undefined;
        }
      }
      const copy: Record<string, unknown> = {};
      let est = 96 + strLen(type);
      if (fields !== null && typeof fields === 'object') {
        let keys: string[];
        try {
          keys = Object.keys(fields);
        } catch {
          keys = [];
        }
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i]!;
          if (k === '__proto__') continue;
          const v = read(fields, k);
          copy[k] = v;
          est += k.length + strLen(v) + 4;
        }
      }
      copy.id = isUuid(copy.id) ? copy.id : undefined;
      copy.event_type = type;
      copy.created_at = normalizeCreatedAt(copy.created_at);
      enqueue(copy, est);
    } catch {
      dropped++;
    }
  }

  // ---- scheduling ----
  function armWake(at: number): void {
    if (stopped) return;
    if (wakeTimer !== null) {
      if (wakeAt <= at) return;
      clearTimeout(wakeTimer);
    }
    wakeAt = at;
    wakeTimer = unrefTimer(setTimeout(onWake, Math.max(0, at - Date.now())));
  }

  function onWake(): void {
    wakeTimer = null;
    wakeAt = Infinity;
    pump();
  }

  function kick(): void {
    if (kickPending || stopped) return;
    if (inFlight.size >= maxConcurrent) return; // the settling request pumps
    if (pausedUntil > 0 && Date.now() < pausedUntil) return; // a wake is armed for pausedUntil
    kickPending = true;
    queueMicrotask(() => {
      kickPending = false;
      pump();
    });
  }

  function pump(): void {
    try {
      pumpUnsafe();
    } catch (e) {
      lastError = `internal error: ${String(e)}`;
    }
  }

  function pumpUnsafe(): void {
    if (stopped || transport === null) return;
    while (queue.length > 0) {
      const now = Date.now();
      if (pausedUntil > now) {
        armWake(pausedUntil);
        return;
      }
      const halfOpen = failures > 0;
      if (halfOpen ? probing || inFlight.size > 0 : inFlight.size >= maxConcurrent) return;
      const front = queue.peek()!;
      const ready =
        waiters.length > 0 ||
        closing ||
        queue.length >= maxBatchEvents ||
        queuedEst >= maxBatchBytes ||
        now - front.t >= flushIntervalMs;
      if (!ready) {
        armWake(front.t + flushIntervalMs);
        return;
      }
      const batch = buildBatch();
      if (batch.length === 0) continue; // everything examined was rejected locally
      if (halfOpen) probing = true;
      startRequest(batch);
    }
  }

  /** Serializes an entry once; false if it cannot be sent (rejected locally). */
  function serialize(e: Entry): boolean {
    const f = e.fields!;
    if (f.id === undefined) f.id = uuidv7(e.t);
    if (f.created_at === undefined) f.created_at = new Date(e.t).toISOString();
    const json = safeJsonStringify(f);
    e.fields = null;
    if (json === null || json[0] !== '{') {
      finalize(e, 'rejected');
      rejected++;
      lastError = 'invalid event: not serializable';
      return false;
    }
    const bytes = utf8Length(json);
    if (bytes + 2 > maxBatchBytes) {
      finalize(e, 'rejected');
      rejected++;
      lastError = `invalid event: ${bytes} bytes exceeds maxBatchBytes (${maxBatchBytes})`;
      report({ kind: 'rejected', message: lastError, events: 1 });
      return false;
    }
    e.json = json;
    e.bytes = bytes;
    return true;
  }

  function buildBatch(): Entry[] {
    const batch: Entry[] = [];
    let bytes = 2; // "[" and "]"
    let limit = maxBatchEvents;
    while (queue.length > 0 && batch.length < limit) {
      const e = queue.peek()!;
      if (e.json === null && !serialize(e)) {
        queue.shift();
        queuedEst -= e.est;
        continue;
      }
      if (e.cap > 0) {
        if (e.cap < batch.length + 1) break;
        if (e.cap < limit) limit = e.cap;
      }
      const add = e.bytes + (batch.length > 0 ? 1 : 0);
      if (batch.length > 0 && bytes + add > maxBatchBytes) break;
      queue.shift();
      queuedEst -= e.est;
      batch.push(e);
      bytes += add;
    }
    return batch;
  }

  function startRequest(batch: Entry[]): void {
    let body = '[';
    for (let i = 0; i < batch.length; i++) body += (i > 0 ? ',' : '') + batch[i]!.json;
    body += ']';
    const req: InFlight = { entries: batch, ctrl: new AbortController(), timer: null, done: false };
    inFlight.add(req);
    inFlightEvents += batch.length;
    // The timeout both aborts the request and settles it, even if the fetch/invoke ignores the signal.
    req.timer = unrefTimer(
      setTimeout(() => {
        try {
          req.ctrl.abort();
        } catch {
          /* ignore */
        }
        settle(req, { kind: 'network', message: `timeout after ${requestTimeoutMs} ms` }, true);
      }, requestTimeoutMs),
    );
    let p: Promise<SendOutcome>;
    try {
      p = transport!.send(body, req.ctrl.signal);
    } catch (e) {
      p = Promise.resolve({ kind: 'network', message: String(e) });
    }
    p.then(
      (out) => settle(req, out, false),
      (e: unknown) => settle(req, { kind: 'network', message: String(e) }, false),
    );
  }

  function settle(req: InFlight, out: SendOutcome, timedOut: boolean): void {
    if (req.done) return;
    req.done = true;
    if (req.timer !== null) clearTimeout(req.timer);
    req.timer = null;
    inFlight.delete(req);
    inFlightEvents -= req.entries.length;
    try {
      handleOutcome(req.entries, out, timedOut);
    } catch (e) {
      lastError = `internal error: ${String(e)}`;
    }
    pump();
  }

  function handleOutcome(batch: Entry[], out: SendOutcome, timedOut: boolean): void {
    if (stopped) {
      // shutdown gave up on this request; count what we cannot confirm as dropped
      dropped += batch.length;
      for (const e of batch) finalize(e, 'dropped');
      return;
    }
    if (out.kind === 'ok') {
      onSuccess(batch, out.body);
      return;
    }
    if (out.kind === 'http') {
      const s = out.status;
      // The endpoint answered: it is up, whatever it thought of this batch.
      if (s === 413 || NON_RETRYABLE.has(s) || (s >= 400 && s < 500 && s !== 408 && s !== 425 && s !== 429)) {
        failures = 0;
        pausedUntil = 0;
        probing = false;
      }
      if (s === 413) {
        if (batch.length > 1) {
          const cap = Math.ceil(batch.length / 2);
          for (const e of batch) if (e.cap === 0 || e.cap > cap) e.cap = cap;
          putBack(batch);
        } else {
          rejected += 1;
          lastError = `event rejected: ${out.message}`;
          finalize(batch[0]!, 'rejected');
          report({ kind: 'rejected', message: lastError, status: s, events: 1 });
        }
        return;
      }
      if (NON_RETRYABLE.has(s) || (s >= 400 && s < 500 && s !== 408 && s !== 425 && s !== 429)) {
        rejected += batch.length;
        lastError = out.message;
        for (const e of batch) finalize(e, 'rejected');
        if (s === 401 || s === 403) {
          if (!authReported) {
            authReported = true;
            const err: VigilError = { kind: 'auth', message: `Vigil rejected the key (${out.message})`, status: s, events: batch.length };
            if (onError) report(err);
            else {
              try {
                console.warn(`[vigil] ${err.message}`);
              } catch {
                /* ignore */
              }
            }
          }
        } else report({ kind: 'rejected', message: out.message, status: s, events: batch.length });
        return;
      }
      retry(batch, out.message, out.retryAfterMs, s >= 500 || s === 429 ? 'unavailable' : 'network', s);
      return;
    }
    retry(batch, out.message, null, timedOut ? 'timeout' : 'network', undefined);
  }

  function onSuccess(batch: Entry[], body: unknown): void {
    failures = 0;
    pausedUntil = 0;
    probing = false;
    overflowReported = false;
    const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : null;
    const bad = new Set<number>();
    const rj = b ? b.rejected : undefined;
    if (Array.isArray(rj)) {
      for (const r of rj) {
        const idx = r !== null && typeof r === 'object' ? (r as { index?: unknown }).index : undefined;
        if (typeof idx === 'number' && Number.isInteger(idx) && idx >= 0 && idx < batch.length) bad.add(idx);
      }
    }
    const ok = batch.length - bad.size;
    const acc = b && typeof b.accepted === 'number' && b.accepted >= 0 ? b.accepted : null;
    const dup = b && typeof b.duplicates === 'number' && b.duplicates >= 0 ? b.duplicates : null;
    if (acc !== null && dup !== null) {
      sent += acc;
      duplicates += dup;
    } else if (acc !== null) sent += acc;
    else if (dup !== null) {
      duplicates += dup;
      sent += Math.max(0, ok - dup);
    } else sent += ok; // 2xx without the expected body: the server took it
    if (bad.size > 0) {
      rejected += bad.size;
      lastError = `${bad.size} event(s) rejected by the server`;
      const first = (rj as unknown[]).find((r) => r !== null && typeof r === 'object') as { errors?: unknown } | undefined;
      let detail = '';
      try {
        detail = first && first.errors !== undefined ? `: ${JSON.stringify(first.errors).slice(0, 200)}` : '';
      } catch {
        detail = '';
      }
      lastError += detail;
      report({ kind: 'rejected', message: lastError, status: 200, events: bad.size });
    }
    for (let i = 0; i < batch.length; i++) finalize(batch[i]!, bad.has(i) ? 'rejected' : 'delivered');
  }

  function retry(batch: Entry[], message: string, retryAfterMs: number | null, kind: VigilError['kind'], status: number | undefined): void {
    retried++;
    lastError = message;
    failures++;
    probing = false;
    const keep: Entry[] = [];
    let gaveUp = 0;
    for (const e of batch) {
      e.attempts++;
      if (e.attempts > maxRetries) {
        gaveUp++;
        finalize(e, 'dropped');
      } else keep.push(e);
    }
    if (gaveUp > 0) {
      dropped += gaveUp;
      report({ kind: 'dropped', message: `gave up after ${maxRetries} retries: ${message}`, events: gaveUp, status });
    }
    putBack(keep);
    const delay = retryAfterMs !== null ? Math.min(retryAfterMs, maxRetryAfterMs) : fullJitterDelay(failures, backoffBaseMs, backoffMaxMs);
    const until = Date.now() + delay;
    if (until > pausedUntil) {
      pausedUntil = until;
      pauseIsServerRequested = retryAfterMs !== null;
    }
    if (failures === 1) report({ kind, message, status, events: batch.length });
  }

  function putBack(entries: Entry[]): void {
    if (entries.length === 0) return;
    queue.unshiftAll(entries);
    for (const e of entries) queuedEst += e.est;
  }

  function finalize(e: Entry, outcome: 'delivered' | 'rejected' | 'dropped'): void {
    if (waiters.length === 0) return;
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      if (e.seq <= w.upto) {
        if (outcome === 'delivered') w.sent++;
        if (--w.remaining <= 0) w.finish();
      }
    }
  }

  // ---- flush / shutdown ----
  function flushInternal(timeoutMs: number): Promise<FlushResult> {
    return new Promise<FlushResult>((resolve) => {
      const pending = queue.length + inFlightEvents;
      if (stopped || pending === 0 || transport === null) {
        resolve({ sent: 0, unsent: pending, timedOut: false });
        return;
      }
      let deadline: Timer | null = null;
      const w: Waiter = {
        upto: seq,
        remaining: pending,
        sent: 0,
        finish: () => {
          const i = waiters.indexOf(w);
          if (i < 0) return;
          waiters.splice(i, 1);
          if (deadline !== null) clearTimeout(deadline);
          const unsent = Math.max(0, w.remaining);
          resolve({ sent: w.sent, unsent, timedOut: unsent > 0 });
        },
      };
      waiters.push(w);
      // Deliberately NOT unref'd: the caller is awaiting this promise, and it is bounded by timeoutMs.
      // (An unref'd deadline would let Node exit with the await unsettled.)
      deadline = setTimeout(w.finish, Math.max(0, timeoutMs));
      pump();
    });
  }

  function timeoutOf(opts: { timeoutMs?: number } | undefined): number {
    let t: unknown;
    try {
      t = opts && typeof opts === 'object' ? opts.timeoutMs : undefined;
    } catch {
      t = undefined;
    }
    return typeof t === 'number' && t >= 0 && !Number.isNaN(t) ? Math.min(t, 2_147_483_647) : defaultFlushTimeoutMs;
  }

  function flush(opts?: { timeoutMs?: number }): Promise<FlushResult> {
    try {
      return flushInternal(timeoutOf(opts));
    } catch (e) {
      lastError = `internal error: ${String(e)}`;
      return Promise.resolve({ sent: 0, unsent: queue.length + inFlightEvents, timedOut: false });
    }
  }

  let shutdownPromise: Promise<FlushResult> | null = null;

  function stop(): void {
    stopped = true;
    if (wakeTimer !== null) clearTimeout(wakeTimer);
    wakeTimer = null;
    for (const req of [...inFlight]) {
      try {
        req.ctrl.abort();
      } catch {
        /* ignore */
      }
      settle(req, { kind: 'network', message: 'shutdown' }, false); // counted as dropped (stopped)
    }
    let e: Entry | undefined;
    while ((e = queue.shift()) !== undefined) {
      dropped++;
      finalize(e, 'dropped');
    }
    queuedEst = 0;
    for (const w of [...waiters]) w.finish();
  }

  function shutdown(opts?: { timeoutMs?: number }): Promise<FlushResult> {
    if (shutdownPromise) return shutdownPromise; // idempotent: same result
    closing = true;
    // Last chance before the process goes away: do not sit out our own backoff (one probe is still
    // the limit), but do respect a server's explicit Retry-After.
    if (pausedUntil > Date.now() && !pauseIsServerRequested) pausedUntil = Date.now();
    const timeoutMs = timeoutOf(opts);
    shutdownPromise = flush({ timeoutMs }).then(
      (r) => {
        try {
          stop();
        } catch (e) {
          lastError = `internal error: ${String(e)}`;
        }
        return r;
      },
      () => {
        try {
          stop();
        } catch {
          /* ignore */
        }
        return { sent: 0, unsent: 0, timedOut: true };
      },
    );
    return shutdownPromise;
  }

  function stats(): VigilStats {
    return { queued: queue.length, inFlight: inFlightEvents, sent, duplicates, rejected, dropped, retried, lastError };
  }

  return { recordProcessingEvent, track, flush, shutdown, stats };
}
