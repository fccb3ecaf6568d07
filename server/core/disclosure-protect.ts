/**
 * Complementary suppression (issue 15): given a table, the cells the primary rules hide and the
 * interval each must keep, hide as few and as small further cells as it takes so that nothing
 * published pins a hidden sensitive cell down.
 *
 * The method is the hypercube method (Repsilber's GHMITER, as in tau-ARGUS), generalised from
 * hierarchies to any dimension with linear relations: a sensitive cell x is protected upwards by U
 * when some vector v of the table (a) keeps every relation, (b) is zero on every published cell, and
 * (c) lets x rise by U: moving all cells by t*v for t up to U/v_x keeps every cell at or above its
 * a-priori lower bound (0 for the table's measures). Every table consistent with the published cells
 * then includes one where x is higher by U, so no attacker, with any combination of rows, columns,
 * margins and earlier releases, can bound x below x + U; downwards likewise. We look for v as a
 * product of one short null vector per dimension (Dimension.candidates): a "hypercube" whose corners
 * are the cells it moves, all of which become suppressed. Among the products whose corners leave
 * enough room, the one whose newly hidden cells cost least (by default their values plus one) wins;
 * when no single product leaves enough room (a year's cell needs more room than any one month
 * gives), several are added up, each weighted by the room it has alone: a weighted sum of such
 * vectors keeps every relation too, and its room is computed on the sum itself.
 *
 * Pairs: in a sparse table the product through a cell alone in its sector (or kind) must take
 * each classification's total, so it moves the city's grand total. A plan that would hide a cell
 * at the total of two classifications or more is compared with pairs P - Q: P the cell with its
 * margins, Q another slice with its margins (same last-dimension vector), whose shared corners
 * (the totals of the classifications where they differ) cancel and stay published (pairPlan).
 * Certificates then carry signed patterns, and verifyProtection requires hidden only the cells
 * their sum moves.
 *
 * Every choice is kept as a certificate: `verifyProtection` recomputes from it, exactly, the
 * interval each sensitive cell keeps, and the LP audit (disclosure-audit.ts) confirms it with an
 * independent solver. Hiding more cells only widens every interval, so cells are protected one
 * after another and earlier certificates stay valid.
 *
 * Cost at a city's full size (millions of cells, a million sensitive): nothing is allocated per
 * product or pair tried. A product's corners are positions (cells of the classifications) times the
 * last dimension's vector w, so what w's cells at a position contribute (locked, cost, room by
 * sign) is computed once per sensitive cell, w and position and shared by every product through
 * it (evaluateInto); a pair P - Q is 2 x 2^k such lookups (pairPlan); products that cannot beat
 * the best found so far are not evaluated (a lower bound from their lines through x); only the
 * chosen patterns are formed as cells. The choices are exactly those of walking every corner:
 * same certificates, same cells hidden (costs are whole numbers, so sums do not depend on order).
 *
 * Cells that are `locked` keep their status: published ones (earlier releases' published cells,
 * EMPTY cells) are never used; suppressed ones (earlier releases' hidden cells) are used at no cost.
 *
 * Sparse slices: a co-op alone in its slice is counted every month, and the short vectors that move
 * that count go through flows (co-ops founded, memberships started) that are EMPTY there, so no
 * product of the dimensions' own candidates avoids a locked cell. For such a cell the fallback takes
 * each classification's cheapest and roomiest vectors through it (always including a part with its
 * total) and, for the corners they make, solves the last dimension's relations again with every
 * code that would reach an EMPTY or locked published cell at some corner fixed at zero, and a
 * conditional relation (a stock-flow identity) kept unless it fails on the true values at every
 * corner (a relation that does not hold is no equation anyone can use). Its vectors are typically
 * the cell with its margins through the whole run of months its slice has figures. Every pattern
 * of every certificate is checked again by verifyProtection (patternBreaks), and the LP audit
 * confirms, so the fallback widens what is hidden but never what is trusted.
 *
 * Lower bounds: a release gives every cell with a contributor of a measure that cannot be negative
 * the bound 1 and what the relations imply from it (disclosure-bounds.ts; a hidden cell is never
 * empty, since empty cells are always published). A complementary cell of value 1 then has no room
 * to fall, so a pattern that moves x up against such cells protects nothing; where neither the
 * products nor the fallback find one with room, the last resort (monotonePlan) moves x with cells
 * that all rise with it: its margins and, in the last dimension, the cheapest non-negative null
 * vector through it (disclosure-monotone.ts), which always has room upwards.
 *
 * Pure.
 */
import type { Term } from './disclosure-dimensions.js';
import { nonNegativeNullVector } from './disclosure-monotone.js';
import { instanceResidual, type TableShape } from './disclosure-table.js';
import { invariant } from './errors.js';

export interface ProtectionProblem {
  shape: TableShape;
  /** True values, integers in the measure's minor unit. */
  values: Float64Array;
  /** What an attacker knows each cell is at least (default: min(0, value)). */
  lower?: Float64Array;
  /** 1 for hidden cells: the primary ones and earlier releases' hidden cells. */
  suppressed: Uint8Array;
  /** 1 for cells whose status may not change (earlier releases' cells, EMPTY cells). */
  locked: Uint8Array;
  /** Cells that must keep an interval (primary, this release's or earlier ones'). */
  sensitive: readonly number[];
  /** Interval asked above each sensitive cell's value (parallel to `sensitive`). */
  protectUp: readonly number[];
  /** Interval asked below (capped at value - lower by `protect`). */
  protectDown: readonly number[];
  /** Cost of hiding each cell (default: 1 + |value|). */
  cost?: Float64Array;
  /** Whether the sparse-slice fallback runs (default true; false only to show what it adds). */
  fallback?: boolean;
  /** Whether pairs that cancel margins are tried (default true; false only to show what they save). */
  pairs?: boolean;
}

/** A product of one null vector per dimension: the cells it moves and by how much. */
export type Pattern = readonly (readonly Term[])[];

/** A pattern and its weight in a certificate's sum. */
export interface Weighted {
  pattern: Pattern;
  weight: number;
  /**
   * The pattern's sign in the sum. Unset: the sign that moves the cell up (the pattern must move
   * it). Set: as given, for a partner pattern of a pair (see `pairPlan`), which need not move the
   * cell itself but cancels the other pattern's margins.
   */
  sign?: 1 | -1;
}

export interface Certificate {
  cell: number;
  /** Patterns whose weighted sum (each signed so that it moves the cell up) lets the cell rise. */
  up: Weighted[];
  /** Patterns whose weighted sum lets the cell fall. */
  down: Weighted[];
}

export interface ProtectionResult {
  /** The hidden cells after protection (a copy of the problem's, with the complementary ones set). */
  suppressed: Uint8Array;
  /** Cells hidden by this protection (not hidden before). */
  complementary: number[];
  certificates: Certificate[];
  /** Sensitive cells that could not be given their interval (locked published cells in the way). */
  unprotected: number[];
  /** Sensitive cells protected by the sparse-slice fallback (restricted null vectors). */
  fallbacks: number;
}

