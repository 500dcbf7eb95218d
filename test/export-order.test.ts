// Raw events leave in arrival order and view records in storage (rowid) order without a sort: a key
// range is read as stored, which DuckDB keeps only when the plan is order-keeping (exports.ts,
// unsortedCopy). 600k events and 300k view records fill several row groups; with two threads and
// with one, every part of every format must hold them in key order, exactly partRows each, and plans
// that would reorder (a semi-join, a join on several threads, preserve_insertion_order off) must
// take the sorted slices and give the same order.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { seedSyntheticFile } from '../bench/exportdata.ts';
import { resolveFields } from '../src/exports/fields.ts';
import { writeRun, type ExportFormat } from '../src/exports/run.ts';
import type { ExportSource, Store } from '../src/storage/types.ts';
import { Db } from '../src/storage/duckdb/db.ts';
import { slicesOf, slicing, unsortedCopy, type SlicePlans } from '../src/storage/duckdb/exportranges.ts';
import { exportRepo } from '../src/storage/duckdb/exports.ts';
import type { Param } from '../src/storage/duckdb/db.ts';
import { openDuckDbStore } from '../src/storage/duckdb/index.ts';
import { refreshSessionStarts } from '../src/storage/duckdb/sessionstarts.ts';

const EVENTS = 600_000;
const VIEWS = 300_000;
const PART = 250_000;
const dir = mkdtempSync(join(tmpdir(), 'rs-order-'));
const dbPath = join(dir, 'db.duckdb');
const now = Date.UTC(2026, 10, 1);
let someUser = '';

const FIELDS = { events: ['id', 'event', 'timestamp'], views: ['viewId', 'title', 'startedAt', 'percentViewed'] } as const;
const source = (scope: 'events' | 'views', filters: ExportSource['filters'] = {}, neutralize = false): ExportSource => ({
  scope, accountId: 'acc', fromMs: 0, toMs: now + 1, filters, neutralize,
  fields: resolveFields(scope, FIELDS[scope].map((fieldName) => ({ fieldName }))).map((f) => ({ name: f.def.name, as: f.as })),
});

