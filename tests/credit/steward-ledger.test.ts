/**
 * A network's stewards read its book but change it only through the mutual-credit use cases.
 * Through the ledger's own mutations (postJournalEntry, postJournalEntries, createAccount,
 * reverseJournalEntry) and banking's (importBankStatement...) a steward could otherwise move members' balances as a payment no member
 * made, or undo one: the general API answers a steward as it answers anyone who may not write the
 * book, and nothing changes. Found by the statistics' journal recomputation (a steward-posted entry
 * tagged as a payment counted in the month's volume). Through real HTTP, the SDK and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let steward: LedgerClient;
let networkId: string;
let bookId: string;
const coops: CoopFixture[] = [];
const members: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const network = await setupNetwork(
    server.url,
    admin,
    {
      name: 'Steward circuit',
      unit: { code: 'SRD', scale: 2 },
      policy: { defaultLimit: '100.00', softLimitPercent: 80 },
    },
    2,
  );
  ({ networkId, bookId, steward } = network);
  coops.push(...network.coops);
  members.push(...network.members);
});

afterAll(async () => {
  await server?.stop();
});

/** The network book's accounts as the steward reads them: account id by code. */
async function accountIds(): Promise<Map<string, string>> {
  const page = await steward.accounts({ bookId, first: 100 });
  return new Map(page!.edges.map((e) => [e.node.code, e.node.id]));
}

/** The members' balances and account codes, as the network reports them. */
async function memberAccounts(): Promise<{ balance: string | null; accountCode: string }[]> {
  const network = await steward.creditNetwork({ id: networkId, first: 100 });
  const byId = new Map(network!.members.edges.map((e) => [e.node.id, e.node]));
  return members.map((id) => ({ balance: byId.get(id)!.balance, accountCode: byId.get(id)!.accountCode }));
}

describe("a network's steward and the general ledger API", () => {
  it('reads the network book, but cannot post, create accounts or reverse payments in it', async () => {
    const paid = await coops[1]!.treasurer.payInNetwork({
      payerId: members[1]!,
      payeeId: members[0]!,
      amount: '20.00',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors).toEqual([]);
    const before = await memberAccounts();
    expect(before.map((m) => m.balance)).toEqual(['20.00', '-20.00']);

    // Reading is allowed: the steward sees every member account of the book.
    const ids = await accountIds();
    const payeeAccount = ids.get(before[0]!.accountCode)!;
    const payerAccount = ids.get(before[1]!.accountCode)!;
    expect(payeeAccount).toBeDefined();
    expect(payerAccount).toBeDefined();

    // A "payment" the payee never made, posted directly: refused as for a book one cannot write.
    const moved = await steward.postJournalEntry({
      bookId,
      idempotencyKey: newKey('steward-post'),
      metadata: [{ key: 'credit.kind', value: 'PAYMENT' }],
      lines: [
        { accountId: payeeAccount, side: 'DEBIT', amount: '10.00', unit: 'SRD' },
        { accountId: payerAccount, side: 'CREDIT', amount: '10.00', unit: 'SRD' },
      ],
    });
    expect(moved.entry ?? null).toBeNull();
    expect(moved.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_BOOK']);

    const batch = await steward.postJournalEntries({
      bookId,
      mode: 'INDEPENDENT',
      entries: [
        {
          idempotencyKey: newKey('steward-batch'),
          lines: [
            { accountId: payeeAccount, side: 'DEBIT', amount: '1.00', unit: 'SRD' },
            { accountId: payerAccount, side: 'CREDIT', amount: '1.00', unit: 'SRD' },
          ],
        },
      ],
    });
    expect(batch.postedCount).toBe(0);
    expect([...batch.userErrors, ...batch.results.flatMap((r) => r.userErrors)].map((e) => e.code)).toEqual([
      'UNKNOWN_BOOK',
    ]);

    const opened = await steward.createAccount({
      bookId,
      code: '9999',
      name: 'Side account',
      type: 'ASSET',
      unit: 'SRD',
    });
    expect(opened.account ?? null).toBeNull();
    expect(opened.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_BOOK']);

    const reversed = await steward.reverseJournalEntry({
      entryId: paid.entryId!,
      idempotencyKey: newKey('steward-reverse'),
    });
    expect(reversed.entry ?? null).toBeNull();
    expect(reversed.userErrors).toHaveLength(1);

    // Banking's use cases (statement imports, matching, reconciliation) likewise: the refusal comes
    // before anything about the input is checked (an empty key is otherwise INVALID_IDEMPOTENCY_KEY).
    const imported = await steward.importBankStatement({
      accountId: payeeAccount,
      format: 'CSV',
      content: 'date,amount\n2026-12-01,1.00\n',
      idempotencyKey: '',
    });
    expect(imported.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_ACCOUNT']);
    const asAdmin = await admin.importBankStatement({
      accountId: payeeAccount,
      format: 'CSV',
      content: 'date,amount\n2026-12-01,1.00\n',
      idempotencyKey: '',
    });
    expect(asAdmin.userErrors.map((e) => e.code)).toEqual(['INVALID_IDEMPOTENCY_KEY']);

    // Nothing moved, nothing was added.
    expect(await memberAccounts()).toEqual(before);
    expect([...(await accountIds()).keys()].sort()).toEqual([...ids.keys()].sort());
  });
});
