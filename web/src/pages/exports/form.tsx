/** Form pieces shared by the export forms. */
import type { ComponentChildren } from 'preact';

export const SCOPES = [
  { id: 'events', label: 'Raw events' },
  { id: 'views', label: 'View records' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'videos', label: 'Videos (one row each, with metrics)' },
];
export const FORMATS = ['csv', 'jsonl', 'json', 'xlsx', 'parquet'];
export const TYPES = ['events', 'quality', 'ads'];

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      {children}
      {hint && <span class="muted small">{hint}</span>}
    </label>
  );
}

export const val = (e: Event) => (e.target as HTMLInputElement).value;

export function utcDate(offsetDays = 0): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** A [from, to) window of whole UTC days as "2026-03-01 – 2026-03-07" (one day: just the day). */
export function utcDays(p: { from: string; to: string }): string {
  const first = p.from.slice(0, 10);
  const last = new Date(Date.parse(p.to) - 1).toISOString().slice(0, 10);
  return first === last ? first : `${first} – ${last}`;
}

/** A [from, to) window in UTC: whole days as utcDays does, else "2026-03-01 14:00 – 15:00 UTC". */
export function utcWindow(p: { from: string; to: string }): string {
  const midnight = (iso: string) => iso.slice(11, 19) === '00:00:00';
  if (midnight(p.from) && midnight(p.to)) return utcDays(p);
  const f = p.from.slice(0, 16).replace('T', ' ');
  const t = p.to.slice(0, 10) === p.from.slice(0, 10) ? p.to.slice(11, 16) : p.to.slice(0, 16).replace('T', ' ');
  return `${f} – ${t} UTC`;
}

/** The `bom` option of a CSV export or report: a UTF-8 byte order mark first, for Excel. */
export function BomField({ checked, onChange }: { checked: boolean; onChange: (on: boolean) => void }) {
  return (
    <Field label="For Excel" hint="A UTF-8 byte order mark first: Excel then shows accents and emoji right">
      <span class="check"><input type="checkbox" data-testid="bom" checked={checked} onChange={() => onChange(!checked)} /> Byte order mark</span>
    </Field>
  );
}