before(async () => {
  const db = await seedSyntheticFile(dbPath, 'acc', { events: EVENTS, views: VIEWS }, now, { memoryLimit: '512MB', threads: 2 });
  someUser = (await db.one<{ u: string }>('SELECT user_id AS u FROM events WHERE user_id IS NOT NULL ORDER BY seq LIMIT 1'))!.u;
  await db.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The rows of a Parquet file, read back by DuckDB in file order. */
async function parquetRows(path: string): Promise<Array<Record<string, unknown>>> {
  const reader = await Db.open(':memory:', 1, { threads: 1 });
  try {
    return await reader.all<Record<string, unknown>>(`SELECT * FROM read_parquet('${path}')`);
  } finally {
    await reader.close();
  }
}

it('the plan check: ranges keep storage order where the plan does, with two threads and with one', async () => {
  const db = await Db.open(dbPath, 1, { memoryLimit: '512MB', threads: 2 });
  try {
    const part = { rows: 1, range: { after: -1, through: EVENTS } };
    const keeps = async (q: Parameters<typeof unsortedCopy>[0], src: ExportSource) => ({
      csv: (await unsortedCopy(q, src, part, undefined, { format: 'csv', path: '/dev/null', gzip: false })) !== null,
      xlsx: (await unsortedCopy(q, src, part, undefined, { format: 'xlsx', path: '/dev/null', types: src.fields.map(() => 'string') })) !== null,
    });
    const check = async (q: Parameters<typeof unsortedCopy>[0]) => {
      const out: Record<string, boolean> = {};
      const note = async (name: string, src: ExportSource) => {
        const k = await keeps(q, src);
        assert.equal(k.csv, k.xlsx, `${name}: csv and xlsx plans agree`);
        out[name] = k.csv;
      };
      await note('events', source('events'));
      await note('events neutralized', source('events', {}, true));
      await note('events semi-join', source('events', { attributedTo: someUser }));
      await note('views', source('views'));
      await note('views by project', source('views', { projectId: 'p0' }));
      await q.run('SET preserve_insertion_order = false');
      try {
        await note('events, order off', source('events'));
      } finally {
        await q.run('SET preserve_insertion_order = true');
      }
      return out;
    };
    const seen = await db.with(async (q) => {
      const two = await check(q);
      await q.run('SET threads = 1');
      const one = await check(q);
      // A join keeps its probe side's order only with DuckDB's caching operators off: such a COPY says so.
      const noCaching = async (src: ExportSource) => (await unsortedCopy(q, src, part, undefined, { format: 'csv', path: '/dev/null', gzip: false }))?.noCaching;
      assert.equal(await noCaching(source('views')), true);
      assert.equal(await noCaching(source('events')), false);
      return { two, one };
    });
    assert.deepEqual(seen, {
      two: { events: true, 'events neutralized': true, 'events semi-join': false, views: false, 'views by project': false, 'events, order off': false },
      one: { events: true, 'events neutralized': true, 'events semi-join': false, views: true, 'views by project': true, 'events, order off': false },
    });
  } finally {
    await db.close();
  }
});

it('the plan check of a part\'s slices: a plan through a join holds for slices as wide as the one checked, others are checked again', async () => {
  const db = await Db.open(dbPath, 1, { memoryLimit: '512MB', threads: 1 });
  try {
    await db.with(async (q) => {
      const explains: string[] = [];
      const counting = new Proxy(q, { get: (t, k) => (k === 'one' ? (sql: string, p: Param[]) => { if (sql.startsWith('EXPLAIN')) explains.push(sql); return t.one(sql, p); } : Reflect.get(t, k)) });
      const run = async (src: ExportSource, widths: number[]) => {
        const seen: SlicePlans = {};
        explains.length = 0;
        const noCaching: Array<boolean | undefined> = [];
        let after = 0;
        for (const w of widths) {
          noCaching.push((await unsortedCopy(counting, src, { rows: 0, range: { after, through: after + w } }, undefined, { format: 'csv', path: '/dev/null', gzip: false }, seen))?.noCaching);
          after += w;
        }
        return { explains: explains.length, noCaching };
      };
      // View records join the catalog: checked at the first width and again at another one.
      assert.deepEqual(await run(source('views'), [1000, 1000, 1000, 300]), { explains: 2, noCaching: [true, true, true, true] });
      // Raw events plan as a scan alone: checked once, whatever the widths.
      assert.deepEqual(await run(source('events'), [1000, 1000, 300]), { explains: 1, noCaching: [false, false, false] });
    });
  } finally {
    await db.close();
  }
});

it('slices of a sparse range: spans of slicing.span keys where they read as stored, else a top-N\'s bounds of at most slicing.rows rows', async () => {
  slicing.rows = 20_000;
  slicing.span = 50_000;
  try {
    for (const threads of [1, 2]) {
      const db = await Db.open(dbPath, 1, { memoryLimit: '512MB', threads });
      try {
        await db.with(async (q) => {
          const src = source('views', { projectId: 'p0' });
          const part = { rows: 30_000, range: { after: -1, through: VIEWS - 1 } }; // a tenth of the records, scattered
          const slices = await slicesOf(q, src, part, undefined);
          const bounds = slices.map((s) => s.range as { after: number; through: number });
          assert.equal(bounds[0]!.after, -1);
          assert.ok(bounds.at(-1)!.through <= VIEWS - 1);
          for (let i = 1; i < bounds.length; i++) assert.equal(bounds[i]!.after, bounds[i - 1]!.through, 'consecutive, no gap');
          assert.ok(bounds.every((b) => b.through - b.after <= slicing.span));
          if (threads === 1) {
            // The catalog join keeps order with one thread: read as stored, nothing to count.
            assert.equal(bounds.at(-1)!.through, VIEWS - 1);
            assert.deepEqual(bounds.map((b) => b.through - b.after), Array.from({ length: bounds.length }, (_, i) => Math.min(slicing.span, VIEWS - 1 - (i * slicing.span - 1))));
            // A span of its own (XLSX's, slicing.xlsxSpan): the same cut, narrower.
            const narrow = (await slicesOf(q, src, part, undefined, 30_000)).map((s) => s.range as { after: number; through: number });
            assert.deepEqual(narrow.map((b) => b.through - b.after), Array.from({ length: Math.ceil((VIEWS - 1) / 30_000) }, (_, i) => Math.min(30_000, VIEWS - 1 - (i * 30_000 - 1))));
          } else {
            // Sorted slices: bounds from counted rows (cut again by keys where they span too many).
            assert.ok(slices.every((s) => s.rows <= slicing.rows), 'none holds too many rows');
            assert.ok(bounds.some((b) => b.through - b.after < slicing.span && b !== bounds.at(-1)), 'bounds where the rows are, not every slicing.span keys');
          }
        });
      } finally {
        await db.close();
      }
    }
  } finally {
    slicing.rows = 262_144;
    slicing.span = 1_048_576;
  }
});

it('a dense part of CSV or JSON Lines is written in pieces by two connections at once (a twin on the same snapshot): the same bytes as one statement', { timeout: 120_000 }, async () => {
  const sums: Record<string, string> = {};
  slicing.pieces = 40_000; // a part of PART rows: seven pieces, the last a short one
  try {
    for (const pool of [1, 4]) {
      // With a pool of one there is no twin (Db.txPair): the part is one statement.
      const db = await Db.open(dbPath, pool, { memoryLimit: '512MB', threads: 1 });
      try {
        for (const [scope, format] of [['events', 'csv'], ['events', 'jsonl'], ['views', 'csv']] as const) {
          const src = source(scope);
          const name = `pieces-${pool}-${scope}.${format}`;
          const path = join(dir, name);
          const pieces = new Set<string>();
          const poll = setInterval(() => { for (const f of readdirSync(dir)) if (f.startsWith(`${name}.`) && f.endsWith('.piece')) pieces.add(f); }, 1);
          const got = await exportRepo(db).snapshot(async (snap) => {
            const parts = await snap.parts(src, PART);
            return snap.copy(src, parts[0]!, { format, path, gzip: false }); // a part of PART rows
          }, { parallel: true }).finally(() => clearInterval(poll));
          assert.equal(got.rows, PART);
          const bytes = readFileSync(path);
          assert.equal(createHash('sha256').update(bytes).digest('hex'), got.sha256, 'the checksum is the file\'s');
          if (pool > 1) assert.ok(pieces.size >= 2, `pool of 4, ${scope} ${format}: pieces seen (${[...pieces]})`);
          else assert.equal(pieces.size, 0, `pool of 1, ${scope} ${format}: one statement`);
          assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(`${name}.`)), [], 'the pieces\' files are gone');
          if (format === 'csv') assert.equal((bytes.toString('latin1').match(/^(id|viewId),/gm) ?? []).length, 1, 'one header');
          assert.equal(bytes.toString('utf8').split('\n').filter(Boolean).length, PART + (format === 'csv' ? 1 : 0));
          sums[`${pool} ${scope} ${format}`] = got.sha256!;
          rmSync(path);
        }
        // A piece that fails (its file cannot be made) fails the part with DuckDB's error, and leaves nothing.
        const src = source('events');
        await assert.rejects(exportRepo(db).snapshot(async (snap) => {
          const parts = await snap.parts(src, PART);
          return snap.copy(src, parts[0]!, { format: 'csv', path: join(dir, 'no-such-dir', 'p.csv'), gzip: false });
        }, { parallel: true }), /no-such-dir/);
        assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.piece')), [], 'no piece left');
        await Promise.all([1, 2, 3].slice(0, pool).map(() => db.with(async () => {}))); // the pool is whole
      } finally {
        await db.close();
      }
    }
  } finally {
    slicing.pieces = 131_072;
  }
  for (const k of ['events csv', 'events jsonl', 'views csv']) assert.equal(sums[`4 ${k}`], sums[`1 ${k}`], `${k}: the same bytes`);
});

