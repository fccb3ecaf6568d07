/**
 * Dimensions of a protected table (issue 15): their codes and the linear relations between them,
 * and the small perturbations that keep every relation.
 *
 * A dimension lists codes (`TOTAL`, `Harbour`, `Hillside`, ... or `REVENUE@2026-01`,
 * `REVENUE@2026-Q1`, ...) and relations, each a list of (code, coefficient) terms summing to zero:
 * a total is the sum of its parts (`TOTAL - Harbour - Hillside = 0`), a quarter of flows the sum of
 * its months, a quarter of stocks its last month, this month's members last month's plus those who
 * joined less those who left. A table is the cross product of its dimensions, and its relations
 * are every relation of one dimension at every combination of the other dimensions' codes.
 *
 * What complementary suppression and its audit need from a dimension is its null space: the
 * vectors over its codes that keep every relation (move a part and its total together, or two
 * parts in opposite directions). A vector of the table that is a product of one such vector per
 * dimension keeps every relation of the table (the tensor product of null spaces is the null space
 * of the cross product), so a suppressed cell can move along it while every published cell stays
 * put: that is how a cell is shown to be protected. `Dimension` computes an exact basis of its null
 * space (Gaussian elimination, totals preferred as pivots so the basis is sparse) and, for every
 * code, a short list of sparse null vectors through it (single basis vectors and sums or
 * differences of two), shortest first.
 *
 * Pure: numbers only (coefficients are small integers; every vector is checked exactly against
 * every relation before it is kept).
 */
import { InvariantError, invariant } from './errors.js';

/** One term of a relation or a vector: `coef` times the code at index `code`. */
export interface Term {
  code: number;
  coef: number;
}

export interface DimensionSpec {
  name: string;
  codes: readonly string[];
  /** Each relation's terms sum to zero over any consistent table. */
  relations: readonly (readonly Term[])[];
  /**
   * Relations that need not hold on every slice of the data (a stock-flow identity broken where a
   * co-op started reporting): the audit keeps a slice's copy only where it holds on the true values;
   * suppression never relies on them anyway (its vectors keep every relation).
   */
  conditional?: readonly boolean[];
  /** Codes preferred as pivots (totals, quarters, years, later stocks), most preferred first. */
  pivotOrder?: readonly number[];
}

/** Vectors kept per code, shortest first. */
const CANDIDATES_PER_CODE_MAX = 64;
/** Null vectors longer than this are kept only when a code has no shorter one. */
const CANDIDATE_SUPPORT_MAX = 12;
/** A code's aggregate vector (every basis vector through it, added) is kept up to this length. */
const AGGREGATE_SUPPORT_MAX = 24;

export class Dimension {
  readonly name: string;
  readonly codes: readonly string[];
  readonly relations: readonly (readonly Term[])[];
  readonly conditional: readonly boolean[];
  /** For each code, the relations it appears in. */
  readonly relationsOf: readonly number[][];
  /** A basis of the null space: sparse vectors, terms in code order. */
  readonly basis: readonly (readonly Term[])[];
  /** For each code, sparse null vectors with a non-zero coefficient there, shortest first. */
  readonly candidates: readonly (readonly (readonly Term[])[])[];
  private readonly pivotOrder: readonly number[];
  private readonly index = new Map<string, number>();

  constructor(spec: DimensionSpec) {
    this.name = spec.name;
    this.codes = spec.codes;
    this.relations = spec.relations.map((r) => [...r]);
    this.conditional = spec.conditional ? [...spec.conditional] : spec.relations.map(() => false);
    invariant(
      this.conditional.length === this.relations.length,
      `${spec.name}: one conditional flag per relation`,
    );
    spec.codes.forEach((code, i) => {
      invariant(!this.index.has(code), `${spec.name}: code ${code} twice`);
      this.index.set(code, i);
    });
    const relationsOf: number[][] = spec.codes.map(() => []);
    this.relations.forEach((relation, r) => {
      for (const t of relation) {
        invariant(t.code >= 0 && t.code < spec.codes.length, `${spec.name}: relation ${r} names no code`);
        invariant(
          Number.isInteger(t.coef) && t.coef !== 0,
          `${spec.name}: relation ${r} has a bad coefficient`,
        );
        relationsOf[t.code]!.push(r);
      }
    });
    this.relationsOf = relationsOf;
    this.pivotOrder = spec.pivotOrder ?? [];
    this.basis = nullBasis(spec.codes.length, this.relations, this.pivotOrder);
    for (const v of this.basis) this.assertNull(v);
    this.candidates = candidateVectors(spec.codes.length, this.basis);
  }

  get size(): number {
    return this.codes.length;
  }

  /** The index of a code; throws for an unknown one (a bug of the caller). */
  codeIndex(code: string): number {
    const i = this.index.get(code);
    if (i === undefined) throw new InvariantError(`${this.name}: no code ${code}`);
    return i;
  }

  has(code: string): boolean {
    return this.index.has(code);
  }