/** A vector of one dimension through x, with the room and cost of x's line along it alone. */
interface Line {
  v: readonly Term[];
  up: number;
  down: number;
  cost: number;
}

/** Products tried at most per sensitive cell and direction before giving up on a single product. */
const COMBINATIONS_MAX = 3_000;
/** Corner count above which a product is not considered (a guard; real ones have 8 to 100). */
const CORNERS_MAX = 4_096;
/** Vectors per dimension a sum of products draws from. */
const GATHER_WIDTH = 8;
/** In the fallback, vectors of the last dimension a sum draws from (a year from its twelve months). */
const FALLBACK_GATHER_WIDTH = 48;
/** Vectors of the last dimension a pair is tried with (the cheapest through x). */
const PAIR_LAST_VECTORS = 8;
/** Slices of x's own (where it is at a total) a pair is tried from. */
const PAIR_OWN_SLICES = 4;
/** In the fallback, cheapest (and roomiest) vectors tried per classification dimension. */
const FALLBACK_OPTIONS = 2;
/** In the last resort (monotonePlan), vectors of one sign tried per classification dimension. */
const MONOTONE_OPTIONS = 6;
/** In the last resort, combinations of the classifications' vectors tried per sensitive cell. */
const MONOTONE_COMBOS = 48;

interface Evaluation {
  /** How far x may rise / fall along the pattern (Infinity when nothing limits it). */
  up: number;
  /** Limited by cells other than x only; x's own room is `value - lower`. */
  downOthers: number;
  cost: number;
  cells: number[];
}

/** The table's cells a pattern moves, with their coefficients; null when a corner is out of bounds. */
export function patternCorners(shape: TableShape, pattern: Pattern): { cell: number; coef: number }[] {
  let corners = [{ cell: 0, coef: 1 }];
  for (let d = 0; d < pattern.length; d++) {
    const stride = shape.strides[d]!;
    const next: { cell: number; coef: number }[] = [];
    for (const c of corners)
      for (const t of pattern[d]!) next.push({ cell: c.cell + t.code * stride, coef: c.coef * t.coef });
    corners = next;
  }
  return corners;
}

/** The coefficient of a pattern at a cell (0 when the cell is not a corner). */
export function patternCoefficient(_shape: TableShape, pattern: Pattern, coords: readonly number[]): number {
  let coef = 1;
  for (let d = 0; d < pattern.length; d++) {
    const t = pattern[d]!.find((x) => x.code === coords[d]);
    if (!t) return 0;
    coef *= t.coef;
  }
  return coef;
}

/**
 * What hiding each cell costs by default: its value plus one, times 1 + 4 per dimension in which it
 * is a total (a dimension's code 0 when it is its pivot total), so margins, which readers use most,
 * are hidden only when nothing cheaper protects.
 */
export function defaultCosts(shape: TableShape, values: Float64Array): Float64Array {
  const cost = new Float64Array(values.length);
  const totals = shape.dims.map((d) => d.relations.length === 1 && d.relations[0]![0]!.code === 0);
  for (let cell = 0; cell < values.length; cell++) {
    let weight = 1;
    let rest = cell;
    for (let d = 0; d < shape.dims.length; d++) {
      const coord = Math.floor(rest / shape.strides[d]!);
      rest -= coord * shape.strides[d]!;
      if (totals[d] && coord === 0) weight += 4;
    }
    cost[cell] = (1 + Math.abs(values[cell]!)) * weight;
  }
  return cost;
}

export interface ProtectOptions {
  /**
   * Called every PROGRESS_EVERY sensitive cells and once at the end with how many of them are
   * protected so far and in all (the caller decides what to show and how often).
   */
  onProgress?: (done: number, total: number) => void;
}

/** Sensitive cells protected between two onProgress calls. */
const PROGRESS_EVERY = 256;

