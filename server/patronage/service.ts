/**
 * Patronage (issue 13): the use cases, one object for the API, scripts and the CLI. The work is
 * done by the capability modules beside this file, each a set of functions over the same deps:
 *   policy.ts     the versioned policy (and the accounts it needs), members' consents
 *   recording.ts  patronage records through the API and CSV imports, all or nothing
 *   compute.ts    a run's inputs (read) and figures (pure arithmetic of server/core/patronage.ts)
 *   runs.ts       preview, commit and reverse runs
 *   reading.ts    stored runs and allocations, verification from the stored inputs
 *   payouts.ts    cash payouts, revolving redemption, a departing member's retained allocations
 *   documents.ts  notices of allocation (HTML, PDF) and 1099-PATR data (CSV)
 *   store.ts      the domain's SQL
 * Every write takes the acting principal (`actor`, last) and checks it first: a caller who may
 * not write the co-op gets the answer of an unknown co-op or run. Reads check no caller (the
 * schema decides who sees what: the co-op's treasurers, and a member their own allocations).
 */
import type { CoopService } from '../coops/index.js';
import type { Decimal, LedgerError, Principal, Unit } from '../core/index.js';
import { entryIdByKey, type LedgerService } from '../ledger/index.js';
import { isUuid } from '../platform/ids.js';
import type { DbPool, TxClient } from '../platform/transaction.js';
import type { PatronageDeps } from './deps.js';
import * as documents from './documents.js';
import * as payouts from './payouts.js';
import * as policy from './policy.js';
import { PreviewCache } from './preview-cache.js';
import * as reading from './reading.js';
import * as recording from './recording.js';
import type {
  AllocationLine,
  CommitRunInput,
  ConsentRecord,
  ImportPatronageInput,
  NoticeDocument,
  PayCashInput,
  PayoutRecord,
  PayoutResult,
  PolicyRecord,
  RecordBatchResult,
  RecordPatronageInput,
  RedeemInput,
  ReverseRunInput,
  RunFigures,
  RunRecord,
  RunRequest,
  RunResult,
  RunVerification,
  SetConsentInput,
  SetPolicyInput,
  StoredPatronageRecord,
  TaxFormRow,
} from './records.js';
import * as runs from './runs.js';
import { countRecords, memberAllocations, type PageQuery, type RecordFilter, recordPage } from './store.js';

type Key = { bookId: string; id: string };

export class PatronageService {
  private readonly deps: PatronageDeps;
  /** The last previews computed, for the later pages of a preview read page by page. */
  private readonly previews = new PreviewCache();

  constructor(pool: DbPool, ledger: LedgerService, coops: CoopService, clock: () => Date = () => new Date()) {
    this.deps = { pool, ledger, coops, clock };
  }

  // ---------- policy and consent ----------

  setPolicy(
    input: SetPolicyInput,
    actor: Principal,
  ): Promise<(PolicyRecord & { replayed: boolean }) | LedgerError> {
    return policy.setPolicy(this.deps, input, actor);
  }

  getPolicy(bookId: string, version: number | null = null): Promise<PolicyRecord | null> {
    return policy.getPolicy(this.deps, bookId, version);
  }

  policyHistory(bookId: string): Promise<PolicyRecord[]> {
    return policy.policyHistory(this.deps, bookId);
  }

  setConsent(input: SetConsentInput, actor: Principal): Promise<ConsentRecord | LedgerError> {
    return policy.setConsent(this.deps, input, actor);
  }

  consents(bookId: string, membershipIds: string[] | null): Promise<ConsentRecord[]> {
    return policy.getConsents(this.deps, bookId, membershipIds);
  }

  /** The co-op's currency (what every amount of its patronage is in); null for an unknown co-op. */
  async currency(bookId: string): Promise<Unit | null> {
    return (await policy.coopOf(this.deps, bookId))?.baseCurrency ?? null;
  }

  // ---------- records ----------

  recordPatronage(input: RecordPatronageInput, actor: Principal): Promise<RecordBatchResult | LedgerError> {
    return recording.recordPatronage(this.deps, input, actor);
  }

  importCsv(input: ImportPatronageInput, actor: Principal): Promise<RecordBatchResult | LedgerError> {
    return recording.importPatronageCsv(this.deps, input, actor);
  }