it('an export that does not say it writes CSV or JSON Lines (parallel) takes no twin: its pool connections stay free', async () => {
  const db = await Db.open(dbPath, 3, { memoryLimit: '512MB', threads: 1 });
  try {
    // Inside the snapshot, how many of two borrowers that hold on get a connection at once.
    const free = (parallel: boolean) => exportRepo(db).snapshot(async () => {
      let holding = 0;
      const hold = () => db.with(async () => {
        holding++;
        await new Promise((r) => setTimeout(r, 300));
      });
      const both = Promise.all([hold(), hold()]);
      await new Promise((r) => setTimeout(r, 150));
      const seen = holding;
      await both;
      return seen;
    }, { parallel });
    assert.equal(await free(false), 2, 'no twin: two connections free');
    assert.equal(await free(true), 1, 'a twin: one connection free, the second borrower waits');
  } finally {
    await db.close();
  }
});

for (const threads of [2, 1]) {
  describe(`with ${threads} DuckDB thread${threads > 1 ? 's' : ''}`, () => {
    let store: Store;
    before(async () => {
      store = await openDuckDbStore(dbPath, { memoryLimit: '512MB', threads });
    });
    after(() => store.close());

    /** The numbers of the ids (`sev<i>` / `svw<i>`) of every part of a run, in part order. */
    async function exportIds(format: ExportFormat, src: ExportSource): Promise<number[]> {
      const runId = `order-${threads}-${src.scope}-${format}-${Object.keys(src.filters).join('')}`;
      const r = await writeRun(store, dir, { runId, format, gzip: false, zip: false, partRows: PART, period: { from: '', to: '' }, source: src });
      // Part bounds fall inside key buckets (keyRanges): every part but the last holds exactly PART rows.
      assert.deepEqual(r.files.map((f) => f.rows), Array.from({ length: Math.ceil(r.rows / PART) }, (_, i) => Math.min(PART, r.rows - i * PART)));
      // Each part's checksum (hashed as DuckDB wrote the part, or as its slices were appended) is the file's.
      for (const f of r.files) assert.equal(createHash('sha256').update(readFileSync(join(dir, runId, f.name))).digest('hex'), f.sha256, f.name);
      const ids: number[] = [];
      const id = src.scope === 'events' ? 'id' : 'viewId';
      for (const f of readdirSync(join(dir, runId)).filter((n) => n.startsWith('part-')).sort()) {
        const path = join(dir, runId, f);
        if (format === 'csv') for (const row of parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>) ids.push(Number(row[id]!.slice(3)));
        else if (format === 'jsonl') for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) ids.push(Number(JSON.parse(line)[id].slice(3)));
        else if (format === 'json') for (const row of JSON.parse(readFileSync(path, 'utf8')) as Array<Record<string, string>>) ids.push(Number(row[id]!.slice(3)));
        else if (format === 'parquet') for (const row of await parquetRows(path)) ids.push(Number(String(row[id]).slice(3)));
        else {
          const x = spawnSync('unzip', ['-p', path, 'xl/worksheets/sheet1.xml'], { encoding: 'utf8', maxBuffer: 1 << 28 });
          assert.equal(x.status, 0, x.stderr);
          for (const m of x.stdout.matchAll(/s(?:ev|vw)(\d+)/g)) ids.push(Number(m[1]));
        }
      }
      rmSync(join(dir, runId), { recursive: true, force: true });
      return ids;
    }

    function assertIncreasing(ids: number[]): void {
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `${ids[i]} after ${ids[i - 1]}`);
    }

    function assertKeyOrder(ids: number[], n: number): void {
      assert.equal(ids.length, n);
      const firstWrong = ids.findIndex((v, i) => v !== i);
      assert.equal(firstWrong, -1, `row ${firstWrong} holds id ${ids[firstWrong]}`);
    }

    for (const format of ['csv', 'jsonl', 'xlsx'] as const) {
      it(`${format}: ${EVENTS} events leave in seq order across parts`, { timeout: 120_000 }, async () => {
        assertKeyOrder(await exportIds(format, source('events')), EVENTS);
      });
    }
    for (const format of ['csv', 'xlsx'] as const) {
      it(`${format}: ${VIEWS} view records leave in storage order across parts`, { timeout: 120_000 }, async () => {
        assertKeyOrder(await exportIds(format, source('views')), VIEWS);
      });
    }
    it('xlsx: slices of a part read as DuckDB writes them, two files in turn, keep the order', { timeout: 120_000 }, async () => {
      slicing.rows = 40_000; // a part of 250,000 events: seven slices, each several megabytes of rows
      try {
        assertKeyOrder(await exportIds('xlsx', source('events')), EVENTS);
      } finally {
        slicing.rows = 262_144;
      }
    });
    it('a writer that fails while slices are read as written: the export fails with its error, no rejection left unhandled', { timeout: 60_000 }, async () => {
      const unhandled: unknown[] = [];
      const note = (err: unknown) => unhandled.push(err);
      process.on('unhandledRejection', note);
      slicing.rows = 40_000;
      try {
        const src = source('events');
        await assert.rejects(store.exports.snapshot(async (snap) => {
          const [part] = await snap.parts(src, PART);
          let calls = 0;
          await snap.xlsxRows(src, part!, ['string', 'string', 'date'], async () => {
            if (++calls === 3) throw new Error('the writer broke');
          }, join(dir, `broken-${threads}.rows`));
        }), /the writer broke/);
        await new Promise((r) => setTimeout(r, 50)); // a rejection becomes unhandled after a turn
        assert.deepEqual(unhandled, []);
      } finally {
        slicing.rows = 262_144;
        process.off('unhandledRejection', note);
      }
    });
    it('a part whose COPY fails (hashed as written) rejects with DuckDB\'s error: the run fails, to be retried', async () => {
      const src = source('events');
      await assert.rejects(store.exports.snapshot(async (snap) => {
        const [part] = await snap.parts(src, PART);
        await snap.copy(src, part!, { format: 'csv', path: join(dir, 'no-such-dir', 'p.csv'), gzip: false });
      }), /no-such-dir/);
    });
    it('bom: every CSV part starts with one byte order mark, read in one statement or in sorted slices', { timeout: 120_000 }, async () => {
      // View records with two threads go in sorted slices (several a part here); with one, and raw
      // events with either, a part is one statement. Only the first slice of a part has the header,
      // which carries the mark (exportsql.ts, selectList). With one thread, CSV parts are written in
      // pieces on two connections (inPieces): only the first piece has the header.
      slicing.rows = 20_000;
      slicing.pieces = 30_000;
      try {
        for (const src of [source('views'), source('events')] as Array<ExportSource & { scope: 'views' | 'events' }>) {
          const runId = `order-${threads}-bom-${src.scope}`;
          const r = await writeRun(store, dir, { runId, format: 'csv', gzip: false, zip: false, partRows: 100_000, period: { from: '', to: '' }, source: { ...src, bom: true } });
          assert.equal(r.files.length, src.scope === 'views' ? 3 : 6);
          let n = 0;
          for (const f of r.files) {
            const buf = readFileSync(join(dir, runId, f.name));
            assert.deepEqual([...buf.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${f.name} starts with the mark`);
            assert.equal(buf.indexOf(Buffer.from([0xef, 0xbb, 0xbf]), 3), -1, `${f.name}: one mark, at the start`);
            const rows = parse(buf, { columns: true, bom: true }) as Array<Record<string, string>>;
            assert.deepEqual(Object.keys(rows[0]!), [...FIELDS[src.scope]]);
            n += rows.length;
          }
          assert.equal(n, src.scope === 'views' ? VIEWS : EVENTS);
          rmSync(join(dir, runId), { recursive: true, force: true });
        }
      } finally {
        slicing.rows = 262_144;
        slicing.pieces = 131_072;
      }
    });
    it('a filter with a semi-join (attributedTo) takes the sorted slices and keeps the order', { timeout: 120_000 }, async () => {
      // Events without a user id are attributed through a subquery on view records, so the rows
      // are the user's own events and those of sessions the user has view records in.
      const ids = await exportIds('csv', source('events', { attributedTo: someUser }));
      assert.ok(ids.length > 0);
      assertIncreasing(ids);
      for (const format of ['json', 'parquet'] as const) assert.deepEqual(await exportIds(format, source('events', { attributedTo: someUser })), ids, format);
    });
    it('view records filtered on their own columns (country, device label): those of the unfiltered export, in order, in slices', { timeout: 120_000 }, async () => {
      // Sparse parts: with one thread a part is one statement, the plain filters pushed into its scan
      // (exports.ts, copyPart); with two, sorted slices test the filters after each slice's rowid
      // range (whereSql, afterRowidEquals), as XLSX slices do with both. The parts are counted with
      // the plain filters, their parameters apart.
      const fields = resolveFields('views', ['viewId', 'country', 'platform'].map((fieldName) => ({ fieldName }))).map((f) => ({ name: f.def.name, as: f.as }));
      const rows = async (format: 'csv' | 'xlsx', filters: ExportSource['filters']) => {
        const runId = `order-${threads}-filtered-${format}-${Object.keys(filters).join('')}`;
        const r = await writeRun(store, dir, { runId, format, gzip: false, zip: false, partRows: 2_000, period: { from: '', to: '' },
          source: { scope: 'views', accountId: 'acc', fromMs: 0, toMs: now + 1, filters, neutralize: false, fields } });
        if (format === 'xlsx') return r.rows;
        const out: Array<Record<string, string>> = [];
        for (const f of r.files) out.push(...(parse(readFileSync(join(dir, runId, f.name), 'utf8'), { columns: true }) as Array<Record<string, string>>));
        return out;
      };
      slicing.rows = 20_000;
      slicing.span = 50_000;
      try {
        const all = (await rows('csv', {})) as Array<Record<string, string>>;
        const want = all.filter((r) => r.country === 'DE' && r.platform === 'desktop').map((r) => r.viewId);
        assert.ok(want.length > 2_000 && want.length < 30_000, `${want.length} records`);
        const got = ((await rows('csv', { country: 'DE', deviceLabel: 'desktop' })) as Array<Record<string, string>>).map((r) => r.viewId);
        assert.deepEqual(got, want);
        assert.equal(await rows('xlsx', { country: 'DE', deviceLabel: 'desktop' }), want.length);
      } finally {
        slicing.rows = 262_144;
        slicing.span = 1_048_576;
      }
    });
    for (const format of ['json', 'parquet'] as const) {
      it(`${format}: view records leave in storage order, a sparse range (one project's) read in one statement or in slices`, { timeout: 120_000 }, async () => {
        slicing.rows = 20_000; // a part of one project's records: several slices,
        slicing.span = 50_000; // and slices cut again where they span many keys
        try {
          assertKeyOrder(await exportIds(format, source('views')), VIEWS);
          const sparse = await exportIds(format, source('views', { projectId: 'p0' }));
          assert.ok(sparse.length > 20_000 && sparse.length < VIEWS / 2, `${sparse.length} records of p0`);
          assertIncreasing(sparse);
          assert.deepEqual(sparse, await exportIds('csv', source('views', { projectId: 'p0' })), 'the same records as CSV');
        } finally {
          slicing.rows = 262_144;
          slicing.span = 1_048_576;
        }
      });
    }
    it('raw events under a selective filter (one country\'s): sparse parts read in one statement, the unfiltered export\'s events of that country, in order', { timeout: 120_000 }, async () => {
      // A part of 5,000 of the country's events spans ~100,000 seqs: one statement a sparse part
      // (exports.ts, copyPart), its cache handed back as it runs where DuckDB has one thread.
      const fields = resolveFields('events', ['id', 'country'].map((fieldName) => ({ fieldName }))).map((f) => ({ name: f.def.name, as: f.as }));
      const rows = async (format: 'csv' | 'jsonl', filters: ExportSource['filters'], partRows: number) => {
        const runId = `order-${threads}-country-${format}-${Object.keys(filters).join('')}`;
        const r = await writeRun(store, dir, { runId, format, gzip: false, zip: false, partRows, period: { from: '', to: '' },
          source: { scope: 'events', accountId: 'acc', fromMs: 0, toMs: now + 1, filters, neutralize: false, fields } });
        const out: Array<Record<string, string>> = [];
        for (const f of r.files) {
          const text = readFileSync(join(dir, runId, f.name), 'utf8');
          const parsed = format === 'csv' ? parse(text, { columns: true }) as Array<Record<string, string>> : text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
          for (const row of parsed) out.push(row);
        }
        rmSync(join(dir, runId), { recursive: true, force: true });
        return { rows: out, parts: r.files.length };
      };
      const all = (await rows('csv', {}, PART)).rows;
      assert.equal(all.length, EVENTS);
      const country = all[0]!.country!;
      const want = all.filter((row) => row.country === country).map((row) => row.id);
      assert.ok(want.length > 10_000 && want.length < EVENTS / 4, `${want.length} events from ${country}`);
      for (const format of ['csv', 'jsonl'] as const) {
        const got = await rows(format, { country }, 5_000);
        assert.ok(got.parts > 1, `${got.parts} parts`);
        assert.deepEqual(got.rows.map((row) => row.id), want, format);
      }
    });
  });
}

it('sessions: a part summed a quarter slice of sessions at a time, in first-event order across slices and parts', { timeout: 120_000 }, async () => {
  // Every synthetic record is a session of its own; a window of a day holds ~10k of them.
  const toMs = now - 29 * 86_400_000;
  const store = await openDuckDbStore(dbPath, { memoryLimit: '512MB', threads: 1 });
  slicing.sessions = 500; // slices of 500 sessions
  try {
    const src: ExportSource = {
      scope: 'sessions', accountId: 'acc', fromMs: 0, toMs, filters: {}, neutralize: false,
      fields: resolveFields('sessions', [{ fieldName: 'sessionId' }, { fieldName: 'firstEventAt' }, { fieldName: 'views' }]).map((f) => ({ name: f.def.name, as: f.as })),
    };
    const r = await writeRun(store, dir, { runId: 'order-sessions', format: 'csv', gzip: false, zip: false, partRows: 4_000, period: { from: '', to: '' }, source: src });
    const rows: Array<Record<string, string>> = [];
    for (const f of r.files) rows.push(...(parse(readFileSync(join(dir, 'order-sessions', f.name), 'utf8'), { columns: true }) as Array<Record<string, string>>));
    // JSON and Parquet in slices too (JSON Lines joined into one array; a Parquet file a slice, read back into the part's).
    const key = (x: Record<string, unknown>) => `${x.sessionId} ${x.views}`;
    for (const format of ['json', 'parquet'] as const) {
      const runId = `order-sessions-${format}`;
      const other = await writeRun(store, dir, { runId, format, gzip: false, zip: false, partRows: 4_000, period: { from: '', to: '' }, source: src });
      assert.deepEqual(other.files.map((f) => f.rows), r.files.map((f) => f.rows), `${format}: part sizes`);
      const got: Array<Record<string, unknown>> = [];
      for (const f of other.files) {
        const path = join(dir, runId, f.name);
        for (const row of format === 'json' ? (JSON.parse(readFileSync(path, 'utf8')) as Array<Record<string, unknown>>) : await parquetRows(path)) got.push(row);
      }
      assert.deepEqual(got.map(key), rows.map(key), `${format}: the same sessions in the same order as CSV`);
    }
    // A slice's records gathered over many spans of rowids sum to the same bytes as over one.
    slicing.span = 40_000;
    const spans = await writeRun(store, dir, { runId: 'order-sessions-spans', format: 'csv', gzip: false, zip: false, partRows: 4_000, period: { from: '', to: '' }, source: src });
    slicing.span = 1_048_576;
    assert.deepEqual(spans.files.map((f) => f.sha256), r.files.map((f) => f.sha256), 'gathered over 8 spans of rowids or 1: the same files');
    const expected = VIEWS * (1 / 30); // started_at spread evenly over 30 days
    assert.ok(rows.length > expected * 0.8 && rows.length < expected * 1.2, `${rows.length} sessions`);
    assert.equal(rows.length, r.rows);
    assert.equal(new Set(rows.map((x) => x.sessionId)).size, rows.length, 'no session twice');
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1]!, rows[i]!];
      assert.ok(a.firstEventAt < b.firstEventAt || (a.firstEventAt === b.firstEventAt && a.sessionId < b.sessionId), `row ${i}: ${JSON.stringify(a)} then ${JSON.stringify(b)}`);
    }
    // A catalog filter (one project): the sessions are counted with the catalog joined, otherwise
    // without it. Each record being a session, they are the project's records of the period.
    const inP0 = { ...src, filters: { projectId: 'p0' } };
    const p0 = await writeRun(store, dir, { runId: 'order-sessions-p0', format: 'csv', gzip: false, zip: false, partRows: 400, period: { from: '', to: '' }, source: inP0 });
    const p0Rows: Array<Record<string, string>> = [];
    for (const f of p0.files) p0Rows.push(...(parse(readFileSync(join(dir, 'order-sessions-p0', f.name), 'utf8'), { columns: true }) as Array<Record<string, string>>));
    const records = await writeRun(store, dir, { runId: 'order-sessions-p0-views', format: 'csv', gzip: false, zip: false, partRows: 4_000, period: { from: '', to: '' },
      source: { ...inP0, scope: 'views', fields: resolveFields('views', [{ fieldName: 'sessionId' }]).map((f) => ({ name: f.def.name, as: f.as })) } });
    const p0Sessions: string[] = [];
    for (const f of records.files) p0Sessions.push(...(parse(readFileSync(join(dir, 'order-sessions-p0-views', f.name), 'utf8'), { columns: true }) as Array<Record<string, string>>).map((x) => x.sessionId!));
    assert.ok(p0Rows.length > rows.length / 20 && p0Rows.length < rows.length / 5, `${p0Rows.length} sessions of p0`);
    assert.deepEqual(p0Rows.map((x) => x.sessionId).sort(), p0Sessions.sort());
  } finally {
    slicing.sessions = 24_576;
    slicing.span = 1_048_576;
    await store.close();
  }
});

