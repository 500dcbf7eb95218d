/**
 * A small connection pool over one embedded DuckDB database. Reads and short writes borrow a
 * connection; `tx` holds one for a whole transaction. Only the DuckDB adapter imports this file.
 */
import { DuckDBInstance, DuckDBTimestampValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

export type Param = string | number | boolean | null | bigint | Date;
export type Row = Record<string, unknown>;

export function toDuckParam(v: Param): DuckDBValue {
  if (v instanceof Date) return new DuckDBTimestampValue(BigInt(v.getTime()) * 1000n);
  return v as DuckDBValue;
}

/** DuckDB hands back bigints and Dates; the rest of the code speaks numbers (epoch ms for times). */
export function fromDuckRow(row: Row): Row {
  for (const k in row) {
    const v = row[k];
    if (typeof v === 'bigint') row[k] = Number(v);
    else if (v instanceof Date) row[k] = v.getTime();
  }
  return row;
}

export interface StoreLimits {
  memoryLimit?: string;
  threads?: number | null;
}

export interface Querier {
  run(sql: string, params?: Param[]): Promise<number>;
  all<T = Row>(sql: string, params?: Param[]): Promise<T[]>;
  one<T = Row>(sql: string, params?: Param[]): Promise<T | undefined>;
}

class ConnQuerier implements Querier {
  constructor(readonly conn: DuckDBConnection) {}
  async run(sql: string, params: Param[] = []): Promise<number> {
    const r = await this.conn.run(sql, params.map(toDuckParam));
    return Number(r.rowsChanged);
  }
  async all<T = Row>(sql: string, params: Param[] = []): Promise<T[]> {
    const r = await this.conn.runAndReadAll(sql, params.map(toDuckParam));
    return r.getRowObjectsJS().map((row) => fromDuckRow(row as Row)) as T[];
  }
  async one<T = Row>(sql: string, params: Param[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }
}

/** What the repos use of a database: the pool (Db) or one transaction's connection (Db.pinned). */
export type DbLike = Pick<Db, 'run' | 'all' | 'one' | 'with' | 'tx'>;

export class Db implements Querier {
  private idle: DuckDBConnection[] = [];
  private waiters: Array<(c: DuckDBConnection) => void> = [];
  private all_: DuckDBConnection[] = [];

  private constructor(readonly instance: DuckDBInstance) {}

  private pooled = 0;

  /** `limits`: DuckDB's memory_limit (it spills to disk beyond it) and threads; unset = DuckDB's defaults. */
  static async open(path: string, poolSize = 4, limits: StoreLimits = {}): Promise<Db> {
    const options: Record<string, string> = {};
    if (limits.memoryLimit) options.memory_limit = limits.memoryLimit;
    if (limits.threads) options.threads = String(limits.threads);
    const instance = await DuckDBInstance.create(path, options);
    const db = new Db(instance);
    db.pooled = poolSize;
    for (let i = 0; i < poolSize; i++) {
      const c = await instance.connect();
      db.all_.push(c);
      db.idle.push(c);
    }
    return db;
  }

  /** A connection of its own, outside the pool (the event writer keeps one). */
  async connect(): Promise<DuckDBConnection> {
    const c = await this.instance.connect();
    this.all_.push(c);
    return c;
  }

  private acquire(): Promise<DuckDBConnection> {
    const c = this.idle.pop();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(c: DuckDBConnection): void {
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

  /** Runs fn inside BEGIN/COMMIT on one connection; rolls back on any error. */
  tx<T>(fn: (q: ConnQuerier) => Promise<T>): Promise<T> {
    return this.with(async (q) => {
      await q.run('BEGIN TRANSACTION');
      try {
        const out = await fn(q);
        await q.run('COMMIT');
        return out;
      } catch (err) {
        await q.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
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
    const until = Date.now() + graceMs;
    while (this.idle.length < this.pooled && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.all_) c.closeSync();
    this.all_ = [];
    this.idle = [];
    this.instance.closeSync();
  }
}

export { ConnQuerier };