  /** A page of a co-op's records (with the filter), in recording order, either way between record ids. */
  recordPage(bookId: string, filter: RecordFilter, q: PageQuery<string>): Promise<StoredPatronageRecord[]> {
    if (!isUuid(bookId) || (filter.membershipId !== null && !isUuid(filter.membershipId)))
      return Promise.resolve([]);
    if ((q.after !== null && !isUuid(q.after)) || (q.before !== null && !isUuid(q.before)))
      return Promise.resolve([]);
    return recordPage(this.deps.pool, bookId, filter, q);
  }

  /** How many records the co-op has with the filter. */
  async recordCount(bookId: string, filter: RecordFilter): Promise<number> {
    if (!isUuid(bookId) || (filter.membershipId !== null && !isUuid(filter.membershipId))) return 0;
    return countRecords(this.deps.pool, bookId, filter);
  }

  // ---------- runs ----------

  /**
   * A preview, computed now; `continuation` (a page after the first) may answer the preview this
   * process computed for the same request's first page, within a minute (preview-cache.ts).
   */
  preview(input: RunRequest, actor: Principal, continuation = false): Promise<RunFigures | LedgerError> {
    return runs.previewRun(this.deps, input, actor, { cache: this.previews, continuation });
  }

  commit(input: CommitRunInput, actor: Principal): Promise<RunResult | LedgerError> {
    return runs.commitRun(this.deps, input, actor);
  }

  reverse(input: ReverseRunInput, actor: Principal): Promise<RunResult | LedgerError> {
    return runs.reverseRun(this.deps, input, actor);
  }

  verify(bookId: string, runId: string): Promise<RunVerification | null> {
    return reading.verifyRun(this.deps, bookId, runId);
  }

  /** Ids of a run's entries in posting order (found by their keys: `<run key>:<index>`). */
  async runEntryIds(bookId: string, runId: string): Promise<string[]> {
    const [run] = await this.getRuns([{ bookId, id: runId }]);
    if (!run) return [];
    const ids: string[] = [];
    for (let i = 0; i < run.entryCount; i++) {
      const id = await entryIdByKey(this.deps.pool, bookId, `${run.idempotencyKey}:${i}`);
      if (id) ids.push(id);
    }
    return ids;
  }

  getRuns(keys: Key[]): Promise<RunRecord[]> {
    return reading.getRuns(this.deps, keys);
  }

  /** A page of a co-op's runs, newest first, either way between run ids. */
  runPage(bookId: string, q: PageQuery<string>): Promise<RunRecord[]> {
    return reading.runPageOf(this.deps, bookId, q);
  }

  runCount(bookId: string): Promise<number> {
    return reading.runCountOf(this.deps, bookId);
  }

  /** A page of a run's allocations by member number, either way between member numbers. */
  allocationPage(
    bookId: string,
    runId: string,
    q: PageQuery<number>,
  ): Promise<(AllocationLine & { runId: string; fiscalYear: number })[]> {
    return reading.allocationsOf(this.deps, bookId, runId, q);
  }

  /** Allocations of these memberships in every run, newest fiscal year first. */
  async memberAllocations(
    keys: { bookId: string; membershipId: string }[],
  ): Promise<(AllocationLine & { runId: string; fiscalYear: number })[]> {
    const valid = keys.filter((k) => isUuid(k.bookId) && isUuid(k.membershipId));
    return (await memberAllocations(this.deps.pool, valid)).map((a) => ({
      ...reading.allocationLine(a),
      runId: a.runId,
      fiscalYear: a.fiscalYear,
    }));
  }

  // ---------- paying out ----------

  payCash(input: PayCashInput, actor: Principal): Promise<PayoutResult | LedgerError> {
    return payouts.payCash(this.deps, input, actor);
  }

  redeem(input: RedeemInput, actor: Principal): Promise<PayoutResult | LedgerError> {
    return payouts.redeemRetained(this.deps, input, actor);
  }

  getPayout(bookId: string, id: string): Promise<PayoutRecord | null> {
    return payouts.getPayout(this.deps, bookId, id);
  }

  /** For the co-ops' leaving flow (wired in server/services.ts): what stays on the member's internal capital. */
  onLeaving(client: TxClient, event: payouts.LeavingEvent): Promise<Decimal> {
    return payouts.onLeaving(client, event);
  }

  // ---------- documents ----------

  notice(bookId: string, runId: string, membershipId: string): Promise<NoticeDocument | null> {
    return documents.notice(this.deps, bookId, runId, membershipId);
  }

  taxForms(bookId: string, year: number): Promise<{ rows: TaxFormRow[]; csv: string } | LedgerError> {
    return documents.taxForms(this.deps, bookId, year);
  }
}
