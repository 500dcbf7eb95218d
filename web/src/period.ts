/**
 * The period picker's choices: the named periods of the stats API (resolved by the server in the
 * browser's time zone, so "this week" is the viewer's week) and a custom range of dates.
 */
export const PRESETS = [
  { id: 'last_24_hours', label: 'Last 24 hours' },
  { id: 'today', label: 'Today' },
  { id: 'yesterday', label: 'Yesterday' },
  { id: 'last_30_days', label: 'Last 30 days' },
  { id: 'this_week', label: 'This week' },
  { id: 'last_week', label: 'Last week' },
  { id: 'this_month', label: 'This month' },
  { id: 'last_month', label: 'Last month' },
  { id: 'last_year', label: 'Last year' },
  { id: 'all_time', label: 'All time' },
  { id: 'custom', label: 'Custom period' },
] as const;
export type PresetId = (typeof PRESETS)[number]['id'];

export const TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export interface Period {
  preset: PresetId;
  from: string;
  to: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Today in the browser's zone, as YYYY-MM-DD. */
export function localToday(offsetDays = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The period of the address bar (?period=…, or ?period=custom&from=…&to=…); default the last 30 days. */
export function periodOf(q: URLSearchParams): Period {
  const preset = (PRESETS.find((p) => p.id === q.get('period'))?.id ?? 'last_30_days') as PresetId;
  const from = q.get('from') ?? '';
  const to = q.get('to') ?? '';
  if (preset === 'custom' && DATE.test(from) && DATE.test(to) && from <= to) return { preset, from, to };
  if (preset === 'custom') return { preset: 'custom', from: localToday(-6), to: localToday() };
  return { preset, from: '', to: '' };
}

/** The stats API parameters of a period. */
export function periodParams(p: Period): Record<string, string> {
  return p.preset === 'custom' ? { from: p.from, to: p.to, tz: TZ } : { period: p.preset, tz: TZ };
}

/** Hours for periods of a day or so, days otherwise. */
export function granularity(p: Period): 'hour' | 'date' {
  if (p.preset === 'last_24_hours' || p.preset === 'today' || p.preset === 'yesterday') return 'hour';
  return p.preset === 'custom' && p.from === p.to ? 'hour' : 'date';
}

export const presetLabel = (id: PresetId): string => PRESETS.find((p) => p.id === id)!.label;
