// npm run bench -- <name...>: runs the named benchmarks (all when none is named). Each prints its
// figures, ratios measured in the same run against a baseline; nothing here asserts timings.
const benches: Record<string, () => Promise<unknown>> = {
  ingest: async () => (await import('./ingest.ts')).benchIngest(),
  probes: async () => (await import('./probes.ts')).benchProbes(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(benches);
for (const n of names) {
  const b = benches[n];
  if (!b) { console.error(`unknown benchmark ${n}; known: ${Object.keys(benches).join(', ')}`); process.exit(2); }
  console.log(`\n=== bench: ${n} ===`);
  await b();
}
process.exit(0);
