/**
 * Strict RFC 4180 CSV through `csv-parse` (sync API): comma-separated, fields optionally in double
 * quotes (a quote inside a quoted field is doubled), CRLF or LF line ends (not a bare CR), an
 * optional UTF-8 byte-order mark, blank lines skipped. Quoted fields may span lines; each record
 * keeps the line number it starts on and a syntax error names its line, so the import can report
 * both. Lines are counted here, not taken from the library's `lines`, which counts a CR LF inside a
 * quoted field as two lines (a Windows export with a two-line address would shift every row after
 * it). The messages are ours (treasurers read them row by row); an error we have no wording for
 * keeps the library's.
 */
import { CsvError, parse } from 'csv-parse/sync';

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

/** Our wording for the library's error codes; anything else keeps the library's message. */
const MESSAGES: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is not closed',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field',
  CSV_INVALID_CLOSING_QUOTE: 'text after a closing quote; quote the whole field',
};

export function parseCsv(text: string): CsvRecord[] {
  let body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // A CR that ends the file ends its last line.
  if (body.endsWith('\r')) body = body.slice(0, -1);
  // Lines are counted on the bytes that the library's offsets (`bytes`) index.
  const input = Buffer.from(body, 'utf8');
  const lineFeeds: number[] = [];
  for (let i = input.indexOf(10); i !== -1; i = input.indexOf(10, i + 1)) lineFeeds.push(i);
  /** 1-based line of the byte at `offset`. */
  const lineAt = (offset: number) => 1 + countBelow(lineFeeds, offset);
  /** The line a record starts on, from the offset where the one before it ended. */
  const startLine = (offset: number) => lineAt(skipBlankLines(input, offset));

  const records: CsvRecord[] = [];
  /** Offset just past the last record (and its line end): the library's `bytes` there. */
  let previousEnd = 0;
  /**
   * The line of a fault in the record being read, from its text up to the fault (`raw`), which may
   * start with the blank lines before the record.
   */
  const faultLine = (raw: string) => startLine(previousEnd) + countLineFeeds(raw.replace(/^[\r\n]+/, ''));
  try {
    parse(input, {
      // Errors carry the record's text up to the fault (`raw`), which tells the fault's line.
      raw: true,
      // Not a bare CR: it is refused below, as RFC 4180 has no such line end.
      record_delimiter: ['\r\n', '\n'],
      // The import names the rows whose field count differs from the header's, all of them.
      relax_column_count: true,
      skip_empty_lines: true,
      cast: (value, context) => {
        // `raw` ends with this field's separator: a line feed there ends the record, not this line.
        if (!context.quoting && value.includes('\r'))
          throw new CsvSyntaxError(
            faultLine(String(context.raw ?? '').replace(/\n$/, '')),
            'a carriage return without a line feed',
          );
        return value;
      },
      on_record: (record, context) => {
        // With `raw`, the library hands each record over as { record, raw }.
        const fields = (record as unknown as { record: string[] }).record;
        const line = startLine(previousEnd);
        previousEnd = context.bytes;
        // A line holding only "" is blank too.
        if (!(fields.length === 1 && fields[0] === '')) records.push({ line, fields });
        return null;
      },
    });
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw error;
    if (error instanceof CsvError) {
      // An unclosed quote is found at the end of the file: it is the record's.
      const line =
        error.code === 'CSV_QUOTE_NOT_CLOSED' ? startLine(previousEnd) : faultLine(String(error.raw ?? ''));
      throw new CsvSyntaxError(line, MESSAGES[error.code] ?? error.message);
    }
    throw error;
  }
  return records;
}

/** How many of the ascending `values` are below `limit`. */
function countBelow(values: number[], limit: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (values[mid]! < limit) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The offset of the first byte from `offset` on that is not part of a blank line (LF or CR LF). */
function skipBlankLines(input: Buffer, offset: number): number {
  let i = offset;
  for (;;) {
    if (input[i] === 10) i++;
    else if (input[i] === 13 && input[i + 1] === 10) i += 2;
    else return i;
  }
}

function countLineFeeds(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
