/**
 * Primary disclosure rules, dimensions and periods (issue 15): the threshold, (n,k) dominance and
 * p% rules with the protection each asks, worked by hand; the streaming summary agrees with the
 * rule on the full list; null vectors keep every relation; quarters and years only when complete.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dimension, totalDimension } from '../../server/core/disclosure-dimensions.js';
import { measurePeriodDimension, tablePeriods } from '../../server/core/disclosure-periods.js';
import {
  DEFAULT_DISCLOSURE_POLICY,
  groupContributions,
  primaryVerdict,
  validateDisclosurePolicy,
  verdictOfSummary,
} from '../../server/core/disclosure-rules.js';

const P = DEFAULT_DISCLOSURE_POLICY;

describe('primary rules', () => {
  it('threshold: fewer than 3 contributors, 10% of the value asked (at least 1)', () => {
    expect(primaryVerdict([500n, 400n, 300n], P)).toBeNull();
    // Two contributors also dominate: (100/85)(900) - 900 = 158.8 -> 159 > 90.
    expect(primaryVerdict([500n, 400n], P)).toEqual({ reason: 'THRESHOLD', protection: 159n });
    expect(primaryVerdict([5n], { ...P, dominanceK: 100, pPercent: 0 })).toEqual({
      reason: 'THRESHOLD',
      protection: 1n,
    });
    expect(primaryVerdict([], P)).toBeNull();
  });

  it('dominance: the 2 largest over 85% of the total; protection brings them to exactly 85%', () => {
    // 900 + 50 = 950 of 1000 = 95% > 85%: (100 * 950 - 85 * 1000) / 85 = 117.6 -> 118.
    expect(primaryVerdict([900n, 50n, 30n, 20n], P)).toEqual({ reason: 'DOMINANCE', protection: 118n });
    // 400 + 300 of 1000 = 70%: published.
    expect(primaryVerdict([400n, 300n, 200n, 100n], P)).toBeNull();
    // Exactly 85% is allowed.
    expect(primaryVerdict([500n, 350n, 150n], P)).toBeNull();
  });

  it('p%: the second largest would estimate the largest within p%', () => {
    const policy = { ...P, dominanceK: 100 };
    // rest = 1000 - 600 - 380 = 20 < 10% of 600 = 60: protection 60 - 20 = 40.
    expect(primaryVerdict([600n, 380n, 10n, 10n], policy)).toEqual({ reason: 'P_PERCENT', protection: 40n });
    expect(primaryVerdict([600n, 300n, 50n, 50n], policy)).toBeNull();
  });

  it('a zero total of contributions that cancel is judged like any other (a net flow)', () => {
    // Share capital net of redemptions: A raised 5,000, B and C repaid 4,990 and 10. The cell is 0,
    // yet B knows A to within C's 10 (0.2% of 5,000): the p% rule's very case. A cell one unit
    // away was already hidden; at exactly 0 it was published.
    // Dominance: top 2 = 9,990 of |0|: (100 * 9,990 - 0) / 85 = 11,752.9 -> 11,753.
    expect(primaryVerdict([5000n, -4990n, -10n], P)).toEqual({ reason: 'DOMINANCE', protection: 11_753n });
    expect(primaryVerdict([5001n, -4990n, -10n], P)?.reason).toBe('DOMINANCE');
    // p% alone: rest = 0 - 5,000 - 4,990 = -9,990; (10 * 5,000 + 100 * 9,990) / 100 = 10,490.
    expect(primaryVerdict([5000n, -4990n, -10n], { ...P, dominanceK: 100 })).toEqual({
      reason: 'P_PERCENT',
      protection: 10_490n,
    });
    // Contributors that all have nothing tell nothing: not sensitive.
    expect(primaryVerdict([0n, 0n, 0n], P)).toBeNull();
  });

  it('co-ops of one group are one contributor', () => {
    const grouped = groupContributions([100n, 100n, 100n], ['fed', 'fed', 'solo']);
    expect(grouped.sort()).toEqual([100n, 200n]);
    expect(primaryVerdict(grouped, P)?.reason).toBe('THRESHOLD');
  });

  it('the streaming summary gives the verdict of the full list', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -1000n, max: 100_000n }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 4 }),
        (list, n) => {
          const policy = { ...P, dominanceN: n };
          const total = list.reduce((a, b) => a + b, 0n);
          const largest = list.map((v) => (v < 0n ? -v : v)).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
          expect(verdictOfSummary(list.length, total, largest.slice(0, Math.max(n, 2)), policy)).toEqual(
            primaryVerdict(list, policy),
          );
        },
      ),
    );
  });

  it('a policy out of range is refused field by field', () => {
    expect(validateDisclosurePolicy(P)).toEqual([]);
    const problems = validateDisclosurePolicy({ ...P, minContributors: 0, dominanceK: 40, pPercent: 1.5 });
    expect(problems.map((p) => p.field)).toEqual([
      'policy.minContributors',
      'policy.dominanceK',
      'policy.pPercent',
    ]);
  });
});

describe('dimensions and periods', () => {
  it('a classification: TOTAL and parts, null vectors a part with its total or two parts', () => {
    const d = totalDimension('n', ['A', 'B', 'C']);
    expect(d.basis).toHaveLength(3);
    for (const list of d.candidates) for (const v of list) d.assertNull(v);
    expect(d.candidates[1]).toContainEqual([
      { code: 1, coef: 1 },
      { code: 2, coef: -1 },
    ]);
  });

  it('quarters and years only once complete; flows add, stocks take the last month', () => {
    const periods = tablePeriods(2026, '2027-02');
    const codes = periods.map((p) => p.code);
    expect(codes).toContain('2026-Q4');
    expect(codes).toContain('2026');
    expect(codes).not.toContain('2027-Q1');
    expect(codes).not.toContain('2027');
    const dim = measurePeriodDimension({
      name: 'mp',
      measures: [
        { code: 'REVENUE', temporal: 'FLOW', grain: 'MONTH' },
        { code: 'MEMBERS', temporal: 'STOCK', grain: 'MONTH' },
        { code: 'JOINED', temporal: 'FLOW', grain: 'MONTH' },
        { code: 'LEFT', temporal: 'FLOW', grain: 'MONTH' },
      ],
      periods,
      identities: [{ stock: 'MEMBERS', inflows: ['JOINED'], outflows: ['LEFT'] }],
    });
    expect(dim.has('MEMBERS@2026-Q1')).toBe(true);
    // Every basis and candidate vector keeps every relation (the constructor checks the basis).
    for (const list of dim.candidates) for (const v of list) dim.assertNull(v);
    // A month's revenue can move only with its quarter and year or against another month.
    const jan = dim.codeIndex('REVENUE@2026-01');
    expect(dim.candidates[jan]!.length).toBeGreaterThan(0);
    expect(() => new Dimension({ name: 'bad', codes: ['a'], relations: [[{ code: 1, coef: 1 }]] })).toThrow();
  });
});
