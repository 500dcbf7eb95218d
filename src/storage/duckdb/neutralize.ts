/**
 * formats/neutralize.ts in SQL: text starting with = + - @ TAB CR gets a leading '. Neutralizing is
 * a large share of a CSV export's cost, so the test is cheap first:
 * - `< 'A'`: every one of those characters is below 'A' (0x41) and DuckDB compares text bytewise,
 *   from a prefix held in the string's header, so most text (URLs, user agents, names, hex ids with
 *   letters) is settled by one comparison (a slice of view records: ~10% faster than the test alone);
 * - then the first code point (ascii(); left() works on grapheme clusters and costs more), not a
 *   regular expression; list_contains(), not IN: DuckDB rewrites an IN list of constants into a join,
 *   and a join makes an export's plan lose storage order (exportranges.ts, orderKeptBy).
 */
export const neutralizeSql = (expr: string) => `CASE WHEN ${expr} < 'A' AND list_contains([61, 43, 45, 64, 9, 13], ascii(${expr})) THEN '''' || ${expr} ELSE ${expr} END`;