export function protect(problem: ProtectionProblem, options: ProtectOptions = {}): ProtectionResult {
  const { shape, values } = problem;
  const n = shape.cellCount;
  invariant(
    values.length === n && problem.suppressed.length === n && problem.locked.length === n,
    'arrays of the table size',
  );
  const lower = problem.lower ?? values.map((v) => Math.min(0, v));
  const cost = problem.cost ?? defaultCosts(shape, values);
  const suppressed = Uint8Array.from(problem.suppressed);
  const locked = problem.locked;
  const complementary: number[] = [];
  const certificates: Certificate[] = [];
  const unprotected: number[] = [];
  const dims = shape.dims;
  const last = dims.length - 1;
  // The last choice made for the other dimensions of a slice (all but the last dimension), tried
  // first for its next cells: a co-op alone in its slice is alone every month.
  const memo = new Map<number, Pattern>();
  let fallbacks = 0;
  const termsKey = (v: readonly Term[]) => v.map((t) => `${t.code}:${t.coef}`).join(',');
  const basisKeys = dims.map((d) => new Set(d.basis.map(termsKey)));
  // Restricted null vectors of the last dimension, by the classification corners they serve.
  const restricted = new Map<string, Term[][][]>();
  // Non-negative null vectors of the last dimension found by the last resort, by corners and code.
  const monotoneVectors = new Map<string, Term[]>();

  // evaluateInto's scratch: per slot (a last-dimension vector met for the current sensitive cell)
  // and position, what the vector's cells there contribute; valid while aggEpoch is the epoch.
  const lastSize = shape.sizes[last]!;
  const positionCount = n / lastSize;
  const posStrides = shape.strides.slice(0, last).map((s) => s / lastSize);
  const AGG_SLOTS = 96;
  const aggEpoch = new Int32Array(AGG_SLOTS * positionCount);
  const aggBlocked = new Uint8Array(AGG_SLOTS * positionCount);
  const aggCost = new Float64Array(AGG_SLOTS * positionCount);
  const aggNeg = new Float64Array(AGG_SLOTS * positionCount);
  const aggPos = new Float64Array(AGG_SLOTS * positionCount);
  const evIdx = new Int32Array(Math.max(1, last));
  let epoch = 0;
  let slots = new Map<readonly Term[], number>();
  /** A new sensitive cell (or full slots): every slot's figures are stale. */
  const newEpoch = () => {
    epoch++;
    slots = new Map();
  };
  const slotOf = (w: readonly Term[]): number => {
    let slot = slots.get(w);
    if (slot === undefined) {
      if (slots.size >= AGG_SLOTS) newEpoch();
      slot = slots.size;
      slots.set(w, slot);
    }
    return slot;
  };
  /**
   * What vector w (taken with `sign`) gives at position pos, written at `at` of the four arrays:
   * blocked (1 when w reaches a locked published cell there), the cost of hiding its cells, and how
   * far its cells other than x let x rise (up) and fall (down). Shared by evaluateInto's slots and
   * pairPlan's corners.
   */
  const lineFigures = (
    w: readonly Term[],
    pos: number,
    x: number,
    sign: 1 | -1,
    at: number,
    blockedOut: Uint8Array,
    costOut: Float64Array,
    upOut: Float64Array,
    downOut: Float64Array,
  ): void => {
    const base = pos * lastSize;
    let blocked = 0;
    let c = 0;
    let up = Infinity;
    let down = Infinity;
    for (const t of w) {
      const cell = base + t.code;
      if (locked[cell] && !suppressed[cell]) {
        blocked = 1;
        break;
      }
      if (!suppressed[cell]) c += cost[cell]!;
      if (cell === x) continue;
      const coef = sign * t.coef;
      const r = values[cell]! - lower[cell]!;
      if (coef < 0) up = Math.min(up, r / -coef);
      else down = Math.min(down, r / coef);
    }
    blockedOut[at] = blocked;
    costOut[at] = c;
    upOut[at] = up;
    downOut[at] = down;
  };
  /** The index of (slot, pos) in the agg arrays, its figures computed if stale. */
  const slotAt = (slot: number, w: readonly Term[], pos: number, x: number): number => {
    const at = slot * positionCount + pos;
    if (aggEpoch[at] === epoch) return at;
    aggEpoch[at] = epoch;
    lineFigures(w, pos, x, 1, at, aggBlocked, aggCost, aggNeg, aggPos);
    return at;
  };

  /**
   * The sparse-slice fallback: products of each classification's cheapest vectors through x (a
   * choice of corners) with null vectors of the last dimension computed for those corners alone,
   * where every code that would reach an empty or locked published cell at some corner is fixed at
   * zero and a conditional relation binds unless it fails at every corner (nobody can use a
   * relation that does not hold). verifyProtection checks both facts again on the certificate.
   */
  const fallbackPlan = <P>(
    coords: readonly number[],
    lists: readonly Line[][],
    lineList: (d: number, vectors: readonly (readonly Term[])[]) => Line[],
    planWith: (lists: readonly Line[][], sumWidth: number) => P | null,
  ): P | null => {
    // The cheapest few, and always the dimension's basis vectors through x (a part with its total):
    // their corners are x's own margins, which have figures wherever x has.
    // The roomiest few too (a total's part whose slice is large leaves the total room to fall).
    const options = lists.slice(0, last).map((l, d) => {
      const roomiest = [...l].sort((a, b) => Math.min(b.up, b.down) - Math.min(a.up, a.down));
      const picked = new Set([...l.slice(0, FALLBACK_OPTIONS), ...roomiest.slice(0, FALLBACK_OPTIONS)]);
      if (dims[d]!.codes.length > 1 && coords[d] !== 0)
        for (const line of l) if (basisKeys[d]!.has(termsKey(line.v))) picked.add(line);
      return [...picked];
    });
    if (options.some((o) => o.length === 0)) return null;
    const combos: Line[][] = [[]];
    for (const o of options) {
      const next: Line[][] = [];
      for (const c of combos) for (const line of o) next.push([...c, line]);
      combos.splice(0, combos.length, ...next);
    }
    combos.sort((a, b) => a.reduce((s, l) => s + l.cost, 0) - b.reduce((s, l) => s + l.cost, 0));
    const mp = dims[last]!;
    for (const combo of combos) {
      let bases = [0];
      combo.forEach((line, d) => {
        const stride = shape.strides[d]!;
        bases = bases.flatMap((b) => line.v.map((t) => b + t.code * stride));
      });
      const key = bases.join(',');
      let byCode = restricted.get(key);
      if (!byCode) {
        const allowed = new Uint8Array(mp.size);
        for (let code = 0; code < mp.size; code++)
          allowed[code] = bases.every((b) => !(locked[b + code] && !suppressed[b + code])) ? 1 : 0;
        byCode = mp.restrictedCandidates(
          allowed,
          (r) =>
            !mp.conditional[r] ||
            bases.some((base) => instanceResidual(shape, { dim: last, relation: r, base }, values) === 0),
        );
        restricted.set(key, byCode);
      }
      const mpList = lineList(last, byCode[coords[last]!]!);
      if (mpList.length === 0) continue;
      const found = planWith([...combo.map((l) => [l]), mpList], FALLBACK_GATHER_WIDTH);
      if (found) return found;
    }
    return null;
  };

  /**
   * The last resort, for a cell neither the products nor the fallback protect: a pattern all of
   * whose coefficients have x's sign, so that every cell it moves rises with x and x has room
   * upwards however little its neighbours hold (a complementary count of 1 cannot fall: a hidden
   * cell is never empty). Each classification's vectors through x of one sign (x with its total,
   * or a total with one of its parts), and in the last dimension the cheapest non-negative null
   * vector through x's code for those corners (disclosure-monotone.ts), with codes that would reach
   * a locked published cell at some corner fixed at zero and a conditional relation kept unless it
   * fails at every corner, as in the fallback. The last dimension's own vectors are offered with it
   * for the downward part.
   */
  const monotonePlan = <P>(
    coords: readonly number[],
    lists: readonly Line[][],
    lineList: (d: number, vectors: readonly (readonly Term[])[]) => Line[],
    planWith: (lists: readonly Line[][], sumWidth: number) => P | null,
  ): P | null => {
    const options = lists.slice(0, last).map((l, d) =>
      l
        .filter((line) => {
          const at = line.v.find((t) => t.code === coords[d])!;
          return line.v.every((t) => Math.sign(t.coef) === Math.sign(at.coef));
        })
        .slice(0, MONOTONE_OPTIONS),
    );
    if (options.some((o) => o.length === 0)) return null;
    let combos: Line[][] = [[]];
    for (const o of options) combos = combos.flatMap((c) => o.map((line) => [...c, line]));
    combos.sort((a, b) => a.reduce((s, l) => s + l.cost, 0) - b.reduce((s, l) => s + l.cost, 0));
    const mp = dims[last]!;
    for (const combo of combos.slice(0, MONOTONE_COMBOS)) {
      let bases = [0];
      combo.forEach((line, d) => {
        const stride = shape.strides[d]!;
        bases = bases.flatMap((b) => line.v.map((t) => b + t.code * stride));
      });
      // A vector found for these corners stays valid (cells only ever become hidden), so the
      // slice's other cells and later attempts reuse it; a miss is not kept (more may be hidden).
      const key = `${bases.join(',')}@${coords[last]}`;
      const cached = monotoneVectors.get(key);
      if (cached) {
        const found = planWith(
          [...combo.map((l) => [l]), [...lineList(last, [cached]), ...lists[last]!]],
          FALLBACK_GATHER_WIDTH,
        );
        if (found) return found;
        continue;
      }
      const allowed = new Uint8Array(mp.size);
      for (let code = 0; code < mp.size; code++)
        allowed[code] = bases.every((b) => !(locked[b + code] && !suppressed[b + code])) ? 1 : 0;
      const w = nonNegativeNullVector(
        mp,
        coords[last]!,
        allowed,
        (r) =>
          !mp.conditional[r] ||
          bases.some((base) => instanceResidual(shape, { dim: last, relation: r, base }, values) === 0),
        (code) => bases.reduce((sum, b) => sum + (suppressed[b + code] ? 0 : cost[b + code]!), 0),
      );
      if (!w) continue;
      monotoneVectors.set(key, w);
      const found = planWith(
        [...combo.map((l) => [l]), [...lineList(last, [w]), ...lists[last]!]],
        FALLBACK_GATHER_WIDTH,
      );
      if (found) return found;
    }
    return null;
  };

  /**
   * What a product pattern does for x: null when a corner is a locked published cell (or the
   * pattern does not move x, or has too many corners); else how far x may rise and fall along it
   * and what hiding its corners costs, written to `ev` (true returned). A corner is a position (a
   * cell of the classifications, the last dimension at code 0) and a term of the last dimension's
   * vector w; what w's cells at a position contribute (whether one is locked and published, the
   * cost of the unhidden ones, the least room over its cells by the sign of their coefficient,
   * x's own cell left out) is computed once per sensitive cell, w and position (`slotAt`) and
   * reused by every product through that position: the same figures as walking every corner.
   */
  const ev = { up: 0, downOthers: 0, cost: 0 };
  const evaluateInto = (pattern: Pattern, x: number, coords: readonly number[]): boolean => {
    let vx = 1;
    let corners = 1;
    for (let d = 0; d < pattern.length; d++) {
      const v = pattern[d]!;
      let t: Term | undefined;
      for (const term of v)
        if (term.code === coords[d]) {
          t = term;
          break;
        }
      if (!t) return false;
      vx *= t.coef;
      corners *= v.length;
    }
    if (corners > CORNERS_MAX) return false;
    const w = pattern[last]!;
    const slot = slotOf(w);
    const unit = vx === 1 || vx === -1;
    let up = Infinity;
    let downOthers = Infinity;
    let c = 0;
    // The classification corners, dimension 0 slowest: index per dimension, position and coefficient.
    const idx = evIdx;
    for (let d = 0; d < last; d++) idx[d] = 0;
    for (;;) {
      let pos = 0;
      let cc = 1;
      for (let d = 0; d < last; d++) {
        const t = pattern[d]![idx[d]!]!;
        pos += t.code * posStrides[d]!;
        cc *= t.coef;
      }
      const at = slotAt(slot, w, pos, x);
      if (aggBlocked[at]) return false;
      c += aggCost[at]!;
      if (unit && (cc === 1 || cc === -1)) {
        // rel = cc * w_t / vx = +-w_t exactly: the position's own minima.
        if (cc * vx > 0) {
          up = Math.min(up, aggNeg[at]!);
          downOthers = Math.min(downOthers, aggPos[at]!);
        } else {
          up = Math.min(up, aggPos[at]!);
          downOthers = Math.min(downOthers, aggNeg[at]!);
        }
      } else {
        const base = pos * lastSize;
        for (const t of w) {
          const cell = base + t.code;
          if (cell === x) continue;
          const rel = (cc * t.coef) / vx;
          const room = values[cell]! - lower[cell]!;
          if (rel < 0) up = Math.min(up, room / -rel);
          else downOthers = Math.min(downOthers, room / rel);
        }
      }
      let d = last - 1;
      while (d >= 0 && ++idx[d]! >= pattern[d]!.length) idx[d--] = 0;
      if (d < 0) break;
    }
    ev.up = up;
    ev.downOthers = downOthers;
    ev.cost = c;
    return true;
  };

  // Pairs need every dimension but the last to be a flat classification (code 0 the total).
  const pairable =
    problem.pairs !== false &&
    dims.length > 1 &&
    dims.slice(0, last).every((d) => d.relations.length === 1 && d.relations[0]![0]!.code === 0);
  /** Codes at a classification's total, per cell, counted lazily. */
  const totalsAt = (cell: number): number => {
    let count = 0;
    for (let d = 0; d < last; d++) if (Math.floor(cell / shape.strides[d]!) % shape.sizes[d]! === 0) count++;
    return count;
  };
  // pairPlan's scratch: per position (a cell of the classifications, the last dimension at code 0)
  // what w's corners there contribute, and the positions of P's corners by subset mask.
  const posBlocked = new Uint8Array(positionCount);
  const posCost = new Float64Array(positionCount);
  const posUp = new Float64Array(positionCount);
  const posDown = new Float64Array(positionCount);
  const pairAPos = new Int32Array(1 << last);
  const pairPool: {
    cost: number;
    line: number;
    a: number;
    b: number;
    up: number;
    down: number;
    vx: number;
  }[] = [];
  const hidesHighMargin = (patterns: readonly { e: Evaluation }[]): boolean =>
    patterns.some((p) => p.e.cells.some((cell) => !suppressed[cell] && totalsAt(cell) >= 2));

  /**
   * The cheapest pair for x: P = (T + a_1) x ... x (T + a_k) x w moves x (a_d its own part, or where
   * x is at a total some part), Q = (T + b_1) x ... x (T + b_k) x w another slice b with its
   * margins; P - Q keeps every relation (both do) and cancels the corners they share, which are the
   * totals of every classification where a and b differ: the city-wide and the sector-wide figures
   * stay published while x moves against b's cells. One pair serves both directions when its sum
   * has the room (else none is taken). Tried with the cheapest few vectors of the last dimension.
   *
   * Every slice b is tried, so this is the hot loop of a large city's protection: nothing is
   * allocated per pair. A corner of P or Q is a position (a cell of the classifications, the last
   * dimension at code 0) and w; P's corner for a subset S of the classifications (S: where it takes
   * a's part, the total elsewhere) and Q's for S' cancel exactly when S = S' and a = b on S, so the
   * pair moves the corners of both whose S is not within E (where a and b agree). What a corner
   * contributes (whether w reaches a locked published cell there, the cost of hiding its cells,
   * how far it lets x rise and fall) depends on its position and w only, and is computed once per
   * w for every position; a pair is then 2 x 2^k lookups. The pairs kept are the same, in the same
   * order, as forming each P - Q as a map of cells would give; only the chosen ones are formed.
   */
  const pairPlan = (
    x: number,
    coords: readonly number[],
    wantUp: number,
    wantDown: number,
    roomX: number,
    mpLines: readonly Line[],
  ) => {
    const k = last;
    const parts = dims.slice(0, k).map((d) => d.size - 1);
    const masks = 1 << k;
    const posStride = posStrides;
    let xMask = 0;
    for (let d = 0; d < k; d++) if (coords[d] !== 0) xMask |= 1 << (k - 1 - d);
    const pool = pairPool;
    pool.length = 0;
    const lines = mpLines.slice(0, PAIR_LAST_VECTORS);
    const as: number[][][] = [];
    const signs: (1 | -1)[] = [];
    for (const [li, line] of lines.entries()) {
      const w = line.v;
      const atX = w.find((t) => t.code === coords[k])!;
      const sign = (atX.coef > 0 ? 1 : -1) as 1 | -1;
      signs.push(sign);
      const vx = Math.abs(sign * atX.coef);
      // Per position: blocked (w reaches a locked published cell), the cost of its hidden cells, and
      // how far its cells let x rise and fall as P's corner (Q's are the other way round).
      for (let pos = 0; pos < positionCount; pos++)
        lineFigures(w, pos, x, sign, pos, posBlocked, posCost, posUp, posDown);
      // The parts tuples (positions of the innermost corner) in order, dimension 0 slowest, that the
      // pair may use: every corner of w hideable there.
      const combos = (fixed: (d: number) => number | null): number[][] => {
        const out: number[][] = [];
        const b = dims.slice(0, k).map((_, d) => fixed(d) ?? 1);
        for (;;) {
          let pos = 0;
          for (let d = 0; d < k; d++) pos += b[d]! * posStride[d]!;
          if (!posBlocked[pos]) out.push([...b]);
          let d = k - 1;
          for (; d >= 0; d--) {
            if (fixed(d) !== null) continue;
            if (++b[d]! <= parts[d]!) break;
            b[d] = 1;
          }
          if (d < 0) break;
        }
        return out;
      };
      // P's parts: x's own where it has one, else a part where x's slice has figures.
      const aList = combos((d) => (coords[d] !== 0 ? coords[d]! : null)).slice(0, PAIR_OWN_SLICES);
      as.push(aList);
      if (aList.length === 0) continue;
      const aPos = pairAPos;
      for (const [ai, a] of aList.entries()) {
        for (let m = 0; m < masks; m++) {
          let pos = 0;
          for (let d = 0; d < k; d++) if (m & (1 << (k - 1 - d))) pos += a[d]! * posStride[d]!;
          aPos[m] = pos;
        }
        const b = dims.slice(0, k).map(() => 1);
        for (;;) {
          let inner = 0;
          for (let d = 0; d < k; d++) inner += b[d]! * posStride[d]!;
          if (!posBlocked[inner]) {
            let agree = 0;
            for (let d = 0; d < k; d++) if (a[d] === b[d]) agree |= 1 << (k - 1 - d);
            // x's own corner cancels when b is x's slice wherever x has a part: no pair.
            if ((xMask & ~agree) !== 0) {
              let ok = true;
              let c = 0;
              let upRoom = Infinity;
              let downRoom = roomX / vx;
              for (let m = 1; m < masks && ok; m++) {
                if ((m & ~agree) === 0) continue;
                const pa = aPos[m]!;
                let pb = 0;
                for (let d = 0; d < k; d++) if (m & (1 << (k - 1 - d))) pb += b[d]! * posStride[d]!;
                if (posBlocked[pa] || posBlocked[pb]) {
                  ok = false;
                  break;
                }
                c += posCost[pa]! + posCost[pb]!;
                // P's corner as computed (x's own left out), Q's the other way round.
                upRoom = Math.min(upRoom, posUp[pa]!, posDown[pb]!);
                downRoom = Math.min(downRoom, posDown[pa]!, posUp[pb]!);
              }
              if (ok) {
                const up = upRoom * vx;
                const down = Math.min(downRoom * vx, roomX);
                if (up > 0 || down > 0) pool.push({ cost: c, line: li, a: ai, b: inner, up, down, vx });
              }
            }
          }
          let d = k - 1;
          for (; d >= 0; d--) {
            if (++b[d]! <= parts[d]!) break;
            b[d] = 1;
          }
          if (d < 0) break;
        }
      }
    }
    if (pool.length === 0) return null;
    type Entry = (typeof pool)[number];
    /** The pair as patterns (P and Q), with the cells their sum moves in the order a map of it keeps. */
    const form = (entry: Entry) => {
      const w = lines[entry.line]!.v;
      const sign = signs[entry.line]!;
      const a = as[entry.line]![entry.a]!;
      const b: number[] = [];
      let rest = entry.b;
      for (let d = 0; d < k; d++) {
        b.push(Math.floor(rest / posStride[d]!));
        rest -= b[d]! * posStride[d]!;
      }
      const p: Term[][] = [];
      const q: Term[][] = [];
      for (let d = 0; d < k; d++) {
        p.push([
          { code: 0, coef: 1 },
          { code: a[d]!, coef: 1 },
        ]);
        q.push([
          { code: 0, coef: 1 },
          { code: b[d]!, coef: 1 },
        ]);
      }
      p.push([...w]);
      q.push([...w]);
      const composite = new Map<number, number>();
      for (const c of patternCorners(shape, p))
        composite.set(c.cell, (composite.get(c.cell) ?? 0) + sign * c.coef);
      for (const c of patternCorners(shape, q))
        composite.set(c.cell, (composite.get(c.cell) ?? 0) - sign * c.coef);
      const cells: number[] = [];
      for (const [cell, coef] of composite) if (coef !== 0) cells.push(cell);
      return { cost: entry.cost, p, q, sign, cells, up: entry.up, down: entry.down, vx: entry.vx };
    };
    type Pair = ReturnType<typeof form>;
    const weighted = (pair: Pair, weight: number) => {
      const e = (cells: number[]): Evaluation => ({ up: 0, downOthers: 0, cost: 0, cells });
      return [
        { pattern: pair.p, e: e(pair.cells), weight, sign: pair.sign },
        { pattern: pair.q, e: e([]), weight, sign: (pair.sign === 1 ? -1 : 1) as 1 | -1 },
      ];
    };
    // One pair with the room both ways, the cheapest.
    let single: Entry | null = null;
    for (const pair of pool)
      if (pair.up >= wantUp && pair.down >= wantDown && (!single || pair.cost < single.cost)) single = pair;
    // Else per direction a sum of pairs, each weighted by the room it has alone, cheapest per room
    // first, until the sum has the room (as gatherSum does for products).
    const gather = (direction: 'up' | 'down', need: number) => {
      const roomOf = (pair: Entry) => Math.min(direction === 'up' ? pair.up : pair.down, need);
      // The first 64 by cost per room, ties in pool order (a stable sort's first 64).
      const best: { entry: Entry; ratio: number }[] = [];
      for (const pair of pool) {
        const room = roomOf(pair);
        if (!(room > 0 && Number.isFinite(room))) continue;
        const ratio = (pair.cost + 1) / room;
        if (best.length === 64 && !(ratio < best[63]!.ratio)) continue;
        let at = best.length;
        while (at > 0 && ratio < best[at - 1]!.ratio) at--;
        best.splice(at, 0, { entry: pair, ratio });
        if (best.length > 64) best.pop();
      }
      const chosen: ReturnType<typeof weighted> = [];
      const hidden = new Set<number>();
      let c = 0;
      const composite = new Map<number, number>();
      for (const { entry } of best) {
        const pair = form(entry);
        const parts = weighted(pair, roomOf(entry) / pair.vx);
        chosen.push(...parts);
        for (const part of parts) addToComposite(shape, composite, part, coords);
        for (const cell of pair.cells)
          if (!suppressed[cell] && !hidden.has(cell)) {
            hidden.add(cell);
            c += cost[cell]!;
          }
        if (compositeRoom(composite, x, direction, values, lower) >= need)
          return { patterns: chosen, cost: c };
      }
      return null;
    };
    const plans: { direction: 'up' | 'down'; patterns: ReturnType<typeof weighted>; cost: number }[] = [];
    if (single) {
      const patterns = weighted(form(single), 1);
      plans.push({ direction: 'up', patterns, cost: single.cost });
      plans.push({ direction: 'down', patterns, cost: 0 });
      return { cost: single.cost, plans };
    }
    for (const [direction, need] of [
      ['up', wantUp],
      ['down', wantDown],
    ] as const) {
      if (need <= 0) continue;
      const found = gather(direction, need);
      if (!found) return null;
      plans.push({ direction, ...found });
    }
    return { cost: plans.reduce((a, p) => a + p.cost, 0), plans };
  };

  const order = problem.sensitive
    .map((cell, i) => ({ cell, i }))
    .sort((a, b) => Math.abs(values[b.cell]!) - Math.abs(values[a.cell]!) || a.cell - b.cell);

  const { onProgress } = options;
  let done = 0;
  for (const { cell: x, i } of order) {
    if (onProgress && done % PROGRESS_EVERY === 0) onProgress(done, order.length);
    done++;
    newEpoch();
    const coords = shape.coords(x);
    const wantUp = problem.protectUp[i]!;
    const roomX = values[x]! - lower[x]!;
    const wantDown = Math.min(problem.protectDown[i]!, roomX);
    // Each dimension's candidate vectors through x, without a locked published cell on x's line,
    // with what the line alone allows (a product never allows more than any of its lines).
    const lineList = (d: number, vectors: readonly (readonly Term[])[]): Line[] => {
      const stride = shape.strides[d]!;
      const out: Line[] = [];
      for (const v of vectors) {
        const at = v.find((t) => t.code === coords[d])!;
        let up = Infinity;
        let down = Infinity;
        let c = 0;
        let ok = true;
        for (const t of v) {
          const cell = x + (t.code - coords[d]!) * stride;
          if (locked[cell] && !suppressed[cell]) {
            ok = false;
            break;
          }
          if (!suppressed[cell]) c += cost[cell]!;
          if (cell === x) continue;
          const rel = t.coef / at.coef;
          const room = values[cell]! - lower[cell]!;
          if (rel < 0) up = Math.min(up, room / -rel);
          else down = Math.min(down, room / rel);
        }
        if (ok) out.push({ v, up, down, cost: c });
      }
      out.sort((a, b) => a.cost - b.cost);
      return out;
    };
    const lists = dims.map((dim, d) => lineList(d, dim.candidates[coords[d]!]!));
    const ownLists: readonly Line[][] = lists;

    const search = (
      needUp: number,
      needDown: number,
      limit: number,
      lists: readonly Line[][],
    ): { pattern: Pattern; e: Evaluation } | null => {
      const filtered = lists.map((l) =>
        l.filter((c) => c.up >= needUp && Math.min(c.down, roomX) >= needDown),
      );
      if (filtered.some((l) => l.length === 0)) return null;
      // The best so far as figures; its Evaluation (with its cells) is formed once, when returned.
      const found: { best: { pattern: Pattern; up: number; downOthers: number; cost: number } | null } = {
        best: null,
      };
      const consider = (pattern: Pattern) => {
        if (!evaluateInto(pattern, x, coords)) return;
        if (ev.up < needUp || Math.min(ev.downOthers, roomX) < needDown) return;
        if (!found.best || ev.cost < found.best.cost)
          found.best = { pattern, up: ev.up, downOthers: ev.downOthers, cost: ev.cost };
      };
      const result = () => {
        const b = found.best;
        if (!b) return null;
        const e: Evaluation = {
          up: b.up,
          downOthers: b.downOthers,
          cost: b.cost,
          cells: patternCorners(shape, b.pattern).map((c) => c.cell),
        };
        return { pattern: b.pattern, e };
      };
      // The slice's last choice, with each of the last dimension's candidates.
      // Not in the fallback: its last dimension's vectors are only valid with its own corners.
      const remembered = lists === ownLists ? memo.get(x - coords[last]!) : undefined;
      if (remembered && dims.length > 1) {
        for (const c of filtered[last]!.slice(0, 4)) consider([...remembered.slice(0, last), c.v]);
        if (found.best?.cost === 0) return result();
      }
      let tried = 0;
      for (let k = 2; ; k *= 2) {
        const sizes = filtered.map((l) => Math.min(l.length, k));
        const previous = filtered.map((l) => Math.min(l.length, k / 2));
        const idx = sizes.map(() => 0);
        for (;;) {
          // Only combinations not tried at the previous k (some index past the previous size).
          if (k === 2 || idx.some((v, d) => v >= previous[d]!)) {
            // A product's corners include each of its lines through x (disjoint but for x, which is
            // hidden): it costs at least their costs added, so one that cannot beat the best so
            // far is not evaluated (the result is the same; it still counts as tried).
            let atLeast = 0;
            for (let d = 0; d < idx.length; d++) atLeast += filtered[d]![idx[d]!]!.cost;
            if (!found.best || atLeast < found.best.cost) consider(idx.map((v, d) => filtered[d]![v]!.v));
            tried++;
          }
          let d = idx.length - 1;
          while (d >= 0 && ++idx[d]! >= sizes[d]!) idx[d--] = 0;
          if (d < 0 || tried >= limit) break;
        }
        const exhausted = filtered.every((l) => l.length <= k);
        if (found.best || exhausted || tried >= limit) return result();
      }
    };

    const take = (pattern: Pattern, e: Evaluation, paired: boolean) => {
      for (const cell of e.cells) {
        if (!suppressed[cell]) {
          suppressed[cell] = 1;
          complementary.push(cell);
        }
      }
      if (dims.length > 1 && !paired) memo.set(x - coords[last]!, pattern);
    };

    invariant(suppressed[x], 'a sensitive cell must be suppressed before it is protected');
    // The cheapest way in each direction: one product, or (when none suffices or the best one is
    // dear) a sum of cheaper products; one product serving both directions when it is no dearer.
    const cheap = (c: number) => c <= 2 * Math.abs(values[x]!) + 10;
    type Plan = {
      direction: 'up' | 'down';
      patterns: { pattern: Pattern; e: Evaluation; weight: number; sign?: 1 | -1 }[];
      cost: number;
    };
    /** The certificate's patterns for these lists, or null when some direction finds none. */
    const planWith = (lists: readonly Line[][], sumWidth: number): Plan[] | null => {
      const both = search(wantUp, wantDown, COMBINATIONS_MAX, lists);
      const asBoth = (b: { pattern: Pattern; e: Evaluation }): Plan[] => [
        { direction: 'up', patterns: [{ ...b, weight: 1 }], cost: b.e.cost },
        { direction: 'down', patterns: [{ ...b, weight: 1 }], cost: 0 },
      ];
      if (both && cheap(both.e.cost)) return asBoth(both);
      const plans: Plan[] = [];
      let ok = true;
      for (const direction of ['up', 'down'] as const) {
        const need = direction === 'up' ? wantUp : wantDown;
        if (need <= 0) continue;
        const single =
          direction === 'up'
            ? search(need, 0, COMBINATIONS_MAX, lists)
            : search(0, need, COMBINATIONS_MAX, lists);
        let plan: Plan | null = single
          ? { direction, patterns: [{ ...single, weight: 1 }], cost: single.e.cost }
          : null;
        if (!plan || !cheap(plan.cost)) {
          const summed = gatherSum(
            shape,
            lists,
            direction,
            need,
            x,
            coords,
            (pattern, px, pcoords) => (evaluateInto(pattern, px, pcoords) ? ev : null),
            values,
            lower,
            sumWidth,
          );
          if (summed) {
            const hidden = new Set<number>();
            let c = 0;
            for (const p of summed)
              for (const cell of p.e.cells)
                if (!suppressed[cell] && !hidden.has(cell)) {
                  hidden.add(cell);
                  c += cost[cell]!;
                }
            if (!plan || c < plan.cost) plan = { direction, patterns: summed, cost: c };
          }
        }
        if (plan) plans.push(plan);
        else ok = false;
      }
      const planCost = plans.reduce((a, p) => a + p.cost, 0);
      if (both && (!ok || both.e.cost <= planCost)) return asBoth(both);
      return ok ? plans : null;
    };
    const commit = (plans: Plan[]) => {
      const certificate: Certificate = { cell: x, up: [], down: [] };
      for (const plan of plans) {
        for (const p of plan.patterns) {
          take(p.pattern, p.e, p.sign !== undefined);
          certificate[plan.direction].push({
            pattern: p.pattern,
            weight: p.weight,
            ...(p.sign === undefined ? {} : { sign: p.sign }),
          });
        }
      }
      certificates.push(certificate);
    };
    const plans = planWith(lists, GATHER_WIDTH);
    // A plan that hides a margin of margins (a cell at the total of two classifications or more:
    // a sector's city-wide figure, the city's own) is compared with the cheapest pair, which moves
    // x with its margins against another slice's cell with its margins, the shared totals cancelled.
    if (pairable && (!plans || plans.some((p) => hidesHighMargin(p.patterns)))) {
      const pair = pairPlan(x, coords, wantUp, wantDown, roomX, lists[last]!);
      const planCost = plans ? plans.reduce((a, p) => a + p.cost, 0) : Number.POSITIVE_INFINITY;
      if (pair && pair.cost < planCost) {
        commit(pair.plans);
        continue;
      }
    }
    if (plans) {
      commit(plans);
      continue;
    }
    // Fallback for sparse slices: no product of the dimensions' own short vectors avoids the
    // empty (structural zero) and locked published cells around x. Take each classification's
    // cheapest vectors through x (a part with its total, or two parts), and in the last dimension
    // the null vectors of the system restricted to the codes where every corner of those may be
    // hidden: typically the cell with its margins up to the totals, through the periods where its
    // slice has figures (a stock's every month when the flows that would move it are empty).
    const fallback = problem.fallback === false ? null : fallbackPlan(coords, lists, lineList, planWith);
    if (fallback) {
      fallbacks++;
      commit(fallback);
      continue;
    }
    const monotone = problem.fallback === false ? null : monotonePlan(coords, lists, lineList, planWith);
    if (monotone) {
      fallbacks++;
      commit(monotone);
      continue;
    }
    unprotected.push(x);
    certificates.push({ cell: x, up: [], down: [] });
  }
  onProgress?.(order.length, order.length);
  return { suppressed, complementary, certificates, unprotected, fallbacks };
}

