/**
 * Replayed requests from hostile or stale callers (issues 3 and 10), over real HTTP with the SDK:
 * an idempotency key is a way to read what was decided under it, so a replay must first pass the
 * same authorization as a new request, and a key once decided keeps its decision whatever comes
 * after it (a reversal, a refusal, another operation, another book).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient, PostJournalEntryInput } from '../../client-sdk/index.js';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  ledgerClient,
  newKey,
  rawGraphQL,
  waitFor,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectRefusedToken, issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;

interface Tenant {
  book: CreatedBook;
  /** ASSET, lower bound 0. */
  wallet: CreatedAccount;
  equity: CreatedAccount;
  expense: CreatedAccount;
  treasurer: LedgerClient;
  treasurerToken: string;
  treasurerPrincipalId: string;
}

async function tenant(): Promise<Tenant> {
  const book = await createBook(admin);
  const wallet = await createAccount(admin, book.id, { code: 'wallet', type: 'ASSET', lowerBound: '0.00' });
  const equity = await createAccount(admin, book.id, { code: 'equity', type: 'EQUITY' });
  const expense = await createAccount(admin, book.id, { code: 'expense', type: 'EXPENSE' });
  const issued = await issueToken(admin, {
    grants: [{ role: 'TREASURER', scope: decodeGlobalId(book.id).bookId }],
  });
  const treasurer = ledgerClient(server.url, { token: issued.token });
  const viewer = await treasurer.viewer();
  return {
    book,
    wallet,
    equity,
    expense,
    treasurer,
    treasurerToken: issued.token,
    treasurerPrincipalId: viewer!.principalId,
  };
}

let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  a = await tenant();
  b = await tenant();
  const funded = await a.treasurer.postJournalEntry({
    bookId: a.book.id,
    idempotencyKey: newKey('fund'),
    lines: [debit(a.wallet, '10.00'), credit(a.equity, '10.00')],
  });
  expect(funded.userErrors).toEqual([]);
});

afterAll(async () => {
  await server?.stop();
});

const POST = `mutation ($input: PostJournalEntryInput!) {
  postJournalEntry(input: $input) { replayed entry { id memo postedBy } userErrors { code field message } } }`;

function spend(t: Tenant, amount: string, key = newKey('spend')): PostJournalEntryInput {
  return {
    bookId: t.book.id,
    idempotencyKey: key,
    memo: 'a private memo',
    lines: [debit(t.expense, amount), credit(t.wallet, amount)],
  };
}

async function entryCount(t: Tenant): Promise<string> {
  return (await admin.book({ id: t.book.id }))!.entryCount;
}

