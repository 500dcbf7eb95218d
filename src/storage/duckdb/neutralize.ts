/**
 * formats/neutralize.ts in SQL: text starting with = + - @ TAB CR gets a leading '. A test of the
 * first code point (ascii(); left() works on grapheme clusters and costs more), not a regular expression: neutralizing is a large share of a CSV export's cost.
 * list_contains(), not IN: DuckDB rewrites an IN list of constants into a join, and a join makes an
 * export's plan lose storage order (exports.ts, keepsOrder).
 */
export const neutralizeSql = (expr: string) => `CASE WHEN list_contains([61, 43, 45, 64, 9, 13], ascii(${expr})) THEN '''' || ${expr} ELSE ${expr} END`;
