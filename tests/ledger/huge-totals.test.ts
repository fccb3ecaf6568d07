/**
 * The largest amounts the ledger takes (18 integer digits at the unit's scale) summed past what one
 * account may hold: each account stays below 10^20 (TOTAL_LIMIT), but a parent's roll-up, a trial
 * balance's totals and the statements add several such accounts. Every read answers exactly (no
 * masked 500, no rounding).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  type CreatedAccount,
  createAccount,
  createBook,
  credit,
  debit,
  ledgerClient,
  newKey,
  rawGraphQL,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MAX = '999999999999999999.99';
let server: TestServer;
let admin: LedgerClient;
let bookId: string;
let parent: CreatedAccount;
const children: CreatedAccount[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  bookId = (await createBook(admin)).id;
  parent = await createAccount(admin, bookId, { code: '1000', type: 'ASSET' });
  for (const n of [1, 2, 3]) {
    const child = await createAccount(admin, bookId, { code: `100${n}`, type: 'ASSET', parentId: parent.id });
    const equity = await createAccount(admin, bookId, { code: `300${n}`, type: 'EQUITY' });
    children.push(child);
    const batch = await admin.postJournalEntries({
      bookId,
      mode: 'ATOMIC',
      entries: Array.from({ length: 99 }, () => ({
        idempotencyKey: newKey('max'),
        lines: [debit(child, MAX), credit(equity, MAX)],
      })),
    });
    expect(batch.userErrors).toEqual([]);
    expect(batch.results.flatMap((r) => r.userErrors)).toEqual([]);
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

// 99 x 999999999999999999.99 on each child, three children under the parent.
const CHILD = '98999999999999999999.01';
const ALL = '296999999999999999997.03';

describe('sums past 10^20 across accounts', () => {
  it('queries answer them exactly', async () => {
    const answer = await rawGraphQL(
      server.url,
      `query ($p: ID!, $c: ID!, $b: ID!) {
        parent: accountBalance(accountId: $p) { posted rollup }
        child: accountBalance(accountId: $c) { posted rollup debits }
        trialBalance(bookId: $b) { balanced units { debitBalanceTotal creditBalanceTotal } }
        folded: trialBalance(bookId: $b, rollupDepth: 1) { lines { account { code } debitBalance } }
        verifyBookChain(bookId: $b) { ok }
        auditBook(bookId: $b) { ok }
      }`,
      { p: parent.id, c: children[0]!.id, b: bookId },
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data).toMatchObject({
      parent: { posted: '0.00', rollup: ALL },
      child: { posted: CHILD, rollup: CHILD, debits: CHILD },
      trialBalance: { balanced: true, units: [{ debitBalanceTotal: ALL, creditBalanceTotal: ALL }] },
      folded: { lines: expect.arrayContaining([{ account: { code: '1000' }, debitBalance: ALL }]) },
      verifyBookChain: { ok: true },
      auditBook: { ok: true },
    });
  });
});
