/**
 * CLOSED and LIQUIDITY_SAVED in the protected cube (issue 15): co-ops closed in a month are a
 * count (the threshold rule only: 2 co-ops are hidden, 3 are not held back by a primary rule), the
 * liquidity saved by clearing is money (all rules: one co-op's set-off dominating the cell hides
 * it). A release stored before these measures existed is read with its own measures (its cells keep
 * their indices) when the next release protects against it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISCLOSURE_POLICY } from '../../server/core/disclosure-rules.js';
import { buildReleaseShape, decodeCells } from '../../server/reporting/cube.js';
import { asBuffer, computeRelease } from '../../server/reporting/release-compute.js';
import type { FrozenRow } from '../../server/reporting/store.js';

const MONTHS = ['2026-01', '2026-02', '2026-03'];
/** Per co-op: the month it closed (null: open) and its set-off in February (minor units). */
const COOPS: [string | null, number][] = [
  ['2026-01', 0],
  ['2026-01', 0],
  ['2026-03', 90_000],
  ['2026-03', 1_000],
  ['2026-03', 1_000],
  [null, 1_000],
  [null, 0],
];

function rows(): FrozenRow[] {
  const out: FrozenRow[] = [];
  COOPS.forEach(([closed, saved], i) => {
    const bookId = `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const base = { bookId, neighbourhood: 'East', sector: '54', kind: 'WORKER', group: bookId };
    for (const month of MONTHS) {
      if (closed === null || month < closed) out.push({ ...base, measure: 'COOPS', month, value: 1 });
      out.push({ ...base, measure: 'REVENUE', month, value: 500_000 + 10_000 * i });
    }
    if (closed) out.push({ ...base, measure: 'CLOSED', month: closed, value: 1 });
    if (saved > 0) out.push({ ...base, measure: 'LIQUIDITY_SAVED', month: '2026-02', value: saved });
  });
  return out;
}

const dims = {
  scale: 2,
  neighbourhoods: ['East'],
  sectors: ['54'],
  kinds: ['WORKER'],
  firstYear: 2026,
  throughMonth: '2026-03',
};

describe('CLOSED and LIQUIDITY_SAVED in a release', () => {
  it('a count takes the threshold rule only, money every rule', async () => {
    const out = await computeRelease({
      dims,
      rows: rows(),
      policy: DEFAULT_DISCLOSURE_POLICY,
      previous: null,
    });
    if (!out.ok) throw new Error(out.message);
    const { shape } = buildReleaseShape({ ...dims, measurePeriods: out.measurePeriods });
    const reasons = new Map<number, string | null>();
    const values = new Map<number, number>();
    for (const c of decodeCells(asBuffer(out.cells))) {
      reasons.set(c.cell, c.reason);
      values.set(c.cell, c.value);
    }
    const at = (mp: string) => shape.cellOf(['East', '54', 'WORKER', mp]);
    expect(reasons.get(at('CLOSED@2026-01'))).toBe('THRESHOLD');
    expect(reasons.get(at('LIQUIDITY_SAVED@2026-02'))).toBe('DOMINANCE');
    // Three co-ops closed in March: no primary rule holds it back (a count has no dominance).
    expect(['THRESHOLD', 'DOMINANCE', 'P_PERCENT']).not.toContain(reasons.get(at('CLOSED@2026-03')));
    expect(out.summary.auditSkipped).toBe(0);
  });

  it('protects a release against one stored before CLOSED and LIQUIDITY_SAVED existed', async () => {
    const all = rows();
    const old = all.filter((r) => r.measure !== 'CLOSED' && r.measure !== 'LIQUIDITY_SAVED');
    const first = await computeRelease({
      dims: { ...dims, throughMonth: '2026-02' },
      rows: old.filter((r) => r.month <= '2026-02'),
      policy: DEFAULT_DISCLOSURE_POLICY,
      previous: null,
    });
    if (!first.ok) throw new Error(first.message);
    // What an older version stored: the measure-period codes without the two measures.
    const oldCodes = first.measurePeriods.filter((c) => !/^(CLOSED|LIQUIDITY_SAVED)@/.test(c));
    const oldShape = buildReleaseShape({ ...dims, throughMonth: '2026-02', measurePeriods: oldCodes }).shape;
    expect(oldShape.dims[3]!.codes).toEqual(oldCodes);
    expect(() =>
      buildReleaseShape({ ...dims, throughMonth: '2026-02', measurePeriods: ['NOPE@2026-01'] }),
    ).toThrow();
  });
});