/** Adds one weighted pattern, signed to move x up, to a composite (cell -> coefficient). */
function addToComposite(
  shape: TableShape,
  sum: Map<number, number>,
  weighted: Weighted,
  coords: readonly number[],
): void {
  const { pattern, weight } = weighted;
  const sign = weighted.sign ?? Math.sign(patternCoefficient(shape, pattern, coords));
  if (sign === 0 || !(weight > 0)) return;
  for (const { cell, coef } of patternCorners(shape, pattern))
    sum.set(cell, (sum.get(cell) ?? 0) + sign * weight * coef);
}

/** A weighted sum of patterns, each signed to move x up: cell -> coefficient. */
function compose(
  shape: TableShape,
  patterns: readonly Weighted[],
  coords: readonly number[],
): Map<number, number> {
  const sum = new Map<number, number>();
  for (const weighted of patterns) addToComposite(shape, sum, weighted, coords);
  return sum;
}

/** How far a composite lets x rise or fall (Infinity: without limit). */
function compositeRoom(
  composite: Map<number, number>,
  x: number,
  direction: 'up' | 'down',
  values: ArrayLike<number>,
  lower: ArrayLike<number>,
): number {
  const vx = composite.get(x) ?? 0;
  if (vx <= 0) return 0;
  let room = direction === 'down' ? (values[x]! - lower[x]!) / vx : Infinity;
  for (const [cell, coef] of composite) {
    if (cell === x || coef === 0) continue;
    const r = values[cell]! - lower[cell]!;
    if (direction === 'up' && coef < 0) room = Math.min(room, r / -coef);
    if (direction === 'down' && coef > 0) room = Math.min(room, r / coef);
  }
  return room * vx;
}

