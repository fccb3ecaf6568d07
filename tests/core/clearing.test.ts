/**
 * The clearing solver (server/core/clearing.ts), pure: hand-checked examples with the arithmetic
 * in comments, and property tests on random obligation graphs: every member's net position is
 * unchanged by set-off, nothing outstanding rises, the plan does not depend on the input's order,
 * and the cleared total equals an independent exact optimum, a linear program solved by HiGHS
 * (`highs`, a dev dependency) over the obligations themselves (not the solver's aggregated pairs).
 * Network-flow LPs have integral optima and the amounts here stay far below 2^53, so the LP's
 * floating-point objective is exact after rounding.
 */
import fc from 'fast-check';
import highsLoader from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  greedyCycleSetoff,
  InvariantError,
  type LiquidityInput,
  type ObligationInput,
  planClearing,
  planClearingTable,
} from '../../server/core/index.js';

// The package's types declare its loader as the default export of a CommonJS module; under
// NodeNext that types as the module itself, while the ESM build's default export is the loader.
const loadHighs = highsLoader as unknown as typeof highsLoader.default;
type Highs = Awaited<ReturnType<typeof loadHighs>>;
let highs: Highs;

beforeAll(async () => {
  highs = await loadHighs();
});

let seq = 0;
function ob(debtor: string, creditor: string, amount: number | bigint, dueOn = '2026-01-31', id?: string) {
  return {
    id: id ?? `o${String(++seq).padStart(4, '0')}`,
    debtor,
    creditor,
    outstanding: BigInt(amount),
    dueOn,
  };
}

const setoffOf = (plan: ReturnType<typeof planClearing>) =>
  Object.fromEntries(plan.obligations.map((o) => [o.id, o.setoff]));

describe('hand-checked examples', () => {
  it('a simple cycle A -> B -> C -> A clears whole: 3 x 100 = 300 of 300', () => {
    const obligations = [
      ob('A', 'B', 100, '2026-01-01', 'ab'),
      ob('B', 'C', 100, '2026-01-01', 'bc'),
      ob('C', 'A', 100, '2026-01-01', 'ca'),
    ];
    const plan = planClearing(obligations);
    expect(setoffOf(plan)).toEqual({ ab: 100n, bc: 100n, ca: 100n });
    expect(plan.setoffTotal).toBe(300n);
    expect(plan.outstandingAfter).toBe(0n);
    expect(plan.netInternalDebtBefore).toBe(0n);
  });

  it('two cycles sharing A -> B: clearing the first found (3 arcs) fully is not optimal', () => {
    // Arcs of 10 each: A->B shared by cycle P = A->B->C->A and Q = A->B->D->E->A.
    // Clearing P first uses up A->B: 3 x 10 = 30. Clearing Q instead clears 4 x 10 = 40.
    // Positions: A is owed 20 and owes 10 (+10); B owes 20, is owed 10 (-10); C, D, E 0.
    // B's 10 must reach A: via C (2 arcs remain) or D, E (3 arcs): the exact solver keeps B->C, C->A.
    const obligations = [
      ob('A', 'B', 10, '2026-01-01', 'ab'),
      ob('B', 'C', 10, '2026-01-01', 'bc'),
      ob('C', 'A', 10, '2026-01-01', 'ca'),
      ob('B', 'D', 10, '2026-01-01', 'bd'),
      ob('D', 'E', 10, '2026-01-01', 'de'),
      ob('E', 'A', 10, '2026-01-01', 'ea'),
    ];
    expect(greedyCycleSetoff(obligations)).toBe(30n);
    const plan = planClearing(obligations);
    expect(plan.setoffTotal).toBe(40n);
    expect(setoffOf(plan)).toEqual({ ab: 10n, bc: 0n, ca: 0n, bd: 10n, de: 10n, ea: 10n });
    expect(plan.outstandingBefore).toBe(60n);
    expect(plan.outstandingAfter).toBe(20n);
    expect(plan.netInternalDebtBefore).toBe(10n);
    expect(plan.netInternalDebtAfter).toBe(10n);
    expect(plan.members.map((m) => [m.member, m.positionBefore, m.positionAfter])).toEqual([
      ['A', 10n, 10n],
      ['B', -10n, -10n],
      ['C', 0n, 0n],
      ['D', 0n, 0n],
      ['E', 0n, 0n],
    ]);
  });

  it('a chain with no cycle clears nothing', () => {
    const plan = planClearing([ob('A', 'B', 70), ob('B', 'C', 50), ob('C', 'D', 20)]);
    expect(plan.setoffTotal).toBe(0n);
    expect(plan.obligations.every((o) => o.setoff === 0n)).toBe(true);
    expect(plan.outstandingAfter).toBe(140n);
  });

  it('a cycle clears as far as its smallest obligation: 3 x 40 of 60 + 40 + 90', () => {
    const plan = planClearing([
      ob('A', 'B', 60, undefined, 'x'),
      ob('B', 'C', 40, undefined, 'y'),
      ob('C', 'A', 90, undefined, 'z'),
    ]);
    expect(setoffOf(plan)).toEqual({ x: 40n, y: 40n, z: 40n });
  });

  it("assigns a pair's set-off to its invoices oldest due date first, then by id", () => {
    // A owes B three invoices (60 due in March, 60 due in January, 30 due in January with a
    // larger id); B owes A 100: 100 is set off each way. Of A's: January "j1" 60, then
    // January "j2" 30, then March 10.
    const plan = planClearing([
      ob('A', 'B', 60, '2026-03-01', 'a-mar'),
      ob('A', 'B', 60, '2026-01-15', 'j1'),
      ob('A', 'B', 30, '2026-01-15', 'j2'),
      ob('B', 'A', 100, '2026-02-01', 'b'),
    ]);
    expect(setoffOf(plan)).toEqual({ 'a-mar': 10n, j1: 60n, j2: 30n, b: 100n });
  });

  it('amounts beyond 2^64 minor units clear exactly', () => {
    const big = 10n ** 30n + 7n;
    const plan = planClearing([ob('A', 'B', big), ob('B', 'A', big + 1n)]);
    expect(plan.setoffTotal).toBe(2n * big);
    expect(plan.outstandingAfter).toBe(1n);
  });

  it('refuses an obligation owed to its own debtor or with nothing outstanding (a bug, not input)', () => {
    expect(() => planClearing([ob('A', 'A', 5)])).toThrow(InvariantError);
    expect(() => planClearing([ob('A', 'B', 0)])).toThrow(InvariantError);
  });
});

