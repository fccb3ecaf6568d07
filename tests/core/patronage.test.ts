/**
 * The pure patronage arithmetic (server/core/patronage.ts): hand-worked examples with the
 * arithmetic in comments and the expected cents as literals, and property tests against
 * independent cross-checks: an exact Hamilton apportionment written with decimal.js quotas (not
 * bigint floor/mod), the characterisation of Hamilton's method, each member's exact quota
 * computed from shares as decimal fractions, and day-by-day eligibility through `stateOn`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AllocationInput,
  activeSpans,
  addDaysTo,
  allocate,
  Decimal,
  dateOfDay,
  dayNumber,
  fiscalYearSpan,
  fromMinor,
  largestRemainder,
  type MemberPatronageInput,
  measurePatronage,
  PatronageCounter,
  planRedemption,
  planWriteOff,
  stateOn,
} from '../../server/core/index.js';

const cents = (s: string) => BigInt(new Decimal(s).times(100).toFixed(0));
const money = (minor: bigint) => fromMinor(minor, 2).toFixed(2);

/** Exact Hamilton method with decimal.js quotas, sorted by fractional part, ties by index. */
function hamiltonDecimal(total: bigint, weights: bigint[]): bigint[] {
  const W = weights.reduce((s, w) => s + w, 0n);
  const quotas = weights.map((w) => new Decimal(total.toString()).times(w.toString()).div(W.toString()));
  const floors = quotas.map((q) => q.floor());
  let left = new Decimal(total.toString())
    .minus(floors.reduce((s, f) => s.plus(f), new Decimal(0)))
    .toNumber();
  const order = quotas
    .map((q, i) => ({ i, frac: q.minus(q.floor()) }))
    .sort((a, b) => (a.frac.eq(b.frac) ? a.i - b.i : b.frac.cmp(a.frac)));
  const out = floors.map((f) => BigInt(f.toFixed(0)));
  for (const { i } of order) {
    if (left-- <= 0) break;
    out[i] = out[i]! + 1n;
  }
  return out;
}

function member(
  memberNumber: number,
  records: [string, string, string, string][],
  active: [string, string][] = [['2025-01-01', '2025-12-31']],
  multiplier = '1',
): MemberPatronageInput {
  return {
    memberNumber,
    multiplier: new Decimal(multiplier),
    active: active.map(([f, t]) => ({ from: dayNumber(f), to: dayNumber(t) })),
    records: records.map(([measure, periodStart, periodEnd, quantity]) => ({
      measure,
      periodStart,
      periodEnd,
      quantity: new Decimal(quantity),
    })),
  };
}

const YEAR = { start: '2025-01-01', end: '2025-12-31' };
const HOURS = { code: 'HOURS', scale: 2, weight: new Decimal('0.5') };
const WAGES = { code: 'WAGES', scale: 2, weight: new Decimal('0.5') };

function baseInput(overrides: Partial<AllocationInput>): AllocationInput {
  return {
    surplusMinor: 0n,
    reservePercent: new Decimal(0),
    communityPercent: new Decimal(0),
    cashPercent: new Decimal(20),
    minimumAllocationMinor: 0n,
    lossRule: 'RESERVE_FIRST',
    reserveBalanceMinor: 0n,
    members: [],
    ...overrides,
  };
}

function run(shares: ReturnType<typeof measurePatronage>, overrides: Partial<AllocationInput>) {
  const result = allocate(
    baseInput({
      ...overrides,
      members: shares.members.map((m) => ({
        memberNumber: m.memberNumber,
        weight: m.weight,
        payAllCash: false,
      })),
    }),
  );
  if (!('members' in result)) throw new Error(result.message);
  return result;
}

