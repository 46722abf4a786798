/**
 * One CSV line (RFC 4180): every cell quoted, quotes doubled. A cell that a spreadsheet would run
 * as a formula (=, +, -, @, tab, CR) is prefixed with an apostrophe: exported names come from
 * tenants and providers, and an operator opens the file in Excel.
 */
export function csvLine(cells: unknown[]): string {
  return cells
    .map((cell) => {
      const text = cell === null || cell === undefined ? '' : String(cell);
      const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
      return `"${safe.replace(/"/g, '""')}"`;
    })
    .join(',');
}
