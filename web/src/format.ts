/** How numbers, durations, dates and dimension values are shown. */

const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export const fmtInt = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : int.format(n));

/** A ratio as a whole percentage, rounded half up (metrics.md: 20 / 85 → 24 %). */
export function percent(r: number | null | undefined): number | null {
  return r === null || r === undefined ? null : Math.floor(r * 100 + 0.5 + 1e-9);
}
export const fmtPercent = (r: number | null | undefined): string => {
  const p = percent(r);
  return p === null ? '—' : `${p}%`;
};

/** Seconds as "42 s", "12 min 5 s", "3 h 25 min", "412 h". */
export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined) return '—';
  const t = Math.round(s);
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min${t % 60 ? ` ${t % 60} s` : ''}`;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  return h >= 100 ? `${int.format(h)} h` : `${h} h${m ? ` ${m} min` : ''}`;
}

/** A playhead position: 0:07, 12:40, 1:02:03. */
export function fmtClock(s: number): string {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${dec.format(n / 1024)} KB`;
  if (n < 1024 ** 3) return `${dec.format(n / 1024 ** 2)} MB`;
  return `${dec.format(n / 1024 ** 3)} GB`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
export const fmtDateTime = (iso: string | null | undefined): string => (iso ? dateTime.format(new Date(iso)) : '—');
export const fmtDate = (iso: string | null | undefined): string => (iso ? dateOnly.format(new Date(iso)) : '—');

let regions: Intl.DisplayNames | null = null;
try {
  regions = new Intl.DisplayNames(['en'], { type: 'region' });
} catch {
  regions = null;
}

/** "DE" → "Germany" (the code itself when the browser does not know it). */
export function countryName(code: string): string {
  try {
    return regions?.of(code) ?? code;
  } catch {
    return code;
  }
}

const PLATFORMS: Record<string, string> = { desktop: 'Desktop', smartphone: 'Smartphone', tablet: 'Tablet', tv: 'TV', console: 'Console', wearable: 'Wearable' };
export const platformLabel = (p: string | null): string => (p ? (PLATFORMS[p] ?? p) : 'Unknown');
export const plainLabel = (v: string | null): string => v ?? 'Unknown';