it('sessions: a slice sums every record of its sessions, however far apart they started and wherever they lie (records gathered over many spans of rowids)', { timeout: 60_000 }, async () => {
  // 30 sessions of two records each: the first records a second apart, the second ones all after
  // every first one, in reverse order, 999 µs past the millisecond (the window's end is kept in
  // milliseconds). A slice of one session must still find its late record.
  const base = now - 20 * 86_400_000;
  const db = await Db.open(dbPath, 1);
  await db.run(`INSERT INTO view_records
    SELECT * EXCLUDE (n) REPLACE ('multi' AS account_id, 'mv' || n AS view_id, 'm' || lpad((n % 30)::VARCHAR, 2, '0') AS session_id,
      make_timestamp((?::BIGINT + CASE WHEN n < 30 THEN n * 1000 ELSE 100000 + (59 - n) * 1000 END) * 1000 + CASE WHEN n < 30 THEN 0 ELSE 999 END) AS started_at,
      make_timestamp((?::BIGINT + CASE WHEN n < 30 THEN n * 1000 ELSE 100000 + (59 - n) * 1000 END + 5000) * 1000) AS last_event_at,
      true AS counted, true AS played)
    FROM (SELECT *, row_number() OVER () - 1 AS n FROM view_records WHERE account_id = 'acc' LIMIT 60)`, [base, base]);
  await refreshSessionStarts(db, 'multi', 'SELECT session_id FROM view_records WHERE account_id = ?', ['multi']);
  await db.close();
  const store = await openDuckDbStore(dbPath, { threads: 1 });
  slicing.sessions = 1; // slices of one session
  slicing.span = 16; // a session's two records in different spans (files) of the part's records
  try {
    const src: ExportSource = {
      scope: 'sessions', accountId: 'multi', fromMs: base, toMs: base + 60_000, filters: {}, neutralize: false,
      fields: resolveFields('sessions', [{ fieldName: 'sessionId' }, { fieldName: 'views' }, { fieldName: 'contentCount' }, { fieldName: 'lastEventAt' }]).map((f) => ({ name: f.def.name, as: f.as })),
    };
    const r = await writeRun(store, dir, { runId: 'order-sessions-multi', format: 'csv', gzip: false, zip: false, partRows: 7, period: { from: '', to: '' }, source: src });
    const rows: Array<Record<string, string>> = [];
    for (const f of r.files) rows.push(...(parse(readFileSync(join(dir, 'order-sessions-multi', f.name), 'utf8'), { columns: true }) as Array<Record<string, string>>));
    assert.deepEqual(rows.map((x) => [x.sessionId, x.views, x.contentCount, x.lastEventAt]), Array.from({ length: 30 }, (_, i) =>
      [`m${String(i).padStart(2, '0')}`, '2', '2', new Date(base + 100_000 + (29 - i) * 1000 + 5000).toISOString()]));
  } finally {
    slicing.sessions = 24_576;
    slicing.span = 1_048_576;
    await store.close();
  }
});

