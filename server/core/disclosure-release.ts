/**
 * One release of a protected table (issue 15): the primary verdicts of a cube, the cells an
 * earlier release of the same table already published or hid, and complementary suppression over
 * both, giving every cell its status and, for a hidden one, why.
 *
 * Consecutive releases are protected as one table: a cell an earlier release published stays
 * published (locked), a cell it hid stays hidden (locked, and still protected if it was sensitive),
 * and the new cells (a new month, the quarter or year it completes) are protected around them. The
 * caller keeps the figures of released months as they were released (server/reporting freezes
 * them), so what an attacker holds from every release is one consistent table and month-over-month
 * (or quarter-minus-months) differences are relations this protection already covers.
 *
 * Pure.
 */
import { impliedLowerBounds } from './disclosure-bounds.js';
import type { Cube } from './disclosure-cube.js';
import {
  type Certificate,
  type ProtectionProblem,
  type ProtectionResult,
  protect,
} from './disclosure-protect.js';
import type { SuppressionReason } from './disclosure-rules.js';
import { invariant } from './errors.js';

/** What an earlier release said of a cell that is still in the table. */
export interface PriorCell {
  suppressed: boolean;
  reason: SuppressionReason | null;
  /** The interval it was protected by (0 when it was not sensitive). */
  protectUp: number;
  protectDown: number;
}

export interface ReleaseProtection {
  /** Per cell: null when published, else why it is hidden. */
  reasons: (SuppressionReason | null)[];
  problem: ProtectionProblem;
  result: ProtectionResult;
  certificates: Certificate[];
}

export function protectRelease(
  cube: Cube,
  prior: ReadonlyMap<number, PriorCell> = new Map(),
  options: {
    fallback?: boolean;
    lower?: Float64Array;
    /** Progress of the complementary suppression (see ProtectOptions). */
    onProgress?: (done: number, total: number) => void;
  } = {},
): ReleaseProtection {
  const n = cube.shape.cellCount;
  const suppressed = new Uint8Array(n);
  const locked = new Uint8Array(n);
  const reasons: (SuppressionReason | null)[] = new Array(n).fill(null);
  const sensitive: number[] = [];
  const protectUp: number[] = [];
  const protectDown: number[] = [];
  for (const [cell, p] of prior) {
    invariant(cell >= 0 && cell < n, 'a prior cell outside the table');
    locked[cell] = 1;
    if (p.suppressed) {
      suppressed[cell] = 1;
      reasons[cell] = p.reason ?? 'COMPLEMENTARY';
      if (p.protectUp > 0 || p.protectDown > 0) {
        sensitive.push(cell);
        protectUp.push(p.protectUp);
        protectDown.push(p.protectDown);
      }
    }
  }
  for (const [cell, verdict] of cube.verdicts) {
    const p = prior.get(cell);
    // A cell of an earlier release keeps what that release said of it. Its frozen figures are the
    // same, but the rules may not be: a release may be published with stricter ones than the last
    // (or a rule judge more cells than when it was published), and a cell published before cannot
    // be taken back, nor a hidden one asked more than it was protected by then; the stricter rules
    // hold for the new cells.
    if (p) continue;
    suppressed[cell] = 1;
    reasons[cell] = verdict.reason;
    const protection = Number(verdict.protection);
    sensitive.push(cell);
    protectUp.push(protection);
    protectDown.push(protection);
  }
  // A cell nobody contributes to is a structural zero: always published, never a partner. Where
  // that leaves a sensitive cell no partner in its own slice, protect's fallback moves it with its
  // margins (see disclosure-protect.ts).
  for (let cell = 0; cell < n; cell++)
    if (cube.contributors[cell] === 0 && !suppressed[cell]) locked[cell] = 1;
  // What an attacker knows each cell is at least. A cell nobody contributes to is always
  // published, a contribution is a whole, non-zero number of minor units, and a hidden cell says
  // why: every hidden cell of a measure that cannot be negative (a lower bound of 0) holds at least
  // 1. With the relations and the cells known (empty ones, earlier releases' published ones) that
  // implies more (disclosure-bounds.ts). Protection, its certificates and the audits take these
  // bounds: a cell may fall only to its bound, and is asked to fall at most that far.
  const perCell = options.lower ? Float64Array.from(options.lower) : cube.values.map((v) => Math.min(0, v));
  for (let cell = 0; cell < n; cell++)
    if (cube.contributors[cell]! > 0 && perCell[cell] === 0 && cube.values[cell]! >= 1) perCell[cell] = 1;
  const known = Uint8Array.from(locked, (l, cell) => (l && !suppressed[cell] ? 1 : 0));
  const lower = impliedLowerBounds(cube.shape, cube.values, perCell, known);
  const problem: ProtectionProblem = {
    shape: cube.shape,
    values: cube.values,
    suppressed,
    locked,
    sensitive,
    protectUp,
    protectDown,
    lower,
    ...(options.fallback === false ? { fallback: false } : {}),
  };
  const result = protect(problem, options.onProgress ? { onProgress: options.onProgress } : {});
  for (const cell of result.complementary) reasons[cell] = 'COMPLEMENTARY';
  return { reasons, problem, result, certificates: result.certificates };
}
