/**
 * Mutual credit (issue 14): the use cases, one object for the API, scripts and tests. The work is
 * done by the capability modules beside this file, each a set of functions over the same deps:
 *   networks.ts     networks (admins), obligation currencies, the versioned credit-limit policy
 *   members.ts      members, their limits, the limit log, dynamic growth by policy
 *   payments.ts     payInNetwork, payment requests (accept, hold, complete, release, decline, cancel)
 *   obligations.ts  obligations between members, one by one or by CSV
 *   clearing.ts     previewClearing, commitClearing (the solver is server/core/clearing.ts)
 *   reading.ts      a member's history, the zero-sum proof, statistics
 *   store.ts, store-clearing.ts  the domain's SQL
 * Every write takes the acting principal (`actor`, last) and checks it first: a caller who may not
 * act answers as for an unknown network, member or request. Reads check no caller (the schema
 * decides who sees what).
 */
import type { CoopService } from '../coops/index.js';
import type { LedgerError, Principal, Unit } from '../core/index.js';
import type { EntryRecord, LedgerService, pages } from '../ledger/index.js';
import { isUuid } from '../platform/ids.js';
import type { DbPool } from '../platform/transaction.js';
import * as clearing from './clearing.js';
import type { CreditDeps } from './deps.js';
import * as members from './members.js';
import * as networks from './networks.js';
import * as obligations from './obligations.js';
import * as payments from './payments.js';
import * as reading from './reading.js';
import type {
  BalanceProof,
  ClearingFigures,
  ClearingRecord,
  ClearingRequest,
  ClearingResult,
  CommitClearingInput,
  CreateNetworkInput,
  CreateRequestInput,
  CreditPolicyRecord,
  ImportObligationsInput,
  JoinNetworkInput,
  LimitChangeRecord,
  MemberRecord,
  NetworkRecord,
  NetworkStatistics,
  ObligationRecord,
  PayInput,
  PaymentRequestRecord,
  PaymentResult,
  RecordObligationsInput,
  RecordObligationsResult,
  RequestActionInput,
  RequestResult,
  SetLimitInput,
  SetPolicyInput,
} from './records.js';
import { treasuryOf } from './rules.js';
import * as store from './store.js';
import * as clearingStore from './store-clearing.js';

type Page<C> = { after: C | null; before: C | null; limit: number; backward: boolean };

export class CreditService {
  readonly deps: CreditDeps;

  constructor(pool: DbPool, ledger: LedgerService, coops: CoopService, clock: () => Date = () => new Date()) {
    this.deps = { pool, ledger, coops, clock };
  }

  // ---------- networks and policy ----------

  createNetwork(input: CreateNetworkInput, actor: Principal) {
    return networks.createNetwork(this.deps, input, actor);
  }

  addCurrency(bookId: string, currency: Unit, actor: Principal) {
    return networks.addCurrency(this.deps, bookId, currency, actor);
  }

  getNetworks(ids: string[]): Promise<NetworkRecord[]> {
    return networks.getNetworks(this.deps, ids);
  }

  setPolicy(input: SetPolicyInput, actor: Principal) {
    return networks.setPolicy(this.deps, input, actor);
  }

  async policy(bookId: string): Promise<CreditPolicyRecord | null> {
    return (await networks.currentPolicies(this.deps, [bookId])).get(bookId) ?? null;
  }

  policyHistory(bookId: string): Promise<CreditPolicyRecord[]> {
    return networks.policyHistory(this.deps, bookId);
  }

  /** Networks the principal may read: all (admins), those it stewards, those its co-ops are members of. */
  async networkPage(
    scope: { onlyIds: string[] | null; coopIds: string[] },
    q: Page<string>,
  ): Promise<NetworkRecord[]> {
    const ids = await store.networkIdsPage(this.deps.pool, scope, q);
    const found = await this.getNetworks(ids);
    return ids.map((id) => found.find((n) => n.id === id)).filter((n): n is NetworkRecord => !!n);
  }

  networkCount(scope: { onlyIds: string[] | null; coopIds: string[] }): Promise<number> {
    return store.countNetworks(this.deps.pool, scope);
  }

  mayReadNetwork(actor: Principal | null, bookId: string): Promise<boolean> {
    return payments.mayReadNetwork(this.deps, actor, bookId);
  }

