/**
 * Over-suppression (issue 15): a sparse city in which one co-op is alone in its sector. Its
 * sector's city-wide figures (TOTAL / 62 / TOTAL) have one contributor; the hypercube through
 * them with each classification's total moves the city's grand total too, and the demo city's
 * release hid its city-wide revenue and wages as COMPLEMENTARY. Protection now tries a pair (the
 * cell with its margins against another slice with its margins, the shared totals cancelled), so
 * the grand total and the well-populated neighbourhood totals publish, while the certificates and
 * the LP audit still prove every hidden sensitive cell protected.
 */
import { describe, expect, it } from 'vitest';
import { protectRelease } from '../../server/core/disclosure-release.js';
import { DEFAULT_DISCLOSURE_POLICY } from '../../server/core/disclosure-rules.js';
import { auditProtection } from '../../server/reporting/audit.js';
import { buildReleaseShape, decodeCells, releaseCube } from '../../server/reporting/cube.js';
import { asBuffer, computeRelease } from '../../server/reporting/release-compute.js';
import type { FrozenRow } from '../../server/reporting/store.js';

/** [neighbourhood, sector, kind, monthly revenue in cents] */
const COOPS: [string, string, string, number][] = [
  ['Ashford', '11', 'WORKER', 410_000],
  ['Ashford', '11', 'WORKER', 380_000],
  ['Ashford', '11', 'WORKER', 350_000],
  ['Ashford', '81', 'WORKER', 290_000],
  ['Ashford', '81', 'WORKER', 310_000],
  ['Ashford', '81', 'WORKER', 330_000],
  ['Ashford', '11', 'HOUSING', 520_000],
  ['Ashford', '11', 'HOUSING', 480_000],
  ['Ashford', '11', 'HOUSING', 450_000],
  ['Brookside', '11', 'WORKER', 360_000],
  ['Brookside', '11', 'WORKER', 340_000],
  ['Brookside', '11', 'WORKER', 390_000],
  ['Brookside', '81', 'WORKER', 300_000],
  ['Brookside', '81', 'WORKER', 280_000],
  ['Brookside', '81', 'WORKER', 320_000],
  ['Brookside', '81', 'HOUSING', 610_000],
  ['Brookside', '81', 'HOUSING', 440_000],
  ['Brookside', '81', 'HOUSING', 500_000],
  // Two co-ops in a slice (THRESHOLD), three beside them.
  ['Canalside', '11', 'WORKER', 270_000],
  ['Canalside', '11', 'WORKER', 300_000],
  ['Canalside', '81', 'WORKER', 260_000],
  ['Canalside', '81', 'WORKER', 310_000],
  ['Canalside', '81', 'WORKER', 290_000],
  // Alone in its sector and its kind, city-wide: no product of each classification's vectors
  // through it avoids the city's grand total.
  ['Canalside', '62', 'CONSUMER', 900_000],
];
const MONTHS = ['2026-01', '2026-02', '2026-03'];

