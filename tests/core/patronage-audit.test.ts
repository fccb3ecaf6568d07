/**
 * An outside audit of the pure patronage arithmetic: every cent of a run recomputed by an
 * independent method and compared exactly, not within a cent. The method: exact fractions (a
 * numerator and denominator of bigints, reduced), each member's share straight from the definition
 * share_i = sum_m w_m * (k_i * c_im / sum_j k_j * c_jm) / sum of the counted measures' weights,
 * where c_im counts a record's quantity for the share of its days the member was ACTIVE (counted
 * day by day here), then Hamilton's method on the exact quotas with the documented tie-break
 * (reserve, community, members for pools; ascending member number for members), and cash as the
 * exact ceiling of the cash share. Inputs are small so that ties are frequent: equal quantities,
 * multipliers and weights, across three measures of unit scales 0, 2 and 3.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, Decimal, dayNumber, measurePatronage } from '../../server/core/index.js';

/** An exact rational, always reduced, denominator positive. */
class Frac {
  readonly n: bigint;
  readonly d: bigint;
  constructor(n: bigint, d = 1n) {
    if (d === 0n) throw new Error('zero denominator');
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = Frac.gcd(n < 0n ? -n : n, d);
    this.n = g === 0n ? 0n : n / g;
    this.d = g === 0n ? 1n : d / g;
  }
  static gcd(a: bigint, b: bigint): bigint {
    while (b !== 0n) [a, b] = [b, a % b];
    return a;
  }
  /** A decimal string, exactly. */
  static of(text: string): Frac {
    const [i, f = ''] = text.split('.');
    return new Frac(BigInt(i! + f), 10n ** BigInt(f.length));
  }
  plus(o: Frac) {
    return new Frac(this.n * o.d + o.n * this.d, this.d * o.d);
  }
  times(o: Frac) {
    return new Frac(this.n * o.n, this.d * o.d);
  }
  div(o: Frac) {
    return new Frac(this.n * o.d, this.d * o.n);
  }
  floor(): bigint {
    const q = this.n / this.d;
    return this.n < 0n && q * this.d !== this.n ? q - 1n : q;
  }
  ceil(): bigint {
    return -new Frac(-this.n, this.d).floor();
  }
  minus(o: Frac) {
    return this.plus(new Frac(-o.n, o.d));
  }
  cmp(o: Frac): number {
    const l = this.n * o.d;
    const r = o.n * this.d;
    return l === r ? 0 : l < r ? -1 : 1;
  }
  isZero() {
    return this.n === 0n;
  }
}

/** Hamilton's method on exact quotas (summing to an integer), equal remainders in the given order. */
function hamilton(quotas: Frac[]): bigint[] {
  const floors = quotas.map((q) => q.floor());
  const total = quotas.reduce((s, q) => s.plus(q), new Frac(0n));
  expect(total.d).toBe(1n);
  let left = total.n - floors.reduce((s, f) => s + f, 0n);
  const order = quotas
    .map((q, i) => ({ i, rem: q.minus(new Frac(floors[i]!)) }))
    .sort((a, b) => b.rem.cmp(a.rem) || a.i - b.i);
  const out = [...floors];
  for (const { i } of order) {
    if (left <= 0n) break;
    out[i] = out[i]! + 1n;
    left--;
  }
  return out;
}

const MEASURES = [
  { code: 'HOURS', scale: 0 },
  { code: 'WAGES', scale: 2 },
  { code: 'KILOS', scale: 3 },
] as const;
const YEAR = { start: '2025-01-01', end: '2025-12-31' };
const Y0 = dayNumber(YEAR.start);
const Y1 = dayNumber(YEAR.end);

