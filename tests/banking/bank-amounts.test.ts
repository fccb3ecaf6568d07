/**
 * Amounts as banks write them (server/banking/parsers.ts csvAmount): random amounts written with
 * either decimal mark, grouped by thousands with the other mark, a space, a no-break space or an
 * apostrophe (or not grouped), negative as a leading or trailing minus (or U+2212) or in
 * parentheses, read back to the same value; and the same text read with the other decimal mark is refused or the
 * same number, but for one mark before three digits (1,234), which only the mapping can tell.
 */
import { describe, expect, it } from 'vitest';
import { csvAmount } from '../../server/banking/parsers.js';
import { seededRandom } from '../helpers/ledger.js';

describe('csvAmount', () => {
  it('reads back random amounts in every written form', () => {
    const random = seededRandom(4711);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    for (let i = 0; i < 2000; i++) {
      const whole = String(Math.floor(random() * 10 ** Math.floor(random() * 13)));
      const scale = pick([0, 1, 2, 3]);
      const fraction = Array.from({ length: scale }, () => Math.floor(random() * 10)).join('');
      const decimalComma = random() < 0.5;
      const mark = decimalComma ? ',' : '.';
      const group = pick(['', decimalComma ? '.' : ',', ' ', '\u00a0', "'"]);
      const grouped = group === '' ? whole : whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
      const body = fraction === '' ? grouped : `${grouped}${mark}${fraction}`;
      const negative = random() < 0.5 && /[1-9]/.test(whole + fraction);
      const text = negative
        ? pick([`-${body}`, `${body}-`, `(${body})`, `- ${body}`, `\u2212${body}`])
        : pick([body, `+${body}`]);
      const expected = `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
      expect(csvAmount(text, decimalComma), `${JSON.stringify(text)} decimalComma=${decimalComma}`).toBe(
        expected,
      );
      // Read with the other mark: refused, or the same value, unless the text is one mark and three
      // digits after a non-zero group (1,234: a thousand and more, or one and a bit; the mapping says).
      const other = csvAmount(text, !decimalComma);
      if (other !== null && !/^[1-9]\d{0,2}[.,]\d{3}$/.test(body))
        expect(other, JSON.stringify(text)).toBe(expected);
    }
  });

  it('refuses what is not an amount', () => {
    for (const text of [
      '',
      '-',
      '()',
      '1.2.3',
      '12,5,0',
      '1,23,4',
      '€12.00',
      '12.',
      '.5',
      '1e3',
      '0x10',
      '1 2',
      '--1',
    ])
      expect(csvAmount(text, false), JSON.stringify(text)).toBeNull();
  });
});
