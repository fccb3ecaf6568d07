/**
 * A free-text CSV cell (a name, a code, a memo) that a spreadsheet will not read as a formula: one
 * starting with = + - @, a tab or a carriage return gets an apostrophe (quotes alone do not stop a
 * spreadsheet from evaluating `"=HYPERLINK(...)"`), then it is quoted when it holds a quote, a comma
 * or a line end. Numbers are written as they are, never through this.
 */
export function csvText(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
