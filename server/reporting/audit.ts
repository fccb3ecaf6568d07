/**
 * The disclosure audit (issue 15): for every hidden sensitive cell of a release, the least and
 * greatest value it can take over all tables consistent with what is published, by linear programs
 * (server/core/disclosure-audit.ts states them) solved by HiGHS (`highs`, the University of
 * Edinburgh's solver compiled to WebAssembly). A cell passes when its interval reaches the
 * protection its primary rule asked on both sides.
 *
 * A component of hidden cells larger than `componentCellsMax` is attacked on each target's
 * certificate neighbourhood instead (a proof when it passes, see disclosure-audit.ts); a target that
 * fails there is reported as unproven, which fails the audit as a leak would.
 */
import type highsLoader from 'highs';
import {
  type AttackInput,
  type AttackProblem,
  attackerProblems,
  certificateCells,
  judgeInterval,
  neighbourhoodProblem,
  neighbourhoodsProblem,
} from '../core/disclosure-audit.js';
import type { Certificate } from '../core/disclosure-protect.js';

// The package types its loader as a CommonJS module's default; its ESM build's default is the loader.
type loadHighs = typeof highsLoader.default;
export type Solver = Awaited<ReturnType<loadHighs>>;

let solver: Promise<Solver> | null = null;
/**
 * The HiGHS runtime, loaded once per process, on first use (only a city report's release audits
 * with it: a service that never computes one does not hold the module).
 */
export function loadSolver(): Promise<Solver> {
  solver ??= import('highs').then((m) => (m.default as unknown as loadHighs)());
  return solver;
}

export interface CellInterval {
  cell: number;
  min: number;
  max: number;
  exact: boolean;
}

/**
 * Min and max of each target column of an attacker's program. The program is passed to HiGHS once
 * (its persistent model: columns, bounds and the sparse rows as arrays, no LP text to write or
 * parse); each target then only changes the objective (its column's cost to 1, the sense to
 * minimise, then maximise) and HiGHS starts from the basis of the previous solve.
 */
export function solveAttack(
  highs: Solver,
  problem: AttackProblem,
  solverOptions: Record<string, string | number | boolean> = {},
): CellInterval[] {
  const numCols = problem.cells.length;
  const numRows = problem.rhs.length;
  const out: CellInterval[] = [];
  const model = highs.createModel({
    numCols,
    numRows,
    colCost: new Float64Array(numCols),
    // A cell with no lower bound (a signed measure's) is free downwards.
    colLower: problem.colLower.map((l) => Math.max(l, -highs.infinity)),
    colUpper: new Float64Array(numCols).fill(highs.infinity),
    rowLower: problem.rhs,
    rowUpper: problem.rhs,
    matrix: {
      format: 'csr',
      numRows,
      numCols,
      starts: problem.starts,
      indices: problem.indices,
      values: problem.coefs,
    },
  });
  try {
    model.options.set({ output_flag: false, presolve: 'off', ...solverOptions });
    const { minimize, maximize } = highs.constants.objectiveSense;
    for (const t of problem.targets) {
      model.changeColCost(t, 1);
      model.changeObjectiveSense(minimize);
      const min = optimum(highs, model, 'min');
      model.changeObjectiveSense(maximize);
      const max = optimum(highs, model, 'max');
      model.changeColCost(t, 0);
      out.push({ cell: problem.cells[t]!, min, max, exact: problem.exact });
    }
  } finally {
    model.dispose();
  }
  return out;
}

type Model = ReturnType<Solver['createModel']>;

