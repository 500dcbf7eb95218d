/**
 * formats/neutralize.ts in SQL: text starting with = + - @ TAB CR gets a leading '. A test of the
 * first code point (ascii(); left() works on grapheme clusters and costs more), not a regular expression: neutralizing is a large share of a CSV export's cost.
 */
export const neutralizeSql = (expr: string) => `CASE WHEN ascii(${expr}) IN (61, 43, 45, 64, 9, 13) THEN '''' || ${expr} ELSE ${expr} END`;
