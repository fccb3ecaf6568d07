/**
 * A release's table from the frozen figures (issue 15): its dimensions (neighbourhood, sector,
 * kind, measure-period), the co-ops as contributors, and the encoding of a protected table's cells
 * and protection intervals as stored (sparse: cells with contributors or hidden; structural zeros
 * are not stored and read as published zeros).
 */
import { buildCube, type Cube, type CubeContributor, periodValues } from '../core/disclosure-cube.js';
import { totalDimension } from '../core/disclosure-dimensions.js';
import {
  measurePeriodDimension,
  type Period,
  splitCellCode,
  tablePeriods,
} from '../core/disclosure-periods.js';
import type { DisclosurePolicy, SuppressionReason } from '../core/disclosure-rules.js';
import { TableShape } from '../core/disclosure-table.js';
import { invariant } from '../core/errors.js';
import { MEASURE_SUMS, MEASURES, STOCK_IDENTITIES } from './measures.js';
import type { FrozenRow } from './store.js';

export interface ReleaseDimensions {
  neighbourhoods: string[];
  sectors: string[];
  kinds: string[];
  /** Codes of the measure-period dimension, in order (`REVENUE@2026-03`). */
  measurePeriods: string[];
  firstYear: number;
  throughMonth: string;
  /** Decimal places of the release's currency (money cells are whole minor units). */
  scale: number;
}

/**
 * A release's table shape. Given the stored `measurePeriods` of a release, only the measures it
 * has (a release made before a measure existed keeps its own cells and their indices; its stock
 * identities lose the flows it lacks).
 */
export function buildReleaseShape(
  d: Pick<ReleaseDimensions, 'neighbourhoods' | 'sectors' | 'kinds' | 'firstYear' | 'throughMonth'> & {
    measurePeriods?: readonly string[];
  },
): { shape: TableShape; periods: Period[] } {
  const periods = tablePeriods(d.firstYear, d.throughMonth);
  const stored = d.measurePeriods ? new Set(d.measurePeriods.map((c) => splitCellCode(c).measure)) : null;
  const has = (code: string) => stored === null || stored.has(code);
  const mp = measurePeriodDimension({
    name: 'measure-period',
    measures: MEASURES.filter((m) => has(m.code)),
    periods,
    sums: MEASURE_SUMS.filter((s) => has(s.total) && s.parts.every(has)),
    identities: STOCK_IDENTITIES.filter((i) => has(i.stock)).map((i) => ({
      stock: i.stock,
      inflows: i.inflows.filter(has),
      outflows: i.outflows.filter(has),
    })),
  });
  if (d.measurePeriods)
    invariant(
      mp.codes.length === d.measurePeriods.length && mp.codes.every((c, i) => c === d.measurePeriods![i]),
      'a stored release has measure-period codes this version does not build',
    );
  const shape = new TableShape([
    totalDimension('neighbourhood', d.neighbourhoods),
    totalDimension('sector', d.sectors),
    totalDimension('kind', d.kinds),
    mp,
  ]);
  return { shape, periods };
}

/**
 * The cube of the frozen figures: one contributor per co-op and classification it had, grouped
 * with every co-op it shares a group with in any month.
 */
export function releaseCube(
  shape: TableShape,
  periods: Period[],
  rows: Iterable<FrozenRow>,
  policy: DisclosurePolicy,
): Cube {
  const [nbh, sec, kind, mp] = shape.dims as [
    TableShape['dims'][0],
    TableShape['dims'][0],
    TableShape['dims'][0],
    TableShape['dims'][0],
  ];
  const byKey = new Map<
    string,
    { row: FrozenRow; monthly: Map<string, Map<string, number>>; yearly: Map<string, Map<string, number>> }
  >();
  // Co-ops that share a group in any frozen month are one contributor in every cell (union-find
  // over books and groups). The group is frozen with each month's row; taking a co-op's group from
  // its first row missed a federation formed after a release (a cell of two federated co-ops and
  // one other counted three contributors), and grouping month by month would still count a co-op's
  // months before it joined apart from its federation in a quarter or year across both, though its
  // federation knows them.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    for (let at = x; at !== root; ) {
      const next = parent.get(at)!;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  const union = (a: string, b: string) => {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    // The smaller name is the root: the same rows give the same groups whatever their order.
    if (ra < rb) parent.set(rb, ra);
    else if (rb < ra) parent.set(ra, rb);
  };
  for (const r of rows) {
    union(`b:${r.bookId}`, `g:${r.group}`);
    const key = `${r.bookId}|${r.neighbourhood}|${r.sector}|${r.kind}`;
    let entry = byKey.get(key);
    if (!entry) {
      entry = { row: r, monthly: new Map(), yearly: new Map() };
      byKey.set(key, entry);
    }
    const measure = MEASURES.find((m) => m.code === r.measure);
    if (!measure) continue;
    const target = measure.grain === 'YEAR' ? entry.yearly : entry.monthly;
    const period = measure.grain === 'YEAR' ? r.month.slice(0, 4) : r.month;
    if (measure.grain === 'YEAR' && !r.month.endsWith('-12')) continue;
    let byPeriod = target.get(r.measure);
    if (!byPeriod) {
      byPeriod = new Map();
      target.set(r.measure, byPeriod);
    }
    byPeriod.set(period, (byPeriod.get(period) ?? 0) + r.value);
  }
  const contributors: CubeContributor[] = [];
  const keyOf = (r: FrozenRow) => `${r.bookId}|${r.neighbourhood}|${r.sector}|${r.kind}`;
  for (const { row, monthly, yearly } of [...byKey.values()].sort((a, b) =>
    keyOf(a.row) < keyOf(b.row) ? -1 : 1,
  )) {
    contributors.push({
      group: find(`b:${row.bookId}`),
      parts: [nbh.codeIndex(row.neighbourhood), sec.codeIndex(row.sector), kind.codeIndex(row.kind)],
      values: periodValues(mp, MEASURES, periods, monthly, yearly),
    });
  }
  const countCodes = Uint8Array.from(mp.codes, (code) =>
    MEASURES.find((m) => m.code === splitCellCode(code).measure)?.money ? 0 : 1,
  );
  return buildCube(shape, contributors, policy, countCodes);
}

