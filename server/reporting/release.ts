/**
 * Making a release (issue 15): refresh the city's rollup, freeze the newly covered months' figures
 * of consenting co-ops, build the full cube (neighbourhood x sector x kind x measure-period with
 * every margin), protect it with the previous release's cells locked, check the certificates
 * exactly, audit every hidden sensitive cell with HiGHS (its certificate's neighbourhood first, the
 * exact program of its component where that does not prove it), and store the protected cells.
 * Nothing is stored when either check fails. The protection and the audit (release-compute.ts)
 * run in a worker process: the service keeps answering every other request meanwhile; and outside
 * any transaction: the inputs are read under the city's lock in a transaction rolled back (a
 * snapshot), computed from with no lock held, and the release written under the lock only when the
 * same reads then give the same inputs (see createRelease).
 *
 * Who: a CITY_ANALYST of the city, or an ADMIN (an operator running the release command). Only an
 * ADMIN may give rules weaker than the defaults (weakerPolicyProblems): the analyst is the reader
 * protection is against.
 */

import { createHash } from 'node:crypto';
import { addMonths, parseMonth } from '../core/disclosure-periods.js';
import {
  DEFAULT_DISCLOSURE_POLICY,
  type DisclosurePolicy,
  validateDisclosurePolicy,
  weakerPolicyProblems,
} from '../core/disclosure-rules.js';
import { isAdmin, LedgerError, type Principal } from '../core/index.js';
import { uuidv7 } from '../platform/ids.js';
import { type TxClient, withTransaction } from '../platform/transaction.js';
import { startWorker, type WorkerSession, workerModule } from '../platform/worker.js';
import { cityKeyOf, mayReadCity } from './access.js';
import type { ReleaseDimensions } from './cube.js';
import type { ReportingDeps } from './deps.js';
import { GENDERS, MEASURES, NETWORK_UNIT_MEASURES, RACES } from './measures.js';
import { cityPublishes, releaseSlots, withPublishLock } from './release-admission.js';
import {
  asBuffer,
  type ComputeReleaseOutput,
  type FrozenChunk,
  FrozenChunkEncoder,
  type ReleaseWorkerInput,
} from './release-compute.js';
import * as store from './store.js';

export interface CreateReleaseInput {
  city: string;
  currency: string;
  /** `YYYY-MM`; default the last complete month. */
  throughMonth: string | null;
  policy: Partial<DisclosurePolicy> | null;
}

export type { ReleaseSummary } from './release-compute.js';

export function currentMonthOf(now: Date): string {
  return `${now.toISOString().slice(0, 7)}`;
}

/** Refreshes the rollup of the city's co-ops whose sources changed. */
export async function refreshCity(deps: ReportingDeps, cityKey: string): Promise<number> {
  const current = `${currentMonthOf(deps.clock())}-01`;
  return withTransaction(deps.pool, async (tx) => {
    await store.lockCity(tx, cityKey);
    const stale = await store.staleBooks(tx, cityKey, current);
    await store.recomputeRollup(tx, stale, current, GENDERS, RACES);
    return stale.length;
  });
}

/** For tests: what runs between the steps of a release. */
export interface ReleaseHooks {
  /**
   * After a release is computed from a snapshot, before it is written (no transaction, and no lock
   * held but the city's publish lock).
   */
  afterCompute?: (attempt: number) => Promise<void>;
}

/**
 * A release: the inputs read in a snapshot (the city's lock held only while reading them), the
 * protection and audit computed with no transaction or lock held, then, under the lock, the same
 * reads again and the release stored only if they are unchanged (else computed again; after
 * RELEASE_SNAPSHOT_ATTEMPTS, computed under the lock). Only the city's publish lock, which no
 * transaction waits for, is held throughout: while it is, another publish of the city is answered
 * RELEASE_IN_PROGRESS; and the release waits for one of the process's release slots first
 * (release-admission.ts; ReleasesBusyError, thrown, when their queue is full).
 */
