/**
 * A small connection pool over one embedded DuckDB database. Reads and short writes borrow a
 * connection; `tx` holds one for a whole transaction. Only the DuckDB adapter imports this file.
 */
import { renameSync, rmSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ConnQuerier, type Param, type Querier, type Row, type StoreLimits } from './querier.ts';

export { ConnQuerier, fromDuckRow, toDuckParam, type Param, type Querier, type Row, type StoreLimits } from './querier.ts';

/** What the repos use of a database: the pool (Db) or one transaction's connection (Db.pinned). */
export type DbLike = Pick<Db, 'run' | 'all' | 'one' | 'with' | 'tx'>;

export class Db implements Querier {
  private idle: DuckDBConnection[] = [];
  private waiters: Array<(c: DuckDBConnection) => void> = [];
  private all_: DuckDBConnection[] = [];
  /** The event writer's own connection, outside the pool. */
  private writer: DuckDBConnection | null = null;
  /** Borrowed pool connections plus the writer's connection while in use. */
  private active = 0;
  /** Closed (a promise) while `exclusive` runs: new borrowers wait for it. */
  private gate: Promise<void> | null = null;

  private constructor(
    private instance: DuckDBInstance,
    private readonly path: string,
    private readonly poolSize: number,
    private readonly options: Record<string, string>,
  ) {}

  /** `limits`: DuckDB's memory_limit (it spills to disk beyond it) and threads; unset = DuckDB's defaults. */
  static async open(path: string, poolSize = 4, limits: StoreLimits = {}): Promise<Db> {
    if (path !== ':memory:') clearCompactionLeftovers(path);
    // The only Parquet files the store reads are an export's own scratch files, each read once or
    // in pruned pieces: DuckDB's cache of them (on by default) only grew, ~1 MB a slice of sessions
    // (not handed back by releaseCache, which leaves what is not table blocks).
    const options: Record<string, string> = { enable_external_file_cache: 'false' };
    if (limits.memoryLimit) options.memory_limit = limits.memoryLimit;
    if (limits.threads) options.threads = String(limits.threads);
    const db = new Db(await DuckDBInstance.create(path, options), path, poolSize, options);
    await db.fillPool();
    return db;
  }

  private async fillPool(): Promise<void> {
    for (let i = 0; i < this.poolSize; i++) {
      const c = await this.instance.connect();
      this.all_.push(c);
      this.idle.push(c);
    }
    this.writer = await this.instance.connect();
    this.all_.push(this.writer);
    const limit = String((await this.writer.runAndReadAll("SELECT current_setting('memory_limit') AS l")).getRowObjectsJS()[0]?.l ?? '');
    this.memoryLimit = /^[\d.]+ ?[KMGT]?i?B$/i.test(limit) ? limit : '';
  }

  /** DuckDB's memory limit as configured (or DuckDB's own default), read when the pool opens. */
  private memoryLimit = '';

  /**
   * Hands back the blocks DuckDB keeps cached after a scan. DuckDB holds every block it read
   * (unpinned) until its memory limit is reached, so a long read leaves the process at the limit;
   * lowering the limit makes the buffer pool evict down to it, and the configured limit comes back
   * at once. While the limit is low, a query that needs memory would fail, so this runs only when
   * nothing else uses the database: the caller (an export) holds the one connection in use, and new
   * borrowers — the event writer too — wait for the statements. They run on an idle connection,
   * outside the caller's transaction: DuckDB refuses a limit below what is pinned, and a refused
   * statement inside a transaction would abort it. Otherwise it does nothing (the next call tries
   * again). Exports call it after each part and slice, and every 100 ms while one statement reads
   * a sparse part (exports.ts, handingBack), so their memory grows with neither.
   *
   * `running`: the caller's statement runs meanwhile. Its scan pins a block a column (256 KiB each:
   * ~10 MB for view records' 42) and reads more as it goes: the low limit keeps 64MB above what is
   * not table blocks, room for those and for new blocks (DuckDB evicts unpinned ones to make room for
   * them). At 4MB above, a scan failed to pin a block ("failed to pin block of size 256.0 KiB (16.9
   * MiB/17.1 MiB used)"); at 64MB, releases every 5 ms through million-row CSV, JSON Lines and
   * Parquet exports never did. Only for statements whose other memory does not grow as they run
   * (a scan, filters, projections, a small join's table): not aggregates or sorts.
   *
   * `held`: the connections the caller holds (an export's transaction and its twin, txPair).
   */
  async releaseCache({ running = false, held = 1 } = {}): Promise<boolean> {
    if (!this.memoryLimit || this.gate || this.active > held) return false;
    let open!: () => void;
    this.gate = new Promise((r) => (open = r));
    try {
      const c = this.idle[0] ?? this.writer;
      if (this.active > held || !c) return false;
      // Down to what DuckDB holds besides cached table blocks (indexes stay pinned in memory, for
      // one), plus a little: blocks kept from the last part are of no use to the next, and a fixed
      // floor of 64MB left exports ~50 MB higher. If DuckDB refuses (or a statement runs), a floor 64MB higher.
      const kept = Number((await c.runAndReadAll("SELECT coalesce(sum(memory_usage_bytes) FILTER (WHERE tag <> 'BASE_TABLE'), 0) AS b FROM duckdb_memory()")).getRows()[0]?.[0] ?? 0);
      const mb = Math.ceil(kept / 1e6);
      for (const floor of running ? [`${mb + 64}MB`] : [`${mb + 4}MB`, `${mb + 64}MB`]) {
        try {
          await c.run(`SET memory_limit = '${floor}'`);
        } catch {
          continue; // refused: nothing changed
        }
        await c.run(`SET memory_limit = '${this.memoryLimit}'`);
        return true;
      }
      return false;
    } finally {
      this.gate = null;
      open();
    }
  }

