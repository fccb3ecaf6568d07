/**
 * Primary disclosure rules (issue 15): which cells of a table may not be published as they are,
 * why, and how wide an interval an attacker must be left with for each.
 *
 * A cell's contributors are the co-ops that reported in it (its population), grouped: co-ops of
 * the same owner or federation count as ONE contributor, their values added, since each knows the
 * others' figures. Values are integers in the measure's minor unit (cents, people).
 *
 * - THRESHOLD: fewer than `minContributors` contributors (default 3). Protection: `safetyPercent`
 *   of the value (default 10%), at least one unit.
 * - DOMINANCE, the (n, k) rule: the `dominanceN` largest contributors give more than `dominanceK`
 *   percent of the value (default 2 and 85%). Protection: the amount that brings the value up to
 *   where they give exactly k%: (100/k)(x1 + ... + xn) - X.
 * - P_PERCENT: the second largest contributor could estimate the largest to within p percent
 *   (default 10): X - x1 - x2 < (p/100) x1. Protection: (p/100) x1 - (X - x1 - x2).
 *
 * Rules run on magnitudes; a cell whose contributors all have 0 with enough contributors is not
 * sensitive (a zero tells that nobody in it had any, which tables of this kind publish). A zero
 * total of contributions that cancel (a net flow: share capital raised less repaid) is judged like
 * any other total: a co-op that repaid knows the one that raised to within the rest. A cell with no contributor
 * at all is EMPTY, a structural zero, always published. When several rules apply, the reason is the
 * first of THRESHOLD, DOMINANCE, P_PERCENT and the protection the largest of theirs. Protection is
 * asked in both directions (up and down, the downward part capped at the value itself).
 *
 * Integer arithmetic in bigint, so percentages of large sums stay exact. Pure.
 */
import { LedgerError } from './errors.js';

export const SUPPRESSION_REASONS = ['THRESHOLD', 'DOMINANCE', 'P_PERCENT', 'COMPLEMENTARY'] as const;
/** Why a cell is not shown: a primary rule, or COMPLEMENTARY (hidden so a primary cell cannot be worked out). */
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface DisclosurePolicy {
  /** A cell needs at least this many contributors (1..100). */
  minContributors: number;
  /** The n of the (n, k) dominance rule (1..10). */
  dominanceN: number;
  /** The k of the (n, k) dominance rule, percent (50..100; 100 switches the rule off). */
  dominanceK: number;
  /** The p of the p% rule, percent (0..100; 0 switches the rule off). */
  pPercent: number;
  /** Protection asked for a THRESHOLD cell, percent of its value (0..100). */
  safetyPercent: number;
}

export const DEFAULT_DISCLOSURE_POLICY: Readonly<DisclosurePolicy> = {
  minContributors: 3,
  dominanceN: 2,
  dominanceK: 85,
  pPercent: 10,
  safetyPercent: 10,
};

/** Every problem of a policy, fields named `policy.<name>`. */
export function validateDisclosurePolicy(policy: DisclosurePolicy, field = 'policy'): LedgerError[] {
  const problems: LedgerError[] = [];
  const check = (name: keyof DisclosurePolicy, min: number, max: number) => {
    const v = policy[name];
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(
        new LedgerError(
          'INVALID_INPUT',
          `${name} must be a whole number from ${min} to ${max}`,
          `${field}.${name}`,
        ),
      );
  };
  check('minContributors', 1, 100);
  check('dominanceN', 1, 10);
  check('dominanceK', 50, 100);
  check('pPercent', 0, 100);
  check('safetyPercent', 0, 100);
  return problems;
}

/**
 * Every rule of `policy` weaker than the same rule of `floor` (fields named `policy.<name>`): fewer
 * contributors, a dominance rule over fewer largest contributors or at a higher share, a smaller p
 * or a smaller safety margin each let more cells out. A city's analyst, the very reader protection
 * is against, may publish only with rules at least as strict as the defaults: one who could lower
 * them (one contributor enough, dominance and p% off) would publish single co-ops' books.
 */