  // ---------- members and limits ----------

  join(input: JoinNetworkInput, actor: Principal) {
    return members.joinNetwork(this.deps, input, actor);
  }

  setLimit(input: SetLimitInput, actor: Principal) {
    return members.setCreditLimit(this.deps, input, actor);
  }

  applyPolicy(bookId: string, actor: Principal): Promise<LimitChangeRecord[] | LedgerError> {
    return members.applyCreditPolicy(this.deps, bookId, actor);
  }

  getMembers(keys: { bookId: string; id: string }[]): Promise<MemberRecord[]> {
    return members.getMembers(this.deps, keys);
  }

  /** Memberships (in any network) of the co-ops the principal is a treasurer of. */
  async membersActedFor(actor: Principal | null): Promise<store.MemberRow[]> {
    return store.membersOfCoops(this.deps.pool, treasuryOf(actor));
  }

  async memberPage(bookId: string, q: Page<number>): Promise<MemberRecord[]> {
    if (!isUuid(bookId)) return [];
    const ids = await store.memberIdsPage(this.deps.pool, bookId, q);
    const found = await this.getMembers(ids.map((id) => ({ bookId, id })));
    return ids.map((id) => found.find((m) => m.id === id)).filter((m): m is MemberRecord => !!m);
  }

  memberCount(bookId: string): Promise<number> {
    return isUuid(bookId) ? store.countMembers(this.deps.pool, bookId) : Promise.resolve(0);
  }

  async limitChangePage(
    bookId: string,
    memberId: string | null,
    q: Page<string>,
  ): Promise<LimitChangeRecord[]> {
    if (!isUuid(bookId) || (memberId !== null && !isUuid(memberId))) return [];
    return (await store.limitChangePage(this.deps.pool, bookId, memberId, q)).map(members.toLimitChange);
  }

  limitChangeCount(bookId: string, memberId: string | null): Promise<number> {
    if (!isUuid(bookId) || (memberId !== null && !isUuid(memberId))) return Promise.resolve(0);
    return store.countLimitChanges(this.deps.pool, bookId, memberId);
  }

  // ---------- payments and requests ----------

  pay(input: PayInput, actor: Principal): Promise<PaymentResult | LedgerError> {
    return payments.payInNetwork(this.deps, input, actor);
  }

  createRequest(input: CreateRequestInput, actor: Principal) {
    return payments.createRequest(this.deps, input, actor);
  }

  actOnRequest(
    action: 'ACCEPT' | 'DECLINE' | 'CANCEL' | 'COMPLETE' | 'RELEASE',
    input: RequestActionInput,
    actor: Principal,
  ): Promise<RequestResult | LedgerError> {
    return payments.actOnRequest(this.deps, action, input, actor);
  }

  async getRequests(keys: { bookId: string; id: string }[]): Promise<PaymentRequestRecord[]> {
    const rows = await store.requestRows(
      this.deps.pool,
      keys.filter((k) => isUuid(k.bookId) && isUuid(k.id)),
    );
    return rows.map((r) => payments.toRequest(r, this.deps.clock()));
  }

  async requestPage(
    bookId: string,
    memberId: string | null,
    q: Page<string>,
  ): Promise<PaymentRequestRecord[]> {
    if (!isUuid(bookId)) return [];
    const rows = await store.requestPage(this.deps.pool, bookId, memberId, q);
    return rows.map((r) => payments.toRequest(r, this.deps.clock()));
  }

  requestCount(bookId: string, memberId: string | null): Promise<number> {
    return isUuid(bookId) ? store.countRequests(this.deps.pool, bookId, memberId) : Promise.resolve(0);
  }

  // ---------- obligations and clearing ----------

  recordObligations(
    input: RecordObligationsInput,
    actor: Principal,
  ): Promise<RecordObligationsResult | LedgerError> {
    return obligations.recordObligations(this.deps, input, actor);
  }

  importObligationsCsv(
    input: ImportObligationsInput,
    actor: Principal,
  ): Promise<RecordObligationsResult | LedgerError> {
    return obligations.importObligationsCsv(this.deps, input, actor);
  }