/**
 * Patterns whose weighted sum gives x the room `need` in one direction, or null when the products
 * tried cannot reach it. Each pattern is weighted by the room it has alone (scaled so it moves x by
 * that much), so partners add their rooms up; patterns are added cheapest per room first until the
 * sum has the room.
 */
function gatherSum(
  shape: TableShape,
  lists: readonly Line[][],
  direction: 'up' | 'down',
  need: number,
  x: number,
  coords: readonly number[],
  /** A pattern's figures (a scratch object, read at once), or null when it is not usable. */
  evaluate: (
    pattern: Pattern,
    x: number,
    coords: readonly number[],
  ) => { up: number; downOthers: number; cost: number } | null,
  values: ArrayLike<number>,
  lower: ArrayLike<number>,
  width: number,
): { pattern: Pattern; e: Evaluation; weight: number }[] | null {
  type Entry = {
    pattern: Pattern;
    up: number;
    downOthers: number;
    cost: number;
    room: number;
    weight: number;
  };
  // The 64 cheapest per room of the patterns with room (ties in the order tried: a stable sort's
  // first 64), kept sorted as they are found: at most 64 are ever added up.
  const best: { entry: Entry; ratio: number }[] = [];
  // Per dimension, the vectors whose line has the most room in this direction (then the cheapest).
  const roomOf = (c: { up: number; down: number }) => Math.min(direction === 'up' ? c.up : c.down, need);
  const roomy = lists.map((l) =>
    l
      .filter((c) => roomOf(c) > 0)
      .sort((a, b) => roomOf(b) - roomOf(a) || a.cost - b.cost)
      .slice(0, width),
  );
  const sizes = roomy.map((l) => l.length);
  if (sizes.some((s) => s === 0)) return null;
  const idx = sizes.map(() => 0);
  let tried = 0;
  for (;;) {
    if (best.length === 64) {
      // A product costs at least its lines through x (disjoint but for x, hidden) and has no more
      // room than any of them: one whose best possible cost per room cannot enter the 64 is not
      // evaluated (the margin absorbs the rounding of the lines' rooms; it still counts as tried).
      let atLeast = 1;
      let room = need;
      for (let d = 0; d < idx.length; d++) {
        const line = roomy[d]![idx[d]!]!;
        atLeast += line.cost;
        room = Math.min(room, direction === 'up' ? line.up : line.down);
      }
      if (atLeast / (room * (1 + 1e-9)) > best[63]!.ratio) {
        tried++;
        let d = idx.length - 1;
        while (d >= 0 && ++idx[d]! >= sizes[d]!) idx[d--] = 0;
        if (d < 0 || tried >= COMBINATIONS_MAX) break;
        continue;
      }
    }
    const pattern = idx.map((v, d) => roomy[d]![v]!.v);
    const e = evaluate(pattern, x, coords);
    const alone = e ? Math.min(direction === 'up' ? e.up : e.downOthers, need) : 0;
    if (e && alone > 0 && Number.isFinite(alone)) {
      const ratio = (e.cost + 1) / alone;
      if (best.length < 64 || ratio < best[63]!.ratio) {
        const vx = Math.abs(patternCoefficient(shape, pattern, coords));
        const entry = {
          pattern,
          up: e.up,
          downOthers: e.downOthers,
          cost: e.cost,
          room: alone,
          weight: alone / vx,
        };
        let at = best.length;
        while (at > 0 && ratio < best[at - 1]!.ratio) at--;
        best.splice(at, 0, { entry, ratio });
        if (best.length > 64) best.pop();
      }
    }
    tried++;
    let d = idx.length - 1;
    while (d >= 0 && ++idx[d]! >= sizes[d]!) idx[d--] = 0;
    if (d < 0 || tried >= COMBINATIONS_MAX) break;
  }
  const chosen: { pattern: Pattern; e: Evaluation; weight: number }[] = [];
  // The composite grows one pattern at a time (the same sums, in the same order, as compose).
  const composite = new Map<number, number>();
  for (const { entry: p } of best) {
    const e: Evaluation = {
      up: p.up,
      downOthers: p.downOthers,
      cost: p.cost,
      cells: patternCorners(shape, p.pattern).map((c) => c.cell),
    };
    const item = { pattern: p.pattern, e, weight: p.weight };
    chosen.push(item);
    addToComposite(shape, composite, item, coords);
    const room = compositeRoom(composite, x, direction, values, lower);
    if (room >= need) return chosen;
  }
  return null;
}

