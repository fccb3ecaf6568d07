/**
 * CSV files a treasurer brings (issue 17: journal entries, bank statements): `csv-parse` with the
 * delimiter the file uses (comma, semicolon or tab; European banks export semicolons), fields
 * optionally in double quotes, CR LF or LF line ends, an optional UTF-8 byte-order mark, blank
 * lines skipped. Each record keeps the line it starts on, counted from the line feeds of the
 * records before it (so a quoted field spanning lines shifts nothing), and a syntax error names
 * its line.
 */
import { CsvError, parse } from 'csv-parse/sync';

export interface CsvRow {
  /** Line of the file the record starts on (1-based). */
  line: number;
  fields: string[];
}

export class CsvFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export type CsvDelimiter = ',' | ';' | '\t';

const MESSAGES: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is not closed',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field',
  CSV_INVALID_CLOSING_QUOTE: 'text after a closing quote; quote the whole field',
};

/** The records of a CSV text, blank lines left out; throws CsvFileError naming the line of a fault. */
export function readCsv(text: string, delimiter: CsvDelimiter = ','): CsvRow[] {
  const input = Buffer.from(text.startsWith('\uFEFF') ? text.slice(1) : text, 'utf8');
  const lineFeeds: number[] = [];
  for (let i = input.indexOf(10); i !== -1; i = input.indexOf(10, i + 1)) lineFeeds.push(i);
  /** 1-based line of the byte at `offset`: one more than the line feeds before it. */
  const lineAt = (offset: number) => {
    let low = 0;
    let high = lineFeeds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (lineFeeds[mid]! < offset) low = mid + 1;
      else high = mid;
    }
    return low + 1;
  };
  const rows: CsvRow[] = [];
  // Blank lines are read as records of one empty field (so the offsets step over them) and dropped.
  let previousEnd = 0;
  try {
    parse(input, {
      delimiter,
      record_delimiter: ['\r\n', '\n'],
      relax_column_count: true,
      skip_empty_lines: false,
      on_record: (fields: string[], context) => {
        const line = lineAt(previousEnd);
        previousEnd = context.bytes;
        if (!(fields.length === 1 && fields[0]!.trim() === '')) rows.push({ line, fields });
        return null;
      },
    });
  } catch (error) {
    if (error instanceof CsvError)
      throw new CsvFileError(lineAt(previousEnd), MESSAGES[error.code] ?? error.message);
    throw error;
  }
  return rows;
}
