/**
 * From co-ops' own figures to the cells of a protected table and the primary rules' verdict on
 * each (issue 15).
 *
 * The table is flat classifications (neighbourhood, sector, kind: `totalDimension`s, code 0 the
 * total) crossed with a last dimension of measures in periods (`measurePeriodDimension`). A
 * contributor is one co-op: its part in each classification and its values per code of the last
 * dimension (quarters and years included, see `periodValues`). It counts in the 2^k cells where
 * each classification is its part or the total. Co-ops of one group (owner, federation) are one
 * contributor: their values are added per cell before the rules see them.
 *
 * A contributor contributes to a cell when its value there is not zero: a co-op with no revenue in
 * a month tells nothing about the others' revenue, and a cell of two co-ops with revenue and one
 * without is two contributors. A cell nobody contributes to is EMPTY (published as a zero).
 *
 * Counts (co-ops, people, contracts: `countCodes`) take the threshold rule only; the dominance
 * and p% rules judge magnitudes (money), as the issue states them ("of a money total").
 *
 * Streams: per cell it keeps the total, the number of contributors and the magnitudes of the
 * largest few, never the list. Values are integers in the measure's minor unit held in doubles,
 * exact below 2^53 (the caller checks its totals stay there); the rules then run in bigint.
 *
 * Pure.
 */
import type { Dimension } from './disclosure-dimensions.js';
import { type MeasureDef, monthsOf, type Period } from './disclosure-periods.js';
import { type DisclosurePolicy, type PrimaryVerdict, verdictOfSummary } from './disclosure-rules.js';
import type { TableShape } from './disclosure-table.js';
import { invariant } from './errors.js';

export interface CubeContributor {
  /** Co-ops with the same group are one contributor (their own id when they have none). */
  group: string;
  /** Its part (a code index >= 1) in each classification dimension, in table order. */
  parts: readonly number[];
  /** Its values by code index of the last dimension; codes it has no value for are absent. */
  values: ReadonlyMap<number, number>;
}

export interface Cube {
  shape: TableShape;
  /** The true value of every cell. */
  values: Float64Array;
  /** Contributors (groups) with a value other than zero in each cell. */
  contributors: Uint32Array;
  /** The primary rules' verdict on each sensitive cell. */
  verdicts: Map<number, PrimaryVerdict>;
}

/**
 * Aggregates contributors into every cell of the table and judges each cell by the primary rules.
 * Every dimension but the last must be a flat classification (code 0 the total of the others).
 */
export function buildCube(
  shape: TableShape,
  contributors: readonly CubeContributor[],
  policy: DisclosurePolicy,
  /**
   * Per code of the last dimension, whether its cells are counts (of co-ops, people, contracts)
   * rather than magnitudes: counts take the threshold rule only. Unset: every cell is a magnitude.
   */
  countCodes?: Uint8Array,
): Cube {
  const k = shape.dims.length - 1;
  for (let d = 0; d < k; d++) {
    const dim = shape.dims[d]!;
    invariant(
      dim.relations.length <= 1 && (dim.relations.length === 0 || dim.relations[0]![0]!.code === 0),
      `${dim.name} is not a flat classification`,
    );
  }
  const n = shape.cellCount;
  const values = new Float64Array(n);
  const count = new Uint32Array(n);
  const topN = Math.max(policy.dominanceN, 2);
  // The largest magnitudes of each cell, decreasing: top[cell * topN + i].
  const top = new Float64Array(n * topN);
  const lastStride = shape.strides[k]!;
  invariant(lastStride === 1, 'the measure-period dimension is the last');

  const byGroup = new Map<string, CubeContributor[]>();
  for (const c of contributors) {
    invariant(c.parts.length === k, 'one part per classification');
    const list = byGroup.get(c.group) ?? [];
    list.push(c);
    byGroup.set(c.group, list);
  }
  const groups = [...byGroup.keys()].sort();
  for (const g of groups) {
    // This group's value in each cell it touches.
    const mine = new Map<number, number>();
    for (const c of byGroup.get(g)!) {
      const bases = classificationCells(shape, c.parts);
      for (const [code, v] of c.values) {
        if (v === 0) continue;
        invariant(Number.isSafeInteger(v), 'values are whole minor units');
        for (const base of bases) {
          const cell = base + code;
          mine.set(cell, (mine.get(cell) ?? 0) + v);
        }
      }
    }
    for (const [cell, v] of mine) {
      values[cell]! += v;
      if (v === 0) continue;
      count[cell]!++;
      let m = Math.abs(v);
      const at = cell * topN;
      for (let i = 0; i < topN; i++) {
        if (m > top[at + i]!) {
          const swap = top[at + i]!;
          top[at + i] = m;
          m = swap;
        }
      }
    }
  }
  const verdicts = new Map<number, PrimaryVerdict>();
  const lastSize = shape.sizes[k]!;
  // The dominance rule is about money totals, and the p% rule is an estimate of a
  // contributor's magnitude: a count takes the threshold rule alone.
  const countPolicy: DisclosurePolicy = { ...policy, dominanceK: 100, pPercent: 0 };
  for (let cell = 0; cell < n; cell++) {
    if (count[cell] === 0) continue;
    invariant(Number.isSafeInteger(values[cell]!), 'a cell beyond 2^53 minor units');
    const largest: bigint[] = [];
    for (let i = 0; i < topN; i++) largest.push(BigInt(top[cell * topN + i]!));
    const verdict = verdictOfSummary(
      count[cell]!,
      BigInt(values[cell]!),
      largest,
      countCodes?.[cell % lastSize] ? countPolicy : policy,
    );
    if (verdict) verdicts.set(cell, verdict);
  }
  return { shape, values, contributors: count, verdicts };
}

/** The 2^k cells (at code 0 of the last dimension) a contributor with these parts counts in. */
export function classificationCells(shape: TableShape, parts: readonly number[]): number[] {
  let cells = [0];
  parts.forEach((part, d) => {
    invariant(part >= 1 && part < shape.sizes[d]!, 'a part is a code other than the total');
    const stride = shape.strides[d]!;
    cells = cells.flatMap((c) => [c, c + part * stride]);
  });
  return cells;
}

/**
 * A co-op's values for every code of a measure-period dimension from its monthly (and, for
 * YEAR-grain measures, yearly) values: a flow's quarter or year is the sum of its months, a stock's
 * its last month's value. Only codes the dimension has are returned (complete quarters and years).
 */
export function periodValues(
  dim: Dimension,
  measures: readonly MeasureDef[],
  periods: readonly Period[],
  monthly: ReadonlyMap<string, ReadonlyMap<string, number>>,
  yearly: ReadonlyMap<string, ReadonlyMap<string, number>> = new Map(),
): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of measures) {
    const byMonth = monthly.get(m.code);
    for (const p of periods) {
      const code = `${m.code}@${p.code}`;
      if (!dim.has(code)) continue;
      let v = 0;
      if (m.grain === 'YEAR') v = yearly.get(m.code)?.get(p.code) ?? 0;
      else if (byMonth) {
        const months = monthsOf(p);
        if (m.temporal === 'FLOW') for (const month of months) v += byMonth.get(month) ?? 0;
        else v = byMonth.get(months[months.length - 1]!) ?? 0;
      }
      if (v !== 0) out.set(dim.codeIndex(code), v);
    }
  }
  return out;
}
