/**
 * Non-negative null vectors of a dimension (issue 15, the "hidden means at least 1" attacker).
 *
 * A hidden cell of a count is at least 1 (a cell nobody contributes to is always published), so a
 * complementary cell of value 1 has no room to fall: a pattern that moves a sensitive cell up
 * against such cells (x up, a neighbour down) protects nothing. A pattern all of whose
 * coefficients have x's sign always has room upwards (every cell it moves rises with x), and it
 * exists wherever the cell can move at all: x with its margins in every classification and, in the
 * last dimension, x with its quarter and year and, through a stock identity, the stock's run of
 * months forwards or backwards (or the flow that starts or ends it). This finds the cheapest such
 * vector of one dimension through a code, with some codes fixed at zero, by a small linear program
 * (the dimension's relations are few: tens to a few hundred), and returns it in whole numbers.
 *
 * Pure.
 */
import type { Dimension, Term } from './disclosure-dimensions.js';

const EPS = 1e-9;
/**
 * Pivots at most per phase of a program (a guard: Bland's rule ends far sooner on these systems;
 * a program that reaches it is given up, as one with no solution).
 */
const PIVOTS_MAX = 2_000;
/** Largest denominator a vertex's coefficients are scaled by to make them whole. */
const DENOMINATOR_MAX = 60;

/**
 * A null vector w of `dim` with w[code] = 1 (scaled to whole numbers), w >= 0, zero wherever
 * `allowed` is 0, keeping every relation with `keep(relation)`, of least sum of cost(c) * w[c];
 * null when there is none (or the vertex found is not made whole by a small denominator).
 */
export function nonNegativeNullVector(
  dim: Dimension,
  code: number,
  allowed: Uint8Array,
  keep: (relation: number) => boolean,
  cost: (code: number) => number,
): Term[] | null {
  if (!allowed[code]) return null;
  const vars: number[] = [];
  const column = new Map<number, number>();
  for (let c = 0; c < dim.size; c++)
    if (allowed[c]) {
      column.set(c, vars.length);
      vars.push(c);
    }
  const rows: Float64Array[] = [];
  const rhs: number[] = [];
  const nv = vars.length;
  dim.relations.forEach((relation, r) => {
    if (!keep(r)) return;
    const row = new Float64Array(nv);
    let any = false;
    for (const t of relation) {
      const j = column.get(t.code);
      if (j === undefined) continue;
      row[j]! += t.coef;
      any = true;
    }
    if (any) {
      rows.push(row);
      rhs.push(0);
    }
  });
  const fix = new Float64Array(nv);
  fix[column.get(code)!] = 1;
  rows.push(fix);
  rhs.push(1);
  const w = solveMinCost(
    rows,
    rhs,
    vars.map((c) => cost(c)),
  );
  if (!w) return null;
  // A vertex of these systems is whole or has a small common denominator.
  for (let k = 1; k <= DENOMINATOR_MAX; k++) {
    const scaled = Array.from(w, (v) => v * k);
    if (!scaled.every((v) => Math.abs(v - Math.round(v)) < 1e-6)) continue;
    const terms: Term[] = [];
    scaled.forEach((v, j) => {
      const coef = Math.round(v);
      if (coef !== 0) terms.push({ code: vars[j]!, coef });
    });
    // Exactly: every kept relation holds on the whole vector.
    const at = new Map(terms.map((t) => [t.code, t.coef]));
    const holds = dim.relations.every(
      (relation, r) => !keep(r) || relation.reduce((s, t) => s + t.coef * (at.get(t.code) ?? 0), 0) === 0,
    );
    return holds && terms.every((t) => t.coef > 0) ? terms : null;
  }
  return null;
}

/**
 * min c.x subject to A x = b, x >= 0 (b >= 0), by the two-phase simplex method on a dense tableau
 * with Bland's rule (these programs are highly degenerate). Null when infeasible or unbounded.
 */
function solveMinCost(a: Float64Array[], b: number[], c: number[]): Float64Array | null {
  const m = a.length;
  const n = c.length;
  const width = n + m + 1;
  // Columns: the n variables, m artificials, the right-hand side.
  const t = a.map((row, i) => {
    const r = new Float64Array(width);
    r.set(row);
    r[n + i] = 1;
    r[width - 1] = b[i]!;
    return r;
  });
  const basis = a.map((_, i) => n + i);
  const pivot = (row: number, col: number) => {
    const pr = t[row]!;
    const p = pr[col]!;
    for (let j = 0; j < width; j++) pr[j]! /= p;
    for (let i = 0; i < m; i++) {
      if (i === row) continue;
      const r = t[i]!;
      const f = r[col]!;
      if (f === 0) continue;
      for (let j = 0; j < width; j++) r[j]! -= f * pr[j]!;
      r[col] = 0;
    }
    basis[row] = col;
  };
  /** Runs the simplex on objective `obj` over columns < `enter`; false when unbounded or too long. */
  const run = (obj: Float64Array, enter: number): boolean => {
    for (let step = 0; step < PIVOTS_MAX; step++) {
      // Reduced costs: obj_j - sum over rows of obj_basis * t_ij.
      let col = -1;
      for (let j = 0; j < enter && col < 0; j++) {
        let d = obj[j]!;
        for (let i = 0; i < m; i++) d -= obj[basis[i]!]! * t[i]![j]!;
        if (d < -EPS) col = j;
      }
      if (col < 0) return true;
      let row = -1;
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < m; i++) {
        const v = t[i]![col]!;
        if (v <= EPS) continue;
        const ratio = t[i]![width - 1]! / v;
        if (ratio < best - EPS || (Math.abs(ratio - best) <= EPS && basis[i]! < basis[row]!)) {
          best = ratio;
          row = i;
        }
      }
      if (row < 0) return false;
      pivot(row, col);
    }
    return false;
  };
  const phase1 = new Float64Array(width);
  for (let i = 0; i < m; i++) phase1[n + i] = 1;
  if (!run(phase1, n + m)) return null;
  let infeasibility = 0;
  for (let i = 0; i < m; i++) if (basis[i]! >= n) infeasibility += t[i]![width - 1]!;
  if (infeasibility > 1e-7) return null;
  // Artificials left in the basis (at zero) are pivoted out where their row has a variable.
  for (let i = 0; i < m; i++) {
    if (basis[i]! < n) continue;
    for (let j = 0; j < n; j++)
      if (Math.abs(t[i]![j]!) > EPS) {
        pivot(i, j);
        break;
      }
  }
  const phase2 = new Float64Array(width);
  for (let j = 0; j < n; j++) phase2[j] = c[j]!;
  if (!run(phase2, n)) return null;
  const x = new Float64Array(n);
  for (let i = 0; i < m; i++) if (basis[i]! < n) x[basis[i]!] = Math.max(0, t[i]![width - 1]!);
  return x;
}
