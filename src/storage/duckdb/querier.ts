/** One DuckDB connection as the repos query it, and the conversions of values in and out (db.ts re-exports all of it). */
import { DuckDBTimestampValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

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
  /** Connections one export writes with at once (exportpieces.ts, inPieces): 2 (the default) or 1. */
  exportConnections?: number;
}

export interface Querier {
  run(sql: string, params?: Param[]): Promise<number>;
  all<T = Row>(sql: string, params?: Param[]): Promise<T[]>;
  one<T = Row>(sql: string, params?: Param[]): Promise<T | undefined>;
}

export class ConnQuerier implements Querier {
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