describe('network credit as liquidity', () => {
  it('a payment of 100 by the chain head settles both links of A -> B -> C (200)', () => {
    const obligations = [ob('A', 'B', 100, undefined, 'ab'), ob('B', 'C', 100, undefined, 'bc')];
    const liquidity: LiquidityInput[] = [
      { member: 'A', payMax: 100n, receiveMax: null },
      { member: 'B', payMax: 0n, receiveMax: null },
      { member: 'C', payMax: 0n, receiveMax: null },
    ];
    const plan = planClearing(obligations, liquidity);
    expect(plan.setoffTotal).toBe(0n);
    expect(plan.liquidityTotal).toBe(200n);
    expect(plan.liquidityUsed).toBe(100n);
    expect(plan.members.map((m) => [m.member, m.networkPayment, m.positionAfter])).toEqual([
      ['A', 100n, 0n],
      ['B', 0n, 0n],
      ['C', -100n, 0n],
    ]);
    expect(plan.netInternalDebtAfter).toBe(0n);
  });

  it('is held to what the limit leaves the payer (30 pays 30 along 2 links = 60) and to the upper bound', () => {
    const obligations = [ob('A', 'B', 100), ob('B', 'C', 100)];
    const capped = planClearing(obligations, [
      { member: 'A', payMax: 30n, receiveMax: null },
      { member: 'C', payMax: 0n, receiveMax: null },
    ]);
    expect(capped.liquidityTotal).toBe(60n);
    // C may take only 10 in network units; B may take 50: A's 30 goes 10 to C (2 links), 20 to B.
    const bounded = planClearing(obligations, [
      { member: 'A', payMax: 30n, receiveMax: 0n },
      { member: 'B', payMax: 0n, receiveMax: 50n },
      { member: 'C', payMax: 0n, receiveMax: 10n },
    ]);
    expect(bounded.liquidityTotal).toBe(10n * 2n + 20n);
    expect(bounded.members.map((m) => m.networkPayment)).toEqual([30n, -20n, -10n]);
  });

  it('works on what set-off left: set-off first, liquidity on top, reported apart', () => {
    const obligations = [ob('A', 'B', 50), ob('B', 'A', 20), ob('B', 'C', 30)];
    const plan = planClearing(obligations, [
      { member: 'A', payMax: 1000n, receiveMax: null },
      { member: 'C', payMax: 0n, receiveMax: null },
    ]);
    // Set-off 20 each way; left A->B 30, B->C 30: A pays 30 which settles both.
    expect(plan.setoffTotal).toBe(40n);
    expect(plan.liquidityTotal).toBe(60n);
    expect(plan.outstandingAfter).toBe(0n);
  });
});