export async function createRelease(
  deps: ReportingDeps,
  input: CreateReleaseInput,
  actor: Principal,
  hooks: ReleaseHooks = {},
): Promise<store.ReleaseRow | LedgerError> {
  const city = input.city.trim();
  if (!mayReadCity(actor, city))
    return new LedgerError('NO_RELEASE', 'no reporting for this city is open to you', 'city');
  const cityKey = cityKeyOf(city);
  if (!/^[A-Z]{3}$/.test(input.currency))
    return new LedgerError('INVALID_INPUT', 'currency must be three capital letters', 'currency');
  const lastComplete = addMonths(currentMonthOf(deps.clock()), -1);
  const through = input.throughMonth ?? lastComplete;
  if (!parseMonth(through))
    return new LedgerError('INVALID_INPUT', 'throughMonth must be YYYY-MM', 'throughMonth');
  if (through > lastComplete)
    return new LedgerError(
      'INVALID_INPUT',
      `throughMonth must be a complete month (${lastComplete} or before)`,
      'throughMonth',
    );
  const policy: DisclosurePolicy = { ...DEFAULT_DISCLOSURE_POLICY, ...(input.policy ?? {}) };
  const problems = validateDisclosurePolicy(policy);
  if (problems.length > 0) return problems[0]!;
  // The analyst is who protection is against: only an operator (ADMIN) may weaken the rules.
  const weaker = isAdmin(actor) ? [] : weakerPolicyProblems(policy, DEFAULT_DISCLOSURE_POLICY);
  if (weaker.length > 0) return weaker[0]!;

  // Admission (release-admission.ts): one release of a city at a time, in this process and in
  // every other (the city's publish lock), and a bounded number of workers in this process.
  const inProgress = () =>
    new LedgerError(
      'RELEASE_IN_PROGRESS',
      `a release of ${city} is being computed; it will be listed in cityReportReleases when stored`,
      'city',
    );
  if (!cityPublishes.claim(cityKey)) return inProgress();
  try {
    // Months already released are answered so at once, without waiting for a worker (a replay of
    // an answered publish answers as before); the same check is made again under the city's lock.
    const latest = (await store.listReleases(deps.pool, cityKey, 1))[0];
    if (latest && through <= latest.throughMonth) return upToDate(latest);
    // Another process computes the city's release now: said at once, not after waiting for a slot.
    if (await store.publishLockHeld(deps.pool, cityKey)) return inProgress();
    const freeSlot = await releaseSlots.acquire();
    try {
      return await withPublishLock(
        deps.pool,
        cityKey,
        () =>
          publishRelease(deps, { city, cityKey, currency: input.currency, through, policy }, actor, hooks),
        inProgress,
      );
    } finally {
      freeSlot();
    }
  } finally {
    cityPublishes.release(cityKey);
  }
}