  /**
   * Callers wait for the gate inline, `while (this.gate) await this.gate;`, and count themselves in
   * (active++) or close the gate in the same synchronous step after the check: awaiting a helper that
   * waits would resume a microtask later, when another caller may have closed the gate meanwhile
   * (and a caller counted late could commit between txPair's two snapshots).
   */
  private async pass(): Promise<void> {
    while (this.gate) await this.gate;
  }

  private async acquire(): Promise<DuckDBConnection> {
    while (this.gate) await this.gate;
    this.active++;
    const c = this.idle.pop();
    if (c) return c;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(c: DuckDBConnection): void {
    this.active--;
    const w = this.waiters.shift();
    if (w) w(c);
    else this.idle.push(c);
  }

  async with<T>(fn: (q: ConnQuerier) => Promise<T>): Promise<T> {
    const c = await this.acquire();
    try {
      return await fn(new ConnQuerier(c));
    } finally {
      this.release(c);
    }
  }

  /** The event writer's connection (one writer at a time, serialized by its caller). */
  async withWriter<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    this.active++;
    try {
      return await fn(this.writer!);
    } finally {
      this.active--;
    }
  }

  /**
   * Runs fn with every connection idle and new borrowers held back, or returns `null` without running
   * it when the connections in use are not all back within `waitMs` (a long export stream, say).
   */
  async exclusive<T>(fn: (q: ConnQuerier) => Promise<T>, waitMs: number): Promise<T | null> {
    while (this.gate) await this.gate;
    let open!: () => void;
    this.gate = new Promise((r) => (open = r));
    try {
      const until = Date.now() + waitMs;
      while (this.active > 0) {
        if (Date.now() > until) return null;
        await new Promise((r) => setTimeout(r, 5));
      }
      return await fn(new ConnQuerier(this.idle[0]));
    } finally {
      this.gate = null;
      open();
    }
  }