describe("A's exact request, replayed with another caller's token", () => {
  it("another co-op's treasurer, a member of A and an analyst get UNKNOWN_BOOK or FORBIDDEN, never A's entry", async () => {
    const input = spend(a, '1.00');
    const first = await rawGraphQL(server.url, POST, { input }, { token: a.treasurerToken });
    const entry = (first.body.data as { postJournalEntry: { entry: { id: string } } }).postJournalEntry.entry;
    expect(entry).not.toBeNull();
    const member = await issueToken(admin, { grants: [{ role: 'MEMBER', scope: a.wallet.id }] });
    const analyst = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Springfield' }] });
    const steward = await issueToken(admin, {
      grants: [{ role: 'NETWORK_STEWARD', scope: decodeGlobalId(b.book.id).bookId }],
    });
    const before = await entryCount(a);
    for (const token of [b.treasurerToken, member.token, analyst.token, steward.token]) {
      const answer = await rawGraphQL(server.url, POST, { input }, { token });
      const text = JSON.stringify(answer.body);
      expect(text).not.toContain(entry.id);
      expect(text).not.toContain('a private memo');
      expect(text).not.toContain(decodeGlobalId(entry.id).id);
      const payload = (answer.body.data as { postJournalEntry?: { userErrors: { code: string }[] } } | null)
        ?.postJournalEntry;
      const codes = payload
        ? payload.userErrors.map((e) => e.code)
        : (answer.body.errors ?? []).map((e) => e.extensions?.code);
      expect(codes.length, text).toBeGreaterThan(0);
      for (const code of codes) expect(['UNKNOWN_BOOK', 'FORBIDDEN']).toContain(code);
    }
    expect(await entryCount(a)).toBe(before);
  });

  it("a refusal stored under A's key (BALANCE_BOUND_EXCEEDED) is not replayed to another co-op's treasurer", async () => {
    const input = spend(a, '1000.00');
    const first = await a.treasurer.postJournalEntry(input);
    expect(first.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    const stranger = await rawGraphQL(server.url, POST, { input }, { token: b.treasurerToken });
    expect(JSON.stringify(stranger.body)).not.toContain('BALANCE_BOUND_EXCEEDED');
    expect(
      (stranger.body.data as { postJournalEntry: { userErrors: { code: string }[] } }).postJournalEntry
        .userErrors,
    ).toEqual([expect.objectContaining({ code: 'UNKNOWN_BOOK' })]);
  });

  it('a second treasurer of A replays the entry as it was posted: the first poster stays its postedBy', async () => {
    const input = spend(a, '0.50');
    const first = await a.treasurer.postJournalEntry(input);
    expect(first.userErrors).toEqual([]);
    const other = await issueToken(admin, {
      grants: [{ role: 'TREASURER', scope: decodeGlobalId(a.book.id).bookId }],
    });
    const again = await rawGraphQL(server.url, POST, { input }, { token: other.token });
    expect(again.body.data).toEqual({
      postJournalEntry: {
        replayed: true,
        entry: { id: first.entry!.id, memo: 'a private memo', postedBy: a.treasurerPrincipalId },
        userErrors: [],
      },
    });
  });

  it('a revoked token and an expired token replaying their own key get the one 401, and nothing is posted', async () => {
    const revoked = await issueToken(admin, {
      grants: [{ role: 'TREASURER', scope: decodeGlobalId(a.book.id).bookId }],
    });
    const expiring = await issueToken(admin, {
      grants: [{ role: 'TREASURER', scope: decodeGlobalId(a.book.id).bookId }],
      expiresAt: new Date(Date.now() + 2_000),
    });
    const input = spend(a, '0.25');
    const posted = await rawGraphQL(server.url, POST, { input }, { token: revoked.token });
    expect(
      (posted.body.data as { postJournalEntry: { userErrors: unknown[] } }).postJournalEntry.userErrors,
    ).toEqual([]);
    expect((await admin.revokeApiToken({ tokenId: revoked.tokenId })).userErrors).toEqual([]);
    const before = await entryCount(a);
    // The same key and input (a replay), and a new key (a new entry): both refused.
    expectRefusedToken(await rawGraphQL(server.url, POST, { input }, { token: revoked.token }));
    expectRefusedToken(
      await rawGraphQL(server.url, POST, { input: spend(a, '0.25') }, { token: revoked.token }),
    );
    // The expiring token posts, then replays the same key once it has expired.
    const late = spend(a, '0.25');
    const early = await rawGraphQL(server.url, POST, { input: late }, { token: expiring.token });
    expect(
      (early.body.data as { postJournalEntry: { userErrors: unknown[] } }).postJournalEntry.userErrors,
    ).toEqual([]);
    const afterEarly = await entryCount(a);
    await waitFor(
      async () =>
        (await rawGraphQL(server.url, POST, { input: late }, { token: expiring.token })).status === 401,
      { what: 'the token to expire', intervalMs: 200 },
    );
    expectRefusedToken(await rawGraphQL(server.url, POST, { input: late }, { token: expiring.token }));
    expect(await entryCount(a)).toBe(afterEarly);
    expect(Number(afterEarly)).toBe(Number(before) + 1);
  });
});

describe('a key keeps its first decision', () => {
  it('after a reversal: the original replays (no second posting), its key cannot post a pending entry or reverse', async () => {
    const c = await tenant();
    const funded = await c.treasurer.postJournalEntry({
      bookId: c.book.id,
      idempotencyKey: newKey('fund'),
      lines: [debit(c.wallet, '10.00'), credit(c.equity, '10.00')],
    });
    expect(funded.userErrors).toEqual([]);
    const a = c;
    const input = spend(a, '0.10');
    const posted = await a.treasurer.postJournalEntry(input);
    expect(posted.userErrors).toEqual([]);
    const reversalKey = newKey('rev');
    const reversed = await a.treasurer.reverseJournalEntry({
      entryId: posted.entry!.id,
      idempotencyKey: reversalKey,
    });
    expect(reversed.userErrors).toEqual([]);
    const before = await entryCount(a);
    const wallet = async () =>
      (await admin.trialBalance({ bookId: a.book.id }))!.lines.find((r) => r.account.id === a.wallet.id);

    const again = await a.treasurer.postJournalEntry(input);
    expect(again).toMatchObject({ replayed: true, entry: { id: posted.entry!.id }, userErrors: [] });
    const reversalAgain = await a.treasurer.reverseJournalEntry({
      entryId: posted.entry!.id,
      idempotencyKey: reversalKey,
    });
    expect(reversalAgain).toMatchObject({ replayed: true, entry: { id: reversed.entry!.id } });

    // The original's key for another operation, and the reversal's key for another entry.
    const pending = await a.treasurer.postPendingEntry(input);
    expect(pending.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const other = await a.treasurer.postJournalEntry(spend(a, '0.20'));
    const reuse = await a.treasurer.reverseJournalEntry({
      entryId: other.entry!.id,
      idempotencyKey: reversalKey,
    });
    expect(reuse.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const reversalAsEntry = await a.treasurer.postJournalEntry({ ...input, idempotencyKey: reversalKey });
    expect(reversalAsEntry.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await entryCount(a)).toBe(String(Number(before) + 1));
    // 10.00 funded, 0.10 spent and reversed, 0.20 spent by `other`: 9.80 left.
    expect(await wallet()).toMatchObject({ debits: '10.10', credits: '0.30', debitBalance: '9.80' });
  });
});
