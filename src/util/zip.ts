/**
 * yazl, with the CRC-32 of every ZIP entry computed by zlib (Node's `zlib.crc32`, native) instead
 * of buffer-crc32's JavaScript loop: a million view records as XLSX are 1.24 GB of sheet XML, whose
 * CRC took ~2.9 s of the main thread (~430 MB/s), on a machine whose two cores the export already
 * keeps busy (DuckDB builds the rows, zlib deflates them). yazl calls `crc32.unsigned(chunk,
 * previous)` of the buffer-crc32 it requires (CommonJS) for each chunk; zlib.crc32(chunk, previous)
 * is the same function (CRC-32/ISO-HDLC, continued from `previous`). The CommonJS instance is the
 * one changed, found from yazl's own folder (an ES import would load the package's separate ESM
 * build). Every user of yazl imports it from here.
 */
import { createRequire } from 'node:module';
import { crc32 as nativeCrc32 } from 'node:zlib';
import yazl from 'yazl';

type Crc32 = { unsigned: (buf: Buffer | string, previous?: number | Buffer) => number };
const requireFromYazl = createRequire(createRequire(import.meta.url).resolve('yazl'));
const crc32 = requireFromYazl('buffer-crc32') as Crc32;
const jsUnsigned = crc32.unsigned;
crc32.unsigned = (buf, previous) => (typeof buf !== 'string' && (previous === undefined || typeof previous === 'number') ? nativeCrc32(buf, previous ?? 0) : jsUnsigned(buf, previous));

export const ZipFile = yazl.ZipFile;
export type ZipFile = yazl.ZipFile;
/** The CRC-32 function yazl uses (for the tests). */
export const yazlCrc32 = crc32;

/**
 * Entry options that date an entry at `ms` the same on every host: yazl writes the DOS time from the
 * local clock's fields, so they are given the UTC ones, and the extended timestamp (Unix time, which
 * would then be off by the host's offset) is left out.
 */
export function fixedTime(ms: number): { mtime: Date; forceDosTimestamp: true } {
  const local = new Date(ms);
  return { mtime: new Date(ms + local.getTimezoneOffset() * 60_000), forceDosTimestamp: true };
}