export function weakerPolicyProblems(
  policy: DisclosurePolicy,
  floor: DisclosurePolicy,
  field = 'policy',
): LedgerError[] {
  const problems: LedgerError[] = [];
  const atLeast = (name: keyof DisclosurePolicy, what: string) => {
    if (policy[name] < floor[name])
      problems.push(
        new LedgerError(
          'INVALID_INPUT',
          `${name} must be at least ${floor[name]} (${what})`,
          `${field}.${name}`,
        ),
      );
  };
  atLeast('minContributors', 'only an administrator may lower it');
  atLeast('dominanceN', 'only an administrator may lower it');
  if (policy.dominanceK > floor.dominanceK)
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `dominanceK must be at most ${floor.dominanceK} (only an administrator may raise it)`,
        `${field}.dominanceK`,
      ),
    );
  atLeast('pPercent', 'only an administrator may lower it');
  atLeast('safetyPercent', 'only an administrator may lower it');
  return problems;
}

export interface PrimaryVerdict {
  reason: Exclude<SuppressionReason, 'COMPLEMENTARY'>;
  /** Protection asked, in the measure's minor unit, both ways (the downward part capped at the value by the caller). */
  protection: bigint;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a <= 0n ? 0n : (a + b - 1n) / b);
const abs = (a: bigint): bigint => (a < 0n ? -a : a);

/**
 * The verdict of the primary rules on one cell from its contributors' values (one value per
 * contributor group, any order), or null when it may be published. An empty list is an EMPTY cell:
 * never sensitive.
 */
export function primaryVerdict(
  contributions: readonly bigint[],
  policy: DisclosurePolicy,
): PrimaryVerdict | null {
  let total = 0n;
  for (const c of contributions) total += c;
  const largest = [...contributions].map(abs).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  return verdictOfSummary(contributions.length, total, largest, policy);
}

/**
 * The same verdict from a summary of a cell: how many contributors it has, their total, and the
 * magnitudes of its largest contributors in decreasing order (at least max(dominanceN, 2) of them
 * when there are that many; fewer are taken as zeros). What an aggregator that streams a large
 * table keeps per cell instead of every contribution.
 */
export function verdictOfSummary(
  count: number,
  total: bigint,
  largest: readonly bigint[],
  policy: DisclosurePolicy,
): PrimaryVerdict | null {
  if (count === 0) return null;
  const reasons: PrimaryVerdict[] = [];
  if (count < policy.minContributors) {
    const safety = ceilDiv(abs(total) * BigInt(policy.safetyPercent), 100n);
    reasons.push({ reason: 'THRESHOLD', protection: safety > 1n ? safety : 1n });
  }
  // Judged whenever a contributor has something: contributions of a net flow that cancel to a
  // zero total tell as much as ones that nearly cancel (the p% rule's case), so only a cell whose
  // contributors all have nothing is passed over.
  if ((largest[0] ?? 0n) !== 0n) {
    const magnitude = abs(total);
    const k = BigInt(policy.dominanceK);
    if (policy.dominanceK < 100) {
      let top = 0n;
      for (let i = 0; i < Math.min(policy.dominanceN, count); i++) top += largest[i] ?? 0n;
      if (100n * top > k * magnitude) {
        reasons.push({ reason: 'DOMINANCE', protection: ceilDiv(100n * top - k * magnitude, k) });
      }
    }
    if (policy.pPercent > 0) {
      const x1 = largest[0] ?? 0n;
      const x2 = largest[1] ?? 0n;
      const rest = magnitude - x1 - x2;
      const p = BigInt(policy.pPercent);
      if (100n * rest < p * x1)
        reasons.push({ reason: 'P_PERCENT', protection: ceilDiv(p * x1 - 100n * rest, 100n) });
    }
  }
  if (reasons.length === 0) return null;
  let protection = 0n;
  for (const r of reasons) if (r.protection > protection) protection = r.protection;
  return { reason: reasons[0]!.reason, protection: protection > 0n ? protection : 1n };
}

/**
 * Adds up the contributions of each group (`groups[i]` is contributor i's group key), for
 * `primaryVerdict`: co-ops of one owner or federation are one contributor.
 */
export function groupContributions(values: readonly bigint[], groups: readonly string[]): bigint[] {
  const sums = new Map<string, bigint>();
  values.forEach((v, i) => {
    const g = groups[i]!;
    sums.set(g, (sums.get(g) ?? 0n) + v);
  });
  return [...sums.values()];
}
