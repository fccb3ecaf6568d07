/**
 * Helpers for the co-op integration tests (issue 5), all through the API and the SDK:
 * - a co-op with its treasurer (a TREASURER token on the co-op's book), member classes, people
 *   joining, MEMBER tokens on a member's own account;
 * - calendar dates relative to today (entries may not be in the future);
 * - `ExpectedBook`: what the co-op's book must hold, computed by hand in the test (every entry's
 *   lines added as they are expected), checked against the API's trial balance and chain
 *   verification after every step. Amounts are decimal.js, never JS numbers.
 */
import { Decimal } from 'decimal.js';
import { expect } from 'vitest';
import type {
  CreateCoopInput,
  CreateMemberClassInput,
  LedgerClient,
  MembershipFieldsFragment,
  RegisterPartyInput,
} from '../../client-sdk/index.js';
import { decodeGlobalId, ledgerClient, newKey, rawGraphQL, uniqueSuffix } from './ledger.js';
import { issueToken } from './tokens.js';

// ---------- dates ----------

/** Today, UTC, `YYYY-MM-DD` (the server's "today"). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export function daysAgo(days: number): string {
  return addDays(today(), -days);
}

/** `months` calendar months after `date`, clamped to the month's last day (Jan 31 + 1 = Feb 28/29). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = total % 12; // 0-based
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month, Math.min(d, last))).toISOString().slice(0, 10);
}

// ---------- co-ops, classes, members ----------

export interface CoopFixture {
  /** The Coop's global id. */
  id: string;
  /** The Book's global id (trialBalance, verifyBookChain, postJournalEntry). */
  bookId: string;
  /** The raw uuid of the co-op's book. */
  bookUuid: string;
  name: string;
  treasurer: LedgerClient;
  treasurerToken: string;
  /** The principal id the treasurer's actions are recorded under (MembershipEvent.recordedBy). */
  treasurerPrincipalId: string;
  /** Account ids of the default chart by code ('1000', '1010', ...). */
  chart: Record<string, string>;
}

export function coopInput(overrides: Partial<CreateCoopInput> = {}): CreateCoopInput {
  return {
    name: `Test co-op ${uniqueSuffix()}`,
    kind: 'WORKER',
    naicsCode: '311811',
    city: 'Springfield',
    neighbourhood: 'Old Mill',
    foundedOn: '2010-01-01',
    legalForm: 'worker cooperative corporation',
    baseCurrency: { code: 'USD', scale: 2 },
    ...overrides,
  };
}

/** An admin creates a co-op; a TREASURER token on its book is issued. */
export async function setupCoop(
  url: string,
  admin: LedgerClient,
  overrides: Partial<CreateCoopInput> = {},
): Promise<CoopFixture> {
  const payload = await admin.createCoop(coopInput(overrides));
  expect(payload.userErrors).toEqual([]);
  const coop = payload.coop!;
  const bookUuid = decodeGlobalId(coop.id).bookId;
  const issued = await issueToken(admin, { grants: [{ role: 'TREASURER', scope: bookUuid }] });
  const treasurer = ledgerClient(url, { token: issued.token });
  const viewer = await treasurer.viewer();
  return {
    id: coop.id,
    bookId: coop.book.id,
    bookUuid,
    name: coop.name,
    treasurer,
    treasurerToken: issued.token,
    treasurerPrincipalId: viewer!.principalId,
    chart: Object.fromEntries(coop.chartOfAccounts.map((a) => [a.account.code, a.account.id])),
  };
}

export async function createClass(
  fixture: CoopFixture,
  input: Omit<CreateMemberClassInput, 'coopId'>,
): Promise<string> {
  const payload = await fixture.treasurer.createMemberClass({ coopId: fixture.id, ...input });
  expect(payload.userErrors).toEqual([]);
  return payload.memberClass!.id;
}

export async function registerParty(
  fixture: CoopFixture,
  input: Omit<RegisterPartyInput, 'coopId'>,
): Promise<string> {
  const payload = await fixture.treasurer.registerParty({ coopId: fixture.id, ...input });
  expect(payload.userErrors).toEqual([]);
  return payload.party!.id;
}