/** A release of a city admitted by createRelease (its input checked, its publish lock held). */
async function publishRelease(
  deps: ReportingDeps,
  job: { city: string; cityKey: string; currency: string; through: string; policy: DisclosurePolicy },
  actor: Principal,
  hooks: ReleaseHooks,
): Promise<store.ReleaseRow | LedgerError> {
  const { city, cityKey, through, policy } = job;
  const currentMonth = `${currentMonthOf(deps.clock())}-01`;
  /** The inputs read in `tx`; their rows posted to `worker` as they are read (none kept here). */
  const read = (tx: TxClient, worker: ReleaseWorker | null) =>
    readInputs(tx, { cityKey, through, currency: job.currency, currentMonth }, worker);
  const compute = (worker: ReleaseWorker, inputs: ReleaseInputs) =>
    worker.run({
      dims: inputs.dims,
      frozenRows: inputs.rowCount,
      policy,
      progressLabel: `city report ${city}`,
      previous: inputs.previous
        ? {
            dimensions: inputs.previous.dimensions as ReleaseDimensions,
            cells: inputs.previous.cells,
            protection: inputs.previous.protection,
          }
        : null,
    });
  const stored = (
    inputs: ReleaseInputs,
    computed: ComputeReleaseOutput & { ok: true },
  ): store.ReleaseRow => ({
    id: uuidv7(deps.clock().getTime()),
    cityKey,
    city,
    seq: inputs.seq,
    currency: job.currency,
    firstMonth: `${inputs.dims.firstYear}-01`,
    throughMonth: through,
    policy,
    dimensions: { ...inputs.dims, measurePeriods: computed.measurePeriods } satisfies ReleaseDimensions,
    cells: asBuffer(computed.cells),
    protection: asBuffer(computed.protection),
    summary: computed.summary,
    createdAt: deps.clock(),
    createdBy: actor.id,
  });
  // The rollup's refresh is kept whatever becomes of the release (as refreshCity would keep it).
  await refreshCity(deps, cityKey);
  for (let attempt = 1; attempt <= RELEASE_SNAPSHOT_ATTEMPTS; attempt++) {
    const worker = releaseWorker(deps.workerHeapMb);
    let computed: ComputeReleaseOutput;
    let snapshot: ReleaseInputs;
    try {
      // 1. The inputs as of now, read under the city's lock in a transaction rolled back (the
      //    months it froze are not kept): a snapshot, the lock held for the reads only. Its rows
      //    go to the worker process as they are read (the service's heap could not hold them).
      const read1 = await withTransaction(deps.pool, async (tx) => {
        throw new Snapshot(await read(tx, worker));
      }).catch((error: unknown) => {
        if (error instanceof Snapshot) return error.inputs;
        throw error;
      });
      if (read1 instanceof LedgerError) return read1;
      snapshot = read1;
      // 2. The protection and the audit, minutes for a large city, with no transaction or lock held.
      computed = await compute(worker, snapshot);
    } finally {
      worker.kill();
    }
    if (!computed.ok) return new LedgerError('RELEASE_NOT_PROTECTED', computed.message, null);
    await hooks.afterCompute?.(attempt);
    // 3. Under the lock again: the same reads and freeze (their digest only: no row is kept or
    //    sent); stored only when they give the inputs the release was computed from (no release
    //    in between, no figure changed), else computed again.
    const written = await withTransaction(deps.pool, async (tx) => {
      const now = await read(tx, null);
      if (now instanceof LedgerError) return now;
      if (now.digest !== snapshot.digest) throw new InputsChanged();
      const release = stored(now, computed);
      await store.insertRelease(tx, release);
      return release;
    }).catch((error: unknown) => {
      if (error instanceof InputsChanged) return null;
      throw error;
    });
    if (written !== null) return written;
  }
  // The inputs kept changing while the release was computed (a busy city): compute it under the
  // lock, in one transaction, as the last resort.
  return withTransaction(deps.pool, async (tx) => {
    const worker = releaseWorker(deps.workerHeapMb);
    let computed: ComputeReleaseOutput;
    let inputs: ReleaseInputs | LedgerError;
    try {
      inputs = await read(tx, worker);
      if (inputs instanceof LedgerError) return inputs;
      computed = await compute(worker, inputs);
    } finally {
      worker.kill();
    }
    // Rolls the transaction back: nothing of this release is kept, the frozen months included.
    if (!computed.ok) throw new ReleaseNotProtected(computed.message);
    const release = stored(inputs, computed);
    await store.insertRelease(tx, release);
    return release;
  }).catch((error: unknown) => {
    if (error instanceof ReleaseNotProtected)
      return new LedgerError('RELEASE_NOT_PROTECTED', error.message, null);
    throw error;
  });
}

/** Times a release is computed from a snapshot before it is computed under the city's lock. */
const RELEASE_SNAPSHOT_ATTEMPTS = 3;

/**
 * The worker process computing one release, started when its first rows are posted: the rows are
 * sent a chunk at a time as they are read (FrozenChunk), then the rest of its input.
 */
interface ReleaseWorker {
  post(rows: readonly store.FrozenRow[]): Promise<void>;
  run(input: ReleaseWorkerInput): Promise<ComputeReleaseOutput>;
  /** Stops the process if it runs (after its answer, or when the release failed). */
  kill(): void;
}

function releaseWorker(heapMb: number | undefined): ReleaseWorker {
  let session: WorkerSession<FrozenChunk, ReleaseWorkerInput, ComputeReleaseOutput> | null = null;
  const encoder = new FrozenChunkEncoder();
  const started = () => {
    session ??= startWorker(workerModule(import.meta.url, 'release-worker'), heapMb);
    return session;
  };
  return {
    post: (rows) => started().post(encoder.encode(rows)),
    run: (input) => started().run(input),
    kill: () => session?.kill(),
  };
}

/** What a release is computed from (its rows sent to the worker as read), and a digest of it all. */
interface ReleaseInputs {
  /** With its cells and protection when read for a worker; else only its head (listReleases). */
  previous: store.ReleaseRow | null;
  seq: number;
  rowCount: number;
  dims: Omit<ReleaseDimensions, 'measurePeriods'>;
  digest: string;
}

/**
 * Under the city's lock, in `tx`: the latest release, the rollup refreshed, the months after it
 * frozen (in `tx`: rolled back with it) and every frozen row of the release read back, a chunk at
 * a time in the store's canonical order: each chunk hashed into the digest and posted to `worker`
 * (when there is one), its classifications gathered into the dimensions; no chunk is kept, so the
 * service holds one chunk of a city's million rows at a time.
 */
