/**
 * Helpers of the patronage integration tests, all through the API and the SDK: a co-op with
 * members ACTIVE from given dates, a policy, revenue and expenses posted to its book, records.
 */
import { expect } from 'vitest';
import type { LedgerClient, SetPatronagePolicyInput } from '../../client-sdk/index.js';
import { type CoopFixture, changeState, createClass, join, setupCoop } from '../helpers/coop.js';
import { newKey } from '../helpers/ledger.js';

export interface Member {
  id: string;
  number: number;
  name: string;
  internalCapitalId: string;
  internalCapitalCode: string;
}

/** A co-op (USD) with a member class of no buy-in, so joining posts nothing. */
export async function patronageCoop(
  url: string,
  admin: LedgerClient,
  overrides: Parameters<typeof setupCoop>[2] = {},
): Promise<{ coop: CoopFixture; classId: string }> {
  const coop = await setupCoop(url, admin, overrides);
  const classId = await createClass(coop, {
    code: 'WORKER',
    name: 'Worker-owner',
    buyIn: '0.00',
    voting: true,
  });
  return { coop, classId };
}

/** A member who joins and is ACTIVE on `activeOn`, and leaves on `leftOn` when given. */
export async function activeMember(
  coop: CoopFixture,
  classId: string,
  name: string,
  activeOn: string,
  leftOn?: string,
): Promise<Member> {
  const joined = await join(coop, { classId, appliedOn: activeOn, name });
  await changeState(coop, joined.membership.id, 'ACTIVE', activeOn);
  if (leftOn) await changeState(coop, joined.membership.id, 'WITHDRAWN', leftOn);
  const internal = joined.membership.accounts.internalCapital!;
  return {
    id: joined.membership.id,
    number: joined.membership.memberNumber,
    name,
    internalCapitalId: internal.id,
    internalCapitalCode: internal.code,
  };
}

export async function setPolicy(
  coop: CoopFixture,
  input: Omit<SetPatronagePolicyInput, 'coopId'>,
): Promise<number> {
  const payload = await coop.treasurer.setPatronagePolicy({ coopId: coop.id, ...input });
  expect(payload.userErrors).toEqual([]);
  return payload.policy!.version;
}

/** Posts revenue (Cr 4000 / Dr 1010) and expenses (Dr 5000 / Cr 1010) on a date. */
export async function postResult(
  coop: CoopFixture,
  on: string,
  revenue: string,
  expenses: string,
): Promise<void> {
  for (const [account, amount, side] of [
    ['4000', revenue, 'CREDIT'],
    ['5000', expenses, 'DEBIT'],
  ] as const) {
    const payload = await coop.treasurer.postJournalEntry({
      bookId: coop.bookId,
      idempotencyKey: newKey('result'),
      effectiveAt: `${on}T00:00:00.000Z`,
      lines: [
        { accountId: coop.chart[account]!, side, amount, unit: 'USD' },
        { accountId: coop.chart['1010']!, side: side === 'CREDIT' ? 'DEBIT' : 'CREDIT', amount, unit: 'USD' },
      ],
    });
    expect(payload.userErrors).toEqual([]);
  }
}

export async function record(
  coop: CoopFixture,
  records: { member: Member; measure: string; from: string; to: string; quantity: string }[],
): Promise<void> {
  const payload = await coop.treasurer.recordPatronage({
    coopId: coop.id,
    idempotencyKey: newKey('records'),
    records: records.map((r) => ({
      membershipId: r.member.id,
      measure: r.measure,
      periodStart: r.from,
      periodEnd: r.to,
      quantity: r.quantity,
    })),
  });
  expect(payload.userErrors).toEqual([]);
  expect(payload.recorded).toBe(records.length);
}

/** Every allocation of a run, by member number, as [number, allocation, cash, retained]. */
export async function allocationsOf(
  client: LedgerClient,
  runId: string,
): Promise<[number, string, string, string][]> {
  const run = await client.patronageRun({ id: runId, first: 100 });
  expect(run).not.toBeNull();
  return run!.allocations.edges.map((e) => [
    e.node.memberNumber,
    e.node.allocation,
    e.node.cash,
    e.node.retained,
  ]);
}

/** The lines of the run's entries, as [code, side, amount] per entry (codes from the chart + members). */
export async function runEntryLines(
  client: LedgerClient,
  runId: string,
): Promise<[string, string, string][][]> {
  const run = await client.patronageRun({ id: runId, first: 1 });
  const entries = await Promise.all(run!.entries.map((e) => client.journalEntry({ id: e.id })));
  return entries.map((e) =>
    e!.lines.map((l) => [l.account.code, l.side, l.amount] as [string, string, string]),
  );
}

/** Months of 2025 as inclusive periods. */
export function month(year: number, m: number): { from: string; to: string } {
  const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
  const mm = String(m).padStart(2, '0');
  return { from: `${year}-${mm}-01`, to: `${year}-${mm}-${String(last).padStart(2, '0')}` };
}
