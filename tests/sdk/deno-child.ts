// Run by process.test.ts under Deno 2: `deno run --allow-net --allow-env --allow-read deno-child.ts <url>`.
// Records events against the test's node:http server, flushes, prints the result as JSON.
import { createVigil } from '../../packages/sdk/src/index.ts';

declare const Deno: { args: string[]; version: { deno: string } };

const url = Deno.args[0]!;
const vigil = createVigil({ url, key: 'deno-key', maxBatchEvents: 10, flushIntervalMs: 50 });
for (let i = 0; i < 24; i++) {
  vigil.recordProcessingEvent({
    document_id: '00000000-0000-4000-8000-000000000000',
    user_id: '11111111-1111-4111-8111-111111111111',
    event_type: i % 2 ? 'completed' : 'processing_started',
    duration_ms: i,
    stage: 'deno',
  });
}
vigil.track('heartbeat', { runtime: 'deno', version: Deno.version.deno });
const flushed = await vigil.flush({ timeoutMs: 10_000 });
const shut = await vigil.shutdown({ timeoutMs: 1000 });
console.log(JSON.stringify({ flushed, shut, stats: vigil.stats() }));