describe('patronage cents against an independent exact computation', () => {
  it('pools, allocations and cash equal Hamilton on exact shares, ties broken as documented', () => {
    const memberArb = fc.record({
      // Small quantities (in minor units of each measure's scale): ties are common.
      quantities: fc.tuple(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
      ),
      multiplier: fc.constantFrom('1', '1', '2', '0.5', '0.333333'),
      // ACTIVE from this day of the year (0: all year) to the year's end.
      activeFrom: fc.constantFrom(0, 0, 0, 100, 200),
    });
    fc.assert(
      fc.property(
        fc.array(memberArb, { minLength: 1, maxLength: 8 }),
        fc.tuple(
          fc.constantFrom('0', '1', '2', '0.5', '0.333333'),
          fc.constantFrom('1', '2', '0.25'),
          fc.constantFrom('0', '1', '3'),
        ),
        fc
          .bigInt({ min: 1n, max: 10n ** 20n - 1n })
          .chain((big) => fc.constantFrom(big, 1n, 2n, 3n, 7n, 100n, 1001n)),
        fc.constantFrom(['0', '0'], ['45', '10'], ['33.3333', '33.3333'], ['50', '50'], ['12.5', '0']),
        fc.constantFrom('20', '33.3333', '100', '25'),
        (members, weights, surplus, [reservePercent, communityPercent], cashPercent) => {
          // Records: the whole year, quantity q in minor units of the measure's scale.
          const inputs = members.map((m, i) => ({
            memberNumber: i + 1,
            multiplier: new Decimal(m.multiplier),
            active: [{ from: Y0 + m.activeFrom, to: Y1 }],
            records: MEASURES.map((spec, k) => ({
              measure: spec.code,
              periodStart: YEAR.start,
              periodEnd: YEAR.end,
              quantity: new Decimal(m.quantities[k]!).div(10 ** spec.scale).toFixed(spec.scale),
            })),
          }));
          const shares = measurePatronage(
            YEAR,
            MEASURES.map((spec, k) => ({ ...spec, weight: new Decimal(weights[k]!) })),
            inputs,
          );
          const result = allocate({
            surplusMinor: surplus,
            reservePercent: new Decimal(reservePercent),
            communityPercent: new Decimal(communityPercent),
            cashPercent: new Decimal(cashPercent),
            minimumAllocationMinor: 0n,
            lossRule: 'RESERVE_FIRST',
            reserveBalanceMinor: 0n,
            members: shares.members.map((s) => ({
              memberNumber: s.memberNumber,
              weight: s.weight,
              payAllCash: false,
            })),
          });

          // Independently: counted patronage, day by day.
          const days = Y1 - Y0 + 1;
          const counted = members.map((m) =>
            MEASURES.map((spec, k) => {
              let active = 0;
              for (let d = Y0; d <= Y1; d++) if (d >= Y0 + m.activeFrom) active++;
              return new Frac(BigInt(m.quantities[k]!), 10n ** BigInt(spec.scale)).times(
                new Frac(BigInt(active), BigInt(days)),
              );
            }),
          );
          const k = members.map((m) => Frac.of(m.multiplier));
          const totals = MEASURES.map((_, j) =>
            counted.reduce((s, c, i) => s.plus(c[j]!.times(k[i]!)), new Frac(0n)),
          );
          const countedMeasures = MEASURES.map((_, j) => j).filter(
            (j) => Frac.of(weights[j]!).cmp(new Frac(0n)) > 0 && !totals[j]!.isZero(),
          );
          const W = countedMeasures.reduce((s, j) => s.plus(Frac.of(weights[j]!)), new Frac(0n));
          const pools = hamilton(
            [reservePercent, communityPercent, null].map((p) =>
              new Frac(surplus)
                .times(
                  p === null
                    ? new Frac(100n).minus(Frac.of(reservePercent)).minus(Frac.of(communityPercent))
                    : Frac.of(p),
                )
                .div(new Frac(100n)),
            ),
          );
          const memberPool = pools[2]!;
          if (countedMeasures.length === 0) {
            if (memberPool > 0n) {
              expect('code' in result && result.code).toBe('NO_ELIGIBLE_PATRONAGE');
              return;
            }
          }
          if (!('members' in result)) throw new Error(`unexpected ${result.code}`);
          expect([result.reserve, result.community, result.memberPool]).toEqual(pools);
          const share = members.map((_, i) =>
            countedMeasures.length === 0
              ? new Frac(0n)
              : countedMeasures
                  .reduce(
                    (s, j) =>
                      s.plus(Frac.of(weights[j]!).times(counted[i]![j]!.times(k[i]!)).div(totals[j]!)),
                    new Frac(0n),
                  )
                  .div(W),
          );
          const expected =
            countedMeasures.length === 0
              ? members.map(() => 0n)
              : hamilton(share.map((s) => new Frac(memberPool).times(s)));
          expect(result.members.map((m) => m.allocation)).toEqual(expected);
          expect(result.members.map((m) => m.cash)).toEqual(
            expected.map((a) => new Frac(a).times(Frac.of(cashPercent)).div(new Frac(100n)).ceil()),
          );
        },
      ),
      { numRuns: 400 },
    );
  });
});
