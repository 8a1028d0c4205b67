// npm run bench -- <name...>: runs the named benchmarks (all when none is named). Each prints its
// figures, ratios measured in the same run against a baseline; nothing here asserts timings.
// A benchmark is bench/<name>.ts exporting the function named here.
const benches: Record<string, string> = {
  ingest: 'benchIngest',
  sdk: 'benchSdk',
  probes: 'benchProbes',
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// `ingest` already includes the SDK figures, so a plain `npm run bench` skips the separate `sdk` run.
const names = wanted.length ? wanted : Object.keys(benches).filter((n) => n !== 'sdk');
for (const n of names) {
  const fn = benches[n];
  if (!fn) {
    console.error(`unknown benchmark ${n}; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== bench: ${n} ===`);
  const mod = (await import(new URL(`./${n}.ts`, import.meta.url).href)) as Record<string, () => Promise<unknown>>;
  await mod[fn]();
}
process.exit(0);