// ---------- properties ----------

const MEMBERS = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];

const graphArb = (maxMembers: number, maxObligations: number) =>
  fc
    .integer({ min: 2, max: maxMembers })
    .chain((n) =>
      fc.array(
        fc.record({
          d: fc.integer({ min: 0, max: n - 1 }),
          c: fc.integer({ min: 0, max: n - 1 }),
          amount: fc.integer({ min: 1, max: 1_000_000 }),
          day: fc.integer({ min: 1, max: 28 }),
        }),
        { minLength: 1, maxLength: maxObligations },
      ),
    )
    .map((rows) =>
      rows
        .filter((r) => r.d !== r.c)
        .map((r, i) => ({
          id: `o${String(i).padStart(3, '0')}`,
          debtor: MEMBERS[r.d]!,
          creditor: MEMBERS[r.c]!,
          outstanding: BigInt(r.amount),
          dueOn: `2026-02-${String(r.day).padStart(2, '0')}`,
        })),
    )
    .filter((obs) => obs.length > 0);

function positions(
  obligations: readonly ObligationInput[],
  cleared: (i: number) => bigint,
): Map<string, bigint> {
  const out = new Map<string, bigint>();
  obligations.forEach((o, i) => {
    const left = o.outstanding - cleared(i);
    out.set(o.creditor, (out.get(o.creditor) ?? 0n) + left);
    out.set(o.debtor, (out.get(o.debtor) ?? 0n) - left);
  });
  return out;
}

/** The largest set-off as an LP over the obligations: x_k in [0, amount_k], every member's net unchanged. */
function lpSetoff(obligations: readonly ObligationInput[]): number {
  const members = [...new Set(obligations.flatMap((o) => [o.debtor, o.creditor]))];
  const rows = members.map((m, r) => {
    const terms = obligations
      .map((o, k) => (o.creditor === m ? ` - x${k}` : o.debtor === m ? ` + x${k}` : ''))
      .join('');
    return ` r${r}: 0${terms} = 0`;
  });
  const lp = [
    'Maximize',
    ` obj: ${obligations.map((_, k) => `x${k}`).join(' + ')}`,
    'Subject To',
    ...rows,
    'Bounds',
    ...obligations.map((o, k) => ` 0 <= x${k} <= ${o.outstanding}`),
    'End',
  ].join('\n');
  const solution = highs.solve(lp);
  expect(solution.Status).toBe('Optimal');
  return Math.round(solution.ObjectiveValue);
}

/** The most network payments settle of what is left: in_i - out_i in [-payMax_i, receiveMax_i]. */
function lpLiquidity(left: readonly ObligationInput[], liquidity: readonly LiquidityInput[]): number {
  if (left.length === 0) return 0;
  const members = [...new Set(left.flatMap((o) => [o.debtor, o.creditor]))];
  const rows: string[] = [];
  members.forEach((m, r) => {
    const terms = left
      .map((o, k) => (o.creditor === m ? ` + g${k}` : o.debtor === m ? ` - g${k}` : ''))
      .join('');
    const l = liquidity.find((x) => x.member === m);
    rows.push(` lo${r}: 0${terms} >= ${-(l?.payMax ?? 0n)}`);
    if (!l || l.receiveMax !== null) rows.push(` hi${r}: 0${terms} <= ${l?.receiveMax ?? 0n}`);
  });
  const lp = [
    'Maximize',
    ` obj: ${left.map((_, k) => `g${k}`).join(' + ')}`,
    'Subject To',
    ...rows,
    'Bounds',
    ...left.map((o, k) => ` 0 <= g${k} <= ${o.outstanding}`),
    'End',
  ].join('\n');
  const solution = highs.solve(lp);
  expect(solution.Status).toBe('Optimal');
  return Math.round(solution.ObjectiveValue);
}