  /**
   * Rewrites the database into a new file holding only live rows, then swaps it in: DuckDB marks
   * deleted rows and frees blocks without overwriting them, so the bytes of deleted rows stay in the
   * file until then. Everything waits meanwhile. False when the connections were not free in time.
   */
  async compact(waitMs: number): Promise<boolean> {
    if (this.path === ':memory:') return true;
    const fresh = `${this.path}.compact`;
    if (/'/.test(fresh)) throw new Error('database paths never hold quotes');
    const done = await this.exclusive(async (q) => {
      const name = (await q.one<{ n: string }>('SELECT current_database() AS n'))!.n;
      await q.run('CHECKPOINT');
      rmSync(fresh, { force: true });
      rmSync(`${fresh}.wal`, { force: true });
      await q.run(`ATTACH '${fresh}' AS reelstat_compact`);
      try {
        await q.run(`COPY FROM DATABASE "${name.replace(/"/g, '""')}" TO reelstat_compact`);
        await q.run('CHECKPOINT reelstat_compact');
      } finally {
        await q.run('DETACH reelstat_compact');
      }
      this.closeAll();
      // The old file is closed (checkpointed, its WAL empty); a stale WAL must never be replayed
      // against the new file, so it goes before the rename.
      rmSync(`${this.path}.wal`, { force: true });
      renameSync(fresh, this.path);
      this.instance = await DuckDBInstance.create(this.path, this.options);
      await this.fillPool();
      return true;
    }, waitMs);
    return done === true;
  }

  private closeAll(): void {
    for (const c of this.all_) c.closeSync();
    this.all_ = [];
    this.idle = [];
    this.writer = null;
    this.instance.closeSync();
  }

  /**
   * Runs fn inside BEGIN/COMMIT on one connection; rolls back on any error. DuckDB's transactions
   * are optimistic: two that change the same rows at once (a schedule deleted while the scheduler
   * adds its runs, say) end one of them with "Conflict on update", which answered a client 500.
   * Such a transaction is rolled back and run again, after a short random pause, up to
   * CONFLICT_RETRIES times (`retry: false`: once; fn must then not mind running again, which SQL
   * in the rolled-back transaction does not).
   */
  async tx<T>(fn: (q: ConnQuerier) => Promise<T>, { retry = true } = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.with(async (q) => {
          await q.run('BEGIN TRANSACTION');
          return committed(q, () => fn(q));
        });
      } catch (err) {
        if (!retry || attempt >= CONFLICT_RETRIES || !isConflict(err)) throw err;
        await new Promise((r) => setTimeout(r, (attempt + 1) * (5 + Math.random() * 20)));
      }
    }
  }

  /**
   * tx, with a second connection in a transaction of its own that sees the same snapshot (`twin`),
   * or null when one cannot be had within `waitMs`: a second statement of the same reads, run beside
   * the first, uses the second core (DuckDB runs a statement on the thread that calls it). Two
   * transactions see the same data when nothing commits between their starts: new borrowers (the
   * event writer too) are held back while those in use finish, up to `waitMs`, and both
   * transactions start then. Without a twin (the connections did not come back in time, say a long
   * export runs, or the pool would have no idle one left), fn runs as under tx. The twin only reads;
   * it holds a pool connection until fn ends.
   */
  txPair<T>(fn: (q: ConnQuerier, twin: ConnQuerier | null) => Promise<T>, waitMs = 250): Promise<T> {
    return this.with(async (q) => {
      const twin = await this.beginTwins(q, waitMs);
      try {
        return await committed(q, () => fn(q, twin && new ConnQuerier(twin)));
      } finally {
        if (twin) {
          await twin.run('ROLLBACK').catch(() => undefined);
          this.release(twin);
        }
      }
    });
  }

  /** Begins q's transaction, and a twin's on the same snapshot when every other connection is back in time (txPair). */
  private async beginTwins(q: ConnQuerier, waitMs: number): Promise<DuckDBConnection | null> {
    while (this.gate) await this.gate;
    let open!: () => void;
    this.gate = new Promise((r) => (open = r));
    let twin: DuckDBConnection | null = null;
    try {
      const until = Date.now() + waitMs;
      while (this.active > 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
      if (this.active === 1 && this.idle.length > 1) { // one stays for everybody else
        twin = this.idle.pop()!;
        this.active++;
      }
      try {
        await q.run('BEGIN TRANSACTION');
        // A transaction takes its snapshot when a statement first reads the catalog (`SELECT 1` does not).
        await q.run(SNAPSHOT);
      } catch (err) {
        await q.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      const t = twin;
      if (!t) return null;
      try {
        await t.run('BEGIN TRANSACTION');
        await t.run(SNAPSHOT);
        twin = null; // handed to the caller
        return t;
      } catch {
        await t.run('ROLLBACK').catch(() => undefined);
        return null;
      }
    } finally {
      if (twin) this.release(twin); // taken but not handed to the caller
      this.gate = null;
      open();
    }
  }

  /**
   * A DbLike over one open transaction's connection: every read sees that transaction's snapshot.
   * Calls take turns (one statement at a time on a connection); `tx` joins the open transaction.
   */
  static pinned(q: ConnQuerier): DbLike {
    let turn: Promise<unknown> = Promise.resolve();
    const take = <T>(fn: (q: ConnQuerier) => Promise<T>): Promise<T> => {
      const next = turn.then(() => fn(q));
      turn = next.catch(() => undefined);
      return next;
    };
    return {
      run: (sql, params) => take((c) => c.run(sql, params)),
      all: (sql, params) => take((c) => c.all(sql, params)),
      one: (sql, params) => take((c) => c.one(sql, params)),
      with: (fn) => take(fn),
      tx: (fn) => take(fn),
    } as DbLike;
  }

  run(sql: string, params?: Param[]): Promise<number> {
    return this.with((q) => q.run(sql, params));
  }
  all<T = Row>(sql: string, params?: Param[]): Promise<T[]> {
    return this.with((q) => q.all<T>(sql, params));
  }
  one<T = Row>(sql: string, params?: Param[]): Promise<T | undefined> {
    return this.with((q) => q.one<T>(sql, params));
  }

  /**
   * Waits (up to `graceMs`) for borrowed connections to come back, then closes everything: closing a
   * connection under a running query would crash the process in native code.
   */
  async close(graceMs = 10_000): Promise<void> {
    await this.pass();
    const until = Date.now() + graceMs;
    while (this.active > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.closeAll();
  }
}

/** Times a transaction that lost a write-write conflict is run again (Db.tx). */
const CONFLICT_RETRIES = 5;
/** Whether `err` is DuckDB's answer to a write-write conflict between transactions. */
export const isConflict = (err: unknown) => err instanceof Error && /TransactionContext Error: .*[Cc]onflict/.test(err.message);

/** fn in q's open transaction, then COMMIT; ROLLBACK if either fails. */
async function committed<T>(q: ConnQuerier, fn: () => Promise<T>): Promise<T> {
  try {
    const out = await fn();
    await q.run('COMMIT');
    return out;
  } catch (err) {
    await q.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** A statement that starts a transaction's snapshot (it reads the catalog). */
const SNAPSHOT = 'SELECT count(*) FROM duckdb_tables()';

/** A compaction interrupted before its rename leaves a partial new file: the old one is intact. */
function clearCompactionLeftovers(path: string): void {
  rmSync(`${path}.compact`, { force: true });
  rmSync(`${path}.compact.wal`, { force: true });
}