async function readInputs(
  tx: TxClient,
  q: { cityKey: string; through: string; currency: string; currentMonth: string },
  worker: ReleaseWorker | null,
): Promise<ReleaseInputs | LedgerError> {
  const { cityKey, through } = q;
  await store.lockCity(tx, cityKey);
  // Its cells and protection (tens of MB at full size, outside the heap) only for a worker.
  const previous = worker
    ? await store.latestRelease(tx, cityKey)
    : ((await store.listReleases(tx, cityKey, 1))[0] ?? null);
  if (previous && through <= previous.throughMonth) return upToDate(previous);
  // A release is one table with its predecessors: money cells in another currency would add its
  // months to theirs (a year of dollars and euros) under one label.
  if (previous && previous.currency !== q.currency) {
    return new LedgerError(
      'INVALID_INPUT',
      `the city's releases are in ${previous.currency}: its next one must be too`,
      'currency',
    );
  }
  const stale = await store.staleBooks(tx, cityKey, q.currentMonth);
  await store.recomputeRollup(tx, stale, q.currentMonth, GENDERS, RACES);
  const seq = (previous?.seq ?? 0) + 1;
  const prevDims = previous ? (previous.dimensions as ReleaseDimensions) : null;
  const scale = prevDims?.scale ?? (await store.currencyScale(tx, cityKey, q.currency));
  await store.freezeMonths(tx, {
    cityKey,
    afterMonth: previous ? `${previous.throughMonth}-01` : null,
    throughMonth: `${through}-01`,
    currency: q.currency,
    moneyMeasures: MEASURES.filter((m) => m.money).map((m) => m.code),
    // Co-ops' books may keep the currency to different decimal places: their figures are frozen
    // in the release's minor unit, so that cells add like with like.
    scale,
    baseScaleMeasures: MEASURES.filter((m) => m.money && !NETWORK_UNIT_MEASURES.has(m.code)).map(
      (m) => m.code,
    ),
    backfillMeasures: previous ? measuresMissingFrom(previous.dimensions as ReleaseDimensions) : [],
    seq,
  });
  const neighbourhoods = new Set(prevDims?.neighbourhoods ?? []);
  const sectors = new Set(prevDims?.sectors ?? []);
  const kinds = new Set(prevDims?.kinds ?? []);
  let earliest = Number(through.slice(0, 4));
  // The rows in the store's canonical order, each as a line of text (the digest does not depend on
  // how they are sent); the dimensions after them.
  const hash = createHash('sha256');
  hash.update(`${previous?.id ?? ''}\n`);
  const rowCount = await store.forEachFrozenChunk(tx, cityKey, `${through}-01`, async (rows) => {
    let text = '';
    for (const r of rows) {
      text += `${r.bookId}\t${r.measure}\t${r.month}\t${r.value}\t${r.neighbourhood}\t${r.sector}\t${r.kind}\t${r.group}\n`;
      neighbourhoods.add(r.neighbourhood);
      sectors.add(r.sector);
      kinds.add(r.kind);
      earliest = Math.min(earliest, Number(r.month.slice(0, 4)));
    }
    hash.update(text);
    if (worker) await worker.post(rows);
  });
  const dims = {
    scale,
    neighbourhoods: [...neighbourhoods].sort(),
    sectors: [...sectors].sort(),
    kinds: [...kinds].sort(),
    firstYear: prevDims?.firstYear ?? earliest,
    throughMonth: through,
  };
  hash.update(`${rowCount}\n${JSON.stringify(dims)}\n`);
  return { previous, seq, rowCount, dims, digest: hash.digest('hex') };
}

function upToDate(previous: store.ReleaseRow): LedgerError {
  return new LedgerError(
    'RELEASE_UP_TO_DATE',
    `release ${previous.seq} already covers ${previous.throughMonth}`,
    'throughMonth',
  );
}

/** Carries a snapshot's inputs out of the transaction it rolls back. */
class Snapshot extends Error {
  constructor(readonly inputs: ReleaseInputs | LedgerError) {
    super('snapshot');
  }
}

/** The inputs changed between the snapshot and the write: the write is rolled back. */
class InputsChanged extends Error {}

class ReleaseNotProtected extends Error {}

/** Measures a release made before they existed lacks (frozen for its months by the next release). */
function measuresMissingFrom(dims: ReleaseDimensions): string[] {
  const had = new Set(dims.measurePeriods.map((c) => c.slice(0, c.lastIndexOf('@'))));
  return MEASURES.map((m) => m.code).filter((c) => !had.has(c));
}