/**
 * Why a pattern would move a relation an attacker can use, or null: each dimension's vector must
 * keep every relation of its dimension, except a conditional relation that fails on the true values
 * at every corner of the other dimensions' vectors (nobody can use a relation that does not hold).
 * Then the product keeps every relation instance that holds, so moving the cells along it changes
 * nothing an attacker knows.
 */
export function patternBreaks(shape: TableShape, values: ArrayLike<number>, pattern: Pattern): string | null {
  for (let d = 0; d < pattern.length; d++) {
    const dim = shape.dims[d]!;
    const broken = dim.brokenRelations(pattern[d]!);
    if (broken.length === 0) continue;
    const others = pattern.map((v, i) => (i === d ? [{ code: 0, coef: 1 }] : v));
    const bases = patternCorners(shape, others).map((c) => c.cell);
    for (const relation of broken) {
      const holds =
        !dim.conditional[relation] ||
        bases.some((base) => instanceResidual(shape, { dim: d, relation, base }, values) === 0);
      if (holds) return `a pattern breaks relation ${relation} of ${dim.name}`;
    }
  }
  return null;
}

export interface VerifiedInterval {
  cell: number;
  /** How far the certificate lets the cell rise and fall (Infinity: without limit). */
  up: number;
  down: number;
  wantUp: number;
  wantDown: number;
  ok: boolean;
  /** Why not, when not ok. */
  problem: string | null;
}

