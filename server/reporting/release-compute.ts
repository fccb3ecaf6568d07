/**
 * The pure part of making a release (issue 15), run in a worker process (release-worker.ts) so that
 * the service's event loop keeps answering while a city's table is protected and audited (seconds
 * to minutes): build the cube from the frozen rows, protect it with the previous release's cells
 * locked, check the certificates exactly, audit every hidden sensitive cell with HiGHS within the
 * budget, and encode the cells to store. No database, no clock but the audit's deadline.
 */
import { verifyProtection } from '../core/disclosure-protect.js';
import { type PriorCell, protectRelease } from '../core/disclosure-release.js';
import type { DisclosurePolicy } from '../core/disclosure-rules.js';
import { auditProtection } from './audit.js';
import {
  buildReleaseShape,
  decodeCells,
  decodeProtection,
  encodeCells,
  encodeProtection,
  type ReleaseDimensions,
  releaseCube,
  releaseLowerBounds,
} from './cube.js';
import type { FrozenRow } from './store.js';

export interface ReleaseSummary {
  cells: number;
  storedCells: number;
  contributors: number;
  primary: number;
  complementary: number;
  auditPrograms: number;
  auditedCells: number;
  /** Hidden sensitive cells the LP audit did not reach within its budget (their certificates verified). */
  auditSkipped: number;
  protectMs: number;
  auditMs: number;
}

/** Largest component of hidden cells the audit solves whole; larger ones are audited per certificate. */
const AUDIT_COMPONENT_CELLS_MAX = 4_000;
/**
 * Time the LP audit of a release may take. Every certificate is verified exactly first (the proof);
 * the LP audit, an independent second check, reaches every hidden sensitive cell of a city of a few
 * hundred co-ops well within this (the demo city: about a minute), and on a larger city a spread
 * sample of them (the rest counted in the release's summary as auditSkipped). A cell it reaches and
 * cannot prove refuses the release. `npm run bench:reporting` audits every cell without a budget.
 */
const AUDIT_LP_BUDGET_MS = 5 * 60_000;

export interface ComputeReleaseInput {
  dims: Omit<ReleaseDimensions, 'measurePeriods'>;
  /** Iterated twice (an array, or FrozenRowsReceived's rows). */
  rows: Iterable<FrozenRow>;
  policy: DisclosurePolicy;
  /** Progress lines on stderr, each headed by this (the city), for a computation over a few seconds. */
  progressLabel?: string;
  /** The city's latest release: its cells are locked as they were published. */
  previous: { dimensions: ReleaseDimensions; cells: Uint8Array; protection: Uint8Array } | null;
}

export type ComputeReleaseOutput =
  | {
      ok: true;
      summary: ReleaseSummary;
      cells: Uint8Array;
      protection: Uint8Array;
      measurePeriods: string[];
    }
  | { ok: false; message: string };

/**
 * A progress reporter for a long protection or audit: `report(phase, done, total)` may be called
 * as often as wanted; a line (`protect: 12,288 / 1,086,615 sensitive cells (1%), 0:42`) is written
 * at most every `everyMs`, at each new phase and when a phase completes, and nothing in the first
 * `everyMs` (a short computation, as in the tests, writes nothing).
 */
export function progressLines(
  write: (line: string) => void,
  what: Record<string, string>,
  everyMs = 5_000,
): (phase: string, done: number, total: number) => void {
  const started = Date.now();
  let last = 0;
  let lastPhase = '';
  return (phase, done, total) => {
    const now = Date.now();
    if (now - started < everyMs) return;
    const complete = done >= total;
    if (phase === lastPhase && now - last < everyMs && !complete) return;
    if (phase === lastPhase && complete && last === -1) return;
    const seconds = Math.floor((now - started) / 1000);
    const clock = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
    const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
    write(
      `${phase}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} ${what[phase] ?? 'done'} (${percent}%), ${clock}`,
    );
    lastPhase = phase;
    // A completed phase is written once.
    last = complete ? -1 : now;
  };
}

/** What each phase of a release counts, for progressLines. */
export const RELEASE_PROGRESS_UNITS: Record<string, string> = {
  protect: 'sensitive cells protected',
  'audit neighbourhoods': 'hidden sensitive cells audited on their neighbourhood',
  'audit components': 'cells left audited on their component',
};