describe('hand-worked examples', () => {
  it('a worker co-op weighing hours and wages 50/50, 30% to the reserve', () => {
    // Surplus 10,000.00: reserve 30% = 3,000.00, member pool 7,000.00.
    // Hours A 1000, B 600, C 400 (total 2000); wages A 30,000, B 30,000, C 40,000 (total 100,000).
    // share A = .5 * 1000/2000 + .5 * 30000/100000 = .25 + .15 = .40 -> 2,800.00
    // share B = .5 * 600/2000  + .5 * 30000/100000 = .15 + .15 = .30 -> 2,100.00
    // share C = .5 * 400/2000  + .5 * 40000/100000 = .10 + .20 = .30 -> 2,100.00
    // Cash 20%: 560.00 / 420.00 / 420.00; retained 2,240.00 / 1,680.00 / 1,680.00.
    const shares = measurePatronage(
      YEAR,
      [HOURS, WAGES],
      [
        member(1, [
          ['HOURS', '2025-01-01', '2025-12-31', '1000'],
          ['WAGES', '2025-01-01', '2025-12-31', '30000'],
        ]),
        member(2, [
          ['HOURS', '2025-01-01', '2025-12-31', '600'],
          ['WAGES', '2025-01-01', '2025-12-31', '30000'],
        ]),
        member(3, [
          ['HOURS', '2025-01-01', '2025-12-31', '400'],
          ['WAGES', '2025-01-01', '2025-12-31', '40000'],
        ]),
      ],
    );
    const r = run(shares, { surplusMinor: cents('10000.00'), reservePercent: new Decimal(30) });
    expect([money(r.reserve), money(r.community), money(r.memberPool)]).toEqual([
      '3000.00',
      '0.00',
      '7000.00',
    ]);
    expect(r.members.map((m) => [money(m.allocation), money(m.cash), money(m.retained)])).toEqual([
      ['2800.00', '560.00', '2240.00'],
      ['2100.00', '420.00', '1680.00'],
      ['2100.00', '420.00', '1680.00'],
    ]);
  });

  it('three equal members share 100.00: the odd cent goes to the lowest member number, cash rounds up', () => {
    // Quotas 33.333... each, remainders equal: the leftover cent goes to member 1 (tie-break).
    // Cash 20% of 33.34 = 6.668 -> 6.67 (rounded up), retained 26.67; of 33.33 = 6.666 -> 6.67, retained 26.66.
    const shares = measurePatronage(
      YEAR,
      [HOURS],
      [
        member(4, [['HOURS', '2025-01-01', '2025-12-31', '10']]),
        member(7, [['HOURS', '2025-01-01', '2025-12-31', '10']]),
        member(9, [['HOURS', '2025-01-01', '2025-12-31', '10']]),
      ],
    );
    const r = run(shares, { surplusMinor: cents('100.00') });
    expect(
      r.members.map((m) => [m.memberNumber, money(m.allocation), money(m.cash), money(m.retained)]),
    ).toEqual([
      [4, '33.34', '6.67', '26.67'],
      [7, '33.33', '6.67', '26.66'],
      [9, '33.33', '6.67', '26.66'],
    ]);
  });

  it('a consumer co-op by purchases, 10% to the reserve', () => {
    // Surplus 1,000.00: reserve 100.00, pool 900.00. Purchases 1,234.56 + 2,000.00 + 765.44 = 4,000.00.
    // Quotas in cents: 90000 * 123456/400000 = 27777.6 -> 27777 r .6; 90000 * 200000/400000 = 45000 r 0;
    // 90000 * 76544/400000 = 17222.4 -> 17222 r .4. Floors 89999: the cent goes to member 1 (.6).
    // Cash 20%: 277.78 * .2 = 55.556 -> 55.56; 450.00 -> 90.00; 172.22 * .2 = 34.444 -> 34.45.
    const P = { code: 'PURCHASES', scale: 2, weight: new Decimal(1) };
    const shares = measurePatronage(
      YEAR,
      [P],
      [
        member(1, [['PURCHASES', '2025-01-01', '2025-06-30', '1234.56']]),
        member(2, [['PURCHASES', '2025-01-01', '2025-12-31', '2000.00']]),
        member(3, [['PURCHASES', '2025-07-01', '2025-12-31', '765.44']]),
      ],
    );
    const r = run(shares, { surplusMinor: cents('1000.00'), reservePercent: new Decimal(10) });
    expect(money(r.reserve)).toBe('100.00');
    expect(r.members.map((m) => [money(m.allocation), money(m.cash), money(m.retained)])).toEqual([
      ['277.78', '55.56', '222.22'],
      ['450.00', '90.00', '360.00'],
      ['172.22', '34.45', '137.77'],
    ]);
  });

  it('a loss year: the reserve first (up to its balance), the rest to members by patronage', () => {
    // Loss 5,000.00, reserve balance 3,000.00: reserve charged 3,000.00, members 2,000.00.
    // Hours 500 / 300 / 200 (of 1000): charges 1,000.00 / 600.00 / 400.00, nothing in cash.
    const shares = measurePatronage(
      YEAR,
      [HOURS],
      [
        member(1, [['HOURS', '2025-01-01', '2025-12-31', '500']]),
        member(2, [['HOURS', '2025-01-01', '2025-12-31', '300']]),
        member(3, [['HOURS', '2025-01-01', '2025-12-31', '200']]),
      ],
    );
    const r = run(shares, { surplusMinor: -cents('5000.00'), reserveBalanceMinor: cents('3000.00') });
    expect(r.kind).toBe('LOSS');
    expect([money(r.reserve), money(r.memberPool)]).toEqual(['-3000.00', '-2000.00']);
    expect(r.members.map((m) => [money(m.allocation), money(m.cash), money(m.retained)])).toEqual([
      ['-1000.00', '0.00', '-1000.00'],
      ['-600.00', '0.00', '-600.00'],
      ['-400.00', '0.00', '-400.00'],
    ]);
    // MEMBERS_BY_PATRONAGE: all 5,000.00 to members: 2,500.00 / 1,500.00 / 1,000.00.
    const all = run(shares, {
      surplusMinor: -cents('5000.00'),
      reserveBalanceMinor: cents('3000.00'),
      lossRule: 'MEMBERS_BY_PATRONAGE',
    });
    expect(all.members.map((m) => money(m.allocation))).toEqual(['-2500.00', '-1500.00', '-1000.00']);
    // RESERVE_ONLY: the reserve takes it all, even past its balance.
    const reserve = run(shares, {
      surplusMinor: -cents('5000.00'),
      reserveBalanceMinor: cents('3000.00'),
      lossRule: 'RESERVE_ONLY',
    });
    expect([money(reserve.reserve), money(reserve.memberPool)]).toEqual(['-5000.00', '0.00']);
  });

  it('members who joined and left mid-year count only their days as members', () => {
    // 100 hours recorded every month by each of A, B and C.
    // A: active all year: 1,200 counted.
    // B: active from 2025-07-01: Jan-Jun (600) excluded, Jul-Dec (600) counted.
    // C: active until 2025-03-15 (left on 03-16), records Jan-Mar: Jan + Feb 200, March 100 * 15/31,
    //    counted 200 + 1500/31 = 7700/31 = 248.387..., excluded 100 * 16/31 = 51.612...
    // Total counted 1200 + 600 + 7700/31 = 63500/31. Pool 1,000.00 = 100,000 cents:
    // A 100000 * 37200/63500 = 58582.677 -> 58582 r .677; B 100000 * 18600/63500 = 29291.338 -> 29291 r .338;
    // C 100000 * 7700/63500 = 12125.984 -> 12125 r .984. Floors 99998: cents to C (.984) and A (.677).
    const months = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => {
        const m = String(from + i).padStart(2, '0');
        const end = dateOfDay(dayNumber(`2025-${String(from + i + 1).padStart(2, '0')}-01`) - 1);
        return ['HOURS', `2025-${m}-01`, from + i === 12 ? '2025-12-31' : end, '100'] as [
          string,
          string,
          string,
          string,
        ];
      });
    const shares = measurePatronage(
      YEAR,
      [HOURS],
      [
        member(1, months(1, 12)),
        member(2, months(1, 12), [['2025-07-01', '2025-12-31']]),
        member(3, months(1, 3), [['2025-01-01', '2025-03-15']]),
      ],
    );
    const counted = shares.members.map((m) =>
      new Decimal(m.counted.HOURS!.num.toString()).div(m.counted.HOURS!.den.toString()),
    );
    expect(counted.map((c) => c.toDecimalPlaces(6).toFixed(6))).toEqual([
      '1200.000000',
      '600.000000',
      '248.387097',
    ]);
    const excluded = shares.members.map((m) =>
      new Decimal(m.excluded.HOURS!.num.toString()).div(m.excluded.HOURS!.den.toString()),
    );
    expect(excluded.map((c) => c.toDecimalPlaces(6).toFixed(6))).toEqual([
      '0.000000',
      '600.000000',
      '51.612903',
    ]);
    const r = run(shares, { surplusMinor: cents('1000.00') });
    expect(r.members.map((m) => money(m.allocation))).toEqual(['585.83', '292.91', '121.26']);
  });

  it('a Mondragon-style split: 45% reserve, 10% community, 45% members', () => {
    // 1,234,567 cents: reserve 555,555.15 -> 555,555 r .15; community 123,456.7 -> 123,456 r .7;
    // members 555,555.15 -> 555,555 r .15. Floors 1,234,566: the cent goes to the community (.7).
    const shares = measurePatronage(YEAR, [HOURS], [member(1, [['HOURS', '2025-01-01', '2025-12-31', '1']])]);
    const r = run(shares, {
      surplusMinor: cents('12345.67'),
      reservePercent: new Decimal(45),
      communityPercent: new Decimal(10),
    });
    expect([money(r.reserve), money(r.community), money(r.memberPool)]).toEqual([
      '5555.55',
      '1234.57',
      '5555.55',
    ]);
    // Equal remainders: 3 cents, 50% reserve and 50% members -> 1.5 each: the cent goes to the reserve (listed first).
    const tie = run(shares, { surplusMinor: 3n, reservePercent: new Decimal(50) });
    expect([tie.reserve, tie.community, tie.memberPool]).toEqual([2n, 0n, 1n]);
  });

  it('allocations below the minimum go to the reserve; class multipliers weigh hours', () => {
    // Hours 100 (class multiplier 2 -> 200) and 100 and 1 (multiplier 1): total 301.
    // Pool 301.00: 200.00 / 100.00 / 1.00; minimum 5.00: member 3's 1.00 goes to the reserve.
    const shares = measurePatronage(
      YEAR,
      [HOURS],
      [
        member(1, [['HOURS', '2025-01-01', '2025-12-31', '100']], undefined, '2'),
        member(2, [['HOURS', '2025-01-01', '2025-12-31', '100']]),
        member(3, [['HOURS', '2025-01-01', '2025-12-31', '1']]),
      ],
    );
    const r = run(shares, { surplusMinor: cents('301.00'), minimumAllocationMinor: cents('5.00') });
    expect(r.members.map((m) => [money(m.allocation), money(m.belowMinimum)])).toEqual([
      ['200.00', '0.00'],
      ['100.00', '0.00'],
      ['0.00', '1.00'],
    ]);
    expect([money(r.reserve), money(r.belowMinimum)]).toEqual(['1.00', '1.00']);
  });

  it('FIFO redemption across three years with a cap: whole years oldest first, the last pro rata', () => {
    // Outstanding: 2019 A 100.00 B 50.00; 2020 A 30.00 C 90.00; 2021 B 40.00. Cap 200.00:
    // 2019 whole (150.00, 50.00 left); 2020 owes 120.00 > 50.00: pro rata 50 * 30/120 = 12.50 (A),
    // 50 * 90/120 = 37.50 (C); 2021 nothing.
    const plan = planRedemption(
      [
        { key: '2021-B', fiscalYear: 2021, memberNumber: 2, outstanding: cents('40.00') },
        { key: '2020-C', fiscalYear: 2020, memberNumber: 3, outstanding: cents('90.00') },
        { key: '2019-A', fiscalYear: 2019, memberNumber: 1, outstanding: cents('100.00') },
        { key: '2020-A', fiscalYear: 2020, memberNumber: 1, outstanding: cents('30.00') },
        { key: '2019-B', fiscalYear: 2019, memberNumber: 2, outstanding: cents('50.00') },
      ],
      cents('200.00'),
    );
    expect(plan.map((p) => [p.key, money(p.amount)])).toEqual([
      ['2019-A', '100.00'],
      ['2019-B', '50.00'],
      ['2020-A', '12.50'],
      ['2020-C', '37.50'],
    ]);
  });

  it('a loss charge is written off the oldest retained allocations first; the rest is carried', () => {
    // Charge 130.00 against 2019 100.00 and 2020 50.00: 100.00 then 30.00, nothing carried.
    expect(
      planWriteOff(cents('130.00'), [
        { key: '2019', outstanding: cents('100.00') },
        { key: '2020', outstanding: cents('50.00') },
      ]),
    ).toEqual({
      writeOffs: [
        { key: '2019', amount: cents('100.00') },
        { key: '2020', amount: cents('30.00') },
      ],
      carried: 0n,
    });
    expect(planWriteOff(cents('200.00'), [{ key: '2019', outstanding: cents('150.00') }])).toEqual({
      writeOffs: [{ key: '2019', amount: cents('150.00') }],
      carried: cents('50.00'),
    });
  });

  it('fiscal years begin on the co-op’s start day and are named by the year they begin in', () => {
    expect(fiscalYearSpan('01-01', 2025)).toEqual({ start: '2025-01-01', end: '2025-12-31' });
    expect(fiscalYearSpan('07-01', 2025)).toEqual({ start: '2025-07-01', end: '2026-06-30' });
    expect(fiscalYearSpan('03-01', 2023)).toEqual({ start: '2023-03-01', end: '2024-02-29' });
  });
});

