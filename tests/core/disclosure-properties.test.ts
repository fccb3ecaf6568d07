/**
 * Properties of disclosure control on random small cities (issue 15): after protection every
 * sensitive cell's certificate gives it the interval asked (verifyProtection), and an independent
 * LP audit (HiGHS: min and max of the cell over every table consistent with the published cells)
 * agrees and contains the certificate's interval. Small tables so the run stays within seconds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MeasureDef } from '../../server/core/disclosure-periods.js';
import { verifyProtection } from '../../server/core/disclosure-protect.js';
import { protectRelease } from '../../server/core/disclosure-release.js';
import { auditProtection } from '../../server/reporting/audit.js';
import { cityCube, REVENUE, type TestCoop } from '../helpers/disclosure-city.js';

const MEMBERS: MeasureDef = { code: 'MEMBERS', temporal: 'STOCK', grain: 'MONTH' };
const NEIGHBOURHOODS = ['N1', 'N2', 'N3', 'N4'];
const SECTORS = ['S1', 'S2', 'S3'];
const LAST_MONTHS = ['2026-01', '2026-02', '2026-03', '2026-06'];

const cityArb = fc
  .record({
    nbh: fc.integer({ min: 2, max: 4 }),
    sec: fc.integer({ min: 2, max: 3 }),
    last: fc.constantFrom(...LAST_MONTHS),
    members: fc.boolean(),
    coops: fc.array(
      fc.record({
        n: fc.nat(3),
        s: fc.nat(2),
        group: fc.option(fc.constantFrom('f1', 'f2'), { freq: 4 }),
        size: fc.oneof(
          { weight: 5, arbitrary: fc.integer({ min: 0, max: 400 }) },
          { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 20_000 }) },
        ),
        noise: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 6, maxLength: 6 }),
        zeroMonth: fc.option(fc.nat(5), { freq: 3 }),
      }),
      { minLength: 3, maxLength: 24 },
    ),
  })
  .map(({ nbh, sec, last, members, coops }) => {
    const neighbourhoods = NEIGHBOURHOODS.slice(0, nbh);
    const sectors = SECTORS.slice(0, sec);
    const months = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06'].filter(
      (m) => m <= last,
    );
    const list: TestCoop[] = coops.map((c, i) => {
      const revenue: Record<string, number> = {};
      const count: Record<string, number> = {};
      months.forEach((m, j) => {
        revenue[m] = j === c.zeroMonth ? 0 : c.size + c.noise[j]!;
        count[m] = 3 + (c.noise[j]! % 5);
      });
      return {
        id: `c${i}`,
        ...(c.group ? { group: c.group } : {}),
        neighbourhood: neighbourhoods[c.n % nbh]!,
        sector: sectors[c.s % sec]!,
        monthly: (members ? { REVENUE: revenue, MEMBERS: count } : { REVENUE: revenue }) as Record<
          string,
          Record<string, number>
        >,
      };
    });
    return {
      neighbourhoods,
      sectors,
      measures: members ? [REVENUE, MEMBERS] : [REVENUE],
      lastMonth: last,
      coops: list,
    };
  });

describe('random cities', () => {
  it('protect leaves every sensitive cell its interval: certificates and the LP audit agree', async () => {
    let audited = 0;
    let unprotectable = 0;
    await fc.assert(
      fc.asyncProperty(cityArb, async (city) => {
        const cube = cityCube(city);
        const release = protectRelease(cube);
        const { problem, result } = release;
        const verified = verifyProtection(problem, result.suppressed, release.certificates);
        const unprotected = new Set(result.unprotected);
        for (const v of verified)
          if (!unprotected.has(v.cell))
            expect(v, `cell ${cube.shape.codes(v.cell)}`).toMatchObject({ ok: true });
        const targets = problem.sensitive.map((cell, i) => ({
          cell,
          wantUp: problem.protectUp[i]!,
          wantDown: Math.min(problem.protectDown[i]!, problem.values[cell]!),
        }));
        const audit = await auditProtection(
          { shape: cube.shape, values: cube.values, suppressed: result.suppressed },
          targets,
        );
        expect(audit.findings.length).toBe(targets.length);
        for (const f of audit.findings) {
          audited++;
          const v = verified.find((x) => x.cell === f.cell)!;
          // The certificate is one direction the LP can take: its interval is inside the LP's.
          expect(f.max).toBeGreaterThanOrEqual(f.value + v.up - 1e-6 * Math.max(1, f.value));
          expect(f.min).toBeLessThanOrEqual(f.value - v.down + 1e-6 * Math.max(1, f.value));
          if (unprotected.has(f.cell)) unprotectable++;
          else expect(f.ok, `LP interval of ${cube.shape.codes(f.cell)}`).toBe(true);
        }
      }),
      { numRuns: 20, seed: 15 },
    );
    expect(audited).toBeGreaterThan(100);
    // Every city drawn here can be protected (each has a partner for every cell somewhere).
    expect(unprotectable).toBe(0);
  });
});
