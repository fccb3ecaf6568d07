/**
 * Complementary suppression and its audit (issue 15), on hand-built cities where a cell has 2
 * co-ops, where one co-op dominates, where a hidden cell could be recovered by subtraction from a
 * margin, and where it could be recovered from two consecutive months (a quarter less its other
 * months, and across two releases). Each case shows the leak is real without complementary
 * suppression (the LP pins the cell) and gone with it: the certificates' intervals
 * (verifyProtection) and the LP audit (HiGHS) both reach the protection asked.
 */
import { describe, expect, it } from 'vitest';
import type { Cube } from '../../server/core/disclosure-cube.js';
import { verifyProtection } from '../../server/core/disclosure-protect.js';
import {
  type PriorCell,
  protectRelease,
  type ReleaseProtection,
} from '../../server/core/disclosure-release.js';
import { auditProtection } from '../../server/reporting/audit.js';
import { at, cityCube, REVENUE, type TestCity, type TestCoop } from '../helpers/disclosure-city.js';

function coop(id: string, neighbourhood: string, sector: string, revenue: Record<string, number>): TestCoop {
  return { id, neighbourhood, sector, monthly: { REVENUE: revenue } };
}

/** Three co-ops in every (neighbourhood, sector) of the grid, each with `base` revenue every month. */
function grid(neighbourhoods: string[], sectors: string[], months: string[], base = 100): TestCoop[] {
  const out: TestCoop[] = [];
  for (const n of neighbourhoods) {
    for (const s of sectors) {
      for (let i = 0; i < 3; i++) {
        out.push(
          coop(`${n}-${s}-${i}`, n, s, Object.fromEntries(months.map((m, j) => [m, base + 7 * i + j]))),
        );
      }
    }
  }
  return out;
}

function targets(release: ReleaseProtection) {
  return release.problem.sensitive.map((cell, i) => ({
    cell,
    wantUp: release.problem.protectUp[i]!,
    wantDown: Math.min(release.problem.protectDown[i]!, release.problem.values[cell]!),
  }));
}

/** The LP audit of the cells hidden by primary rules alone (no complementary cells). */
async function auditPrimaryOnly(cube: Cube, release: ReleaseProtection) {
  return auditProtection(
    { shape: cube.shape, values: cube.values, suppressed: release.problem.suppressed },
    targets(release),
  );
}

async function expectProtected(cube: Cube, release: ReleaseProtection) {
  expect(release.result.unprotected).toEqual([]);
  const verified = verifyProtection(release.problem, release.result.suppressed, release.certificates);
  expect(verified.filter((v) => !v.ok)).toEqual([]);
  const audit = await auditProtection(
    { shape: cube.shape, values: cube.values, suppressed: release.result.suppressed },
    targets(release),
  );
  expect(audit.findings.length).toBe(release.problem.sensitive.length);
  expect(audit.failures).toEqual([]);
  // The LP interval contains the certificate's (a certificate is one feasible direction).
  for (const v of verified) {
    const f = audit.findings.find((x) => x.cell === v.cell)!;
    expect(f.max).toBeGreaterThanOrEqual(f.value + v.up - 1e-6);
    expect(f.min).toBeLessThanOrEqual(f.value - v.down + 1e-6);
  }
  // Suppressed cells are never published as a value of zero: every hidden cell has a reason.
  for (let cell = 0; cell < cube.shape.cellCount; cell++) {
    expect(release.result.suppressed[cell] === 1).toBe(release.reasons[cell] !== null);
  }
  return audit;
}

