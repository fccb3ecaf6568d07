/**
 * The posting engine's write builds each array parameter as a literal (store.ts ArrayLiteral),
 * its array made at the size the write counted beforehand. The literal must not depend on that
 * size: fewer elements than counted (no empty elements joined in), more (grown as any array),
 * none, one; repeated texts quoted as the first.
 */
import { describe, expect, it } from 'vitest';
import { ArrayLiteral } from '../../server/ledger/store.js';

function literal(capacity: number, fill: (l: ArrayLiteral) => void): string {
  const l = new ArrayLiteral(capacity);
  fill(l);
  return l.done();
}

describe('ArrayLiteral', () => {
  it('writes the same literal whatever size it was made at', () => {
    const fill = (l: ArrayLiteral) => {
      l.raw('1');
      l.text('a "b"');
      l.text('a "b"');
      l.rawOrNull(null);
      l.text(null);
      l.text('c\\d');
    };
    const expected = '{1,"a \\"b\\"","a \\"b\\"",NULL,NULL,"c\\\\d"}';
    for (const capacity of [0, 1, 5, 6, 7, 100]) expect(literal(capacity, fill)).toBe(expected);
  });

  it('writes none and one element', () => {
    for (const capacity of [0, 1, 3]) {
      expect(literal(capacity, () => {})).toBe('{}');
      expect(literal(capacity, (l) => l.raw('x'))).toBe('{x}');
      expect(literal(capacity, (l) => l.text(''))).toBe('{""}');
    }
  });
});
