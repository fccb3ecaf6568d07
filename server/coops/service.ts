/**
 * Cooperatives and their members: the use cases, one object for the API and scripts. A co-op is
 * its book (same id). The work is done by the capability modules beside this file, each a set of
 * functions over the same dependencies:
 *   register.ts        co-ops (with their book and chart), member classes, parties
 *   memberships.ts     joining, state changes, instalments, held redemptions, share transfers
 *   joining.ts         the membership steps shared with the import
 *   reading.ts         memberships, events, balances, schedules, statements, the voting roll
 *   import.ts          CSV imports of members and payments, all or nothing
 *   member-tokens.ts   a treasurer's invitations of members (MEMBER tokens)
 *   store.ts           the domain's SQL and MikroORM entities (entities.ts)
 *
 * Every write takes the acting principal (`actor`, last) and checks it before anything else.
 */

import type { MikroORM } from '@mikro-orm/postgresql';
import type { AuthService } from '../auth/index.js';
import type { Instalment, LedgerError, MembershipState, Principal } from '../core/index.js';
import { mayWriteBook } from '../core/index.js';
import type { LedgerService } from '../ledger/index.js';
import type { DbPool } from '../platform/transaction.js';
import type { CoopDeps, LeavingHook } from './deps.js';
import { type ImportInput, type ImportResult, importCsv } from './import.js';
import * as tokens from './member-tokens.js';
import * as memberships from './memberships.js';
import * as pages from './pages.js';
import * as reading from './reading.js';
import type {
  ChangeStateInput,
  CoopProfileInput,
  CoopRecord,
  CreateCoopInput,
  CreateMemberClassInput,
  IssueMemberTokenInput,
  JoinInput,
  MemberBalances,
  MemberClassRecord,
  MemberStatement,
  MembershipEventRecord,
  MembershipRecord,
  MembershipResult,
  MemberTokenRecord,
  PartyRecord,
  PaymentInput,
  RegisterPartyInput,
  RevokeMemberTokenInput,
  TransferInput,
} from './records.js';
import * as register from './register.js';
import { unknownCoop, validateParty } from './rules.js';
import { CoopStore } from './store.js';

type Key = { bookId: string; id: string };

export class CoopService {
  private readonly deps: CoopDeps;

  constructor(
    orm: MikroORM,
    pool: DbPool,
    ledger: LedgerService,
    auth: AuthService,
    clock: () => Date = () => new Date(),
  ) {
    this.deps = { pool, store: new CoopStore(orm, pool), ledger, auth, clock };
  }

  /** Lets another domain take part in leaving (patronage's departing rule); set by the composition root. */
  onLeaving(hook: LeavingHook): void {
    this.deps.leaving = hook;
  }

  // ---------- co-ops, member classes, parties ----------

  createCoop(input: CreateCoopInput, actor: Principal): Promise<CoopRecord | LedgerError> {
    return register.createCoop(this.deps, input, actor);
  }

  updateCoop(bookId: string, input: CoopProfileInput, actor: Principal): Promise<CoopRecord | LedgerError> {
    return register.updateCoop(this.deps, bookId, input, actor);
  }

  getCoops(ids: string[]): Promise<CoopRecord[]> {
    return register.getCoops(this.deps, ids);
  }

  /** With an idempotencyKey, a repeat answers the first class (`replayed`); every input problem at once. */
  createMemberClass(
    input: CreateMemberClassInput,
    actor: Principal,
  ): Promise<register.RegisterResult<MemberClassRecord>> {
    return register.createMemberClass(this.deps, input, actor);
  }

  getMemberClasses(keys: Key[]): Promise<MemberClassRecord[]> {
    return register.getMemberClasses(this.deps, keys);
  }

  listMemberClasses(bookId: string): Promise<MemberClassRecord[]> {
    return register.listMemberClasses(this.deps, bookId);
  }

  /** Checks a party's fields (also each row of a members file). */
  validateParty(input: Omit<RegisterPartyInput, 'bookId'>): LedgerError | null {
    return validateParty(input);
  }

  /** With an idempotencyKey, a repeat answers the first party (`replayed`); every input problem at once. */
  registerParty(input: RegisterPartyInput, actor: Principal): Promise<register.RegisterResult<PartyRecord>> {
    return register.registerParty(this.deps, input, actor);
  }

  getParties(keys: Key[]): Promise<PartyRecord[]> {
    return register.getParties(this.deps, keys);
  }

  // ---------- memberships: reading ----------

  getMemberships(keys: Key[]): Promise<MembershipRecord[]> {
    return reading.getMemberships(this.deps, keys);
  }

