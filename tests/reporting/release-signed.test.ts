/**
 * A release whose share capital is repaid in some months (issue 15/16): SHARE_CAPITAL_RAISED is
 * net of redemptions, so a month in which a member leaves and is paid back is negative. With the
 * a-priori lower bound 0 of the other measures, those negative cells had no room downwards, the
 * cells beside them could not be protected, and the demo city's release was refused
 * (RELEASE_NOT_PROTECTED). A signed measure has no lower bound in protection, its certificates and
 * the LP audit; every other measure keeps 0.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISCLOSURE_POLICY } from '../../server/core/disclosure-rules.js';
import {
  buildReleaseShape,
  decodeCells,
  releaseCube,
  releaseLowerBounds,
} from '../../server/reporting/cube.js';
import { computeRelease } from '../../server/reporting/release-compute.js';
import type { FrozenRow } from '../../server/reporting/store.js';

/** Co-ops of a small city: [neighbourhood, sector, kind, share capital per month (Jan..Mar 2026)]. */
const COOPS: [string, string, string, number[]][] = [
  ['Millbrook', '53', 'HOUSING', [150_000, 0, -150_000]],
  ['Millbrook', '11', 'PRODUCER', [230_000, 0, 230_000]],
  ['Millbrook', '62', 'WORKER', [-170_000, 170_000, 170_000]],
  ['Millbrook', '81', 'WORKER', [180_000, -180_000, 180_000]],
  ['Millbrook', '81', 'WORKER', [0, -280_000, 0]],
  ['Old Harbour', '53', 'HOUSING', [90_000, 60_000, 0]],
  ['Old Harbour', '11', 'PRODUCER', [0, 120_000, 40_000]],
  ['Old Harbour', '62', 'WORKER', [75_000, 0, 75_000]],
];
const MONTHS = ['2026-01', '2026-02', '2026-03'];

function cityRows(extra: typeof COOPS = []): FrozenRow[] {
  const rows: FrozenRow[] = [];
  [...COOPS, ...extra].forEach(([neighbourhood, sector, kind, capital], i) => {
    const bookId = `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const base = { bookId, neighbourhood, sector, kind, group: bookId };
    MONTHS.forEach((month, m) => {
      rows.push({ ...base, measure: 'COOPS', month, value: 1 });
      rows.push({ ...base, measure: 'REVENUE', month, value: 400_000 + 10_000 * i + 1_000 * m });
      if (capital[m] !== 0)
        rows.push({ ...base, measure: 'SHARE_CAPITAL_RAISED', month, value: capital[m]! });
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

describe('a release with share capital repaid (negative months)', () => {
  it('is protected, its certificates verified and every hidden sensitive cell audited', async () => {
    const rows = cityRows();
    const out = await computeRelease({
      dims: dims(rows),
      rows,
      policy: DEFAULT_DISCLOSURE_POLICY,
      previous: null,
    });
    if (!out.ok) throw new Error(out.message);
    expect(out.summary.primary).toBeGreaterThan(0);
    expect(out.summary.auditSkipped).toBe(0);
    expect(out.summary.auditedCells).toBeGreaterThan(0);
  });

  it('hides a month whose net share capital cancels to 0 between few co-ops', async () => {
    // Eastgate's three worker co-ops in sector 62: one raises 5,000.00 in January, two repay
    // 4,990.00 and 10.00. The cell is 0, but either repaying co-op knows the raising one's figure
    // to within 10.00 (the p% rule's case): it must not be published as a zero.
    const east: [string, string, string, number[]][] = [
      ['Eastgate', '62', 'WORKER', [500_000, 0, 0]],
      ['Eastgate', '62', 'WORKER', [-499_000, 0, 0]],
      ['Eastgate', '62', 'WORKER', [-1_000, 0, 0]],
    ];
    const rows = cityRows(east);
    const out = await computeRelease({
      dims: dims(rows),
      rows,
      policy: DEFAULT_DISCLOSURE_POLICY,
      previous: null,
    });
    if (!out.ok) throw new Error(out.message);
    const { shape } = buildReleaseShape(dims(rows));
    const cell = shape.cellOf(['Eastgate', '62', 'WORKER', 'SHARE_CAPITAL_RAISED@2026-01']);
    const stored = [...decodeCells(Buffer.from(out.cells))].find((c) => c.cell === cell);
    expect(stored?.reason, 'published as a zero').toBe('DOMINANCE');
  });

  it('takes no lower bound for the signed measure only', () => {
    const rows = cityRows();
    const { shape, periods } = buildReleaseShape(dims(rows));
    const cube = releaseCube(shape, periods, rows, DEFAULT_DISCLOSURE_POLICY);
    const lower = releaseLowerBounds(shape, cube.values);
    const at = (mp: string) => lower[shape.cellOf(['Millbrook', 'TOTAL', 'TOTAL', mp])];
    expect(at('SHARE_CAPITAL_RAISED@2026-02')).toBe(Number.NEGATIVE_INFINITY);
    expect(at('SHARE_CAPITAL_RAISED@2026-Q1')).toBe(Number.NEGATIVE_INFINITY);
    expect(at('REVENUE@2026-02')).toBe(0);
    expect(at('COOPS@2026-03')).toBe(0);
  });
});