describe('largestRemainder', () => {
  it('matches an exact Hamilton apportionment computed with decimal quotas, and Hamilton’s characterisation', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 30 }),
        (total, raw) => {
          const weights = raw.every((w) => w === 0n) ? [...raw.slice(1), 1n] : raw;
          const parts = largestRemainder(total, weights);
          expect(parts).toEqual(hamiltonDecimal(total, weights));
          const W = weights.reduce((s, w) => s + w, 0n);
          expect(parts.reduce((s, p) => s + p, 0n)).toBe(total);
          // Each part is the floor or the ceiling of its quota, and every part rounded up has a
          // remainder at least that of every part rounded down.
          const rem = weights.map((w) => (total * w) % W);
          let minUp: bigint | null = null;
          let maxDown: bigint | null = null;
          weights.forEach((w, i) => {
            const floor = (total * w) / W;
            expect(parts[i]! === floor || parts[i]! === floor + 1n).toBe(true);
            if (parts[i]! === floor + 1n) minUp = minUp === null || rem[i]! < minUp ? rem[i]! : minUp;
            else maxDown = maxDown === null || rem[i]! > maxDown ? rem[i]! : maxDown;
          });
          if (minUp !== null && maxDown !== null) expect(minUp >= maxDown).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('allocate: properties', () => {
  const memberArb = fc.record({
    hours: fc.integer({ min: 0, max: 100_000_00 }),
    wages: fc.integer({ min: 0, max: 10_000_000_00 }),
    multiplier: fc.constantFrom('1', '1.5', '2', '0.25'),
    payAllCash: fc.boolean(),
  });

  it('sums exactly, cash >= the minimum share rounded up, cash + retained = allocation, each within a cent of its exact quota', () => {
    fc.assert(
      fc.property(
        fc.array(memberArb, { minLength: 1, maxLength: 25 }),
        fc.tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 })),
        // Up to the largest the unit allows: 18 integer digits and 2 decimals.
        fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 20n - 1n }), fc.bigInt({ min: 1n, max: 100_000n })),
        fc.tuple(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 0, max: 400_000 })),
        fc.integer({ min: 200_000, max: 1_000_000 }),
        (members, [wh, ww], surplus, [reserveP, communityP], cashP) => {
          fc.pre(members.some((m) => m.hours > 0 || m.wages > 0) && wh + ww > 0);
          const hoursW = new Decimal(wh).div(10_000);
          const wagesW = new Decimal(ww).div(10_000);
          const inputs = members.map((m, i) =>
            member(
              i + 1,
              [
                ['HOURS', '2025-01-01', '2025-12-31', new Decimal(m.hours).div(100).toFixed(2)],
                ['WAGES', '2025-01-01', '2025-12-31', new Decimal(m.wages).div(100).toFixed(2)],
              ],
              undefined,
              m.multiplier,
            ),
          );
          const shares = measurePatronage(
            YEAR,
            [
              { code: 'HOURS', scale: 2, weight: hoursW },
              { code: 'WAGES', scale: 2, weight: wagesW },
            ],
            inputs,
          );
          const input = baseInput({
            surplusMinor: surplus,
            reservePercent: new Decimal(reserveP).div(10_000),
            communityPercent: new Decimal(communityP).div(10_000),
            cashPercent: new Decimal(cashP).div(10_000),
            members: shares.members.map((s, i) => ({
              memberNumber: s.memberNumber,
              weight: s.weight,
              payAllCash: members[i]!.payAllCash,
            })),
          });
          const r = allocate(input);
          if (!('members' in r)) {
            // Only when no measure with a weight has a positive total.
            expect(r.code).toBe('NO_ELIGIBLE_PATRONAGE');
            expect(shares.denominator).toBe(0n);
            return;
          }
          const allocated = r.members.reduce((s, m) => s + m.allocation, 0n);
          expect(r.reserve + r.community + allocated).toBe(surplus);
          expect(allocated).toBe(r.memberPool);
          // Independent shares as decimals: share_i = sum_m w_m (c_i q_im / sum_j c_j q_jm) / sum of counted weights.
          const totals = { HOURS: new Decimal(0), WAGES: new Decimal(0) };
          members.forEach((m) => {
            totals.HOURS = totals.HOURS.plus(new Decimal(m.hours).times(m.multiplier));
            totals.WAGES = totals.WAGES.plus(new Decimal(m.wages).times(m.multiplier));
          });
          const counted = [
            ['HOURS', hoursW],
            ['WAGES', wagesW],
          ].filter(([k, w]) => (w as Decimal).gt(0) && totals[k as 'HOURS'].gt(0)) as [
            'HOURS' | 'WAGES',
            Decimal,
          ][];
          const weightSum = counted.reduce((s, [, w]) => s.plus(w), new Decimal(0));
          members.forEach((m, i) => {
            const a = r.members[i]!;
            expect(a.cash + a.retained).toBe(a.allocation);
            const minimum = BigInt(
              new Decimal(a.allocation.toString()).times(cashP).div(1_000_000).ceil().toFixed(0),
            );
            expect(a.cash >= minimum).toBe(true);
            if (m.payAllCash) expect(a.retained).toBe(0n);
            const share = counted
              .reduce(
                (s, [k, w]) =>
                  s.plus(
                    w
                      .times(new Decimal(k === 'HOURS' ? m.hours : m.wages).times(m.multiplier))
                      .div(totals[k]),
                  ),
                new Decimal(0),
              )
              .div(weightSum);
            const quota = new Decimal(r.memberPool.toString()).times(share);
            expect(quota.minus(a.allocation.toString()).abs().lt(1)).toBe(true);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a loss is never ignored: reserve and member charges add up to it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 20 }),
        fc.bigInt({ min: 1n, max: 10n ** 20n - 1n }),
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 20n }),
        fc.constantFrom('RESERVE_FIRST', 'MEMBERS_BY_PATRONAGE', 'RESERVE_ONLY' as const),
        (hours, loss, reserveBalance, lossRule) => {
          const shares = measurePatronage(
            YEAR,
            [HOURS],
            hours.map((h, i) => member(i + 1, [['HOURS', '2025-01-01', '2025-12-31', String(h)]])),
          );
          const r = run(shares, { surplusMinor: -loss, reserveBalanceMinor: reserveBalance, lossRule });
          const charged = r.members.reduce((s, m) => s + m.allocation, 0n);
          expect(r.reserve + charged).toBe(-loss);
          expect(r.members.every((m) => m.cash === 0n && m.allocation <= 0n)).toBe(true);
          if (lossRule === 'RESERVE_FIRST') {
            // biome-ignore lint/complexity/useMathMinMax: bigint, which Math.min does not take
            const expected = reserveBalance <= 0n ? 0n : reserveBalance < loss ? reserveBalance : loss;
            expect(-r.reserve).toBe(expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('day-weighted eligibility', () => {
  it('counts exactly the days a member was ACTIVE, checked day by day with stateOn', () => {
    const stateArb = fc.constantFrom('APPLICANT', 'CANDIDATE', 'ACTIVE', 'WITHDRAWN' as const);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -60, max: 420 }), stateArb), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: -30, max: 360 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 100_000 }),
        (changes, startOffset, length, quantity) => {
          const events = changes.map(([offset, toState], seq) => ({
            toState,
            effectiveOn: addDaysTo('2025-01-01', offset),
            seq,
          }));
          const periodStart = addDaysTo('2025-01-01', startOffset);
          const periodEnd = addDaysTo(periodStart, length);
          const fyEnd = dayNumber('2025-12-31');
          const spans = activeSpans(events, fyEnd);
          const shares = measurePatronage(
            YEAR,
            [{ code: 'HOURS', scale: 0, weight: new Decimal(1) }],
            [
              {
                memberNumber: 1,
                multiplier: new Decimal(1),
                active: spans,
                records: [{ measure: 'HOURS', periodStart, periodEnd, quantity: new Decimal(quantity) }],
              },
            ],
          );
          // Brute force: every day of the period inside the year, ACTIVE at the end of that day.
          let activeDays = 0;
          let yearDays = 0;
          for (let d = dayNumber(periodStart); d <= dayNumber(periodEnd); d++) {
            if (d < dayNumber(YEAR.start) || d > fyEnd) continue;
            yearDays++;
            if (stateOn(events, dateOfDay(d)) === 'ACTIVE') activeDays++;
          }
          const days = length + 1;
          const c = shares.members[0]!.counted.HOURS!;
          const x = shares.members[0]!.excluded.HOURS!;
          // counted = quantity * activeDays / days, excluded = quantity * (yearDays - activeDays) / days.
          expect(c.num * BigInt(days)).toBe(BigInt(quantity * activeDays) * c.den);
          expect(x.num * BigInt(days)).toBe(BigInt(quantity * (yearDays - activeDays)) * x.den);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('records wholly within membership added as one sum count the same as one by one', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 300 }),
            fc.integer({ min: 0, max: 60 }),
            fc.integer({ min: 0, max: 10 ** 9 }),
          ),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        (records) => {
          const active = [{ from: dayNumber('2025-01-01'), to: dayNumber('2025-12-31') }];
          const spans = records.map(([start, length]) => ({
            from: active[0]!.from + start,
            to: active[0]!.from + Math.min(364, start + length),
          }));
          const lengths = spans.map((x) => x.to - x.from + 1);
          const one = new PatronageCounter(YEAR, [{ code: 'HOURS', scale: 2 }], lengths);
          const sum = new PatronageCounter(YEAR, [{ code: 'HOURS', scale: 2 }], lengths);
          let total = 0n;
          records.forEach(([, , cents], i) => {
            one.add(0, active, 'HOURS', spans[i]!.from, spans[i]!.to, new Decimal(cents).div(100).toFixed(2));
            total += BigInt(cents);
          });
          sum.addWhole(0, 'HOURS', new Decimal(total.toString()).div(100).toFixed(2));
          expect(sum.member(0)).toEqual(one.member(0));
          expect(one.member(0).excluded.HOURS).toBe(0n);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('dayNumber and dateOfDay are inverse over four centuries', () => {
    for (let d = dayNumber('1900-01-01'); d <= dayNumber('2300-12-31'); d += 17)
      expect(dayNumber(dateOfDay(d))).toBe(d);
    expect(dayNumber('1970-01-01')).toBe(0);
    expect(dateOfDay(dayNumber('2024-02-28') + 1)).toBe('2024-02-29');
  });
});
