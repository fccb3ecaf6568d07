/**
 * The attacker's problem (issue 15): for a suppressed sensitive cell, the least and greatest value
 * it can take over every table consistent with what is published (each published cell at its
 * value, every relation of the table that holds on the true values, every cell at least its
 * a-priori lower bound). When that interval does not reach the protection asked on each side, the
 * cell leaks.
 *
 * This file states the linear programs and judges their answers; solving them takes an LP solver,
 * which is I/O-free but not ours (server/reporting/audit.ts hands these problems to HiGHS). A
 * table's programs are split into connected components: suppressed cells linked by relations that
 * hold two or more of them; published cells are constants. A component whose cells are too many
 * can be attacked on a neighbourhood instead: only the cells of the sensitive cell's certificate
 * are free, every other suppressed cell fixed at its true value. That feasible set lies inside the
 * attacker's, so the interval found lies inside the true one: passing there proves protection;
 * failing proves nothing and calls for the exact program.
 *
 * Pure.
 */
import type { Certificate, Pattern } from './disclosure-protect.js';
import { patternCorners } from './disclosure-protect.js';
import {
  instanceKey,
  instanceResidual,
  instancesOf,
  instanceTerms,
  type TableShape,
} from './disclosure-table.js';
import { invariant } from './errors.js';

/** A linear program: find min and max of each target over { y >= colLower, rows: sum = rhs }. */
export interface AttackProblem {
  /** The table cells that are the program's columns (suppressed cells). */
  cells: number[];
  colLower: number[];
  /** Rows in compressed sparse row form: row r is indices[starts[r]..starts[r+1]). */
  starts: number[];
  indices: number[];
  coefs: number[];
  rhs: number[];
  /** Columns (indices into `cells`) whose interval is asked for. */
  targets: number[];
  /** False for a neighbourhood program (other suppressed cells fixed): its interval is a lower bound of the true one. */
  exact: boolean;
}

export interface AttackInput {
  shape: TableShape;
  values: Float64Array;
  lower?: Float64Array;
  suppressed: Uint8Array;
}

