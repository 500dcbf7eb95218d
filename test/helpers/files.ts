/** Reading export files with independent tools: unzip, csv-parse, openpyxl (Debian's python3). */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const READER = `
import sys, json, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
def val(v):
    if isinstance(v, datetime.datetime): return {'date': v.isoformat(timespec='milliseconds')}
    return v
print(json.dumps([{'title': ws.title, 'rows': [[val(v) for v in r] for r in ws.iter_rows(values_only=True)]} for ws in wb.worksheets]))
`;

export type XlsxCell = string | number | boolean | null | { date: string };
export interface XlsxSheet { title: string; rows: XlsxCell[][] }

const dir = mkdtempSync(join(tmpdir(), 'reelstat-files-'));
let n = 0;

/** Saves bytes to a temporary file and returns its path. */
export function saveTemp(buf: Buffer, ext: string): string {
  const p = join(dir, `f${++n}.${ext}`);
  writeFileSync(p, buf);
  return p;
}

/** Every sheet of an XLSX file as openpyxl reads it. */
export function readXlsx(buf: Buffer | string): XlsxSheet[] {
  const path = typeof buf === 'string' ? buf : saveTemp(buf, 'xlsx');
  const r = spawnSync(PYTHON, ['-c', READER, path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `openpyxl failed (apt-get install -y python3-openpyxl): ${r.stderr}`);
  return JSON.parse(r.stdout) as XlsxSheet[];
}

/** `unzip -t` passes; returns the names in the archive. */
export function unzipTest(buf: Buffer | string): string[] {
  const path = typeof buf === 'string' ? buf : saveTemp(buf, 'zip');
  const t = spawnSync('unzip', ['-t', path], { encoding: 'utf8' });
  assert.equal(t.status, 0, `unzip -t: ${t.stdout}${t.stderr}`);
  return [...t.stdout.matchAll(/testing: (.+?) +OK/g)].map((m) => m[1]!);
}

/** One member of a ZIP, by `unzip -p`. */
export function unzipMember(buf: Buffer, name: string): Buffer {
  return execFileSync('unzip', ['-p', saveTemp(buf, 'zip'), name], { maxBuffer: 1 << 28 });
}

export function parseCsv(buf: Buffer | string): Record<string, string>[] {
  return parse(buf, { columns: true, bom: false, relax_quotes: false });
}

/** GET a (signed) download link: 200 and the bytes. */
export async function download(url: string): Promise<Buffer> {
  const r = await fetch(url);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}
