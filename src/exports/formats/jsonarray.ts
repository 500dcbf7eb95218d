/**
 * JSON Lines into one JSON array, byte for byte as DuckDB's `COPY … (FORMAT JSON, ARRAY true)` writes
 * it: `[\n\t` row (`,\n\t` row)* `\n]\n` (and `[\n\t\n]\n` with no rows). Lets a JSON part be written
 * slice by slice as JSON Lines (src/storage/duckdb/exports.ts) and still come out as DuckDB writes a
 * whole part. A JSON Lines row never holds a raw line feed (JSON escapes it), so every LF ends a row.
 */
const OPEN = Buffer.from('[\n\t');
const BETWEEN = Buffer.from(',\n\t');
const CLOSE = Buffer.from('\n]\n');
const LF = 0x0a;

export class JsonArrayFromLines {
  private started = false;
  private rowEnded = false; // the last byte seen ended a row: its separator depends on what follows

  /** The array's bytes for the next chunk of JSON Lines (chunks may cut rows anywhere). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (!this.started) {
      out.push(OPEN);
      this.started = true;
    }
    let from = 0;
    while (from < chunk.length) {
      if (this.rowEnded) {
        out.push(BETWEEN);
        this.rowEnded = false;
      }
      const lf = chunk.indexOf(LF, from);
      if (lf < 0) {
        out.push(chunk.subarray(from));
        break;
      }
      if (lf > from) out.push(chunk.subarray(from, lf));
      this.rowEnded = true;
      from = lf + 1;
    }
    return out;
  }

  /** The array's last bytes. */
  end(): Buffer[] {
    const out = this.started ? [] : [OPEN];
    this.started = true;
    out.push(CLOSE);
    return out;
  }
}
