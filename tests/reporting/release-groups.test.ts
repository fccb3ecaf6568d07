/**
 * Reporting groups that change between releases (issue 15, audit of 2026-12-07). Co-ops of one
 * owner or federation count as one contributor, since each knows the others' figures; the group
 * is frozen with each month's row (the treasurer's latest report when the month was frozen). Two
 * of three co-ops of a cell join a federation after the first release: from then on the cell has
 * two contributors, and either federated co-op could subtract both of theirs from the cell's total
 * and read the third co-op's figure. The cube took each co-op's group from its first frozen row (a
 * month before the federation), so the new month counted three contributors and was published.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISCLOSURE_POLICY } from '../../server/core/disclosure-rules.js';
import { buildReleaseShape, decodeCells, releaseCube } from '../../server/reporting/cube.js';
import { computeRelease } from '../../server/reporting/release-compute.js';
import type { FrozenRow } from '../../server/reporting/store.js';

const book = (i: number) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`;

/** X, Y and Z in one cell, alike; X and Y federated (group F) from February on. */
function rows(): FrozenRow[] {
  const out: FrozenRow[] = [];
  [100_000, 110_000, 120_000].forEach((revenue, i) => {
    const base = { bookId: book(i), neighbourhood: 'Riverside', sector: '31', kind: 'WORKER' };
    for (const month of ['2026-01', '2026-02']) {
      const group = i < 2 && month === '2026-02' ? 'Federation F' : book(i);
      out.push({ ...base, group, measure: 'COOPS', month, value: 1 });
      out.push({ ...base, group, measure: 'REVENUE', month, value: revenue });
    }
  });
  return out;
}

const dims = {
  scale: 2,
  neighbourhoods: ['Riverside'],
  sectors: ['31'],
  kinds: ['WORKER'],
  firstYear: 2026,
  throughMonth: '2026-02',
};

describe('a reporting group formed after the first release', () => {
  it('counts the federated co-ops as one contributor in the months they are federated', () => {
    const { shape, periods } = buildReleaseShape(dims);
    const cube = releaseCube(shape, periods, rows(), DEFAULT_DISCLOSURE_POLICY);
    const cell = (mp: string) => shape.cellOf(['Riverside', '31', 'WORKER', mp]);
    // January: three co-ops of their own, alike: published.
    expect(cube.contributors[cell('REVENUE@2026-01')]).toBe(3);
    expect(cube.verdicts.get(cell('REVENUE@2026-01'))).toBeUndefined();
    // February: the federation and Z, two contributors: THRESHOLD.
    expect(cube.contributors[cell('REVENUE@2026-02')]).toBe(2);
    expect(cube.verdicts.get(cell('REVENUE@2026-02'))?.reason).toBe('THRESHOLD');
  });

  it('the release hides February’s revenue of the cell (certificates and LP audit passing)', async () => {
    const out = await computeRelease({
      dims,
      rows: rows(),
      policy: DEFAULT_DISCLOSURE_POLICY,
      previous: null,
    });
    if (!out.ok) throw new Error(out.message);
    const { shape } = buildReleaseShape({ ...dims, measurePeriods: out.measurePeriods });
    const reasons = new Map([...decodeCells(Buffer.from(out.cells))].map((c) => [c.cell, c.reason]));
    expect(reasons.get(shape.cellOf(['TOTAL', 'TOTAL', 'TOTAL', 'REVENUE@2026-02']))).toBe('THRESHOLD');
    expect(reasons.get(shape.cellOf(['TOTAL', 'TOTAL', 'TOTAL', 'REVENUE@2026-01']))).toBeNull();
  });
});
