// Formula neutralization shared by the CSV and XLSX writers (spec exports.md): a text value that
// starts with `=`, `+`, `-`, `@`, TAB or CR is written with a leading `'`, so that no spreadsheet
// evaluates it as a formula (or DDE command). Only text is neutralized: the number -5 stays a number.

/** Returns `s` prefixed with `'` when its first character could start a formula, else `s` itself. */
export function neutralizeFormula(s: string): string {
  switch (s.charCodeAt(0)) {
    case 0x3d: // =
    case 0x2b: // +
    case 0x2d: // -
    case 0x40: // @
    case 0x09: // TAB
    case 0x0d: // CR
      return "'" + s;
    default:
      return s;
  }
}
