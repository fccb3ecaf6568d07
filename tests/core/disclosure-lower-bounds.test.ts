/**
 * The "hidden means at least 1" attacker (issue 15): a cell nobody contributes to is always
 * published as 0, so every hidden cell of a count (or a gross amount) is at least 1. Hand-worked
 * cases on the release's own table (server/reporting/cube.ts): the bounds protectRelease gives an
 * attacker (a total of three single closures is at least 3, a stock with an empty outflow at least
 * last month's plus its inflow), the cheapest non-negative null vector of the measure-period
 * dimension, and a sparse city whose co-op counts protection must keep from being pinned by an
 * attacker with those bounds (the LP audit given the bounds by the test itself, not by protection;
 * that city was already safe before the bounds: the random cities of
 * tests/reporting/independent-audit.test.ts are where the earlier protection leaked).
 */
import { describe, expect, it } from 'vitest';
import { nonNegativeNullVector } from '../../server/core/disclosure-monotone.js';
import { verifyProtection } from '../../server/core/disclosure-protect.js';
import { protectRelease } from '../../server/core/disclosure-release.js';
import { DEFAULT_DISCLOSURE_POLICY } from '../../server/core/disclosure-rules.js';
import { auditProtection } from '../../server/reporting/audit.js';
import { buildReleaseShape, releaseCube, releaseLowerBounds } from '../../server/reporting/cube.js';
import type { FrozenRow } from '../../server/reporting/store.js';

interface Coop {
  id: string;
  neighbourhood: string;
  sector: string;
  kind?: string;
  /** measure -> month -> value */
  monthly: Record<string, Record<string, number>>;
}

function city(coops: Coop[], neighbourhoods: string[], sectors: string[], throughMonth: string) {
  const rows: FrozenRow[] = [];
  for (const c of coops)
    for (const [measure, byMonth] of Object.entries(c.monthly))
      for (const [month, value] of Object.entries(byMonth))
        if (value !== 0)
          rows.push({
            bookId: c.id,
            neighbourhood: c.neighbourhood,
            sector: c.sector,
            kind: c.kind ?? 'WORKER',
            group: c.id,
            measure,
            month,
            value,
          });
  const { shape, periods } = buildReleaseShape({
    neighbourhoods,
    sectors,
    kinds: [...new Set(coops.map((c) => c.kind ?? 'WORKER'))].sort(),
    firstYear: 2026,
    throughMonth,
  });
  const cube = releaseCube(shape, periods, rows, DEFAULT_DISCLOSURE_POLICY);
  const release = protectRelease(cube, new Map(), { lower: releaseLowerBounds(shape, cube.values) });
  const cell = (n: string, s: string, mp: string) => shape.cellOf([n, s, 'TOTAL', mp]);
  return { shape, cube, release, cell };
}

const every = (months: string[], value: number) => Object.fromEntries(months.map((m) => [m, value]));
const Q1 = ['2026-01', '2026-02', '2026-03'];

