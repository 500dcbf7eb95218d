import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
const mb = (f) => Math.round(Number(/(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(f)))[1]) / 1024);
const inst = await DuckDBInstance.create('/tmp/xd10m/reelstat.duckdb', { access_mode: 'READ_ONLY', memory_limit: '1GB', enable_external_file_cache: 'false' });
const c = await inst.connect();
const to = Number(process.argv[2]) * 1000;
const q = async (label, sql) => { const t0 = performance.now(); const r = await c.runAndReadAll(sql); console.log(label, ((performance.now()-t0)/1000).toFixed(2)+'s', 'rss', mb('VmRSS'), 'hwm', mb('VmHWM'), r.getRowObjectsJson().slice(0,2).map(x=>JSON.stringify(x)).join(' ')); return r.getRowObjectsJson(); };
console.log('base', mb('VmRSS'));
const acc = "account_id = 'acc_5LuylhvA6c5P0BM3'";
const mins = await q('minutes', `SELECT epoch_us(session_started_at) // 60000000 AS m, count(*) FILTER (WHERE session_first) AS s, count(*) AS r FROM view_records WHERE ${acc} AND session_started_at >= make_timestamp(0) AND session_started_at < make_timestamp(${to}) GROUP BY 1 ORDER BY 1`);
console.log('minutes', mins.length);
await c.run("SET memory_limit='100MB'"); await c.run("SET memory_limit='1GB'"); console.log('after release', mb('VmRSS'));
const mode = process.argv[3];
// chunks of ~N records
const N = Number(process.argv[4] ?? 1048576);
let chunks = []; let lo = mins[0].m, n = 0;
for (const x of mins) { if (n > 0 && n + Number(x.r) > N) { chunks.push([lo, x.m]); lo = x.m; n = 0; } n += Number(x.r); }
chunks.push([lo, Number(mins.at(-1).m) + 1]);
console.log('chunks', chunks.length);
let total = 0;
for (const [a, b] of chunks.slice(0, 3)) {
  const w = `${acc} AND session_started_at >= make_timestamp(${a}::BIGINT*60000000) AND session_started_at < make_timestamp(${b}::BIGINT*60000000) AND device_type = 'web'`;
  const sql = mode === 'distinct' ? `SELECT epoch_us(session_started_at) // 60000000 AS m, count(DISTINCT session_id) AS s FROM view_records WHERE ${w} GROUP BY 1`
    : `SELECT m, count(*) AS s FROM (SELECT epoch_us(session_started_at) // 60000000 AS m, session_id FROM view_records WHERE ${w} GROUP BY 1, 2) GROUP BY 1`;
  const r = await q('chunk', sql);
  total += r.reduce((s, x) => s + Number(x.s), 0);
  await c.run("SET memory_limit='100MB'"); await c.run("SET memory_limit='1GB'");
}
console.log('total', total, 'rss', mb('VmRSS'), 'hwm', mb('VmHWM'));
console.log((await c.runAndReadAll("SELECT -30 // 60 AS a, fdiv(-30, 60) AS b, (-30)::BIGINT // 60 AS c")).getRowObjectsJson());
