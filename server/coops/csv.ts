/**
 * A strict RFC 4180 CSV reader: comma-separated, fields optionally in double quotes (a quote inside
 * a quoted field is doubled), CRLF or LF line ends, an optional UTF-8 byte-order mark. Quoted
 * fields may span lines; each record keeps the line number it starts on, so errors can name it.
 */

export interface CsvRecord {
  /** Line of the file the record starts on (1-based; the header is usually line 1). */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = input.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (input[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(start, 'a quoted field is not closed');
          const c = input[i]!;
          if (c === '"') {
            if (input[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          value += c;
          i++;
        }
        if (i < n && input[i] !== ',' && input[i] !== '\n' && input[i] !== '\r')
          throw new CsvSyntaxError(line, 'text after a closing quote; quote the whole field');
      } else {
        while (i < n && input[i] !== ',' && input[i] !== '\n' && input[i] !== '\r') {
          if (input[i] === '"') throw new CsvSyntaxError(line, 'a quote inside an unquoted field');
          value += input[i];
          i++;
        }
      }
      fields.push(value);
      if (i < n && input[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (input[i] === '\r') i++;
    if (input[i] === '\n') i++;
    else if (i < n) throw new CsvSyntaxError(line, 'a carriage return without a line feed');
    line++;
    // A blank line (one empty field) is skipped.
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
  }
  return records;
}