/**
 * Recomputes, from the certificates alone, the interval each sensitive cell keeps: every corner of
 * every pattern must be suppressed, and the room is that of the sum of a direction's patterns
 * (each signed to move the cell up). Exact; independent of how `protect` chose them. Each pattern
 * is checked to keep every relation instance that holds on the true values (patternBreaks), so the
 * patterns and their sums keep everything an attacker can use.
 */
export function verifyProtection(
  problem: ProtectionProblem,
  suppressed: Uint8Array,
  certificates: readonly Certificate[],
): VerifiedInterval[] {
  const { shape, values } = problem;
  const lower = problem.lower ?? values.map((v) => Math.min(0, v));
  const wanted = new Map(problem.sensitive.map((cell, i) => [cell, i]));
  const out: VerifiedInterval[] = [];
  const seen = new Set<number>();
  for (const cert of certificates) {
    const i = wanted.get(cert.cell);
    invariant(i !== undefined, `a certificate for cell ${cert.cell}, which is not sensitive`);
    seen.add(cert.cell);
    const coords = shape.coords(cert.cell);
    const roomX = values[cert.cell]! - lower[cert.cell]!;
    const wantUp = problem.protectUp[i]!;
    const wantDown = Math.min(problem.protectDown[i]!, roomX);
    let problemText: string | null = suppressed[cert.cell] ? null : 'the cell is published';
    const rooms = (patterns: Weighted[], direction: 'up' | 'down'): number => {
      for (const { pattern, sign } of patterns) {
        if (sign === undefined && patternCoefficient(shape, pattern, coords) === 0)
          problemText ??= 'a pattern does not move the cell';
        problemText ??= patternBreaks(shape, values, pattern);
      }
      if (patterns.length === 0) return 0;
      // What moves is the sum: a corner two patterns of a pair cancel stays put (and may be published).
      const composite = compose(shape, patterns, coords);
      for (const [cell, coef] of composite) {
        if (coef !== 0 && !suppressed[cell])
          problemText ??= `a pattern moves published cell ${shape.codes(cell).join(' / ')}`;
      }
      return compositeRoom(composite, cert.cell, direction, values, lower);
    };
    const up = wantUp > 0 || cert.up.length > 0 ? rooms(cert.up, 'up') : 0;
    const down = wantDown > 0 || cert.down.length > 0 ? rooms(cert.down, 'down') : 0;
    if (problemText === null && up < wantUp) problemText = `rises by at most ${up}, ${wantUp} asked`;
    if (problemText === null && down < wantDown) problemText = `falls by at most ${down}, ${wantDown} asked`;
    out.push({ cell: cert.cell, up, down, wantUp, wantDown, ok: problemText === null, problem: problemText });
  }
  for (const cell of problem.sensitive) {
    if (!seen.has(cell)) {
      const i = wanted.get(cell)!;
      out.push({
        cell,
        up: 0,
        down: 0,
        wantUp: problem.protectUp[i]!,
        wantDown: problem.protectDown[i]!,
        ok: false,
        problem: 'no certificate',
      });
    }
  }
  return out;
}
