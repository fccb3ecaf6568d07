/**
 * Reading a release (issue 15): every answer is a set of cells of one protected table, named by
 * their codes; filters pick codes, groupings pick a dimension's parts (with its total when margins
 * are asked), a dimension neither filtered nor grouped is at its total, and a time window picks
 * periods of one granularity. No query adds cells up, so none can make a figure the protection
 * did not see. A hidden cell answers null with its reason, never a zero.
 *
 * Releases never change once stored, so a loaded release is cached in the process by id; which
 * release is the latest is read from the database on every query.
 */

import { monthsOf, parsePeriod } from '../core/disclosure-periods.js';
import type { SuppressionReason } from '../core/disclosure-rules.js';
import { Decimal, LedgerError, type Principal } from '../core/index.js';
import { cityKeyOf, mayReadCity } from './access.js';
import { REASON_CODES, type ReleaseDimensions } from './cube.js';
import type { ReportingDeps } from './deps.js';
import { MEASURES } from './measures.js';
import * as store from './store.js';
import { type StoredCells, storedAt, storedCells } from './stored-cells.js';

export const QUERY_CELLS_MAX = 10_000;
export const QUERY_CODES_MAX = 100;
const CACHED_RELEASES_MAX = 4;

/** A loaded release: its row, dimensions and stored cells (StoredCells, stored-cells.ts). */
export interface LoadedRelease extends StoredCells {
  row: store.ReleaseRow;
  dims: ReleaseDimensions;
  index: Map<string, number>[];
  strides: number[];
  /** Per period code, the measure-period indices of COOPS and CLOSED in each of its months (lazily). */
  coopsMonths: Map<string, number[] | null>;
  /** dims.measurePeriods parsed once: what a slice picks them by (null: not a period code). */
  measurePeriods: (MeasurePeriod | null)[];
}

/** A measure-period code of a release, parsed once when the release is loaded. */
interface MeasurePeriod {
  /** Its index in the last dimension. */
  index: number;
  measure: string;
  period: string;
  granularity: string;
  /** The period's first and last month (YYYY-MM). */
  startMonth: string;
  endMonth: string;
}

function parseMeasurePeriods(codes: string[]): (MeasurePeriod | null)[] {
  return codes.map((code, index) => {
    const at = code.lastIndexOf('@');
    if (at < 0) return null;
    const period = parsePeriod(code.slice(at + 1));
    if (!period) return null;
    return {
      index,
      measure: code.slice(0, at),
      period: code.slice(at + 1),
      granularity: period.granularity,
      startMonth: period.start.slice(0, 7),
      endMonth: period.end.slice(0, 7),
    };
  });
}

/**
 * PUBLISHED: a figure. SUPPRESSED: withheld, with its reason. NO_DATA: no co-op of the cell's
 * neighbourhood, sector and kind shared data in any month of the period (before their consent or
 * founding), so a zero would be no figure at all: value null, not suppressed.
 */
export type CellStatus = 'PUBLISHED' | 'SUPPRESSED' | 'NO_DATA';
export const CELL_STATUSES: readonly CellStatus[] = ['PUBLISHED', 'SUPPRESSED', 'NO_DATA'];

/**
 * Measures about co-ops' existence: their zero is a real figure (no co-op was founded, none closed,
 * none counted), so they are never NO_DATA.
 */
const EXISTENCE_MEASURES = new Set(['COOPS', 'FOUNDED', 'CLOSED']);

export type Dimension = 'NEIGHBOURHOOD' | 'SECTOR' | 'KIND';
export type Granularity = 'MONTH' | 'QUARTER' | 'YEAR';

export interface SliceInput {
  city: string;
  releaseId: string | null;
  measures: string[];
  neighbourhoods: string[] | null;
  sectors: string[] | null;
  kinds: string[] | null;
  groupBy: Dimension[];
  granularity: Granularity;
  from: string | null;
  to: string | null;
  margins: boolean;
}

export interface SliceCell {
  neighbourhood: string;
  sector: string;
  kind: string;
  measure: string;
  period: string;
  /** Decimal string (money with the currency's scale; people and co-ops whole), null when hidden or NO_DATA. */
  value: string | null;
  status: CellStatus;
  suppressed: boolean;
  reason: SuppressionReason | null;
}