it('sessions under a filter: a session is the period\'s by its first record, its row sums the records the filter chooses, a session with none has no row; before 1970 too', { timeout: 60_000 }, async () => {
  const base = now - 10 * 86_400_000;
  const hour = 3_600_000;
  // t1: a record in the period (FR) and one two hours later (DE); t2: only the later kind (not the
  // period's); t3..t9: DE records a minute apart in the period, and FR records 90 minutes in (after
  // it); t10: an FR record before the period and a DE one in it (the earlier period's session).
  const rows: Array<[string, string, number, string]> = [['tv1', 't1', base, 'FR'], ['tv2', 't1', base + 2 * hour, 'DE'], ['tv3', 't2', base + 2 * hour + 1000, 'DE']];
  for (let i = 3; i <= 9; i++) rows.push([`tv${i + 1}`, `t${i}`, base + (i + 1) * 60_000, 'DE'], [`tv${i + 11}`, `t${i}`, base + 90 * 60_000, 'FR']);
  rows.push(['tv30', 't10', base - 10 * 60_000, 'FR'], ['tv31', 't10', base + 30 * 60_000, 'DE']);
  // Account 'epoch': s1 with records 30 s before 1970 and two minutes after, s2 ten seconds after.
  for (const [view, session, at] of [['e1', 's1', -30_000], ['e2', 's1', 120_000], ['e3', 's2', 10_000]] as const) rows.push([view, session, at, 'epoch']);
  const db = await Db.open(dbPath, 1);
  for (const [view, session, at, country] of rows) {
    const account = country === 'epoch' ? 'epoch' : 'tail';
    await db.run(`INSERT INTO view_records SELECT * REPLACE (? AS account_id, ? AS view_id, ? AS session_id, make_timestamp(?::BIGINT * 1000) AS started_at,
      make_timestamp((?::BIGINT + 5000) * 1000) AS last_event_at, ? AS country, true AS counted, true AS played) FROM view_records WHERE account_id = 'acc' LIMIT 1`, [account, view, session, at, at, country]);
  }
  for (const account of ['tail', 'epoch']) await refreshSessionStarts(db, account, 'SELECT session_id FROM view_records WHERE account_id = ?', [account]);
  await db.close();
  const store = await openDuckDbStore(dbPath, { threads: 1 });
  const fields = resolveFields('sessions', [{ fieldName: 'sessionId' }, { fieldName: 'firstEventAt' }, { fieldName: 'views' }]).map((f) => ({ name: f.def.name, as: f.as }));
  const run = async (account: string, fromMs: number, toMs: number, filters: ExportSource['filters'], runId: string) => {
    const src: ExportSource = { scope: 'sessions', accountId: account, fromMs, toMs, filters, neutralize: false, fields };
    const r = await writeRun(store, dir, { runId, format: 'csv', gzip: false, zip: false, partRows: 3, period: { from: '', to: '' }, source: src });
    const out: Array<Record<string, string>> = [];
    for (const f of r.files) out.push(...(parse(readFileSync(join(dir, runId, f.name), 'utf8'), { columns: true }) as Array<Record<string, string>>));
    return { out, sha: r.files.map((f) => f.sha256), rows: r.files.map((f) => f.rows) };
  };
  try {
    const all = await run('tail', base, base + hour, {}, 'tail-all');
    assert.deepEqual(all.out.map((x) => [x.sessionId, x.views]), [['t1', '2'], ['t3', '2'], ['t4', '2'], ['t5', '2'], ['t6', '2'], ['t7', '2'], ['t8', '2'], ['t9', '2']]);
    const de = await run('tail', base, base + hour, { country: 'DE' }, 'tail-de');
    // t1 is the period's (its first record is), with its DE record alone: first event two hours in.
    assert.deepEqual(de.out.map((x) => [x.sessionId, x.views]), [['t1', '1'], ['t3', '1'], ['t4', '1'], ['t5', '1'], ['t6', '1'], ['t7', '1'], ['t8', '1'], ['t9', '1']]);
    assert.deepEqual(de.rows, [3, 3, 2], 'parts of 3 sessions, counted distinct under the filter');
    assert.equal(de.out[0]!.firstEventAt, new Date(base + 2 * hour).toISOString());
    // t10 belongs to the hour before, whose DE row is its DE record; t2 to the hour it began in.
    assert.deepEqual((await run('tail', base - hour, base, { country: 'DE' }, 'tail-de-before')).out.map((x) => [x.sessionId, x.firstEventAt]), [['t10', new Date(base + 30 * 60_000).toISOString()]]);
    assert.deepEqual((await run('tail', base + 2 * hour, base + 3 * hour, { country: 'DE' }, 'tail-de-after')).out.map((x) => x.sessionId), ['t2']);
    assert.deepEqual((await run('tail', base, base + hour, { country: 'JP' }, 'tail-jp')).rows, [0], 'no session with a chosen record: one empty part');
    // Counting a minute at a time writes the same files.
    slicing.distinct = 1;
    assert.deepEqual((await run('tail', base, base + hour, { country: 'DE' }, 'tail-de-minutes')).sha, de.sha);
    // A period from before 1970: s1 began in it (30 s before 1970) and sums both its records.
    const epoch = await run('epoch', -60_000, 60_000, {}, 'tail-1970');
    assert.deepEqual(epoch.out.map((x) => [x.sessionId, x.firstEventAt, x.views]), [['s1', '1969-12-31T23:59:30.000Z', '2'], ['s2', '1970-01-01T00:00:10.000Z', '1']]);
    assert.deepEqual((await run('epoch', 0, 60_000, {}, 'tail-1970-after')).out.map((x) => x.sessionId), ['s2'], 'from 1970 on: s1 began before');
    assert.deepEqual((await run('epoch', -60_000, 0, { country: 'epoch' }, 'tail-1970-filtered')).out.map((x) => x.sessionId), ['s1'], 'a minute before 1970, counted distinct');
  } finally {
    slicing.distinct = 262_144;
    await store.close();
  }
});

