/** `value` quoted for an error message: JSON, cut to `max` characters (README: "Long values are quoted in error messages cut to 80 characters"). */
export function shown(value: unknown, max = 80): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = Object.prototype.toString.call(value);
  }
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
}
