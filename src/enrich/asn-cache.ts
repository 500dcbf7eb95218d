/**
 * A parsed copy of an ASN table in a cache folder (the server's is build/cache/), so that a restart
 * reads its ranges instead of parsing 33 MB of CSV again (about 1 s of CPU at every start, the
 * largest part of a restart after a crash). The copy names the CSV it came from (path, size,
 * modification time) and is used only while they match; anything wrong with it (missing, short,
 * other version, unreadable) means the CSV is parsed as before and the copy written anew. It is
 * never the only copy of anything.
 *
 * Layout: "RSASN1\n" + a JSON header line, padded with spaces to a multiple of 4 bytes, then the
 * words of starts, ends and org (native byte order, recorded in the header), then the names as JSON.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AsnTable, parseAsnCsv } from './asn.ts';

const MAGIC = 'RSASN1\n';
/** Raised when the parser's output changes, so copies made by an older parser are not read. */
const FORMAT = 1;

interface Header {
  format: number;
  endian: string;
  source: { path: string; size: number; mtimeMs: number };
  v6: boolean;
  ranges: number;
  namesBytes: number;
}

type Source = Header['source'];

/** The table of an ASN CSV: from its parsed copy in cacheDir when that is current, else parsed (and the copy written). */
export async function loadAsnTable(csvPath: string, v6: boolean, cacheDir: string | null): Promise<AsnTable> {
  if (!cacheDir) return parseAsnCsv(await readFile(csvPath), v6, csvPath);
  const st = await stat(csvPath);
  const source: Source = { path: csvPath, size: st.size, mtimeMs: st.mtimeMs };
  const file = join(cacheDir, `asn-${v6 ? 'v6' : 'v4'}.bin`);
  const cached = await readCopy(file, source, v6);
  if (cached) return cached;
  const table = parseAsnCsv(await readFile(csvPath), v6, csvPath);
  await writeCopy(file, source, table).catch(() => undefined); // a folder that cannot be written: parse at every start, as before
  return table;
}

async function readCopy(file: string, source: Source, v6: boolean): Promise<AsnTable | null> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    return null;
  }
  if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  const nl = buf.indexOf(10, MAGIC.length);
  if (nl < 0) return null;
  let h: Header;
  try {
    h = JSON.parse(buf.toString('utf8', MAGIC.length, nl)) as Header;
  } catch {
    return null;
  }
  const s = h.source;
  if (h.format !== FORMAT || h.endian !== endianness() || h.v6 !== v6 || !s || s.path !== source.path || s.size !== source.size || s.mtimeMs !== source.mtimeMs) return null;
  const w = v6 ? 4 : 1, k = h.ranges;
  if (!Number.isSafeInteger(k) || k <= 0 || !Number.isSafeInteger(h.namesBytes) || h.namesBytes < 0) return null;
  const at = align4(nl + 1);
  const words = k * w * 2 + k;
  if (buf.length !== at + words * 4 + h.namesBytes) return null;
  // A fresh, aligned copy of the words: the file's buffer may sit at any offset.
  const all = new Uint32Array(words);
  new Uint8Array(all.buffer).set(buf.subarray(at, at + words * 4));
  let names: unknown;
  try {
    names = JSON.parse(buf.toString('utf8', at + words * 4));
  } catch {
    return null;
  }
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) return null;
  const org = all.subarray(2 * k * w);
  for (let x = 0; x < k; x++) if (org[x] >= names.length) return null;
  return new AsnTable(v6, all.subarray(0, k * w), all.subarray(k * w, 2 * k * w), org, names as string[]);
}

async function writeCopy(file: string, source: Source, t: AsnTable): Promise<void> {
  const names = Buffer.from(JSON.stringify(t.names), 'utf8');
  const header: Header = { format: FORMAT, endian: endianness(), source, v6: t.v6, ranges: t.size, namesBytes: names.length };
  const head = MAGIC + JSON.stringify(header);
  const headBytes = Buffer.byteLength(head) + 1;
  const parts = [Buffer.from(head + ' '.repeat(align4(headBytes) - headBytes) + '\n'), bytes(t.starts), bytes(t.ends), bytes(t.org), names];
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  // A start killed while writing left its temporary file. Servers sharing the folder may be writing
  // theirs now (a write takes well under a second): only those older than a minute are removed.
  const stale = Date.now() - 60_000;
  for (const f of await readdir(dir)) {
    if (!f.startsWith(`${basename(file)}.`) || !f.endsWith('.tmp')) continue;
    const p = join(dir, f);
    const mtime = (await stat(p).catch(() => null))?.mtimeMs ?? Infinity;
    if (mtime < stale) await unlink(p).catch(() => undefined);
  }
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, parts);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

const align4 = (n: number) => (n + 3) & ~3;
const bytes = (a: Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
