/**
 * How cityReport's JSON writer prints a whole number of minor units (query.ts writeMinor): as
 * formatValue does, for every safe integer (those past 31 bits partly in floating point, the rest
 * in small integers), with or without a currency's scale.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeMinor } from '../../server/reporting/query.js';

/** formatValue's text for a safe integer that is not -0. */
function expected(minor: number, scale: number): string {
  if (scale === 0) return String(minor);
  const digits = String(Math.abs(minor)).padStart(scale + 1, '0');
  return `${minor < 0 ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function written(minor: number, scale: number): string {
  const out = Buffer.alloc(40);
  return out.subarray(0, writeMinor(out, 0, minor, scale)).toString('latin1');
}

describe('writeMinor', () => {
  it('writes what formatValue writes, for every safe integer and scale', () => {
    const minor = fc
      .oneof(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer(),
        fc.maxSafeInteger(),
        fc.maxSafeInteger().map((v) => -v),
        fc.integer({ min: -1, max: 1 }).map((d) => 2 ** 31 + d),
        fc.integer({ min: -1, max: 1 }).map((d) => -(2 ** 31) + d),
        fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
      )
      .filter((v) => !Object.is(v, -0));
    fc.assert(
      fc.property(minor, fc.integer({ min: 0, max: 4 }), (v, scale) => {
        expect(written(v, scale)).toBe(expected(v, scale));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the edges', () => {
    for (const v of [
      0,
      1,
      -1,
      9,
      10,
      99,
      100,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 31 + 9,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
    ])
      for (const scale of [0, 1, 2, 3]) expect(written(v, scale), `${v} ${scale}`).toBe(expected(v, scale));
  });
});