function cityRows(): FrozenRow[] {
  const rows: FrozenRow[] = [];
  COOPS.forEach(([neighbourhood, sector, kind, revenue], i) => {
    const bookId = `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const base = { bookId, neighbourhood, sector, kind, group: bookId };
    MONTHS.forEach((month, m) => {
      rows.push({ ...base, measure: 'COOPS', month, value: 1 });
      rows.push({ ...base, measure: 'REVENUE', month, value: revenue + 7_000 * i + 1_000 * m });
    });
  });
  return rows;
}

const dims = (rows: FrozenRow[]) => ({
  scale: 2,
  neighbourhoods: [...new Set(rows.map((r) => r.neighbourhood))].sort(),
  sectors: [...new Set(rows.map((r) => r.sector))].sort(),
  kinds: [...new Set(rows.map((r) => r.kind))].sort(),
  firstYear: 2026,
  throughMonth: '2026-03',
});

describe('a sparse city with a co-op alone in its sector', () => {
  it('publishes the grand total and the well-populated margins; every hidden sensitive cell is audited', async () => {
    const rows = cityRows();
    const d = dims(rows);
    const out = await computeRelease({ dims: d, rows, policy: DEFAULT_DISCLOSURE_POLICY, previous: null });
    if (!out.ok) throw new Error(out.message);
    expect(out.summary.primary).toBeGreaterThan(0);
    expect(out.summary.auditSkipped).toBe(0);
    expect(out.summary.auditedCells).toBeGreaterThan(0);
    const { shape } = buildReleaseShape(d);
    const status = new Map<string, string | null>();
    for (const c of decodeCells(asBuffer(out.cells))) status.set(shape.codes(c.cell).join('/'), c.reason);
    // The sector of one co-op is hidden for what it is: one contributor.
    expect(status.get('TOTAL/62/TOTAL/REVENUE@2026-01')).toBe('THRESHOLD');
    expect(status.get('TOTAL/TOTAL/CONSUMER/REVENUE@2026-01')).toBe('THRESHOLD');
    expect(status.get('Canalside/11/WORKER/REVENUE@2026-01')).toBe('THRESHOLD');
    // The city, the neighbourhoods and the kind away from the lone co-op: many co-ops, none
    // dominant. (Canalside's total less its worker co-ops, or sector 62's total, would give the lone
    // co-op: one of Canalside's margins and another sector's city-wide total hide whatever the method.)
    const mustPublish: string[] = [];
    for (const period of [...MONTHS, '2026-Q1'])
      for (const measure of ['REVENUE', 'COOPS']) {
        mustPublish.push(`TOTAL/TOTAL/TOTAL/${measure}@${period}`);
        for (const n of ['Ashford', 'Brookside']) mustPublish.push(`${n}/TOTAL/TOTAL/${measure}@${period}`);
        mustPublish.push(`TOTAL/TOTAL/HOUSING/${measure}@${period}`);
      }
    const hidden = mustPublish.filter((code) => status.get(code) !== null);
    expect(hidden).toEqual([]);
  });

  it('a program the solver ends without an answer fails its cells, it does not throw', async () => {
    // A city whose programs need simplex iterations (the one above is solved by presolve alone).
    let seed = 15;
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const rows: FrozenRow[] = [];
    for (let i = 0; i < 60; i++) {
      const bookId = `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`;
      const base = {
        bookId,
        neighbourhood: `N${Math.floor(rnd() * 5)}`,
        sector: String(10 + Math.floor(rnd() * 6)),
        kind: ['WORKER', 'HOUSING', 'CONSUMER'][Math.floor(rnd() * 3)]!,
        group: bookId,
      };
      for (const month of MONTHS) {
        rows.push({ ...base, measure: 'COOPS', month, value: 1 });
        rows.push({ ...base, measure: 'REVENUE', month, value: Math.round(100_000 + rnd() * 900_000) });
        rows.push({ ...base, measure: 'MEMBERS', month, value: 3 + Math.floor(rnd() * 30) });
      }
    }
    const { shape, periods } = buildReleaseShape(dims(rows));
    const cube = releaseCube(shape, periods, rows, DEFAULT_DISCLOSURE_POLICY);
    const { problem, result, certificates } = protectRelease(cube);
    const targets = problem.sensitive.map((cell, i) => ({
      cell,
      wantUp: problem.protectUp[i]!,
      wantDown: Math.min(problem.protectDown[i]!, Math.max(0, cube.values[cell]!)),
    }));
    const input = { shape, values: cube.values, suppressed: result.suppressed };
    const fine = await auditProtection(input, targets, certificates, 4_000, { neighbourhoodFirst: true });
    expect(fine.solverFailures).toBe(0);
    expect(fine.failures).toEqual([]);
    // No time at all: HiGHS stops every program with status "time limit reached".
    const starved = await auditProtection(input, targets, certificates, 4_000, {
      neighbourhoodFirst: true,
      solverOptions: { time_limit: 0 },
    });
    expect(starved.solverFailures).toBeGreaterThan(0);
    expect(starved.failures.length).toBeGreaterThan(0);
    expect(starved.findings.length).toBe(targets.length);
  });
});
