// The demo's simulated document-processing workload (npm start): documents go through upload, OCR,
// LLM summarisation and storage; each records processing events through the Vigil SDK, the way the
// application would. Most complete; some fail at a stage with a realistic error. On start, the
// last 24 hours are backfilled (events carry their own created_at) so analytics have history.
import { randomUUID } from 'node:crypto';
import { createVigil, type ProcessingEvent } from '../../packages/sdk/src/index.ts';

type Status = Record<string, unknown>;

const STAGES = ['upload', 'ocr', 'llm', 'summary', 'storage'] as const;
const FAILURES: Record<(typeof STAGES)[number], string[]> = {
  upload: ['upload aborted by client', 'file type not supported: application/zip'],
  ocr: ['OCR API timeout after 30000 ms', 'OCR API 503 Service Unavailable', 'PDF is encrypted'],
  llm: ['LLM rate limited (429 Too Many Requests)', 'LLM context length exceeded (212k tokens)', 'LLM response was not valid JSON'],
  summary: ['summary failed validation: missing financials section'],
  storage: ['storage upload failed: ECONNRESET', 'storage quota exceeded'],
};
// Typical stage durations (ms): OCR and LLM dominate, with long tails.
const MEAN_MS: Record<(typeof STAGES)[number], number> = { upload: 800, ocr: 9_000, llm: 25_000, summary: 2_000, storage: 600 };

const rand = (mean: number) => Math.max(5, Math.round(-Math.log(1 - Math.random()) * mean));
const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
const USERS = Array.from({ length: 12 }, () => randomUUID());

/** The events of one document processed from `startMs`, as [atMs, event] pairs. */
function documentEvents(startMs: number): [number, ProcessingEvent][] {
  const document_id = randomUUID();
  const user_id = pick(USERS);
  const out: [number, ProcessingEvent][] = [[startMs, { document_id, user_id, event_type: 'upload_started', stage: 'upload' }]];
  let t = startMs;
  let total = 0;
  // Failure odds per stage; the LLM fails most.
  const failAt = Math.random() < 0.12 ? pick(['upload', 'ocr', 'ocr', 'llm', 'llm', 'llm', 'summary', 'storage'] as const) : null;
  for (const stage of STAGES) {
    const d = rand(MEAN_MS[stage]);
    if (stage === 'ocr') out.push([t, { document_id, user_id, event_type: 'processing_started', stage: 'ocr' }]);
    t += d;
    total += d;
    if (stage === failAt) {
      out.push([t, { document_id, user_id, event_type: 'failed', stage, duration_ms: total, error_message: pick(FAILURES[stage]) }]);
      return out;
    }
  }
  out.push([t, { document_id, user_id, event_type: 'completed', stage: 'storage', duration_ms: total }]);
  return out;
}

export async function startWorkload(status: Status): Promise<() => Promise<void>> {
  const vigil = createVigil({
    url: String(status.api_url),
    key: String(status.secret_key),
    onError: (e) => { if (e.kind !== 'unavailable' && e.kind !== 'network') console.error(`[workload] ${e.kind}: ${e.message}`); },
  });

  // Backfill: ~1,500 documents over the last 24 hours.
  const now = Date.now();
  for (let i = 0; i < 1500; i++) {
    for (const [at, e] of documentEvents(now - 24 * 3_600_000 + Math.random() * (24 * 3_600_000 - 120_000))) {
      if (at < now) vigil.recordProcessingEvent({ ...e, created_at: new Date(at).toISOString() });
    }
  }

  // Live: a new document every ~0.5 s; its events are recorded when they happen.
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let stopped = false;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => { timers.delete(t); if (!stopped) fn(); }, ms);
    timers.add(t);
  };
  const startDocument = () => {
    const start = Date.now();
    for (const [at, e] of documentEvents(start)) later(Math.min(at - start, 120_000) / 20, () => vigil.recordProcessingEvent(e));
    later(100 + Math.random() * 800, startDocument);
  };
  startDocument();
  console.log('[workload] simulated document processing: backfilled 24 h, now ~2 documents/s through the Vigil SDK');

  return async () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const r = await vigil.shutdown({ timeoutMs: 5_000 });
    const s = vigil.stats();
    console.log(`[workload] stopped: ${s.sent} events stored, ${s.duplicates} duplicates, ${s.rejected} rejected, ${s.dropped} dropped, ${r.unsent} unsent`);
  };
}