describe('what an attacker knows of hidden cells', () => {
  it('three closures in three slices: the total is at least 3; a stock with an empty outflow at least its past plus its inflow', () => {
    // Three co-ops, one per neighbourhood, close in February; Ashgrove also founds a fourth in March.
    const coops: Coop[] = ['Ashgrove', 'Brookside', 'Cedar Hill'].map((n, i) => ({
      id: `c${i}`,
      neighbourhood: n,
      sector: '31',
      monthly: { COOPS: { '2026-01': 1 }, CLOSED: { '2026-02': 1 }, MEMBERS: { '2026-01': 5 } },
    }));
    coops.push({
      id: 'c3',
      neighbourhood: 'Ashgrove',
      sector: '31',
      monthly: { COOPS: { '2026-03': 1 }, FOUNDED: { '2026-03': 1 } },
    });
    coops.push({
      id: 'c4',
      neighbourhood: 'Ashgrove',
      sector: '31',
      monthly: { COOPS: every(Q1, 1), MEMBERS: every(Q1, 4) },
    });
    const { cube, release, cell } = city(coops, ['Ashgrove', 'Brookside', 'Cedar Hill'], ['31'], '2026-03');
    const lower = release.problem.lower!;
    const closedTotal = cell('TOTAL', 'TOTAL', 'CLOSED@2026-02');
    expect(cube.values[closedTotal]).toBe(3);
    // Each slice's closure is a hidden cell with a contributor: at least 1, three of them.
    expect(lower[closedTotal]).toBe(3);
    expect(lower[cell('Brookside', '31', 'CLOSED@2026-02')]).toBe(1);
    expect(lower[cell('TOTAL', 'TOTAL', 'CLOSED@2026-Q1')]).toBe(3);
    // Ashgrove in March: 1 co-op in February, 1 founded, none closed (empty, published 0).
    const ashgroveMarch = cell('Ashgrove', '31', 'COOPS@2026-03');
    expect(cube.values[ashgroveMarch]).toBe(2);
    expect(lower[ashgroveMarch]).toBe(2);
    // An empty cell is known to be 0, never raised.
    expect(lower[cell('Brookside', '31', 'COOPS@2026-03')]).toBe(0);
    // Members: a cell with a contributor is at least 1, not its value.
    expect(lower[cell('Brookside', '31', 'MEMBERS@2026-01')]).toBe(1);
  });

  it('the cheapest non-negative null vector through a closure, its founding month empty', () => {
    const { shape } = city(
      [{ id: 'c', neighbourhood: 'Ashgrove', sector: '31', monthly: { COOPS: every(Q1, 1) } }],
      ['Ashgrove'],
      ['31'],
      '2026-03',
    );
    const mp = shape.dims[3]!;
    const allowed = new Uint8Array(mp.size).fill(1);
    allowed[mp.codeIndex('FOUNDED@2026-03')] = 0;
    const w = nonNegativeNullVector(
      mp,
      mp.codeIndex('CLOSED@2026-03'),
      allowed,
      () => true,
      () => 1,
    );
    // One more co-op that existed in January and February and closed in March (its quarter too):
    // four cells. Through February's founding instead it would take five.
    expect(w && Object.fromEntries(w.map((t) => [mp.codes[t.code], t.coef]))).toEqual({
      'COOPS@2026-01': 1,
      'COOPS@2026-02': 1,
      'CLOSED@2026-03': 1,
      'CLOSED@2026-Q1': 1,
    });
    // No such vector when the closure's every way to rise is fixed at zero.
    for (const code of ['COOPS@2026-02', 'FOUNDED@2026-03', 'COOPS@2026-03']) allowed[mp.codeIndex(code)] = 0;
    expect(
      nonNegativeNullVector(
        mp,
        mp.codeIndex('CLOSED@2026-03'),
        allowed,
        () => true,
        () => 1,
      ),
    ).toBe(null);
  });

  it('single co-ops beside each other: no co-op count is pinned by an attacker who knows hidden counts are at least 1', async () => {
    // Sector 31: one co-op in each (neighbourhood, kind), their counts sensitive 1s; sector 54: four
    // co-ops per slice, so sector 31's margins are dear and its single co-ops are each other's
    // cheapest partners (x up, a neighbour down: a neighbour that is 1 cannot fall).
    const coops: Coop[] = [];
    const jobs = { WORKER_OWNERS: every(Q1, 1), JOBS: every(Q1, 1) };
    for (const n of ['Ashgrove', 'Brookside'])
      for (const kind of ['CONSUMER', 'WORKER']) {
        coops.push({
          id: `${n}-${kind}`,
          neighbourhood: n,
          sector: '31',
          kind,
          monthly: { COOPS: every(Q1, 1), MEMBERS: every(Q1, 6), ...jobs },
        });
        for (let i = 0; i < 4; i++)
          coops.push({
            id: `${n}-${kind}-${i}`,
            neighbourhood: n,
            sector: '54',
            kind,
            monthly: { COOPS: every(Q1, 1), MEMBERS: every(Q1, 9 + i), ...jobs },
          });
      }
    const { shape, cube, release } = city(coops, ['Ashgrove', 'Brookside'], ['31', '54'], '2026-03');
    const { problem, result } = release;
    expect(result.unprotected).toEqual([]);
    expect(verifyProtection(problem, result.suppressed, release.certificates).filter((v) => !v.ok)).toEqual(
      [],
    );
    // The attacker's bounds worked out here: 1 for every cell with a contributor (counts only here).
    const attacker = Float64Array.from(cube.values, (v, c) =>
      cube.contributors[c]! > 0 ? 1 : Math.min(0, v),
    );
    // Every hidden sensitive cell of value 1 must still be able to rise by what it asks (it cannot
    // fall: 0 would be published).
    const targets = problem.sensitive
      .map((cell, i) => ({ cell, wantUp: problem.protectUp[i]!, wantDown: 0 }))
      .filter((t) => cube.values[t.cell] === 1);
    expect(targets.length).toBeGreaterThan(20);
    const audit = await auditProtection(
      { shape, values: cube.values, lower: attacker, suppressed: result.suppressed },
      targets,
    );
    expect(audit.failures.map((f) => `${shape.codes(f.cell).join(' / ')}: at most ${f.max}`)).toEqual([]);
    expect(audit.findings.length).toBe(targets.length);
  });
});