/** The worker's input but its rows, which it is sent before in chunks (FrozenChunk). */
export type ReleaseWorkerInput = Omit<ComputeReleaseInput, 'rows'> & {
  /** Rows the chunks sent before held (a check that all of them arrived). */
  frozenRows: number;
};

/** Text fields of a frozen row, in a FrozenChunk's codes. */
const FROZEN_TEXT_FIELDS = [
  'bookId',
  'measure',
  'month',
  'neighbourhood',
  'sector',
  'kind',
  'group',
] as const;

/**
 * A chunk of frozen rows as it crosses to the worker: compact, so that neither process holds a
 * million row objects (the service's heap is 128 MB): each text field is an index into a table of
 * strings both sides keep (a city has a few thousand distinct ones: co-ops, groups, months,
 * measures, classifications), each value a float64.
 */
export interface FrozenChunk {
  /** Strings first seen in this chunk: appended to the table in this order. */
  strings: string[];
  /** Per row, an index per FROZEN_TEXT_FIELDS field. */
  codes: Uint32Array;
  values: Float64Array;
}

/** The service's side: encodes chunks of rows, keeping the table of strings sent so far. */
export class FrozenChunkEncoder {
  private readonly index = new Map<string, number>();

  encode(rows: readonly FrozenRow[]): FrozenChunk {
    const strings: string[] = [];
    const width = FROZEN_TEXT_FIELDS.length;
    const codes = new Uint32Array(rows.length * width);
    const values = new Float64Array(rows.length);
    rows.forEach((row, i) => {
      FROZEN_TEXT_FIELDS.forEach((field, f) => {
        const text = row[field];
        let code = this.index.get(text);
        if (code === undefined) {
          code = this.index.size;
          this.index.set(text, code);
          strings.push(text);
        }
        codes[i * width + f] = code;
      });
      values[i] = row.value;
    });
    return { strings, codes, values };
  }
}

/** The worker's side: the chunks received, read back as rows (made one at a time, on iteration). */
export class FrozenRowsReceived {
  private readonly strings: string[] = [];
  private readonly chunks: { codes: Uint32Array; values: Float64Array }[] = [];
  count = 0;

  add(chunk: FrozenChunk): void {
    for (const s of chunk.strings) this.strings.push(s);
    const width = FROZEN_TEXT_FIELDS.length;
    if (chunk.codes.length !== chunk.values.length * width) throw new Error('a frozen chunk is malformed');
    for (const code of chunk.codes)
      if (code >= this.strings.length) throw new Error('a frozen chunk refers to a string not sent');
    this.chunks.push({ codes: chunk.codes, values: chunk.values });
    this.count += chunk.values.length;
  }

  /** Every row received, in the order sent; iterable again. */
  rows(): Iterable<FrozenRow> {
    const { strings, chunks } = this;
    const width = FROZEN_TEXT_FIELDS.length;
    return {
      *[Symbol.iterator]() {
        for (const { codes, values } of chunks) {
          for (let i = 0; i < values.length; i++) {
            const at = i * width;
            yield {
              bookId: strings[codes[at]!]!,
              measure: strings[codes[at + 1]!]!,
              month: strings[codes[at + 2]!]!,
              neighbourhood: strings[codes[at + 3]!]!,
              sector: strings[codes[at + 4]!]!,
              kind: strings[codes[at + 5]!]!,
              group: strings[codes[at + 6]!]!,
              value: values[i]!,
            };
          }
        }
      },
    };
  }
}

