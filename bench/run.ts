/** npm run bench [-- name...]: runs the named benchmarks (all when none is named). */
const BENCHES: Record<string, () => Promise<unknown>> = {
  ingest: async () => (await import('./ingest.ts')).run(),
  crash: async () => (await import('./crash.ts')).run(),
  overload: async () => (await import('./overload.ts')).run(),
  query: async () => (await import('./query.ts')).run(),
  export: async () => (await import('./export.ts')).run(),
};

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = names.filter((n) => !(n in BENCHES));
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
for (const n of names.length ? names : Object.keys(BENCHES)) {
  process.stdout.write(`\n== ${n} ==\n`);
  await BENCHES[n]();
}
process.exit(0);
