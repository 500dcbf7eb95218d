/** The parts of an export run, each a signed download link. */
import { fmtBytes, fmtInt } from '../format';

export interface ExportFile { name: string; url: string; size: number; rows: number; sha256: string; expiresAt: string }

export function Files({ files }: { files: ExportFile[] }) {
  if (!files.length) return <span class="muted">—</span>;
  return (
    <ul class="files">
      {files.map((f) => (
        <li key={f.name}>
          <a href={f.url} download={f.name} data-testid="download" title={`SHA-256 ${f.sha256}; link valid until ${new Date(f.expiresAt).toLocaleString()}`}>{f.name}</a>
          <span class="muted small"> {fmtBytes(f.size)} · {fmtInt(f.rows)} rows</span>
        </li>
      ))}
    </ul>
  );
}
