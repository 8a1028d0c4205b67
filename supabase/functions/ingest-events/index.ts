// POST /functions/v1/ingest-events: processing events from the application (usually through the
// Vigil SDK). See validate.ts for the event format, body.ts for the accepted bodies and limits,
// handler.ts for the statuses. Authenticated with a project secret key (apikey header or Bearer).
import { requireSecretKey } from '../_shared/auth.ts';
import { createIngestHandler } from './handler.ts';
import { createLimiter } from './limiter.ts';
import { createStore, settings } from './store.ts';

const store = createStore();
const limiter = createLimiter({ concurrency: settings.concurrency, maxQueue: settings.maxQueue, maxWaitMs: settings.maxWaitMs });

Deno.serve(createIngestHandler({
  authenticate: requireSecretKey,
  retentionDays: store.retentionDays,
  insert: store.insert,
  isUnavailable: store.isUnavailable,
  limiter,
}));