export interface Joined {
  partyId: string;
  membership: MembershipFieldsFragment;
  entryId: string | null;
  key: string;
}

/** Registers a party (unless `partyId` is given) and joins it to a class on `appliedOn`. */
export async function join(
  fixture: CoopFixture,
  input: { classId: string; appliedOn: string; name?: string; email?: string; partyId?: string },
): Promise<Joined> {
  const partyId =
    input.partyId ??
    (await registerParty(fixture, {
      name: input.name ?? `Member ${uniqueSuffix()}`,
      ...(input.email ? { email: input.email } : {}),
    }));
  const key = newKey('join');
  const payload = await fixture.treasurer.joinCoop({
    coopId: fixture.id,
    partyId,
    memberClassId: input.classId,
    appliedOn: input.appliedOn,
    idempotencyKey: key,
  });
  expect(payload.userErrors).toEqual([]);
  expect(payload.replayed).toBe(false);
  return { partyId, membership: payload.membership!, entryId: payload.entry?.id ?? null, key };
}

/** Moves a membership to a state; fails the test on userErrors. */
export async function changeState(
  fixture: CoopFixture,
  membershipId: string,
  toState: 'CANDIDATE' | 'ACTIVE' | 'WITHDRAWN' | 'TERMINATED',
  effectiveOn: string,
  method?: 'CASH' | 'BANK',
) {
  const payload = await fixture.treasurer.changeMembershipState({
    membershipId,
    toState,
    effectiveOn,
    idempotencyKey: newKey('state'),
    ...(method ? { method } : {}),
  });
  expect(payload.userErrors).toEqual([]);
  return payload;
}

/** A buy-in payment; fails the test on userErrors. */
export async function pay(
  fixture: CoopFixture,
  membershipId: string,
  amount: string,
  paidOn: string,
  method: 'CASH' | 'BANK' = 'BANK',
) {
  const payload = await fixture.treasurer.payInstalment({
    membershipId,
    amount,
    paidOn,
    method,
    idempotencyKey: newKey('pay'),
  });
  expect(payload.userErrors).toEqual([]);
  return payload;
}

/** Revenue of `amount` USD received in the bank on the 10th of `month` (YYYY-MM); fails the test on userErrors. */
export async function postRevenue(fixture: CoopFixture, month: string, amount: string) {
  const payload = await fixture.treasurer.postJournalEntry({
    bookId: fixture.bookId,
    idempotencyKey: newKey('rev'),
    effectiveAt: `${month}-10T12:00:00.000Z`,
    lines: [
      { accountId: fixture.chart['4000']!, side: 'CREDIT', amount, unit: 'USD' },
      { accountId: fixture.chart['1010']!, side: 'DEBIT', amount, unit: 'USD' },
    ],
  });
  expect(payload.userErrors).toEqual([]);
  return payload;
}

/** A token acting for the member: a MEMBER grant on one of their own accounts. */
export async function memberToken(admin: LedgerClient, accountId: string): Promise<string> {
  return (await issueToken(admin, { grants: [{ role: 'MEMBER', scope: accountId }] })).token;
}

// ---------- the book, computed by hand ----------

export type LineTuple = [code: string, side: 'DEBIT' | 'CREDIT', amount: string];

/** An entry's lines as [account code, side, amount], in line order. */
export function linesOf(entry: {
  lines: { side: 'DEBIT' | 'CREDIT'; amount: string; account: { code: string } }[];
}): LineTuple[] {
  return entry.lines.map((l) => [l.account.code, l.side, l.amount]);
}

/**
 * What the co-op's book must hold: each expected entry is added with `post`, and `check` compares
 * the API's trial balance (every account's debits and credits), its totals per unit and the chain
 * verification with it.
 */
export class ExpectedBook {
  private readonly totals = new Map<string, { debits: Decimal; credits: Decimal }>();
  entries = 0;

  constructor(
    private readonly client: LedgerClient,
    private readonly bookId: string,
    private readonly scale = 2,
  ) {}