  listMemberships(
    bookId: string,
    options: {
      afterNumber: number | null;
      limit: number;
      state: MembershipState | null;
      partyId?: string | null;
    },
  ): Promise<MembershipRecord[]> {
    return reading.listMemberships(this.deps, bookId, options);
  }

  membershipIdsOfAccounts(keys: Key[]): Promise<string[]> {
    return reading.membershipIdsOfAccounts(this.deps, keys);
  }

  partyIdsOfAccounts(keys: Key[]): Promise<string[]> {
    return reading.partyIdsOfAccounts(this.deps, keys);
  }

  events(bookId: string, membershipId: string): Promise<MembershipEventRecord[]> {
    return reading.events(this.deps, bookId, membershipId);
  }

  statement(m: MembershipRecord, from: string, to: string): Promise<MemberStatement | LedgerError> {
    return reading.statement(this.deps, m, from, to);
  }

  async balances(m: MembershipRecord): Promise<MemberBalances> {
    return (await reading.balancesOf(this.deps, [m]))[0]!;
  }

  balancesOf(list: readonly MembershipRecord[]): Promise<MemberBalances[]> {
    return reading.balancesOf(this.deps, list);
  }

  schedule(m: MembershipRecord): Promise<Instalment[]> {
    return reading.schedule(this.deps, m);
  }

  scheduleOf(m: MembershipRecord, cls: MemberClassRecord, b: MemberBalances): Instalment[] {
    return reading.scheduleOf(this.deps, m, cls, b);
  }

  votingRoll(bookId: string, on: string): Promise<{ membership: MembershipRecord; party: PartyRecord }[]> {
    return reading.votingRoll(this.deps, bookId, on);
  }

  // ---------- memberships: changes and money ----------

  join(input: JoinInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    return memberships.join(this.deps, input, actor);
  }

  changeState(input: ChangeStateInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    return memberships.changeState(this.deps, input, actor);
  }

  payInstalment(input: PaymentInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    return memberships.payInstalment(this.deps, input, actor);
  }

  repayRedemption(input: PaymentInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    return memberships.repayRedemption(this.deps, input, actor);
  }

  transferShares(input: TransferInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    return memberships.transferShares(this.deps, input, actor);
  }

  /** Bulk import of members or payments from CSV, all or nothing per file (see import.ts). */
  async importCsv(input: ImportInput, actor: Principal): Promise<ImportResult | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
    return importCsv(this.deps, input, actor.id);
  }

  // ---------- member tokens ----------

  issueMemberToken(
    input: IssueMemberTokenInput,
    actor: Principal,
  ): Promise<{ token: string; memberToken: MemberTokenRecord } | LedgerError> {
    return tokens.issueMemberToken(this.deps, input, actor);
  }

  revokeMemberToken(
    input: RevokeMemberTokenInput,
    actor: Principal,
  ): Promise<MemberTokenRecord | LedgerError> {
    return tokens.revokeMemberToken(this.deps, input, actor);
  }

  memberTokens(bookId: string, actor: Principal): Promise<MemberTokenRecord[]> {
    return tokens.memberTokens(this.deps, bookId, actor);
  }

  // ---------- pages of connections (forward or backward between cursors) and list sizes ----------

  coopPage(q: pages.PageQuery<string>, onlyIds: string[] | null): Promise<CoopRecord[]> {
    return pages.coopPage(this.deps, q, onlyIds);
  }

  coopCount(onlyIds: string[] | null): Promise<number> {
    return pages.coopCount(this.deps, onlyIds);
  }

  directoryPage(
    q: pages.PageQuery<{ name: string; id: string }>,
    filter: pages.DirectoryFilter,
  ): Promise<CoopRecord[]> {
    return pages.directoryPage(this.deps, q, filter);
  }

  directoryCount(filter: pages.DirectoryFilter): Promise<number> {
    return pages.directoryCount(this.deps, filter);
  }

  membershipPage(
    bookId: string,
    q: pages.PageQuery<number>,
    state: MembershipState | null,
  ): Promise<MembershipRecord[]> {
    return pages.membershipPage(this.deps, bookId, q, state);
  }

  membershipCount(bookId: string, state: MembershipState | null): Promise<number> {
    return pages.membershipCount(this.deps, bookId, state);
  }

  partyPage(bookId: string, q: pages.PageQuery<string>): Promise<PartyRecord[]> {
    return pages.partyPage(this.deps, bookId, q);
  }

  partyCount(bookId: string): Promise<number> {
    return pages.partyCount(this.deps, bookId);
  }
}