  async obligationPage(filter: clearingStore.ObligationFilter, q: Page<string>): Promise<ObligationRecord[]> {
    if (!isUuid(filter.bookId)) return [];
    const rows = await clearingStore.obligationPage(this.deps.pool, filter, q);
    return this.withCurrencies(filter.bookId, rows);
  }

  obligationCount(filter: clearingStore.ObligationFilter): Promise<number> {
    return isUuid(filter.bookId)
      ? clearingStore.countObligations(this.deps.pool, filter)
      : Promise.resolve(0);
  }

  async getObligations(bookId: string, ids: string[]): Promise<ObligationRecord[]> {
    if (!isUuid(bookId)) return [];
    return this.withCurrencies(
      bookId,
      await clearingStore.obligationRows(this.deps.pool, bookId, ids.filter(isUuid)),
    );
  }

  private async withCurrencies(
    bookId: string,
    rows: clearingStore.ObligationRow[],
  ): Promise<ObligationRecord[]> {
    const currencies = new Map(
      (await store.currencyRows(this.deps.pool, bookId)).map((c) => [c.code, c.scale]),
    );
    return rows.map((r) => ({
      ...r,
      currency: { code: r.currency, scale: currencies.get(r.currency) ?? 0 },
    }));
  }

  previewClearing(request: ClearingRequest, actor: Principal): Promise<ClearingFigures | LedgerError> {
    return clearing.previewClearing(this.deps, request, actor);
  }

  commitClearing(input: CommitClearingInput, actor: Principal): Promise<ClearingResult | LedgerError> {
    return clearing.commitClearing(this.deps, input, actor);
  }

  async getClearings(bookId: string, ids: string[]): Promise<ClearingRecord[]> {
    if (!isUuid(bookId)) return [];
    const rows = await clearingStore.clearingRows(this.deps.pool, bookId, ids.filter(isUuid));
    return this.clearingRecords(bookId, rows);
  }

  async clearingPage(bookId: string, q: Page<string>): Promise<ClearingRecord[]> {
    if (!isUuid(bookId)) return [];
    return this.clearingRecords(bookId, await clearingStore.clearingPage(this.deps.pool, bookId, q));
  }

  clearingCount(bookId: string): Promise<number> {
    return isUuid(bookId) ? clearingStore.countClearings(this.deps.pool, bookId) : Promise.resolve(0);
  }

  clearingLinePage(bookId: string, clearingId: string, q: Page<string>) {
    return clearingStore.clearingLinePage(this.deps.pool, bookId, clearingId, q);
  }

  clearingLineCount(bookId: string, clearingId: string) {
    return clearingStore.countClearingLines(this.deps.pool, bookId, clearingId);
  }

  private async clearingRecords(
    bookId: string,
    rows: clearingStore.ClearingRow[],
  ): Promise<ClearingRecord[]> {
    const currencies = new Map(
      (await store.currencyRows(this.deps.pool, bookId)).map((c) => [c.code, c.scale]),
    );
    return rows.map((r) =>
      clearing.toClearing(r, { code: r.currency, scale: currencies.get(r.currency) ?? 0 }),
    );
  }

  // ---------- reading ----------

  historyPage(member: store.MemberRow, q: pages.PageQuery<pages.EntryCursor>): Promise<EntryRecord[]> {
    return reading.historyPage(this.deps, member, q);
  }

  historyCount(member: store.MemberRow): Promise<number> {
    return reading.historyCount(this.deps, member);
  }

  memberRows(keys: { bookId: string; id: string }[]): Promise<store.MemberRow[]> {
    return store.memberRows(
      this.deps.pool,
      keys.filter((k) => isUuid(k.bookId) && isUuid(k.id)),
    );
  }

  accountOwners(bookId: string): Promise<Map<string, string>> {
    return reading.accountOwners(this.deps, bookId);
  }

  balanceProof(bookId: string, asOf: Date): Promise<BalanceProof | null> {
    return isUuid(bookId) ? reading.balanceProof(this.deps, bookId, asOf) : Promise.resolve(null);
  }

  statistics(bookId: string, from: string, to: string): Promise<NetworkStatistics | null> {
    return isUuid(bookId) ? reading.statistics(this.deps, bookId, from, to) : Promise.resolve(null);
  }
}
