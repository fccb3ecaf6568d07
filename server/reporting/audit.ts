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
import highsLoader from 'highs';
import {
  type AttackInput,
  type AttackProblem,
  attackerProblems,
  judgeInterval,
  neighbourhoodProblem,
} from '../core/disclosure-audit.js';
import type { Certificate } from '../core/disclosure-protect.js';

// The package types its loader as a CommonJS module's default; its ESM build's default is the loader.
const loadHighs = highsLoader as unknown as typeof highsLoader.default;
export type Solver = Awaited<ReturnType<typeof loadHighs>>;

let solver: Promise<Solver> | null = null;
/** The HiGHS runtime, loaded once per process. */
export function loadSolver(): Promise<Solver> {
  solver ??= loadHighs();
  return solver;
}

export interface CellInterval {
  cell: number;
  min: number;
  max: number;
  exact: boolean;
}

/** Min and max of each target column of an attacker's program. */
export function solveAttack(highs: Solver, problem: AttackProblem): CellInterval[] {
  const constraints: string[] = [];
  for (let r = 0; r < problem.rhs.length; r++) {
    const terms: string[] = [];
    for (let i = problem.starts[r]!; i < problem.starts[r + 1]!; i++) {
      const c = problem.coefs[i]!;
      terms.push(`${c < 0 ? '-' : '+'} ${Math.abs(c)} x${problem.indices[i]}`);
    }
    constraints.push(` r${r}: ${terms.join(' ')} = ${problem.rhs[r]}`);
  }
  const bounds = problem.colLower.map((l, i) => ` x${i} >= ${l}`);
  const body = [
    'Subject To',
    ...(constraints.length > 0 ? constraints : [' r0: x0 >= -1e30']),
    'Bounds',
    ...bounds,
    'End',
  ];
  const out: CellInterval[] = [];
  for (const t of problem.targets) {
    const cell = problem.cells[t]!;
    const min = optimum(highs, ['Minimize', ` obj: x${t}`, ...body].join('\n'), 'min');
    const max = optimum(highs, ['Maximize', ` obj: x${t}`, ...body].join('\n'), 'max');
    out.push({ cell, min, max, exact: problem.exact });
  }
  return out;
}

function optimum(highs: Solver, lp: string, sense: 'min' | 'max'): number {
  const solution = highs.solve(lp, { presolve: 'on' });
  if (solution.Status === 'Optimal') return solution.ObjectiveValue;
  if (solution.Status === 'Unbounded' || solution.Status === 'Primal infeasible or unbounded') {
    return sense === 'max' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
  // The true table is a solution, so the program is feasible: anything else is a fault.
  throw new Error(`the audit's linear program ended ${solution.Status}`);
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
}

export interface AuditTarget {
  cell: number;
  wantUp: number;
  wantDown: number;
}

/**
 * Audits every target (a hidden sensitive cell): exact programs per component of hidden cells,
 * neighbourhood programs (from `certificates`) for components over `componentCellsMax` cells.
 */
export async function auditProtection(
  input: AttackInput,
  targets: readonly AuditTarget[],
  certificates: readonly Certificate[] = [],
  componentCellsMax = Number.POSITIVE_INFINITY,
): Promise<AuditReport> {
  const highs = await loadSolver();
  const want = new Map(targets.map((t) => [t.cell, t]));
  const { problems, tooLarge } = attackerProblems(
    input,
    targets.map((t) => t.cell),
    componentCellsMax,
  );
  const intervals: CellInterval[] = [];
  for (const p of problems) intervals.push(...solveAttack(highs, p));
  const byCell = new Map(certificates.map((c) => [c.cell, c]));
  for (const cell of tooLarge) {
    const certificate = byCell.get(cell);
    if (!certificate) {
      intervals.push({ cell, min: input.values[cell]!, max: input.values[cell]!, exact: false });
      continue;
    }
    intervals.push(...solveAttack(highs, neighbourhoodProblem(input, certificate)));
  }
  const findings = intervals.map((iv) => {
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
  });
  return { findings, failures: findings.filter((f) => !f.ok), programs: problems.length + tooLarge.length };
}
