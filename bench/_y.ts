import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(process.argv[2]);
const c = await db.connect();
const acc = (await c.runAndReadAll('SELECT min(id) AS a FROM accounts')).getRowObjectsJS()[0].a;
const inner = (extraKey: string) => `SELECT v.content_id ${extraKey}, count(*) AS records, count(*) FILTER (WHERE v.played) AS played, count(*) FILTER (WHERE v.counted) AS views,
 sum(v.unique_seconds) FILTER (WHERE v.played) AS watch_time,
 sum(v.unique_seconds) FILTER (WHERE v.played AND v.event_duration IS NOT NULL) AS wt_ev,
 sum(v.event_duration) FILTER (WHERE v.counted) AS ev_dd, count(*) FILTER (WHERE v.completed AND v.played) AS completed,
 sum(v.rebuffer_count) rc, sum(v.rebuffer_time) rt, sum(v.error_count) ec
 FROM view_records v WHERE v.account_id = '${acc}' AND v.started_at >= TIMESTAMP '2026-10-31' AND v.started_at < TIMESTAMP '2026-11-30'
 GROUP BY v.content_id ${extraKey}`;
const D = 'CAST(CASE WHEN c.duration > 0 THEN greatest(1, round(c.duration)) END AS BIGINT)';
const outer = (key: string) => `SELECT ${key ? key + ',' : ''} sum(records), sum(played), sum(views), coalesce(sum(watch_time),0),
 coalesce(sum(CASE WHEN ${D} IS NOT NULL THEN watch_time ELSE wt_ev END), 0),
 coalesce(sum(CASE WHEN ${D} IS NOT NULL THEN ${D} * views ELSE ev_dd END), 0), sum(completed), sum(rc), sum(rt), sum(ec)
 FROM (${inner(key && key !== 'v.content_id' ? ', ' + key : '')}) v LEFT JOIN videos c ON c.account_id = '${acc}' AND c.content_id = v.content_id ${key ? 'GROUP BY ' + key : ''}`;
for (const k of ['', 'v.content_id', 'country']) {
  const sql = outer(k === 'country' ? 'country' : k);
  for (let i = 0; i < 4; i++) { const t0 = performance.now(); const r = await c.runAndReadAll(sql); if (i === 3) console.log(k || 'none', (performance.now() - t0).toFixed(0), r.currentRowCount); }
}
