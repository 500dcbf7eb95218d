/** Choose the fields of an export scope (GET /api/v1/fields); none chosen means every field. */
import { useApi } from '../hooks';

interface FieldDef { name: string; type: string; description?: string }

export function FieldPicker({ scope, value, onChange }: { scope: string; value: string[]; onChange: (v: string[]) => void }) {
  const r = useApi<{ data: FieldDef[] }>(`/api/v1/fields?scope=${encodeURIComponent(scope)}`);
  const fields = r.data?.data ?? [];
  const toggle = (name: string) => onChange(value.includes(name) ? value.filter((v) => v !== name) : [...value, name]);
  return (
    <details class="field-picker">
      <summary>Fields: {value.length ? `${value.length} chosen` : `all ${fields.length || ''}`.trim()}</summary>
      <div class="field-grid">
        {fields.map((f) => (
          <label key={f.name} class="check" title={f.description}>
            <input type="checkbox" checked={value.includes(f.name)} onChange={() => toggle(f.name)} /> {f.name}
          </label>
        ))}
      </div>
      {value.length > 0 && <button type="button" class="btn small ghost" onClick={() => onChange([])}>All fields</button>}
    </details>
  );
}
