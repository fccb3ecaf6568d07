/**
 * Issue 11, item 8: a co-op is its book, and its Coop id works wherever its Book id is expected
 * (and the other way round), through real HTTP and the SDK, for a treasurer of the co-op. Ids of
 * another tenant's co-op still answer as not found, whichever of the two ids is used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, setupCoop, today } from '../helpers/coop.js';
import { createBook, decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let other: CoopFixture;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  coop = await setupCoop(server.url, admin);
  other = await setupCoop(server.url, admin);
});

afterAll(async () => {
  await server?.stop();
});

describe("a co-op's Coop id where a Book id is expected", () => {
  it('book, accounts, journalEntries, trialBalance and verifyBookChain answer for the Coop id as for the Book id', async () => {
    const t = coop.treasurer;
    expect(coop.id).not.toBe(coop.bookId);
    const byCoop = await t.book({ id: coop.id });
    expect(byCoop?.id).toBe(coop.bookId);
    expect(byCoop).toEqual(await t.book({ id: coop.bookId }));
    const accounts = await t.accounts({ bookId: coop.id, first: 100 });
    expect(accounts.edges.map((e) => e.node.code)).toEqual(
      (await t.accounts({ bookId: coop.bookId, first: 100 })).edges.map((e) => e.node.code),
    );
    expect(accounts.edges.map((e) => e.node.code)).toContain('1010');
    expect((await t.trialBalance({ bookId: coop.id }))?.book.id).toBe(coop.bookId);
    expect((await t.verifyBookChain({ bookId: coop.id }))?.ok).toBe(true);
  });

  it('postJournalEntry and createAccount take the Coop id; the entry is in the book', async () => {
    const t = coop.treasurer;
    const created = await t.createAccount({
      bookId: coop.id,
      code: '1020',
      name: 'Petty cash',
      type: 'ASSET',
      unit: 'USD',
    });
    expect(created.userErrors).toEqual([]);
    const posted = await t.postJournalEntry({
      bookId: coop.id,
      idempotencyKey: newKey('coop-id'),
      lines: [
        { accountId: created.account!.id, side: 'DEBIT', amount: '20.00', unit: 'USD' },
        { accountId: coop.chart['1010']!, side: 'CREDIT', amount: '20.00', unit: 'USD' },
      ],
    });
    expect(posted.userErrors).toEqual([]);
    expect(posted.entry!.book.id).toBe(coop.bookId);
    const entries = await t.journalEntries({ bookId: coop.id, first: 10 });
    expect(entries.edges.map((e) => e.node.id)).toContain(posted.entry!.id);
  });

  it("another co-op's treasurer gets not-found answers for either id", async () => {
    const t = other.treasurer;
    expect(await t.book({ id: coop.id })).toBeNull();
    expect(await t.trialBalance({ bookId: coop.id })).toBeNull();
    expect((await t.accounts({ bookId: coop.id })).edges).toEqual([]);
    const refused = await t.postJournalEntry({
      bookId: coop.id,
      idempotencyKey: newKey('foreign'),
      lines: [
        { accountId: coop.chart['1000']!, side: 'DEBIT', amount: '1.00', unit: 'USD' },
        { accountId: coop.chart['1010']!, side: 'CREDIT', amount: '1.00', unit: 'USD' },
      ],
    });
    expect(refused.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_BOOK']);
    expect(await t.coop({ id: coop.bookId })).toBeNull();
  });
});

describe("a co-op's Book id where a Coop id is expected", () => {
  it('coop, votingRoll and createMemberClass take the Book id', async () => {
    const t = coop.treasurer;
    expect((await t.coop({ id: coop.bookId }))?.id).toBe(coop.id);
    expect((await t.votingRoll({ coopId: coop.bookId, on: today() }))?.votes).toBe(0);
    const klass = await t.createMemberClass({
      coopId: coop.bookId,
      code: 'W',
      name: 'Worker',
      buyIn: '0.00',
      voting: true,
    });
    expect(klass.userErrors).toEqual([]);
    expect((await t.coop({ id: coop.id }))?.memberClasses.map((c) => c.code)).toContain('W');
  });

  it('a book that is no co-op answers as an unknown co-op', async () => {
    const plain = await createBook(admin);
    expect(await admin.coop({ id: plain.id })).toBeNull();
    const klass = await admin.createMemberClass({
      coopId: plain.id,
      code: 'W',
      name: 'W',
      buyIn: '0.00',
      voting: true,
    });
    expect(klass.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_COOP']);
  });

  it('a raw uuid is not a global id: book(id:) with it answers null (only grant scopes take raw uuids)', async () => {
    expect(await coop.treasurer.book({ id: decodeGlobalId(coop.bookId).bookId })).toBeNull();
  });
});