  /** Records an entry the book must now hold (its lines must balance). */
  post(lines: LineTuple[]): void {
    let net = new Decimal(0);
    for (const [code, side, amount] of lines) {
      const t = this.totals.get(code) ?? { debits: new Decimal(0), credits: new Decimal(0) };
      if (side === 'DEBIT') {
        t.debits = t.debits.plus(amount);
        net = net.plus(amount);
      } else {
        t.credits = t.credits.plus(amount);
        net = net.minus(amount);
      }
      this.totals.set(code, t);
    }
    expect(net.isZero(), `expected entry does not balance: ${JSON.stringify(lines)}`).toBe(true);
    this.entries++;
  }

  /** The expected net balance of an account (debits − credits), as a string at the book's scale. */
  net(code: string): string {
    const t = this.totals.get(code);
    return (t ? t.debits.minus(t.credits) : new Decimal(0)).toFixed(this.scale);
  }

  /**
   * Checks the book through the API: every account's totals are the expected ones, the trial
   * balance balances per unit (recomputed here too), the chain verifies and holds exactly the
   * expected number of entries. Returns a snapshot of the trial balance and chain head.
   */
  async check(label = ''): Promise<string> {
    const [trial, chain] = await Promise.all([
      this.client.trialBalance({ bookId: this.bookId }),
      this.client.verifyBookChain({ bookId: this.bookId }),
    ]);
    expect(trial, label).not.toBeNull();
    expect(chain, label).not.toBeNull();
    const zero = new Decimal(0).toFixed(this.scale);
    const seen = new Set<string>();
    let debitColumn = new Decimal(0);
    let creditColumn = new Decimal(0);
    for (const line of trial!.lines) {
      seen.add(line.account.code);
      const t = this.totals.get(line.account.code);
      expect(
        [line.account.code, line.debits, line.credits],
        `${label}: totals of account ${line.account.code}`,
      ).toEqual([
        line.account.code,
        t ? t.debits.toFixed(this.scale) : zero,
        t ? t.credits.toFixed(this.scale) : zero,
      ]);
      debitColumn = debitColumn.plus(line.debitBalance);
      creditColumn = creditColumn.plus(line.creditBalance);
    }
    for (const code of this.totals.keys()) expect(seen.has(code), `${label}: account ${code}`).toBe(true);
    expect(debitColumn.eq(creditColumn), `${label}: debit and credit columns`).toBe(true);
    expect(trial!.balanced, label).toBe(true);
    expect(trial!.units.length, label).toBeGreaterThan(0);
    for (const unit of trial!.units) {
      expect(unit.balanced, label).toBe(true);
      expect(unit.debitBalanceTotal, label).toBe(unit.creditBalanceTotal);
      expect(unit.debitBalanceTotal, label).toBe(debitColumn.toFixed(this.scale));
    }
    expect(chain!.ok, `${label}: chain ${JSON.stringify(chain!.firstMismatch)}`).toBe(true);
    expect(chain!.entriesChecked, `${label}: entries in the book`).toBe(this.entries);
    return JSON.stringify({ lines: trial!.lines, head: chain!.headHash, n: chain!.entriesChecked });
  }
}

// ---------- raw reads ----------

/**
 * A co-op's memberships (number, state, party name and external ref) through a small raw query
 * that selects only these (the SDK's coopMemberships reads whole memberships).
 */
export async function listMemberships(
  url: string,
  token: string,
  coopId: string,
): Promise<
  { id: string; memberNumber: number; state: string; party: { name: string; externalRef: string | null } }[]
> {
  const answer = await rawGraphQL(
    url,
    `query($id: ID!) { coop(id: $id) { memberships(first: 100) { edges { node {
        id memberNumber state party { name externalRef } } } } } }`,
    { id: coopId },
    { token },
  );
  expect(answer.body.errors).toBeUndefined();
  const coop = answer.body.data?.coop as {
    memberships: { edges: { node: never }[] };
  } | null;
  expect(coop).not.toBeNull();
  return coop!.memberships.edges.map((e) => e.node);
}