function optimum(highs: Solver, model: Model, sense: 'min' | 'max'): number {
  const codes = highs.constants.modelStatus;
  let status = model.run().modelStatus;
  if (status !== codes.optimal && status !== codes.unbounded && status !== codes.unboundedOrInfeasible) {
    // A warm start that ends without a verdict (seen: status unknown on programs mixing cents and
    // head counts): solve again from scratch with presolve, then go back to warm starts.
    model.clearSolver();
    model.options.set('presolve', 'on');
    status = model.run().modelStatus;
    model.options.set('presolve', 'off');
  }
  if (status === codes.optimal) return model.getObjectiveValue();
  if (status === codes.unbounded || status === codes.unboundedOrInfeasible) {
    return sense === 'max' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
  // The true table is a solution, so the program is feasible: anything else is the solver's
  // failure (seen: status unknown), which proves nothing either way.
  throw new SolverFailure(status);
}

/** HiGHS ended a program without an optimum (status unknown, a limit, an error). */
export class SolverFailure extends Error {
  constructor(readonly status: number) {
    super(`the audit's linear program ended with model status ${status}`);
  }
}

export interface AuditFinding extends CellInterval {
  value: number;
  wantUp: number;
  wantDown: number;
  ok: boolean;
}

export interface AuditReport {
  findings: AuditFinding[];
  /** Cells whose interval is narrower than asked (or could not be proven wide enough). */
  failures: AuditFinding[];
  programs: number;
  /** Targets not audited because the deadline passed (0 without a deadline). */
  skipped: number;
  /**
   * Programs HiGHS ended without an optimum. A neighbourhood program's targets then go to their
   * component's exact program; an exact program's targets are failures (unproven), never passes.
   */
  solverFailures: number;
}

export interface AuditTarget {
  cell: number;
  wantUp: number;
  wantDown: number;
}

/** Cells (counted with repeats) of the certificates whose neighbourhoods share one program. */
const NEIGHBOURHOOD_GROUP_CELLS_MAX = 400;

export interface AuditOptions {
  /**
   * Solve each target's neighbourhood program (its certificate's cells free, every other hidden
   * cell at its true value) first, and the exact program of its component only for targets whose
   * neighbourhood does not already prove the interval. The neighbourhood's tables are a subset of
   * the attacker's, so an interval wide enough there is wide enough over all tables: a proof by LP
   * for every target, at the cost of a few dozen columns each instead of the whole component. Off
   * by default (every target then gets its exact component program, as in the tests).
   */
  neighbourhoodFirst?: boolean;
  /**
   * With neighbourhoodFirst: stop solving neighbourhood programs at this time (ms since the epoch);
   * the targets not reached are counted in `skipped` (neither passed nor failed). Targets are taken
   * in a fixed pseudo-random order, so what is reached is a sample spread over the table. Unset: every
   * target is audited.
   */
  deadline?: number;
  /** HiGHS options for every program (a limit, say); the audit's own are output off, presolve off. */
  solverOptions?: Record<string, string | number | boolean>;
  /**
   * Called as the audit goes (after each program, and once at each phase's end): the phase
   * (`neighbourhoods`: targets on their certificate's neighbourhood; `components`: the exact
   * programs of the targets left), targets done in it and its targets in all.
   */
  onProgress?: (phase: 'neighbourhoods' | 'components', done: number, total: number) => void;
}

/**
 * Audits every target (a hidden sensitive cell): exact programs per component of hidden cells,
 * neighbourhood programs (from `certificates`) for components over `componentCellsMax` cells, or
 * neighbourhoods first with `neighbourhoodFirst`.
 */
export async function auditProtection(
  input: AttackInput,
  targets: readonly AuditTarget[],
  certificates: readonly Certificate[] = [],
  componentCellsMax = Number.POSITIVE_INFINITY,
  options: AuditOptions = {},
): Promise<AuditReport> {
  const highs = await loadSolver();
  const want = new Map(targets.map((t) => [t.cell, t]));
  const byCell = new Map(certificates.map((c) => [c.cell, c]));
  const judge = (iv: CellInterval): AuditFinding => {
    const t = want.get(iv.cell)!;
    const value = input.values[iv.cell]!;
    const lower = input.lower ? input.lower[iv.cell]! : Math.min(0, value);
    return {
      ...iv,
      value,
      wantUp: t.wantUp,
      wantDown: t.wantDown,
      ok: judgeInterval(value, lower, iv.min, iv.max, t.wantUp, t.wantDown),
    };
  };
  const findings: AuditFinding[] = [];
  let programs = 0;
  let solverFailures = 0;
  const solveOrFail = (solve: () => CellInterval[]): CellInterval[] | null => {
    try {
      return solve();
    } catch (error) {
      if (!(error instanceof SolverFailure)) throw error;
      solverFailures++;
      return null;
    }
  };
  let rest = targets.map((t) => t.cell);
  let skipped = 0;
  if (options.neighbourhoodFirst) {
    const unproven: number[] = [];
    if (options.deadline !== undefined) rest = spread(rest);
    // Targets in groups whose certificates' cells together stay small: one program per group.
    let group: Certificate[] = [];
    let groupCells = 0;
    const flush = () => {
      if (group.length === 0) return;
      programs++;
      const solved = solveOrFail(() =>
        solveAttack(highs, neighbourhoodsProblem(input, group), options.solverOptions),
      );
      if (solved === null) for (const c of group) unproven.push(c.cell);
      for (const iv of solved ?? []) {
        const finding = judge(iv);
        if (finding.ok) findings.push(finding);
        else unproven.push(iv.cell);
      }
      group = [];
      groupCells = 0;
    };
    const report = (done: number) => options.onProgress?.('neighbourhoods', done, rest.length);
    for (const [i, cell] of rest.entries()) {
      if (options.deadline !== undefined && (i & 63) === 0 && Date.now() > options.deadline) {
        skipped = rest.length - i;
        break;
      }
      const certificate = byCell.get(cell);
      if (!certificate) {
        unproven.push(cell);
        continue;
      }
      const size = certificateCells(input.shape, certificate).length;
      if (groupCells + size > NEIGHBOURHOOD_GROUP_CELLS_MAX) {
        flush();
        report(i);
      }
      group.push(certificate);
      groupCells += size;
    }
    flush();
    report(rest.length - skipped);
    rest = unproven;
  }
  if (rest.length > 0) {
    const { problems, tooLarge } = attackerProblems(input, rest, componentCellsMax);
    /** A target no program could bound: judged on the point interval, so it fails. */
    const unsolved = (cell: number) =>
      judge({ cell, min: input.values[cell]!, max: input.values[cell]!, exact: false });
    let done = 0;
    for (const p of problems) {
      const solved = solveOrFail(() => solveAttack(highs, p, options.solverOptions));
      if (solved === null) for (const t of p.targets) findings.push(unsolved(p.cells[t]!));
      for (const iv of solved ?? []) findings.push(judge(iv));
      done += p.targets.length;
      options.onProgress?.('components', done, rest.length);
    }
    for (const cell of tooLarge) {
      const certificate = byCell.get(cell);
      const solved = certificate
        ? solveOrFail(() =>
            solveAttack(highs, neighbourhoodProblem(input, certificate), options.solverOptions),
          )
        : null;
      findings.push(solved ? judge(solved[0]!) : unsolved(cell));
      options.onProgress?.('components', ++done, rest.length);
    }
    programs += problems.length + tooLarge.length;
  }
  return { findings, failures: findings.filter((f) => !f.ok), programs, skipped, solverFailures };
}

/**
 * The cells in runs of 64 neighbours (by index, so a run's certificates share cells), the runs in a
 * fixed order that looks random (a multiplicative hash): a prefix is a sample spread over the table.
 */
function spread(cells: readonly number[]): number[] {
  const sorted = [...cells].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (let i = 0; i < sorted.length; i += 64) runs.push(sorted.slice(i, i + 64));
  const key = (i: number) => Math.imul(i ^ (i >>> 16), 0x45d9f3b) >>> 0;
  return runs
    .map((run, i) => ({ run, k: key(i + 1) }))
    .sort((a, b) => a.k - b.k)
    .flatMap((r) => r.run);
}
