/**
 * The pairing of bank lines with entries (server/banking/assignment.ts) against brute force on
 * random small cases: the same number of pairs as the largest matching, and the least total cost
 * among matchings of that size, each line and entry used once and only through a candidate.
 */
import { describe, expect, it } from 'vitest';
import { type CandidatePair, leastCostMaximumMatching } from '../../server/banking/assignment.js';
import { seededRandom } from '../helpers/ledger.js';

/** [size, cost] of the best matching by trying every choice for each line in turn. */
function bruteForce(lines: number, candidates: CandidatePair[]): [number, number] {
  let best: [number, number] = [0, 0];
  const used = new Set<number>();
  const go = (line: number, size: number, cost: number) => {
    if (line === lines) {
      if (size > best[0] || (size === best[0] && cost < best[1])) best = [size, cost];
      return;
    }
    go(line + 1, size, cost);
    for (const c of candidates)
      if (c.line === line && !used.has(c.entry)) {
        used.add(c.entry);
        go(line + 1, size + 1, cost + c.cost);
        used.delete(c.entry);
      }
  };
  go(0, 0, 0);
  return best;
}

describe('leastCostMaximumMatching', () => {
  it('pairs the hand-worked case nearest-first gets wrong', () => {
    // Lines on days 2 and 4, entries on days 0 and 3, a window of 3 days.
    const pairs = leastCostMaximumMatching(2, 2, [
      { line: 0, entry: 0, cost: 2 },
      { line: 0, entry: 1, cost: 1 },
      { line: 1, entry: 1, cost: 1 },
    ]);
    expect(pairs.sort()).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it('finds the largest matching of least cost on random cases', () => {
    const random = seededRandom(17);
    for (let round = 0; round < 400; round++) {
      const lines = 1 + Math.floor(random() * 6);
      const entries = 1 + Math.floor(random() * 6);
      const candidates: CandidatePair[] = [];
      for (let l = 0; l < lines; l++)
        for (let e = 0; e < entries; e++)
          if (random() < 0.45) candidates.push({ line: l, entry: e, cost: Math.floor(random() * 8) });
      const pairs = leastCostMaximumMatching(lines, entries, candidates);
      expect(new Set(pairs.map(([l]) => l)).size).toBe(pairs.length);
      expect(new Set(pairs.map(([, e]) => e)).size).toBe(pairs.length);
      const cost = pairs.reduce((s, [l, e]) => {
        const options = candidates.filter((c) => c.line === l && c.entry === e);
        expect(options.length).toBeGreaterThan(0);
        return s + Math.min(...options.map((c) => c.cost));
      }, 0);
      expect([pairs.length, cost]).toEqual(bruteForce(lines, candidates));
    }
  });
});