export interface SliceResult {
  release: store.ReleaseRow;
  /** The cells, in order (made on first read). */
  readonly cells: SliceCell[];
  /**
   * The same cells as the JSON text of a list of objects with the given fields in the given order
   * (what a GraphQL selection of them serializes to), written straight from the release's typed
   * arrays: no SliceCell objects, no per-field resolution, one string (issue 15).
   */
  cellsJson(fields: readonly CellJsonField[], alloc?: (size: number) => Buffer): Buffer;
}

/** A field of a cell's JSON object: its key, and a field of SliceCell or a constant JSON text. */
export type CellJsonField =
  | { key: string; field: keyof SliceCell; constant?: undefined }
  | { key: string; field?: undefined; constant: string };

const cache = new Map<string, LoadedRelease>();

/** A stored release, loaded (and cached by id). */
export function loadRelease(row: store.ReleaseRow): LoadedRelease {
  const hit = cache.get(row.id);
  if (hit) return hit;
  const dims = row.dimensions as ReleaseDimensions;
  const codes = [
    ['TOTAL', ...dims.neighbourhoods],
    ['TOTAL', ...dims.sectors],
    ['TOTAL', ...dims.kinds],
    dims.measurePeriods,
  ];
  const index = codes.map((list) => new Map(list.map((c, i) => [c, i])));
  const strides = [
    codes[1]!.length * codes[2]!.length * codes[3]!.length,
    codes[2]!.length * codes[3]!.length,
    codes[3]!.length,
    1,
  ];
  const loaded = {
    row,
    dims,
    index,
    strides,
    ...storedCells(row.cells),
    coopsMonths: new Map(),
    measurePeriods: parseMeasurePeriods(dims.measurePeriods),
  };
  if (cache.size >= CACHED_RELEASES_MAX) cache.delete(cache.keys().next().value!);
  cache.set(row.id, loaded);
  return loaded;
}

/** Where a cell is among a release's stored cells (-1: not stored, a zero with no contributor). */
function stored(release: LoadedRelease, cell: number): number {
  return storedAt(release.cellIndex, cell);
}

/** The release a query reads: the given one of the city, or its latest. */
export async function releaseFor(
  deps: ReportingDeps,
  city: string,
  releaseId: string | null,
  actor: Principal | null,
): Promise<LoadedRelease | LedgerError> {
  if (!mayReadCity(actor, city))
    return new LedgerError('NO_RELEASE', 'no reporting for this city is open to you', 'city');
  const key = cityKeyOf(city);
  const id =
    releaseId ?? (await (deps.latest ? deps.latest.get(key) : store.latestReleaseId(deps.pool, key)));
  if (!id) return new LedgerError('NO_RELEASE', 'this city has no release yet', 'city');
  const cached = cache.get(id);
  if (cached && cached.row.cityKey === key) return cached;
  const row = /^[0-9a-f-]{36}$/.test(id) ? await store.releaseById(deps.pool, id) : null;
  if (!row || row.cityKey !== key)
    return new LedgerError('UNKNOWN_RELEASE', 'no such release of this city', 'releaseId');
  return loadRelease(row);
}

const MEASURE_CODES = new Set(MEASURES.map((m) => m.code));
const MONEY = new Set(MEASURES.filter((m) => m.money).map((m) => m.code));

