/**
 * What every parsed request body must be before a route sees it: text that is
 * well-formed Unicode, nested at most MAX_DEPTH deep. JSON may spell a lone UTF-16 surrogate
 * ("\ud800"), which neither UTF-8 nor DuckDB's JSON reader accept: one stored in an export's spec
 * made every later read of the account's jobs fail. A body nested thousands deep overflowed the
 * stack of the code that quoted it in an error. The collector reads its body as text (a string
 * body is not looked into here) and checks each event's fields alone (events/validate.ts): such an
 * event is refused, the others of the request kept.
 */
export const MAX_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A key as a path shows it: shortened, and without the surrogate that may be its fault. */
const keyShown = (k: string) => (k.length > 40 ? `${k.slice(0, 40)}…` : k).replace(/[\uD800-\uDFFF]/g, '\uFFFD');

/** What is wrong with `value` (parsed JSON or a form), named by its path under `root`, or null. */
export function malformed(value: unknown, root: string): string | null {
  const stack: Array<[unknown, string, number]> = [[value, root, 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return `${path} holds a lone UTF-16 surrogate; send well-formed Unicode text`;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return `${path} is nested more than ${MAX_DEPTH} levels deep`;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`, depth + 1]);
      continue;
    }
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      if (LONE_SURROGATE.test(k)) return `a key of ${path} (${JSON.stringify(keyShown(k))}) holds a lone UTF-16 surrogate; send well-formed Unicode text`;
      stack.push([x, `${path}.${keyShown(k)}`, depth + 1]);
    }
  }
  return null;
}