describe('properties on random graphs', () => {
  it('set-off keeps every net position, never raises an obligation, and equals the LP optimum', () => {
    fc.assert(
      fc.property(graphArb(8, 40), (obligations) => {
        const plan = planClearing(obligations);
        const before = positions(obligations, () => 0n);
        const after = positions(obligations, (i) => plan.obligations[i]!.setoff);
        expect(after).toEqual(before);
        plan.obligations.forEach((r, i) => {
          expect(r.setoff >= 0n && r.setoff <= obligations[i]!.outstanding).toBe(true);
          expect(r.liquidity).toBe(0n);
        });
        expect(plan.outstandingAfter).toBeLessThanOrEqual(plan.outstandingBefore);
        expect(Number(plan.setoffTotal)).toBe(lpSetoff(obligations));
        expect(plan.setoffTotal >= greedyCycleSetoff(obligations)).toBe(true);
      }),
      { numRuns: 150, seed: 1414 },
    );
  });

  it('clears amounts past 2^53 (exact bigint arithmetic) as it clears the same graph in small amounts', () => {
    // Below 2^53 in total the flow runs on doubles (exact there); above it on bigints: same plan, scaled.
    const scale = 2n ** 60n;
    fc.assert(
      fc.property(graphArb(8, 40), (obligations) => {
        const small = planClearing(obligations);
        const large = planClearing(obligations.map((o) => ({ ...o, outstanding: o.outstanding * scale })));
        expect(large.outstandingBefore >= 2n ** 53n).toBe(true);
        expect(large.setoffTotal).toBe(small.setoffTotal * scale);
        large.obligations.forEach((r, i) => {
          expect(r.setoff).toBe(small.obligations[i]!.setoff * scale);
        });
      }),
      { numRuns: 60, seed: 5353 },
    );
  });

  it('leaves an acyclic remainder at least the net internal debt', () => {
    fc.assert(
      fc.property(graphArb(8, 40), (obligations) => {
        const plan = planClearing(obligations);
        expect(plan.outstandingAfter >= plan.netInternalDebtBefore).toBe(true);
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  it('answers the same plan whatever the order of the obligations', () => {
    fc.assert(
      fc.property(graphArb(6, 25), fc.integer(), (obligations, salt) => {
        const shuffled = [...obligations].sort(
          (a, b) =>
            ((Number(a.id.slice(1)) * 7919 + salt) % 101) - ((Number(b.id.slice(1)) * 7919 + salt) % 101),
        );
        const byId = (p: ReturnType<typeof planClearing>) =>
          Object.fromEntries(p.obligations.map((o) => [o.id, `${o.setoff}/${o.liquidity}`]));
        expect(byId(planClearing(shuffled))).toEqual(byId(planClearing(obligations)));
      }),
      { numRuns: 60, seed: 99 },
    );
  });

  it('the liquidity mode settles the LP optimum on top of set-off, within every limit', () => {
    const liquidityArb = fc.array(
      fc.record({
        pay: fc.integer({ min: 0, max: 500_000 }),
        receive: fc.option(fc.integer({ min: 0, max: 500_000 })),
      }),
      { minLength: 8, maxLength: 8 },
    );
    fc.assert(
      fc.property(graphArb(8, 30), liquidityArb, (obligations, limits) => {
        const liquidity = MEMBERS.map((member, i) => ({
          member,
          payMax: BigInt(limits[i]!.pay),
          receiveMax: limits[i]!.receive === null ? null : BigInt(limits[i]!.receive!),
        }));
        const plan = planClearing(obligations, liquidity);
        const left = obligations
          .map((o, i) => ({ ...o, outstanding: o.outstanding - plan.obligations[i]!.setoff }))
          .filter((o) => o.outstanding > 0n);
        expect(Number(plan.liquidityTotal)).toBe(lpLiquidity(left, liquidity));
        expect(plan.setoffTotal).toBe(planClearing(obligations).setoffTotal);
        for (const m of plan.members) {
          const l = liquidity.find((x) => x.member === m.member)!;
          expect(m.networkPayment <= l.payMax).toBe(true);
          if (l.receiveMax !== null) expect(-m.networkPayment <= l.receiveMax).toBe(true);
          expect(m.positionAfter).toBe(m.positionBefore + m.networkPayment);
        }
        expect(plan.members.reduce((s, m) => s + m.networkPayment, 0n)).toBe(0n);
      }),
      { numRuns: 100, seed: 2026 },
    );
  });
});

describe('larger graphs with many ties', () => {
  // Up to 30 members and 150 obligations, amounts of 1 to 5 minor units (many equal optima and
  // parallel invoices) or up to 10^6: the exact optimum still equals the LP's, set-off and liquidity.
  const wideArb = fc
    .record({
      n: fc.integer({ min: 2, max: 30 }),
      small: fc.boolean(),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      m: fc.integer({ min: 1, max: 150 }),
    })
    .map(({ n, small, seed, m }) => {
      let s = seed;
      const next = () => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return s / 2147483648;
      };
      const obligations: ObligationInput[] = [];
      for (let k = 0; k < m; k++) {
        const d = Math.floor(next() * n);
        const c = (d + 1 + Math.floor(next() * (n - 1))) % n;
        obligations.push({
          id: `w${String(k).padStart(3, '0')}`,
          debtor: `m${String(d).padStart(2, '0')}`,
          creditor: `m${String(c).padStart(2, '0')}`,
          outstanding: BigInt(1 + Math.floor(next() * (small ? 5 : 1_000_000))),
          dueOn: `2026-03-${String(1 + (k % 28)).padStart(2, '0')}`,
        });
      }
      const members = [...new Set(obligations.flatMap((o) => [o.debtor, o.creditor]))];
      const liquidity: LiquidityInput[] = members.map((member) => ({
        member,
        payMax: BigInt(Math.floor(next() * (small ? 6 : 1_000_000))),
        receiveMax: next() < 0.5 ? null : BigInt(Math.floor(next() * (small ? 6 : 1_000_000))),
      }));
      return { obligations, liquidity };
    });

  it('set-off and the liquidity mode equal their LP optima on graphs of up to 30 members', () => {
    fc.assert(
      fc.property(wideArb, ({ obligations, liquidity }) => {
        const plan = planClearing(obligations);
        expect(Number(plan.setoffTotal)).toBe(lpSetoff(obligations));
        const both = planClearing(obligations, liquidity);
        expect(both.setoffTotal).toBe(plan.setoffTotal);
        const left = obligations
          .map((o, i) => ({ ...o, outstanding: o.outstanding - both.obligations[i]!.setoff }))
          .filter((o) => o.outstanding > 0n);
        expect(Number(both.liquidityTotal)).toBe(lpLiquidity(left, liquidity));
      }),
      { numRuns: 60, seed: 3030 },
    );
  });
});

describe('the table form (what the service passes)', () => {
  it('refuses rows not sorted by debtor then creditor, and a member list out of order', () => {
    const table = {
      members: ['a', 'b', 'c'],
      debtor: Int32Array.from([1, 0]),
      creditor: Int32Array.from([2, 1]),
      outstanding: [5n, 5n],
    };
    expect(() => planClearingTable(table)).toThrow(InvariantError);
    expect(() =>
      planClearingTable({
        ...table,
        members: ['b', 'a', 'c'],
        debtor: Int32Array.from([0, 1]),
        creditor: Int32Array.from([1, 2]),
      }),
    ).toThrow(InvariantError);
  });

  it('sets off a pair oldest row first, as the rows come', () => {
    // a -> b twice (rows 0 and 1, in due-date order), b -> a once: 7 of a -> b clears against b -> a.
    const plan = planClearingTable({
      members: ['a', 'b'],
      debtor: Int32Array.from([0, 0, 1]),
      creditor: Int32Array.from([1, 1, 0]),
      outstanding: [4n, 6n, 7n],
    });
    expect(plan.setoff).toEqual([4n, 3n, 7n]);
    expect(plan.setoffTotal).toBe(14n);
  });
});