  /**
   * Short null vectors through each code of a restricted problem: codes with `allowed[code] === 0`
   * are fixed at zero (an empty or published cell somewhere the vector would reach), and only the
   * relations with `keep(relation)` bind (the others do not hold where the vector would be used, so
   * nobody can use them). The same construction as `candidates`, on that system; used by
   * complementary suppression when no product of the dimension's own candidates fits (sparse
   * slices). Returns an empty list per code when the restricted null space is not integral.
   */
  restrictedCandidates(allowed: Uint8Array, keep: (relation: number) => boolean): Term[][][] {
    const relations: Term[][] = [];
    this.relations.forEach((relation, r) => {
      if (!keep(r)) return;
      const terms = relation.filter((t) => allowed[t.code] === 1);
      if (terms.length > 0) relations.push(terms);
    });
    let basis: Term[][];
    try {
      basis = nullBasis(this.codes.length, relations, this.pivotOrder).filter((v) =>
        v.every((t) => allowed[t.code] === 1),
      );
    } catch (error) {
      if (error instanceof InvariantError) return this.codes.map(() => []);
      throw error;
    }
    // Long vectors are kept here: in a sparse slice a stock's whole run of months is often the only
    // way it can move.
    return candidateVectors(this.codes.length, basis, Number.POSITIVE_INFINITY);
  }

  /**
   * The relations a vector breaks (their sum over it is not zero), found through the relations of
   * its codes only.
   */
  brokenRelations(vector: readonly Term[]): number[] {
    const at = new Map(vector.map((t) => [t.code, t.coef]));
    const seen = new Set<number>();
    const broken: number[] = [];
    for (const t of vector) {
      for (const r of this.relationsOf[t.code] ?? []) {
        if (seen.has(r)) continue;
        seen.add(r);
        let sum = 0;
        for (const term of this.relations[r]!) sum += term.coef * (at.get(term.code) ?? 0);
        if (sum !== 0) broken.push(r);
      }
    }
    return broken;
  }

  /** Throws unless the vector keeps every relation. */
  assertNull(vector: readonly Term[]): void {
    const at = new Map(vector.map((t) => [t.code, t.coef]));
    for (const relation of this.relations) {
      let sum = 0;
      for (const t of relation) sum += t.coef * (at.get(t.code) ?? 0);
      invariant(sum === 0, `${this.name}: a null vector breaks a relation`);
    }
  }
}

/**
 * An exact basis of {x : Rx = 0}, one vector per free code, by elimination to reduced row echelon
 * form with pivots taken in `pivotOrder` first (then by index): with totals as pivots, the basis
 * vector of a part is the part and its totals, which is as sparse as it gets.
 */
function nullBasis(
  codeCount: number,
  relations: readonly (readonly Term[])[],
  pivotOrder: readonly number[],
): Term[][] {
  const rank = new Array<number>(codeCount).fill(Number.MAX_SAFE_INTEGER);
  pivotOrder.forEach((code, i) => {
    if (rank[code] === Number.MAX_SAFE_INTEGER) rank[code] = i;
  });
  // Rows as sparse maps (code -> coefficient); relations are short and stay fairly short.
  const rows: { pivot: number; terms: Map<number, number> }[] = [];
  const pivotRow = new Map<number, number>();
  for (const relation of relations) {
    const terms = new Map<number, number>();
    for (const t of relation) terms.set(t.code, (terms.get(t.code) ?? 0) + t.coef);
    // Eliminate existing pivots.
    for (;;) {
      let hit = -1;
      for (const code of terms.keys()) {
        if (pivotRow.has(code)) {
          hit = code;
          break;
        }
      }
      if (hit === -1) break;
      const row = rows[pivotRow.get(hit)!]!;
      const factor = terms.get(hit)!; // pivot rows are normalised to 1 at their pivot
      for (const [code, coef] of row.terms) {
        const next = (terms.get(code) ?? 0) - factor * coef;
        if (Math.abs(next) < 1e-12) terms.delete(code);
        else terms.set(code, next);
      }
    }
    if (terms.size === 0) continue; // a relation implied by the others
    let pivot = -1;
    for (const code of terms.keys()) {
      if (pivot === -1 || rank[code]! < rank[pivot]! || (rank[code] === rank[pivot] && code < pivot))
        pivot = code;
    }
    const scale = terms.get(pivot)!;
    for (const [code, coef] of terms) terms.set(code, coef / scale);
    // Keep the form reduced: remove the new pivot from earlier rows.
    for (const row of rows) {
      const factor = row.terms.get(pivot);
      if (factor === undefined) continue;
      for (const [code, coef] of terms) {
        const next = (row.terms.get(code) ?? 0) - factor * coef;
        if (Math.abs(next) < 1e-12) row.terms.delete(code);
        else row.terms.set(code, next);
      }
    }
    pivotRow.set(pivot, rows.length);
    rows.push({ pivot, terms });
  }
  const basis: Term[][] = [];
  for (let free = 0; free < codeCount; free++) {
    if (pivotRow.has(free)) continue;
    const vector: Term[] = [{ code: free, coef: 1 }];
    for (const row of rows) {
      const coef = row.terms.get(free);
      if (coef === undefined) continue;
      const value = -coef;
      const rounded = Math.round(value);
      invariant(Math.abs(value - rounded) < 1e-9, 'a dimension whose null space is not integral');
      if (rounded !== 0) vector.push({ code: row.pivot, coef: rounded });
    }
    vector.sort((a, b) => a.code - b.code);
    basis.push(vector);
  }
  return basis;
}