export function formatValue(release: LoadedRelease, measure: string, minor: number): string {
  if (!MONEY.has(measure)) return String(minor);
  const scale = release.dims.scale;
  // A count of minor units is a whole number: the point placed among its digits is exact, and
  // costs no Decimal per cell (a cityReport answer formats hundreds). Decimal for anything else.
  if (scale > 0 && Number.isSafeInteger(minor) && !Object.is(minor, -0)) {
    const digits = String(Math.abs(minor)).padStart(scale + 1, '0');
    return `${minor < 0 ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return new Decimal(minor).div(new Decimal(10).pow(scale)).toFixed(scale);
}

/**
 * Whether a published zero cell is NO_DATA: every month of its period, the same neighbourhood,
 * sector and kind counts 0 co-ops in published COOPS and CLOSED cells (consenting co-ops are frozen
 * from their consent month on; COOPS counts each from its founding to the month before it closed). Read from published cells only, so it
 * says nothing the release does not already publish; a hidden COOPS month keeps the cell a figure.
 */
function isNoData(release: LoadedRelease, cell: number, measure: string, period: string): boolean {
  if (EXISTENCE_MEASURES.has(measure)) return false;
  const months = coopsMonthsOf(release, period);
  return months !== null && noCoops(release, cell - (cell % release.strides[2]!), months);
}

/** The measure-period indices of COOPS and CLOSED in each month of a period (null: none to judge by). */
function coopsMonthsOf(release: LoadedRelease, period: string): number[] | null {
  let months = release.coopsMonths.get(period);
  if (months === undefined) {
    const p = parsePeriod(period);
    const mpIndex = release.index[3]!;
    const coops = p ? monthsOf(p).map((m) => mpIndex.get(`COOPS@${m}`)) : [];
    // CLOSED is missing from releases made before it existed: COOPS alone then.
    const closed = p ? monthsOf(p).map((m) => mpIndex.get(`CLOSED@${m}`)) : [];
    months =
      coops.length > 0 && coops.every((i) => i !== undefined)
        ? [...(coops as number[]), ...closed.filter((i) => i !== undefined)]
        : null;
    release.coopsMonths.set(period, months);
  }
  return months;
}

/** Whether the COOPS and CLOSED cells `months` of a neighbourhood, sector and kind (`base`) all publish 0. */
function noCoops(release: LoadedRelease, base: number, months: readonly number[]): boolean {
  for (let i = 0; i < months.length; i++) {
    const at = storedAt(release.cellIndex, base + months[i]!);
    if (at >= 0 && (release.cellReasons[at] !== 0 || release.cellValues[at] !== 0)) return false;
  }
  return true;
}

export function cellAt(release: LoadedRelease, cell: number, codes: string[]): SliceCell {
  const [neighbourhood, sector, kind, mp] = codes as [string, string, string, string];
  const at = mp.lastIndexOf('@');
  return cellOf(release, cell, neighbourhood, sector, kind, mp.slice(0, at), mp.slice(at + 1));
}

/**
 * What a cell holds: its value as formatValue writes it (null when hidden or NO_DATA) and its reason
 * (null when not hidden); NO_DATA when both are null. cellOf and the JSON writer read cells so.
 */
interface CellState {
  /** Whether the cell shows a figure: its value is `minor` as formatValue writes it. */
  shown: boolean;
  minor: number;
  reason: SuppressionReason | null;
}

function readCell(
  release: LoadedRelease,
  cell: number,
  measure: string,
  period: string,
  into: CellState,
): void {
  const at = stored(release, cell);
  const reason = at < 0 ? null : (REASON_CODES[release.cellReasons[at]!] ?? null);
  const value = at < 0 ? 0 : release.cellValues[at]!;
  const noData = reason === null && value === 0 && isNoData(release, cell, measure, period);
  into.reason = reason;
  into.shown = !(reason || noData);
  into.minor = value;
}

/** Digits of a whole number, least significant first (writeMinor). */
const DIGITS = new Uint8Array(32);

/**
 * Writes what formatValue writes for a safe integer `minor` (not -0): its digits, with a point
 * before the last `scale` (0: none) and at least one digit before it; returns the new position.
 */
export function writeMinor(out: Buffer, pos: number, minor: number, scale: number): number {
  let v = minor < 0 ? -minor : minor;
  if (minor < 0) out[pos++] = 0x2d; // -
  let n = 0;
  // Above 31 bits in floating point (exact: v is a safe integer), then in small integers, which
  // divide several times faster than a float's % (the value took ~40% of a cell's time).
  while (v > 0x7fffffff) {
    const digit = v % 10;
    DIGITS[n++] = 0x30 + digit;
    v = (v - digit) / 10;
  }
  let x = v | 0;
  do {
    const q = (x / 10) | 0;
    DIGITS[n++] = 0x30 + x - q * 10;
    x = q;
  } while (x > 0 || (scale > 0 && n <= scale));
  for (let i = n - 1; i >= 0; i--) {
    if (i === scale - 1) out[pos++] = 0x2e; // .
    out[pos++] = DIGITS[i]!;
  }
  return pos;
}

function cellOf(
  release: LoadedRelease,
  cell: number,
  neighbourhood: string,
  sector: string,
  kind: string,
  measure: string,
  period: string,
): SliceCell {
  const state: CellState = { shown: false, minor: 0, reason: null };
  readCell(release, cell, measure, period, state);
  const { reason } = state;
  const value = state.shown ? formatValue(release, measure, state.minor) : null;
  return {
    neighbourhood,
    sector,
    kind,
    measure,
    period,
    value,
    status: reason ? 'SUPPRESSED' : value === null ? 'NO_DATA' : 'PUBLISHED',
    suppressed: reason !== null,
    reason,
  };
}

export async function slice(
  deps: ReportingDeps,
  input: SliceInput,
  actor: Principal | null,
): Promise<SliceResult | LedgerError> {
  const release = await releaseFor(deps, input.city, input.releaseId, actor);
  if (release instanceof LedgerError) return release;
  const { dims } = release;
  const pick = (
    dim: Dimension,
    field: string,
    filter: string[] | null,
    parts: string[],
  ): string[] | LedgerError => {
    if (filter) {
      if (filter.length < 1 || filter.length > QUERY_CODES_MAX)
        return new LedgerError('INVALID_INPUT', `give 1 to ${QUERY_CODES_MAX} codes`, field);
      const known = new Set(['TOTAL', ...parts]);
      const bad = filter.findIndex((c) => !known.has(c));
      if (bad >= 0)
        return new LedgerError(
          'INVALID_INPUT',
          `${filter[bad]} is not a code of this release`,
          `${field}[${bad}]`,
        );
      return [...new Set(filter)];
    }
    if (input.groupBy.includes(dim)) return input.margins ? ['TOTAL', ...parts] : parts;
    return ['TOTAL'];
  };
  const nbh = pick('NEIGHBOURHOOD', 'neighbourhoods', input.neighbourhoods, dims.neighbourhoods);
  if (nbh instanceof LedgerError) return nbh;
  const sec = pick('SECTOR', 'sectors', input.sectors, dims.sectors);
  if (sec instanceof LedgerError) return sec;
  const kinds = pick('KIND', 'kinds', input.kinds, dims.kinds);
  if (kinds instanceof LedgerError) return kinds;
  if (input.measures.length < 1 || input.measures.length > QUERY_CODES_MAX)
    return new LedgerError('INVALID_INPUT', `give 1 to ${QUERY_CODES_MAX} measures`, 'measures');
  const badMeasure = input.measures.findIndex((m) => !MEASURE_CODES.has(m));
  if (badMeasure >= 0)
    return new LedgerError(
      'INVALID_INPUT',
      `${input.measures[badMeasure]} is not a measure`,
      `measures[${badMeasure}]`,
    );
  for (const [value, field] of [
    [input.from, 'from'],
    [input.to, 'to'],
  ] as const) {
    if (value !== null && !/^\d{4}-(0[1-9]|1[0-2])$/.test(value))
      return new LedgerError('INVALID_INPUT', `${field} must be YYYY-MM`, field);
  }
  // The measure-periods asked, in the order of the measures, then of the release.
  const mps: MeasurePeriod[] = [];
  for (const measure of new Set(input.measures)) {
    for (const mp of release.measurePeriods) {
      if (mp === null || mp.measure !== measure || mp.granularity !== input.granularity) continue;
      if (input.from && mp.startMonth < input.from) continue;
      if (input.to && mp.endMonth > input.to) continue;
      mps.push(mp);
    }
  }
  const total = nbh.length * sec.length * kinds.length * mps.length;
  if (total > QUERY_CELLS_MAX)
    return new LedgerError(
      'QUERY_TOO_LARGE',
      `the query asks ${total} cells, at most ${QUERY_CELLS_MAX}: narrow it`,
      null,
    );
  // Each code's offset in the stored table, looked up once per slice (not per cell).
  const offsets = (codes: string[], d: number) =>
    codes.map((c) => release.index[d]!.get(c)! * release.strides[d]!);
  const nbhAt = offsets(nbh, 0);
  const secAt = offsets(sec, 1);
  const kindAt = offsets(kinds, 2);
  const stride = release.strides[3]!;
  let cells: SliceCell[] | undefined;
  return {
    release: release.row,
    get cells() {
      if (cells) return cells;
      cells = [];
      for (let a = 0; a < nbh.length; a++)
        for (let b = 0; b < sec.length; b++)
          for (let c = 0; c < kinds.length; c++) {
            const base = nbhAt[a]! + secAt[b]! + kindAt[c]!;
            for (const mp of mps)
              cells.push(
                cellOf(release, base + mp.index * stride, nbh[a]!, sec[b]!, kinds[c]!, mp.measure, mp.period),
              );
          }
      return cells;
    },
    cellsJson(fields, alloc = Buffer.allocUnsafe) {
      // Every piece of text a field can give, with its key and separator, encoded once a slice;
      // each cell is then copied piece by piece into one buffer (no strings made per cell).
      const head = fields.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f.key)}:`);
      const encoded = (i: number, texts: readonly string[]) => texts.map((t) => Buffer.from(head[i]! + t));
      const quoted = (codes: readonly string[]) => codes.map((c) => JSON.stringify(c));
      const pieces = fields.map((f, i): readonly Uint8Array[] => {
        if (f.constant !== undefined) return encoded(i, [f.constant]);
        switch (f.field) {
          case 'neighbourhood':
            return encoded(i, quoted(nbh));
          case 'sector':
            return encoded(i, quoted(sec));
          case 'kind':
            return encoded(i, quoted(kinds));
          case 'measure':
            return encoded(i, quoted(mps.map((mp) => mp.measure)));
          case 'period':
            return encoded(i, quoted(mps.map((mp) => mp.period)));
          // null, then the opening quote of a value (digits, '-' and '.' only: nothing to escape).
          case 'value':
            return encoded(i, ['null', '"']);
          case 'status':
            return encoded(i, ['"PUBLISHED"', '"SUPPRESSED"', '"NO_DATA"']);
          case 'suppressed':
            return encoded(i, ['false', 'true']);
          case 'reason':
            return encoded(
              i,
              REASON_CODES.map((r) => (r === null ? 'null' : `"${r}"`)),
            );
          default:
            throw new Error('not a cell field');
        }
      });
      const field = fields.map((f) => (f.constant !== undefined ? -1 : CELL_JSON_FIELDS.indexOf(f.field)));
      // The most a cell takes besides its value's digits: '{' or ',{', '}', its longest pieces, a quote.
      const cellMax = 3 + pieces.reduce((sum, list) => sum + Math.max(0, ...list.map((p) => p.length)), 0);
      // A value's text and closing quote, as many times as the selection has value (aliases): a
      // whole number of minor units takes at most 16 digits, a sign, a point and the scale's zeros.
      const values = field.filter((f) => f === 5).length;
      const digitsMax = 18 + Math.max(0, release.dims.scale);
      const count = nbh.length * sec.length * kinds.length * mps.length;
      // Written into the scratch buffer (reused: no answer's bound, 2-3 times its text, allocated per
      // answer), then copied once into a buffer of the text's exact length (issue 15: external memory
      // drives the service's mark-compacts).
      let out = scratch;
      const bound = 2 + count * (cellMax + values * (digitsMax + 1));
      if (bound > out.length && bound <= SCRATCH_MAX) out = scratch = Buffer.allocUnsafeSlow(bound);
      let pos = 0;
      out[pos++] = 0x5b; // [
      // Whole minor units are written digit by digit (writeMinor); formatValue's text otherwise.
      const scale = release.dims.scale;
      const digitsScale = mps.map((mp) => (!MONEY.has(mp.measure) ? 0 : scale > 0 ? scale : -1));
      // What readCell reads, inlined: the cell's reason (an index into REASON_CODES, 0: none) and
      // value, and for a published zero whether it is NO_DATA (isNoData), its months found once a slice.
      const mpAt = mps.map((mp) => mp.index * stride);
      const mpMonths = mps.map((mp) =>
        EXISTENCE_MEASURES.has(mp.measure) ? null : coopsMonthsOf(release, mp.period),
      );
      const { cellIndex, cellReasons, cellValues } = release;
      for (let a = 0; a < nbh.length; a++)
        for (let b = 0; b < sec.length; b++)
          for (let c = 0; c < kinds.length; c++) {
            const base = nbhAt[a]! + secAt[b]! + kindAt[c]!;
            for (let m = 0; m < mps.length; m++) {
              const mp = mps[m]!;
              const at = storedAt(cellIndex, base + mpAt[m]!);
              const reason = at < 0 ? 0 : cellReasons[at]!;
              const minor = at < 0 ? 0 : cellValues[at]!;
              const months = mpMonths[m]!;
              const shown =
                reason === 0 && !(minor === 0 && months !== null && noCoops(release, base, months));
              const digits =
                shown && digitsScale[m]! >= 0 && Number.isSafeInteger(minor) && !Object.is(minor, -0);
              const text = shown && !digits ? formatValue(release, mp.measure, minor) : null;
              const need = pos + cellMax + values * ((text === null ? digitsMax : text.length) + 1) + 1;
              if (need > out.length) {
                const grown = Buffer.allocUnsafeSlow(Math.max(need, out.length * 2));
                out.copy(grown, 0, 0, pos);
                out = grown;
              }
              if (pos > 1) out[pos++] = 0x2c; // ,
              for (let f = 0; f < field.length; f++) {
                const list = pieces[f]!;
                let piece: Uint8Array;
                switch (field[f]) {
                  case 0:
                    piece = list[a]!;
                    break;
                  case 1:
                    piece = list[b]!;
                    break;
                  case 2:
                    piece = list[c]!;
                    break;
                  case 3:
                  case 4:
                    piece = list[m]!;
                    break;
                  case 5:
                    piece = list[shown ? 1 : 0]!;
                    break;
                  case 6:
                    piece = list[reason !== 0 ? 1 : shown ? 0 : 2]!;
                    break;
                  case 7:
                    piece = list[reason !== 0 ? 1 : 0]!;
                    break;
                  case 8:
                    piece = list[reason]!;
                    break;
                  default:
                    piece = list[0]!;
                }
                out.set(piece, pos);
                pos += piece.length;
                if (field[f] === 5 && shown) {
                  if (text === null) pos = writeMinor(out, pos, minor, digitsScale[m]!);
                  else for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
                  out[pos++] = 0x22; // "
                }
              }
              out[pos++] = 0x7d; // }
            }
          }
      out[pos++] = 0x5d; // ]
      const json = alloc(pos);
      out.copy(json, 0, 0, pos);
      return json.length === pos ? json : json.subarray(0, pos);
    },
  };
}

/** cellsJson's scratch buffer, kept between answers up to SCRATCH_MAX bytes. */
const SCRATCH_MAX = 4 << 20;
let scratch = Buffer.allocUnsafeSlow(256 << 10);

/** The fields of SliceCell in the order cellsJson numbers them (every field it writes). */
export const CELL_JSON_FIELDS: readonly (keyof SliceCell)[] = [
  'neighbourhood',
  'sector',
  'kind',
  'measure',
  'period',
  'value',
  'status',
  'suppressed',
  'reason',
];

/** The codes of a stored cell index. */
export function codesOf(release: LoadedRelease, cell: number): string[] {
  const { dims } = release;
  const lists = [
    ['TOTAL', ...dims.neighbourhoods],
    ['TOTAL', ...dims.sectors],
    ['TOTAL', ...dims.kinds],
    dims.measurePeriods,
  ];
  let rest = cell;
  return lists.map((list, d) => {
    const i = Math.floor(rest / release.strides[d]!);
    rest -= i * release.strides[d]!;
    return list[i]!;
  });
}