class UnionFind {
  private readonly parent = new Map<number, number>();
  find(a: number): number {
    let root = a;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root)!;
    let node = a;
    while (node !== root) {
      const next = this.parent.get(node) ?? node;
      this.parent.set(node, root);
      node = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

/** The relation instances touching any of these cells that hold on the true values. */
function holdingInstances(input: AttackInput, cells: Iterable<number>) {
  const seen = new Set<string>();
  const out: { terms: { code: number; coef: number }[] }[] = [];
  for (const cell of cells) {
    for (const r of instancesOf(input.shape, cell)) {
      const key = instanceKey(r);
      if (seen.has(key)) continue;
      seen.add(key);
      const conditional = input.shape.dims[r.dim]!.conditional[r.relation]!;
      const residual = instanceResidual(input.shape, r, input.values);
      if (residual !== 0) {
        invariant(conditional, `an unconditional relation of ${input.shape.dims[r.dim]!.name} does not hold`);
        continue; // does not hold on this slice: nobody can use it
      }
      out.push({ terms: instanceTerms(input.shape, r) });
    }
  }
  return out;
}

function buildProblem(
  input: AttackInput,
  free: readonly number[],
  isFree: (cell: number) => boolean,
  targets: readonly number[],
  exact: boolean,
): AttackProblem {
  const lower = input.lower;
  const column = new Map<number, number>();
  free.forEach((cell, i) => {
    column.set(cell, i);
  });
  const problem: AttackProblem = {
    cells: [...free],
    colLower: free.map((c) => (lower ? lower[c]! : Math.min(0, input.values[c]!))),
    starts: [0],
    indices: [],
    coefs: [],
    rhs: [],
    targets: targets.map((c) => column.get(c)!),
    exact,
  };
  for (const { terms } of holdingInstances(input, free)) {
    let rhs = 0;
    let width = 0;
    for (const t of terms) {
      if (isFree(t.code)) {
        problem.indices.push(column.get(t.code)!);
        problem.coefs.push(t.coef);
        width++;
      } else {
        rhs -= t.coef * input.values[t.code]!;
      }
    }
    if (width === 0) continue;
    problem.rhs.push(rhs);
    problem.starts.push(problem.indices.length);
  }
  return problem;
}

/**
 * The attacker's programs of a table: one per connected component of suppressed cells that holds
 * a target (sensitive cell). Components of more than `componentCellsMax` cells are left out and
 * reported in `tooLarge` (their targets, to attack on neighbourhoods).
 */
export function attackerProblems(
  input: AttackInput,
  targets: readonly number[],
  componentCellsMax = Number.POSITIVE_INFINITY,
): { problems: AttackProblem[]; tooLarge: number[] } {
  const { suppressed } = input;
  const uf = new UnionFind();
  // Grow components from the targets through relations holding two or more suppressed cells.
  const members = new Set<number>();
  const queue: number[] = [];
  for (const t of targets) {
    invariant(suppressed[t] === 1, `target ${t} is published`);
    if (!members.has(t)) {
      members.add(t);
      queue.push(t);
    }
  }
  const seen = new Set<string>();
  while (queue.length > 0) {
    const cell = queue.pop()!;
    for (const r of instancesOf(input.shape, cell)) {
      const key = instanceKey(r);
      if (seen.has(key)) continue;
      seen.add(key);
      if (instanceResidual(input.shape, r, input.values) !== 0) continue;
      const hidden = instanceTerms(input.shape, r).filter((t) => suppressed[t.code] === 1);
      for (const t of hidden) {
        uf.union(cell, t.code);
        if (!members.has(t.code)) {
          members.add(t.code);
          queue.push(t.code);
        }
      }
    }
  }
  const components = new Map<number, number[]>();
  for (const cell of members) {
    const root = uf.find(cell);
    const list = components.get(root) ?? [];
    list.push(cell);
    components.set(root, list);
  }
  const targetSet = new Set(targets);
  const problems: AttackProblem[] = [];
  const tooLarge: number[] = [];
  for (const cells of components.values()) {
    cells.sort((a, b) => a - b);
    const mine = cells.filter((c) => targetSet.has(c));
    if (mine.length === 0) continue;
    if (cells.length > componentCellsMax) {
      tooLarge.push(...mine);
      continue;
    }
    const inComponent = new Set(cells);
    problems.push(buildProblem(input, cells, (c) => inComponent.has(c), mine, true));
  }
  return { problems, tooLarge };
}

/** The cells a certificate moves (all suppressed), the sensitive cell included. */
export function certificateCells(shape: TableShape, certificate: Certificate): number[] {
  const cells = new Set<number>([certificate.cell]);
  const add = (patterns: readonly { pattern: Pattern }[]) => {
    for (const { pattern } of patterns) for (const c of patternCorners(shape, pattern)) cells.add(c.cell);
  };
  add(certificate.up);
  add(certificate.down);
  return [...cells].sort((a, b) => a - b);
}

/**
 * The attacker's program on a neighbourhood of one sensitive cell: the cells of its certificate
 * free, every other suppressed cell fixed at its true value (a subset of the attacker's tables, so a
 * narrower interval than the true one: a proof when it passes).
 */
export function neighbourhoodProblem(input: AttackInput, certificate: Certificate): AttackProblem {
  const free = certificateCells(input.shape, certificate).filter((c) => input.suppressed[c] === 1);
  const set = new Set(free);
  return buildProblem(input, free, (c) => set.has(c), [certificate.cell], false);
}

/**
 * The attacker's program on the union of several sensitive cells' certificate neighbourhoods:
 * those cells free, every other suppressed cell fixed at its true value. Still a subset of the
 * attacker's tables, so each target's interval found there is a lower bound of its true one (a
 * proof when it passes); one program serves every target of the group.
 */
export function neighbourhoodsProblem(
  input: AttackInput,
  certificates: readonly Certificate[],
): AttackProblem {
  const free = new Set<number>();
  for (const certificate of certificates)
    for (const c of certificateCells(input.shape, certificate)) if (input.suppressed[c] === 1) free.add(c);
  const cells = [...free].sort((a, b) => a - b);
  return buildProblem(
    input,
    cells,
    (c) => free.has(c),
    certificates.map((c) => c.cell),
    false,
  );
}

export interface AttackFinding {
  cell: number;
  value: number;
  /** Least and greatest value over the program (-Infinity / Infinity: unbounded). */
  min: number;
  max: number;
  wantUp: number;
  wantDown: number;
  /** Whether the program was the component's whole (exact) or a neighbourhood's (a bound). */
  exact: boolean;
  ok: boolean;
}

/**
 * Whether an interval [min, max] found for a cell of value `value` leaves the protection asked:
 * max >= value + wantUp and min <= value - wantDown (wantDown capped at value - lower). A tolerance
 * of a millionth of the value (at least 1e-6 units) absorbs the solver's rounding; values are whole
 * minor units, so it never hides a real shortfall.
 */
export function judgeInterval(
  value: number,
  lower: number,
  min: number,
  max: number,
  wantUp: number,
  wantDown: number,
): boolean {
  const tolerance = Math.max(1e-6, Math.abs(value) * 1e-6);
  const down = Math.min(wantDown, value - lower);
  return max >= value + wantUp - tolerance && min <= value - down + tolerance;
}