it('sessions: a filtered export leaves no file beside its parts and no temporary table; the files a part\'s records are gathered in go when the part ends', { timeout: 60_000 }, async () => {
  const db = await Db.open(dbPath, 2, { memoryLimit: '512MB', threads: 1 });
  try {
    // A filter (every video of the account: the same sessions), counted distinct.
    const src: ExportSource = {
      scope: 'sessions', accountId: 'acc', fromMs: 0, toMs: now - 29 * 86_400_000, filters: { contentIds: Array.from({ length: 200 }, (_, i) => `video-${i}`) }, neutralize: false,
      fields: resolveFields('sessions', [{ fieldName: 'sessionId' }]).map((f) => ({ name: f.def.name, as: f.as })),
    };
    const before = readdirSync(dir);
    const parts = await exportRepo(db).snapshot(async (snap) => {
      const parts = await snap.parts(src, 4_000);
      const { rows } = await snap.copy(src, parts[0]!, { format: 'csv', path: join(dir, 'temp-tables.csv'), gzip: false }); // gathers its records
      assert.equal(rows, 4_000);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-tables.csv.')), [], 'no gathered records (nor slices) left once the part is written');
      return parts;
    });
    assert.ok(parts.length > 1 && parts.every((p) => 'from' in p.range), 'parts are ranges of sessions');
    assert.deepEqual(readdirSync(dir).filter((f) => !before.includes(f) && f !== 'temp-tables.csv' && !f.endsWith('.wal')), [], 'no file left beside the part');
    const temporary = async (q: Parameters<Parameters<typeof db.with>[0]>[0]) => Number((await q.one<{ n: number }>('SELECT count(*) AS n FROM duckdb_tables() WHERE temporary'))!.n);
    // Every pooled connection (each has its own temporary schema), the export's among them.
    assert.deepEqual(await db.with(async (a) => db.with(async (b) => [await temporary(a), await temporary(b)])), [0, 0]);
    // The check itself sees a temporary table where there is one.
    assert.equal(await db.with(async (q) => (await q.run('CREATE TEMP TABLE probe (x INT)'), temporary(q))), 1);
  } finally {
    await db.close();
  }
});