function addVectors(a: readonly Term[], b: readonly Term[], sign: 1 | -1): Term[] {
  const out: Term[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ca = i < a.length ? a[i]!.code : Number.MAX_SAFE_INTEGER;
    const cb = j < b.length ? b[j]!.code : Number.MAX_SAFE_INTEGER;
    if (ca < cb) out.push(a[i++]!);
    else if (cb < ca) out.push({ code: cb, coef: sign * b[j++]!.coef });
    else {
      const coef = a[i++]!.coef + sign * b[j++]!.coef;
      if (coef !== 0) out.push({ code: ca, coef });
    }
  }
  return out;
}

/** Canonical key of a vector up to its sign. */
function vectorKey(v: readonly Term[]): string {
  const flip = v[0]!.coef < 0 ? -1 : 1;
  return v.map((t) => `${t.code}:${t.coef * flip}`).join(',');
}

/**
 * Short null vectors through each code: the basis vectors and the sums and differences of two,
 * with coefficients in {-1, 1}, deduplicated up to sign, shortest first. A code with no such vector
 * of at most CANDIDATE_SUPPORT_MAX codes keeps its shortest ones anyway. Then, for each code, the
 * sum of every basis vector through it (a year with all its quarters and months, 12:3:1): it moves
 * a total in proportion to all its parts, which gives a total far more room than one part can.
 */
function candidateVectors(
  codeCount: number,
  basis: readonly (readonly Term[])[],
  supportMax = CANDIDATE_SUPPORT_MAX,
): Term[][][] {
  const seen = new Set<string>();
  const all: Term[][] = [];
  const keep = (v: Term[]) => {
    if (v.length === 0 || v.some((t) => Math.abs(t.coef) !== 1)) return;
    const key = vectorKey(v);
    if (seen.has(key)) return;
    seen.add(key);
    all.push(v);
  };
  for (const b of basis) keep([...b]);
  for (let i = 0; i < basis.length; i++) {
    for (let j = i + 1; j < basis.length; j++) {
      // Only pairs that share a code can be shorter than the two apart; others add nothing new.
      const a = basis[i]!;
      const b = basis[j]!;
      if (!sharesCode(a, b)) continue;
      keep(addVectors(a, b, -1));
      keep(addVectors(a, b, 1));
    }
  }
  all.sort((a, b) => a.length - b.length || compareVectors(a, b));
  const byCode: Term[][][] = Array.from({ length: codeCount }, () => []);
  for (const v of all) {
    for (const t of v) {
      const list = byCode[t.code]!;
      if (list.length >= CANDIDATES_PER_CODE_MAX) continue;
      if (v.length > supportMax && list.length > 0) continue;
      list.push(v);
    }
  }
  for (let code = 0; code < codeCount; code++) {
    const through = basis.filter((b) => b.some((t) => t.code === code));
    if (through.length < 2) continue;
    let sum: Term[] = [];
    for (const b of through) sum = addVectors(sum, b, 1);
    if (sum.length > AGGREGATE_SUPPORT_MAX || !sum.some((t) => t.code === code)) continue;
    const key = vectorKey(sum);
    if (seen.has(key)) continue;
    seen.add(key);
    byCode[code]!.push(sum);
  }
  return byCode;
}

function sharesCode(a: readonly Term[], b: readonly Term[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i]!.code === b[j]!.code) return true;
    if (a[i]!.code < b[j]!.code) i++;
    else j++;
  }
  return false;
}

function compareVectors(a: readonly Term[], b: readonly Term[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]!.code - b[i]!.code || a[i]!.coef - b[i]!.coef;
    if (d !== 0) return d;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/** The code of every dimension's grand total. */
export const TOTAL_CODE = 'TOTAL';

/** A flat classification: `TOTAL` and its parts (neighbourhoods, sectors, kinds). */
export function totalDimension(name: string, parts: readonly string[]): Dimension {
  const codes = [TOTAL_CODE, ...parts];
  invariant(!parts.includes(TOTAL_CODE), `${name}: a part may not be called ${TOTAL_CODE}`);
  const relation: Term[] = [{ code: 0, coef: 1 }, ...parts.map((_, i) => ({ code: i + 1, coef: -1 }))];
  return new Dimension({ name, codes, relations: parts.length > 0 ? [relation] : [], pivotOrder: [0] });
}
