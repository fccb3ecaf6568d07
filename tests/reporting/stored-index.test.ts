/**
 * The index a loaded release finds its stored cells by (stored-cells.ts storedIndex / storedAt): for every
 * cell id, stored or not, it gives the same position as a binary search over the ascending ids, or
 * -1. Random sorted id sets, including the empty one, ids at word edges (multiples of 32 and the
 * ids before them), the first and last stored ids, and ids past the last.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { storedAt, storedIndex } from '../../server/reporting/stored-cells.js';

function binarySearch(ids: Uint32Array, cell: number): number {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] === cell) return mid;
    if (ids[mid]! < cell) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Ascending distinct ids: dense runs and gaps, some around 32-cell words. */
const sortedIds = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 40 }).map((w) => w * 32 + 31),
    ),
    {
      maxLength: 200,
    },
  )
  .map((xs) => Uint32Array.from([...new Set(xs)].sort((a, b) => a - b)));

function checkAll(ids: Uint32Array): void {
  const index = storedIndex(ids);
  const last = ids.length > 0 ? ids[ids.length - 1]! : 0;
  for (let cell = 0; cell <= last + 70; cell++)
    expect(storedAt(index, cell), `cell ${cell}`).toBe(binarySearch(ids, cell));
}

describe('stored cells index', () => {
  it('finds every cell where a binary search does, on random sorted id sets', () => {
    fc.assert(
      fc.property(sortedIds, (ids) => checkAll(ids)),
      { numRuns: 300 },
    );
  });

  it('handles no stored cells, one, every bit of a word, and ids far apart', () => {
    checkAll(new Uint32Array(0));
    checkAll(Uint32Array.of(0));
    checkAll(Uint32Array.of(31));
    checkAll(Uint32Array.of(32));
    checkAll(Uint32Array.from({ length: 96 }, (_, i) => i));
    checkAll(Uint32Array.of(0, 31, 32, 63, 64, 1_000));
    const far = Uint32Array.of(5, 3_456_809);
    const index = storedIndex(far);
    expect(storedAt(index, 3_456_809)).toBe(1);
    expect(storedAt(index, 3_456_808)).toBe(-1);
    expect(storedAt(index, 3_456_810)).toBe(-1);
    expect(storedAt(index, 2 ** 32 - 1)).toBe(-1);
    expect(storedAt(index, -1)).toBe(-1);
  });
});
