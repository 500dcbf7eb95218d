/** The period filter: a named period or a custom range of dates, kept in the address (?period=…). */
import { useState } from 'preact/hooks';
import { localToday, PRESETS, TZ, type Period, type PresetId } from '../period';
import { setQuery } from '../router';

export function PeriodPicker({ period }: { period: Period }) {
  const [from, setFrom] = useState(period.preset === 'custom' ? period.from : localToday(-6));
  const [to, setTo] = useState(period.preset === 'custom' ? period.to : localToday());
  const [custom, setCustom] = useState(period.preset === 'custom');
  const invalid = !from || !to || from > to;

  return (
    <div class="period-picker">
      <label class="sr-only" for="period">Period</label>
      <select
        id="period" data-testid="period" value={custom ? 'custom' : period.preset}
        onChange={(e) => {
          const id = (e.target as HTMLSelectElement).value as PresetId;
          if (id === 'custom') setCustom(true);
          else {
            setCustom(false);
            setQuery({ period: id === 'last_30_days' ? null : id, from: null, to: null });
          }
        }}
      >
        {PRESETS.map((p) => <option key={p.id} value={p.id}>{p.label}</option>)}
      </select>
      {custom && (
        <form class="custom-range" onSubmit={(e) => {
          e.preventDefault();
          if (!invalid) setQuery({ period: 'custom', from, to });
        }}>
          <input type="date" aria-label="From" value={from} max={to || undefined} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
          <span aria-hidden="true">–</span>
          <input type="date" aria-label="To" value={to} min={from || undefined} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
          <button class="btn small" type="submit" disabled={invalid}>Apply</button>
        </form>
      )}
      <span class="muted small tz" title="Days and hours are those of this time zone">{TZ}</span>
    </div>
  );
}