describe('hand-built cities', () => {
  it('a cell of 2 co-ops is hidden (THRESHOLD) and cannot be recovered from its row, column or margins', async () => {
    const months = ['2026-01'];
    const coops = grid(['A', 'B', 'C'], ['s1', 's2'], months).filter((c) => c.id !== 'A-s1-2');
    const city: TestCity = {
      neighbourhoods: ['A', 'B', 'C'],
      sectors: ['s1', 's2'],
      measures: [REVENUE],
      lastMonth: '2026-01',
      coops,
    };
    const cube = cityCube(city);
    const x = at(cube, 'A', 's1', 'REVENUE@2026-01');
    expect(cube.contributors[x]).toBe(2);
    expect(cube.verdicts.get(x)?.reason).toBe('THRESHOLD');
    const release = protectRelease(cube);
    expect(release.reasons[x]).toBe('THRESHOLD');
    // Subtraction from the row and column margins pins it when nothing else is hidden.
    const leak = await auditPrimaryOnly(cube, release);
    expect(leak.failures.map((f) => f.cell)).toContain(x);
    const pinned = leak.findings.find((f) => f.cell === x)!;
    expect(pinned.max - pinned.min).toBeLessThan(1e-6);
    // With complementary suppression: at least a rectangle (4 cells) hidden, all with a reason.
    expect(release.result.complementary.length).toBeGreaterThanOrEqual(3);
    await expectProtected(cube, release);
  });

  it('a cell one co-op dominates is hidden (DOMINANCE) with the interval the (n,k) rule asks', async () => {
    const months = ['2026-01'];
    const coops = grid(['A', 'B', 'C'], ['s1', 's2'], months);
    coops.push(coop('big', 'B', 's2', { '2026-01': 10_000 }));
    const city: TestCity = {
      neighbourhoods: ['A', 'B', 'C'],
      sectors: ['s1', 's2'],
      measures: [REVENUE],
      lastMonth: '2026-01',
      coops,
    };
    const cube = cityCube(city);
    const x = at(cube, 'B', 's2', 'REVENUE@2026-01');
    expect(cube.contributors[x]).toBe(4);
    const verdict = cube.verdicts.get(x)!;
    expect(verdict.reason).toBe('DOMINANCE');
    // (100/85) * (10000 + 114) - 10321 = 1577.7..., rounded up.
    const total = cube.values[x]!;
    expect(total).toBe(10_000 + 100 + 107 + 114);
    expect(verdict.protection).toBe(BigInt(Math.ceil((100 * (10_000 + 114) - 85 * total) / 85)));
    const release = protectRelease(cube);
    expect(release.reasons[x]).toBe('DOMINANCE');
    // The big co-op also dominates its neighbourhood's and its sector's margins.
    expect(release.reasons[at(cube, 'B', 'TOTAL', 'REVENUE@2026-01')]).toBe('DOMINANCE');
    expect((await auditPrimaryOnly(cube, release)).failures.length).toBeGreaterThan(0);
    await expectProtected(cube, release);
  });

  it('a hidden cell that a quarter less its other two months would give is protected through time', async () => {
    const months = ['2026-01', '2026-02', '2026-03'];
    const coops = grid(['A', 'B'], ['s1', 's2'], months);
    // In January one of A/s1's co-ops had no revenue: 2 contributors that month only.
    coops.find((c) => c.id === 'A-s1-0')!.monthly.REVENUE!['2026-01'] = 0;
    const city: TestCity = {
      neighbourhoods: ['A', 'B'],
      sectors: ['s1', 's2'],
      measures: [REVENUE],
      lastMonth: '2026-03',
      coops,
    };
    const cube = cityCube(city);
    const jan = at(cube, 'A', 's1', 'REVENUE@2026-01');
    expect(cube.verdicts.get(jan)?.reason).toBe('THRESHOLD');
    expect(cube.verdicts.size).toBe(1);
    const release = protectRelease(cube);
    const leak = await auditPrimaryOnly(cube, release);
    expect(leak.failures.map((f) => f.cell)).toEqual([jan]);
    await expectProtected(cube, release);
    // The cell's quarter, or another of its months, is hidden too.
    const sameSlice = ['REVENUE@2026-02', 'REVENUE@2026-03', 'REVENUE@2026-Q1'].map((c) =>
      at(cube, 'A', 's1', c),
    );
    expect(sameSlice.some((c) => release.result.suppressed[c] === 1)).toBe(true);
  });

  it('across two consecutive releases: earlier cells keep their status and the new quarter cannot unlock a month', async () => {
    const coops = grid(['A', 'B'], ['s1', 's2'], ['2026-01', '2026-02', '2026-03']);
    coops.find((c) => c.id === 'A-s1-0')!.monthly.REVENUE!['2026-01'] = 0;
    const base = { neighbourhoods: ['A', 'B'], sectors: ['s1', 's2'], measures: [REVENUE], coops };
    // Release 1 covers January and February (no quarter yet).
    const cube1 = cityCube({ ...base, lastMonth: '2026-02' });
    const release1 = protectRelease(cube1);
    await expectProtected(cube1, release1);
    // Release 2 adds March and Q1, with release 1's cells locked.
    const cube2 = cityCube({ ...base, lastMonth: '2026-03' });
    const prior = new Map<number, PriorCell>();
    const sensitive1 = new Map(release1.problem.sensitive.map((c, i) => [c, i]));
    for (let cell = 0; cell < cube1.shape.cellCount; cell++) {
      const i = sensitive1.get(cell);
      prior.set(cube2.shape.cellOf(cube1.shape.codes(cell)), {
        suppressed: release1.result.suppressed[cell] === 1,
        reason: release1.reasons[cell]!,
        protectUp: i === undefined ? 0 : release1.problem.protectUp[i]!,
        protectDown: i === undefined ? 0 : release1.problem.protectDown[i]!,
      });
    }
    const release2 = protectRelease(cube2, prior);
    for (let cell = 0; cell < cube1.shape.cellCount; cell++) {
      const c2 = cube2.shape.cellOf(cube1.shape.codes(cell));
      expect(release2.result.suppressed[c2]).toBe(release1.result.suppressed[cell]);
      expect(cube2.values[c2]).toBe(cube1.values[cell]);
    }
    // Everything either release published is in release 2's published cells, so one LP over
    // release 2 is the attacker holding both.
    const audit = await expectProtected(cube2, release2);
    const jan = at(cube2, 'A', 's1', 'REVENUE@2026-01');
    expect(audit.findings.map((f) => f.cell)).toContain(jan);
    // Protecting release 2 alone, without release 1's locks, can publish what release 1 hid or hide
    // what it published; with the locks it cannot (checked above), and the quarter is hidden or
    // March is, in January's slice.
    const slice = ['REVENUE@2026-03', 'REVENUE@2026-Q1'].map((c) => at(cube2, 'A', 's1', c));
    expect(slice.some((c) => release2.result.suppressed[c] === 1)).toBe(true);
  });

  it('co-ops of one federation count as one contributor', () => {
    const coops = grid(['A', 'B'], ['s1', 's2'], ['2026-01']);
    for (const c of coops) if (c.id.startsWith('A-s1-') && c.id !== 'A-s1-2') c.group = 'federation';
    const cube = cityCube({
      neighbourhoods: ['A', 'B'],
      sectors: ['s1', 's2'],
      measures: [REVENUE],
      lastMonth: '2026-01',
      coops,
    });
    const x = at(cube, 'A', 's1', 'REVENUE@2026-01');
    expect(cube.contributors[x]).toBe(2);
    expect(cube.verdicts.get(x)?.reason).toBe('THRESHOLD');
  });
});
