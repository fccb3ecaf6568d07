/**
 * Bounds hold at every instant (issue 10 item 5): firstBoundBreach, which the posting engine asks
 * about an entry dated before some of an account's movements, against an independent
 * recomputation: the whole history replayed from zero with and without the new entry, in
 * (instant, entry number) order, every balance from the new entry on compared with its bound.
 * Amounts are integers of minor units (never floats); the oracle uses BigInt only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BalanceMovement,
  compareMovements,
  Decimal,
  firstBoundBreach,
} from '../../server/core/index.js';

const run = { numRuns: 500 };

interface Movement {
  atMs: number;
  seq: bigint;
  minor: bigint;
}

/** The oracle: the first instant at which the new entry takes a balance past a bound it moves toward. */
function oracle(
  history: Movement[],
  entry: { atMs: number; minor: bigint },
  lower: bigint | null,
  upper: bigint | null,
): { atMs: number; balance: bigint } | null {
  // Entry numbers 1..n are taken; the new entry is the next one.
  const seq = BigInt(history.length) + 1n;
  const ordered = [...history].sort((a, b) => a.atMs - b.atMs || (a.seq < b.seq ? -1 : 1));
  const withEntry = [...ordered, { ...entry, seq }].sort(
    (a, b) => a.atMs - b.atMs || (a.seq < b.seq ? -1 : 1),
  );
  // Balances after each movement, without and with the entry, keyed by the movement.
  const before = new Map<bigint, bigint>();
  let balance = 0n;
  let balanceBeforeEntry = 0n;
  for (const m of ordered) {
    balance += m.minor;
    before.set(m.seq, balance);
  }
  balance = 0n;
  let reached = false;
  for (const m of withEntry) {
    const old = m.seq === seq ? balanceBeforeEntry : before.get(m.seq)!;
    balance += m.minor;
    if (m.seq === seq) reached = true;
    else if (!reached) balanceBeforeEntry = balance;
    if (!reached) continue;
    const worseDown = balance < old;
    const worseUp = balance > old;
    if (lower !== null && balance < lower && worseDown) return { atMs: m.atMs, balance };
    if (upper !== null && balance > upper && worseUp) return { atMs: m.atMs, balance };
  }
  return null;
}

const scale = 2;
const dec = (minor: bigint) => new Decimal(minor.toString()).dividedBy(10 ** scale);
const toMinor = (d: Decimal) => BigInt(d.times(10 ** scale).toFixed(0));

/** Histories on few instants, so that many movements share an instant with the new entry. */
const scenario = fc.record({
  history: fc.array(
    fc.record({
      at: fc.integer({ min: 0, max: 12 }),
      minor: fc.bigInt({ min: -5_000n, max: 5_000n }).filter((m) => m !== 0n),
    }),
    { maxLength: 25 },
  ),
  entryAt: fc.integer({ min: -1, max: 13 }),
  entryMinor: fc.bigInt({ min: -8_000n, max: 8_000n }),
  lower: fc.option(fc.bigInt({ min: -6_000n, max: 0n }), { nil: null }),
  upper: fc.option(fc.bigInt({ min: 0n, max: 6_000n }), { nil: null }),
  // Shuffles the entry numbers so that they need not follow the instants (backdated entries).
  seqOrder: fc.array(fc.nat(), { minLength: 25, maxLength: 25 }),
});

describe('firstBoundBreach', () => {
  it('agrees with a replay of the whole history from zero, with and without the new entry', () => {
    fc.assert(
      fc.property(scenario, ({ history, entryAt, entryMinor, lower, upper, seqOrder }) => {
        const day = 86_400_000;
        const ranks = history
          .map((_, i) => [seqOrder[i]!, i] as const)
          .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        const seqOf = new Map(ranks.map(([, i], rank) => [i, BigInt(rank + 1)]));
        const movements: Movement[] = history.map((h, i) => ({
          atMs: 1_700_000_000_000 + h.at * day,
          seq: seqOf.get(i)!,
          minor: h.minor,
        }));
        const atMs = 1_700_000_000_000 + entryAt * day;
        const expected = oracle(movements, { atMs, minor: entryMinor }, lower, upper);

        const current = movements.reduce((sum, m) => sum + m.minor, 0n);
        const later: BalanceMovement[] = movements
          .filter((m) => m.atMs > atMs)
          .map((m) => ({ atMs: m.atMs, seq: m.seq, delta: dec(m.minor) }))
          .sort(compareMovements);
        const got = firstBoundBreach(
          { lowerBound: lower === null ? null : dec(lower), upperBound: upper === null ? null : dec(upper) },
          dec(current),
          later,
          atMs,
          dec(entryMinor),
        );
        if (expected === null) {
          expect(got).toBeNull();
        } else {
          expect(got).not.toBeNull();
          expect({ atMs: got!.atMs, balance: toMinor(got!.balance) }).toEqual(expected);
          expect(got!.bound).toBe(entryMinor < 0n ? 'lower' : 'upper');
        }
      }),
      run,
    );
  });

  it('names the later instant where a backdated withdrawal breaks the bound (hand-worked)', () => {
    // 100.00 in on day 1, 100.00 out on day 3, 100.00 in on day 5: balance now 100.00.
    // Withdrawing 60.00 on day 2 leaves 40.00 on day 2 but -60.00 on day 3.
    const day = (n: number) => Date.UTC(2026, 0, n);
    const later = [
      { atMs: day(3), seq: 2n, delta: new Decimal('-100') },
      { atMs: day(5), seq: 3n, delta: new Decimal('100') },
    ];
    const breach = firstBoundBreach(
      { lowerBound: new Decimal(0), upperBound: null },
      new Decimal('100'),
      later,
      day(2),
      new Decimal('-60'),
    );
    expect(breach).toEqual({
      atMs: day(3),
      balance: new Decimal('-60'),
      bound: 'lower',
      limit: new Decimal(0),
    });
    // On day 4, between the withdrawal and the deposit, the balance is 0.00: -60.00 at once.
    expect(
      firstBoundBreach(
        { lowerBound: new Decimal(0), upperBound: null },
        new Decimal('100'),
        later.slice(1),
        day(4),
        new Decimal('-60'),
      ),
    ).toMatchObject({ atMs: day(4), balance: new Decimal('-60') });
    // On day 6 (after everything) nothing later: the current balance is what counts.
    expect(
      firstBoundBreach(
        { lowerBound: new Decimal(0), upperBound: null },
        new Decimal('100'),
        [],
        day(6),
        new Decimal('-60'),
      ),
    ).toBeNull();
    // A deposit never breaks a lower bound, whatever the history.
    expect(
      firstBoundBreach(
        { lowerBound: new Decimal(0), upperBound: null },
        new Decimal('100'),
        later,
        day(2),
        new Decimal('60'),
      ),
    ).toBeNull();
  });
});
