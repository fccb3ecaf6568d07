/**
 * What an attacker knows of every cell before any complementary suppression (issue 15, the
 * "hidden means at least 1" attacker).
 *
 * A cell nobody contributes to is always published (as 0), a contribution is a whole, non-zero
 * number of minor units, and a hidden cell says why (its reason), so every hidden cell of a measure
 * that cannot be negative is at least 1 minor unit. With the relations of the table, those bounds
 * imply more: a total is at least the bounds of its parts added (three co-ops closed in three
 * slices: the city's total is at least 3), a stock is at least last month's plus this month's
 * inflow when its outflow is empty. No choice of cells to hide can take that knowledge away, so the
 * interval a sensitive cell keeps downwards is asked only down to it (as a count's is capped at its
 * value - 1), and protection's rooms are computed on it (a cell may fall only to its bound).
 *
 * The bounds are found by propagation over every relation instance that holds on the true values:
 * each derived bound is implied by the per-cell ones, so it is one the attacker has; bounds only
 * rise and never past the true value, and propagation stops at a fixed point or after
 * SWEEPS_MAX sweeps (a bound not raised is weaker, which asks protection for more, never less).
 *
 * Pure.
 */
import type { TableShape } from './disclosure-table.js';

const SWEEPS_MAX = 50;

/**
 * Lower bounds every consistent table keeps, given per-cell lower bounds (`lower`, -Infinity for
 * none), the cells whose value is known (`fixed`: published ones, empty ones and earlier releases'
 * published cells), and the relations of the shape that hold on `values`.
 */
export function impliedLowerBounds(
  shape: TableShape,
  values: Float64Array,
  lower: Float64Array,
  fixed: Uint8Array,
): Float64Array {
  const n = shape.cellCount;
  const lo = Float64Array.from(lower);
  const hi = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let cell = 0; cell < n; cell++)
    if (fixed[cell]) {
      lo[cell] = values[cell]!;
      hi[cell] = values[cell]!;
    }
  // Relation instances are walked on the fly every sweep (a city's table has millions of them:
  // nothing is kept per instance), with their cells and coefficients in scratch arrays.
  const relations = shape.dims.map((d) =>
    d.relations.map((r) => ({ codes: r.map((t) => t.code), coefs: r.map((t) => t.coef) })),
  );
  const width = Math.max(1, ...relations.flat().map((r) => r.codes.length));
  const cells = new Int32Array(width);
  const coefs = new Float64Array(width);
  /** Tightens the bounds of one instance's cells; true when one changed. */
  const tighten = (size: number): boolean => {
    let changed = false;
    // sum a_j x_j = 0. The least and greatest of the sum over the bounds, and how many terms are
    // unbounded each way (a term alone unbounded is still bounded by the others).
    let least = 0;
    let greatest = 0;
    let leastInf = 0;
    let greatestInf = 0;
    for (let k = 0; k < size; k++) {
      const a = coefs[k]!;
      const c = cells[k]!;
      const l = a > 0 ? a * lo[c]! : a * hi[c]!;
      const g = a > 0 ? a * hi[c]! : a * lo[c]!;
      if (Number.isFinite(l)) least += l;
      else leastInf++;
      if (Number.isFinite(g)) greatest += g;
      else greatestInf++;
    }
    for (let k = 0; k < size; k++) {
      const a = coefs[k]!;
      const c = cells[k]!;
      if (fixed[c]) continue;
      const l = a > 0 ? a * lo[c]! : a * hi[c]!;
      const g = a > 0 ? a * hi[c]! : a * lo[c]!;
      // a x_c = -(the others' sum): at least -(their greatest), at most -(their least).
      if (greatestInf - (Number.isFinite(g) ? 0 : 1) === 0) {
        const bound = -(greatest - (Number.isFinite(g) ? g : 0)) / a;
        if (a > 0 && bound > lo[c]! + 1e-9) {
          lo[c] = bound;
          changed = true;
        } else if (a < 0 && bound < hi[c]! - 1e-9) {
          hi[c] = bound;
          changed = true;
        }
      }
      if (leastInf - (Number.isFinite(l) ? 0 : 1) === 0) {
        const bound = -(least - (Number.isFinite(l) ? l : 0)) / a;
        if (a > 0 && bound < hi[c]! - 1e-9) {
          hi[c] = bound;
          changed = true;
        } else if (a < 0 && bound > lo[c]! + 1e-9) {
          lo[c] = bound;
          changed = true;
        }
      }
    }
    return changed;
  };
  for (let sweep = 0; sweep < SWEEPS_MAX; sweep++) {
    let changed = false;
    for (let dim = 0; dim < shape.dims.length; dim++) {
      const stride = shape.strides[dim]!;
      const size = shape.sizes[dim]!;
      for (let base = 0; base < n; base++) {
        if (Math.floor(base / stride) % size !== 0) continue;
        for (const r of relations[dim]!) {
          // Only an instance that holds on the true values (a conditional one may not), and one
          // with a cell not known.
          let residual = 0;
          let open = false;
          for (let k = 0; k < r.codes.length; k++) {
            const c = base + r.codes[k]! * stride;
            cells[k] = c;
            coefs[k] = r.coefs[k]!;
            residual += r.coefs[k]! * values[c]!;
            if (!fixed[c]) open = true;
          }
          if (residual !== 0 || !open) continue;
          if (tighten(r.codes.length)) changed = true;
        }
      }
    }
    if (!changed) break;
  }
  // A bound is implied by bounds the true values keep, so it never passes them; with figures past
  // 2^53 minor units in a sum, rounding could: such a bound is taken at the value.
  for (let cell = 0; cell < n; cell++) if (lo[cell]! > values[cell]!) lo[cell] = values[cell]!;
  return lo;
}