/**
 * What an attacker knows each cell of the release is at least: nothing (-Infinity) for a measure
 * that may be negative (MEASURES' `signed`: share capital net of redemptions), else min(0, value)
 * (counts and gross amounts are never negative). Protection, its certificates and the LP audit all
 * take these bounds: with 0 for a net flow, a negative cell would have no room downwards at all.
 */
export function releaseLowerBounds(shape: TableShape, values: Float64Array): Float64Array {
  const mp = shape.dims[3]!;
  const signedCode = mp.codes.map((code) => {
    const { measure } = splitCellCode(code);
    return MEASURES.find((m) => m.code === measure)?.signed === true;
  });
  const lower = new Float64Array(shape.cellCount);
  for (let cell = 0; cell < shape.cellCount; cell++) {
    lower[cell] = signedCode[shape.coords(cell)[3]!] ? Number.NEGATIVE_INFINITY : Math.min(0, values[cell]!);
  }
  return lower;
}

export const REASON_CODES: readonly (SuppressionReason | null)[] = [
  null,
  'THRESHOLD',
  'DOMINANCE',
  'P_PERCENT',
  'COMPLEMENTARY',
];

/** Bytes of a stored cell (encodeCells). */
export const CELL_BYTES = 13;

/** Stored cells: per cell its index (uint32), its value (float64; NaN when hidden) and reason (uint8). */
export function encodeCells(cube: Cube, reasons: readonly (SuppressionReason | null)[]): Buffer {
  const cells: number[] = [];
  for (let cell = 0; cell < cube.shape.cellCount; cell++) {
    if (cube.contributors[cell]! > 0 || reasons[cell] !== null || cube.values[cell] !== 0) cells.push(cell);
  }
  const buf = Buffer.alloc(cells.length * 13);
  cells.forEach((cell, i) => {
    const reason = reasons[cell] ?? null;
    buf.writeUInt32LE(cell, i * 13);
    buf.writeDoubleLE(reason === null ? cube.values[cell]! : Number.NaN, i * 13 + 4);
    buf.writeUInt8(REASON_CODES.indexOf(reason), i * 13 + 12);
  });
  return buf;
}

export interface DecodedCell {
  cell: number;
  /** NaN when hidden. */
  value: number;
  reason: SuppressionReason | null;
}

export function* decodeCells(buf: Buffer): Generator<DecodedCell> {
  for (let at = 0; at + 13 <= buf.length; at += 13) {
    yield {
      cell: buf.readUInt32LE(at),
      value: buf.readDoubleLE(at + 4),
      reason: REASON_CODES[buf.readUInt8(at + 12)] ?? null,
    };
  }
}

/** Stored protection: per sensitive cell its index and the interval asked up and down. */
export function encodeProtection(
  sensitive: readonly number[],
  up: readonly number[],
  down: readonly number[],
): Buffer {
  const buf = Buffer.alloc(sensitive.length * 20);
  sensitive.forEach((cell, i) => {
    buf.writeUInt32LE(cell, i * 20);
    buf.writeDoubleLE(up[i]!, i * 20 + 4);
    buf.writeDoubleLE(down[i]!, i * 20 + 12);
  });
  return buf;
}

export function* decodeProtection(buf: Buffer): Generator<{ cell: number; up: number; down: number }> {
  for (let at = 0; at + 20 <= buf.length; at += 20) {
    yield { cell: buf.readUInt32LE(at), up: buf.readDoubleLE(at + 4), down: buf.readDoubleLE(at + 12) };
  }
}