/** Bytes that crossed a worker's boundary (a Uint8Array) as the Buffer they were. */
export const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export async function computeRelease(input: ComputeReleaseInput): Promise<ComputeReleaseOutput> {
  const { dims, rows, policy } = input;
  const previous = input.previous && {
    ...input.previous,
    cells: asBuffer(input.previous.cells),
    protection: asBuffer(input.previous.protection),
  };
  const prevDims = previous ? previous.dimensions : null;
  const { shape, periods } = buildReleaseShape(dims);
  const cube = releaseCube(shape, periods, rows, policy);
  const prior = new Map<number, PriorCell>();
  if (previous && prevDims) {
    const old = buildReleaseShape(prevDims).shape;
    const mapCell = (cell: number) => shape.cellOf(old.codes(cell));
    const asked = new Map<number, { up: number; down: number }>();
    for (const p of decodeProtection(previous.protection)) asked.set(p.cell, p);
    const stored = new Map<number, ReturnType<typeof decodeCells> extends Generator<infer C> ? C : never>();
    for (const c of decodeCells(previous.cells)) stored.set(c.cell, c);
    for (let cell = 0; cell < old.cellCount; cell++) {
      const c = stored.get(cell);
      const a = asked.get(cell);
      prior.set(mapCell(cell), {
        suppressed: c?.reason != null,
        reason: c?.reason ?? null,
        protectUp: a?.up ?? 0,
        protectDown: a?.down ?? 0,
      });
    }
  }
  const started = Date.now();
  // Net flows (share capital net of redemptions) may be negative: no lower bound for them.
  const measureLower = releaseLowerBounds(shape, cube.values);
  const label = input.progressLabel;
  const progress =
    label === undefined
      ? undefined
      : progressLines((line) => process.stderr.write(`${label}: ${line}\n`), RELEASE_PROGRESS_UNITS);
  const protection = protectRelease(cube, prior, {
    lower: measureLower,
    ...(progress ? { onProgress: (done: number, total: number) => progress('protect', done, total) } : {}),
  });
  const protectMs = Date.now() - started;
  const { problem, result } = protection;
  // The bounds protection took: protectRelease raises a non-negative measure's cell with a
  // contributor to 1 (a hidden cell is never empty) and to what the relations imply from that
  // (disclosure-bounds.ts); the targets, the certificates and the LP audit take them.
  const lower = problem.lower!;
  const targets = problem.sensitive.map((cell, i) => ({
    cell,
    wantUp: problem.protectUp[i]!,
    wantDown: Math.min(problem.protectDown[i]!, problem.values[cell]! - lower[cell]!),
  }));
  // The certificates checked exactly (every pattern keeps every relation that holds and moves only
  // hidden cells; every sensitive cell reaches its interval), then the LP audit independently.
  const unverified = verifyProtection(problem, result.suppressed, protection.certificates).filter(
    (v) => !v.ok,
  );
  const auditStart = Date.now();
  let audit: Awaited<ReturnType<typeof auditProtection>>;
  try {
    audit = await auditProtection(
      { shape, values: cube.values, lower, suppressed: result.suppressed },
      targets,
      protection.certificates,
      AUDIT_COMPONENT_CELLS_MAX,
      // Hidden sensitive cells are audited by LP: first on their certificate's neighbourhood (a
      // proof when it passes, a few dozen columns), then, where that does not prove it, on the
      // exact program of their component; within AUDIT_LP_BUDGET_MS.
      {
        neighbourhoodFirst: true,
        deadline: Date.now() + AUDIT_LP_BUDGET_MS,
        ...(progress ? { onProgress: (phase, done, total) => progress(`audit ${phase}`, done, total) } : {}),
      },
    );
  } catch (error) {
    // The solver itself failed (not a cell it could not prove): the release is refused with the
    // reason, never an internal error.
    return { ok: false, message: `the LP audit could not run: ${(error as Error).message}` };
  }
  const auditMs = Date.now() - auditStart;
  if (result.unprotected.length > 0 || unverified.length > 0 || audit.failures.length > 0) {
    const failed = new Set([
      ...result.unprotected,
      ...unverified.map((v) => v.cell),
      ...audit.failures.map((f) => f.cell),
    ]);
    const where = [...failed].slice(0, 3).map((c) => shape.codes(c).join(' / '));
    const solver =
      audit.solverFailures > 0
        ? `; the LP solver ended ${audit.solverFailures} programs without an answer, their cells unproven`
        : '';
    return {
      ok: false,
      message: `the audit found ${failed.size} cells it cannot protect (${where.join('; ')})${solver}`,
    };
  }
  const summary: ReleaseSummary = {
    cells: shape.cellCount,
    storedCells: 0,
    contributors: distinctBooks(rows),
    primary: cube.verdicts.size,
    complementary: protection.reasons.filter((r) => r === 'COMPLEMENTARY').length,
    auditPrograms: audit.programs,
    auditedCells: audit.findings.length,
    auditSkipped: audit.skipped,
    protectMs,
    auditMs,
  };
  const cells = encodeCells(cube, protection.reasons);
  summary.storedCells = cells.length / 13;
  return {
    ok: true,
    summary,
    cells,
    protection: encodeProtection(problem.sensitive, problem.protectUp, problem.protectDown),
    measurePeriods: [...shape.dims[3]!.codes],
  };
}

function distinctBooks(rows: Iterable<FrozenRow>): number {
  const books = new Set<string>();
  for (const r of rows) books.add(r.bookId);
  return books.size;
}
