/**
 * The CSV reader on csv-parse: what the import relies on beyond tests/core/membership.test.ts,
 * chiefly line numbers (the library's own count takes a CR LF inside a quoted field for two lines)
 * and our wording of its errors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from '../../server/coops/csv.js';

function syntaxError(text: string): CsvSyntaxError {
  try {
    parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) return error;
    throw error;
  }
  throw new Error(`no syntax error in ${JSON.stringify(text)}`);
}

describe('parseCsv on csv-parse', () => {
  it('numbers records by the line they start on, also after quoted CR LF line breaks and blank lines', () => {
    const text = 'h1,h2\r\n"two\r\nlines",x\r\n\r\n"three\r\nline\r\nfield",y\r\nlast,z';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['h1', 'h2'] },
      { line: 2, fields: ['two\r\nlines', 'x'] },
      { line: 5, fields: ['three\r\nline\r\nfield', 'y'] },
      { line: 8, fields: ['last', 'z'] },
    ]);
  });

  it('numbers every record by its first line, whatever the line ends inside and between fields', () => {
    const field = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r\n', '\r', 'é') });
    fc.assert(
      fc.property(
        fc
          .array(fc.array(field, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 })
          // A record of one empty field is a blank line: skipped.
          .filter((rows) => rows.every((r) => r.length > 1 || r[0] !== '')),
        fc.constantFrom('\n', '\r\n'),
        (rows, eol) => {
          const lines = rows.map((r) => r.map((f) => `"${f.replaceAll('"', '""')}"`).join(','));
          const text = lines.join(eol);
          let line = 1;
          const expected = rows.map((fields, i) => {
            const record = { line, fields };
            line += (lines[i]!.match(/\n/g)?.length ?? 0) + 1;
            return record;
          });
          expect(parseCsv(text)).toEqual(expected);
        },
      ),
    );
  });

  it('names the line of each fault in our words, also after a multi-line record', () => {
    const before = 'h1,h2\r\n"a\r\nb",c\r\n';
    expect(syntaxError(`${before}"open,2\r\nmore,3\r\n`)).toMatchObject({
      line: 4,
      message: 'a quoted field is not closed',
    });
    expect(syntaxError(`${before}x,y"z\r\n`)).toMatchObject({
      line: 4,
      message: 'a quote inside an unquoted field',
    });
    expect(syntaxError(`${before}"x"y,2\r\n`)).toMatchObject({
      line: 4,
      message: 'text after a closing quote; quote the whole field',
    });
    expect(syntaxError(`${before}"multi\r\nline"y,2\r\n`)).toMatchObject({ line: 5 });
    expect(syntaxError(`${before}x,y\rz\r\n`)).toMatchObject({
      line: 4,
      message: 'a carriage return without a line feed',
    });
  });

  it('skips blank lines and lines holding only "", keeps a CR inside quotes, ends on a final CR', () => {
    expect(parseCsv('a,b\n\n""\r\n"c\rd",e\r')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 4, fields: ['c\rd', 'e'] },
    ]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\uFEFF')).toEqual([]);
  });
});
