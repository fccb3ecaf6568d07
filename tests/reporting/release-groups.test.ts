/**
 * Reporting groups that change between releases (issue 15, audit of 2026-12-07). Co-ops of one
 * owner or federation count as one contributor, since each knows the others' figures; the group
 * is frozen with each month's row (the treasurer's latest report when the month was frozen). Two
 * of three co-ops of a cell join a federation after January: from then on the cell has two
 * contributors, and either federated co-op could subtract both of theirs from the cell's total
 * and read the third co-op's figure. The cube took each co-op's group from its first frozen row (a
 * month before the federation), so the later months counted three contributors and were published.
 * Grouping month by month would not do either: the year would count each federated co-op's
 * January apart from the federation, four contributors, though the federation knows them.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISCLOSURE_POLICY } from '../../server/core/disclosure-rules.js';
import { buildReleaseShape, releaseCube } from '../../server/reporting/cube.js';
import type { FrozenRow } from '../../server/reporting/store.js';

const book = (i: number) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`;
const MONTHS = Array.from({ length: 12 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`);

/** X, Y and Z in one cell, alike; X and Y federated (group F) from February on. */
function rows(): FrozenRow[] {
  const out: FrozenRow[] = [];
  [100_000, 110_000, 120_000].forEach((revenue, i) => {
    const base = { bookId: book(i), neighbourhood: 'Riverside', sector: '31', kind: 'WORKER' };
    for (const month of MONTHS) {
      const group = i < 2 && month >= '2026-02' ? 'Federation F' : book(i);
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
  throughMonth: '2026-12',
};

describe('a reporting group formed after January', () => {
  it('makes the federated co-ops one contributor in every month, quarter and year', () => {
    const { shape, periods } = buildReleaseShape(dims);
    const cube = releaseCube(shape, periods, rows(), DEFAULT_DISCLOSURE_POLICY);
    for (const mp of ['REVENUE@2026-02', 'REVENUE@2026-12', 'REVENUE@2026-Q1', 'REVENUE@2026']) {
      const cell = shape.cellOf(['Riverside', '31', 'WORKER', mp]);
      expect(cube.contributors[cell], mp).toBe(2);
      expect(cube.verdicts.get(cell)?.reason, mp).toBe('THRESHOLD');
    }
  });

  it('gives the same groups whatever the order of the rows', () => {
    const { shape, periods } = buildReleaseShape(dims);
    const a = releaseCube(shape, periods, rows(), DEFAULT_DISCLOSURE_POLICY);
    const b = releaseCube(shape, periods, rows().reverse(), DEFAULT_DISCLOSURE_POLICY);
    expect([...b.contributors]).toEqual([...a.contributors]);
    expect([...b.verdicts]).toEqual([...a.verdicts]);
  });
});