it('sessions: a filter choosing every record writes the same files as none (sessions counted distinct or by first record); a filter choosing some sums those alone (multi-record sessions, ties, first non-null values, bounds inside minutes)', { timeout: 120_000 }, async () => {
  // 300 sessions of 1–4 records, 50 sessions a minute; ids in an order unrelated to time; a second
  // record started at the same instant as the first in every fifth session (the lower view id is
  // first); no user id on the first record of every third (the next record's is the session's);
  // a session begun before the period (not the period's) and one with records after it (the period's);
  // each session's records stored latest first.
  const base = now - 5 * 86_400_000;
  const db = await Db.open(dbPath, 1);
  await db.run(`INSERT INTO view_records
    SELECT * EXCLUDE (k, j) REPLACE ('rich' AS account_id, 'rv' || k || '_' || j AS view_id, 'video-' || ((k + j) % 200) AS content_id,
      CASE WHEN k = 299 THEN 'early' ELSE 'r' || lpad(((k * 37) % 300)::VARCHAR, 3, '0') END AS session_id,
      make_timestamp((?::BIGINT + CASE WHEN k = 299 THEN -60000 ELSE (k // 50) * 60000 + (k % 50) * 100 END
        + CASE WHEN j = 0 OR (j = 1 AND k % 5 = 0) THEN 0 WHEN k = 7 THEN 86400000 ELSE j * 1000 END) * 1000) AS started_at,
      make_timestamp((?::BIGINT + (k // 50) * 60000 + j * 1000 + 5000) * 1000) AS last_event_at,
      CASE WHEN j = 0 AND k % 3 = 0 THEN NULL ELSE 'u' || k || '_' || j END AS user_id,
      (['FR', 'DE', 'JP'])[1 + (k + j) % 3] AS country, j % 2 = 0 AS counted, true AS played, (k * 7 + j) % 5 AS rebuffer_count, ((k + j) % 7) * 0.1 AS rebuffer_time)
    FROM (SELECT * FROM view_records WHERE account_id = 'acc' LIMIT 1), range(300) a(k), range(4) b(j) WHERE j <= k % 4
    ORDER BY k, j DESC`, [base, base]); // stored latest first: the order rebuffer times (0.1 + 0.2 + 0.3 ≠ 0.3 + 0.2 + 0.1) are summed in must not matter
  await refreshSessionStarts(db, 'rich', 'SELECT session_id FROM view_records WHERE account_id = ?', ['rich']);
  // What a DE filter's rows hold, computed without the stored starts: the sessions begun in the
  // period (by their records' earliest start) with a DE record, in order of that start, then id.
  const oracle = (await db.all<{ id: string; views: number; n: number; first: number }>(`
    WITH s AS (SELECT session_id, min(started_at) AS began FROM view_records WHERE account_id = 'rich' GROUP BY 1)
    SELECT v.session_id AS id, count(*) FILTER (WHERE v.counted) AS views, count(*) AS n, epoch_ms(min(v.started_at)) AS first
    FROM view_records v JOIN s USING (session_id) WHERE v.account_id = 'rich' AND v.country = 'DE' AND s.began >= ? AND s.began < ?
    GROUP BY v.session_id, s.began ORDER BY s.began, v.session_id`, [new Date(base), new Date(base + 3_600_000)]))
    .map((x) => [x.id, String(x.views), String(x.n), new Date(Number(x.first)).toISOString()]);
  await db.close();
  const store = await openDuckDbStore(dbPath, { threads: 1 });
  const every = Array.from({ length: 200 }, (_, i) => `video-${i}`);
  const fields = resolveFields('sessions', undefined).map((f) => ({ name: f.def.name, as: f.as }));
  const run = async (runId: string, filters: ExportSource['filters']) => {
    const src: ExportSource = { scope: 'sessions', accountId: 'rich', fromMs: base, toMs: base + 3_600_000, filters, neutralize: false, fields };
    const r = await writeRun(store, dir, { runId, format: 'csv', gzip: false, zip: false, partRows: 37, period: { from: '', to: '' }, source: src });
    return { rows: r.files.map((f) => f.rows), text: r.files.map((f) => readFileSync(join(dir, runId, f.name), 'utf8')) };
  };
  slicing.sessions = 11; // slices cut inside the minutes of 50 sessions
  slicing.gather = 100; // many gathered files a part
  try {
    const ranged = await run('rich-ranged', {});
    const numbered = await run('rich-every', { contentIds: every }); // a filter choosing every record: counted distinct
    assert.deepEqual(ranged.rows, [37, 37, 37, 37, 37, 37, 37, 37, 3], 'parts of 37 sessions of the 299 of the period');
    assert.deepEqual(ranged.text, numbered.text);
    const de = await run('rich-de', { country: 'DE' });
    const deRows = de.text.flatMap((t) => parse(t, { columns: true }) as Array<Record<string, string>>);
    assert.ok(oracle.length > 150 && oracle.length < 299, `${oracle.length} sessions with a DE record`);
    assert.deepEqual(deRows.map((x) => [x.sessionId, x.views, x.contentCount, x.firstEventAt]), oracle);
    assert.deepEqual(de.rows, [...Array.from({ length: Math.floor(oracle.length / 37) }, () => 37), oracle.length % 37].filter((n) => n > 0), 'parts of 37 of them');
    const rows = ranged.text.flatMap((t) => parse(t, { columns: true }) as Array<Record<string, string>>);
    const byId = new Map(rows.map((x) => [x.sessionId!, x]));
    assert.equal(byId.has('early'), false, 'a session begun before the period is not its');
    assert.ok(rows.every((x) => /^\d+(\.\d{1,9})?$/.test(x.rebufferTime!)), 'rebuffer seconds summed exactly (no 0.30000000000000004)');
    const late = byId.get(`r${String((7 * 37) % 300).padStart(3, '0')}`)!; // k = 7: its 4th record a day later
    assert.equal(late.contentCount, '4');
    const tie = byId.get(`r${String((5 * 37) % 300).padStart(3, '0')}`)!; // k = 5: two records at one instant; no first user id on k % 3 = 0 only
    assert.equal(tie.userId, 'u5_0');
    const nullFirst = byId.get(`r${String((3 * 37) % 300).padStart(3, '0')}`)!; // k = 3: the first record has no user id, the second has
    assert.equal(nullFirst.userId, 'u3_1');
  } finally {
    slicing.sessions = 24_576;
    slicing.gather = 131_072;
    await store.close();
  }
});
