/**
 * Tenant isolation: a TREASURER of co-op A can neither read nor write co-op B through any path:
 * B's ids named directly, forged ids that put B's object under A's book (`Account:<A>:<B's
 * account>`), `node(id)`, nested fields and connections of A's own objects, single and batch
 * mutations, reversals, commits and voids, closing and creating accounts. Every refusal answers as
 * "not found" (null, an empty connection, UNKNOWN_*), never with B's data or ids, and B's rows in
 * the database are unchanged. Entries record the principal that posted them. A MEMBER reads their
 * own account and its balance, nothing else.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  type CreatedAccount,
  connectPg,
  createAccount,
  createAccounts,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  encodeGlobalId,
  ledgerClient,
  newKey,
  type RawGraphQLAnswer,
  rawGraphQL,
  uniqueSuffix,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { type IssuedToken, issueToken, leaksIn } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let db: pg.Client;
let treasurer: IssuedToken;
let member: IssuedToken;

interface Book {
  id: string;
  raw: string;
  /** Raw uuids of everything in the book (book, accounts, entries). */
  ids: Set<string>;
}
let A: Book;
let B: Book;
let a: Record<'cash' | 'revenue' | 'capital' | 'capitalSub' | 'capitalBob', CreatedAccount>;
let b: Record<'cash' | 'revenue' | 'zero' | 'group', CreatedAccount>;
/** B's entries: a posted one, one to try reversing, pending ones to try committing and voiding. */
let bEntry: string;
let bReversible: string;
let bPendingCommit: string;
let bPendingVoid: string;
let aEntry: string;

const raw = (globalId: string) => decodeGlobalId(globalId).id;
/** An id that claims B's object lives in A's book. */
const forged = (typename: 'Account' | 'JournalEntry', bGlobalId: string) =>
  encodeGlobalId(typename, `${A.raw}:${raw(bGlobalId)}`);

function remember(book: Book, globalId: string): string {
  book.ids.add(raw(globalId));
  return globalId;
}

async function post(book: Book, lines: ReturnType<typeof debit>[], pending = false): Promise<string> {
  const input = { bookId: book.id, idempotencyKey: newKey('iso'), lines };
  const payload = pending ? await admin.postPendingEntry(input) : await admin.postJournalEntry(input);
  expect(payload.userErrors).toEqual([]);
  return remember(book, payload.entry!.id);
}

/** Everything B holds in the database, to compare before and after attempts on it. */
async function snapshot(bookRaw: string): Promise<unknown> {
  const { rows } = await db.query(
    // The book's row without its version: the posting engine's compare-and-set counter moves when
    // a refusal is remembered under its key (journal_refusal), which is not a change of the books.
    `select (select to_jsonb(k) - 'version' from book k where k.id = $1) as book,
            (select jsonb_agg(to_jsonb(x) order by x.id) from account x where x.book_id = $1) as accounts,
            (select jsonb_agg(x.id order by x.seq) from journal_entry x where x.book_id = $1) as entries,
            (select count(*) from journal_line x where x.book_id = $1) as lines,
            (select jsonb_agg(x.entry_id order by x.entry_id) from pending_open x where x.book_id = $1) as pending`,
    [bookRaw],
  );
  return rows[0];
}

/** A request as the treasurer of A: no top-level errors, and nothing of B in the answer. */
async function asTreasurer(
  query: string,
  variables: Record<string, unknown> = {},
): Promise<RawGraphQLAnswer> {
  const answer = await rawGraphQL(server.url, query, variables, { token: treasurer.token });
  expect(answer.status).toBe(200);
  expect(answer.body.errors).toBeUndefined();
  expect(leaksIn(answer.body, B.ids), 'ids of B in the answer').toEqual([]);
  return answer;
}

/** The ids of A except the member's own account (and A's book id, which that account's id carries). */
function notTheMembers(): Set<string> {
  return new Set([...A.ids, ...B.ids].filter((id) => id !== A.raw && id !== raw(a.capital.id)));
}

async function asMember(query: string, variables: Record<string, unknown> = {}): Promise<RawGraphQLAnswer> {
  const answer = await rawGraphQL(server.url, query, variables, { token: member.token });
  expect(answer.status).toBe(200);
  expect(leaksIn(answer.body, notTheMembers()), 'ids the member must not see').toEqual([]);
  return answer;
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  db = await connectPg();
  const makeBook = async (label: string): Promise<Book> => {
    const book = await createBook(admin, { name: `isolation ${label} ${uniqueSuffix()}` });
    return { id: book.id, raw: raw(book.id), ids: new Set([raw(book.id)]) };
  };
  A = await makeBook('A');
  B = await makeBook('B');
  const made = await createAccounts(admin, A.id, [
    { code: 'cash', type: 'ASSET' },
    { code: 'revenue', type: 'REVENUE' },
    { code: 'capital-alice', type: 'EQUITY' },
    { code: 'capital-bob', type: 'EQUITY' },
  ]);
  a = {
    cash: made.cash,
    revenue: made.revenue,
    capital: made['capital-alice'],
    capitalBob: made['capital-bob'],
    // A sub-account of the member's own account (a member reads only the account named in the grant).
    capitalSub: await createAccount(admin, A.id, {
      code: 'capital-alice-2026',
      type: 'EQUITY',
      parentId: made['capital-alice'].id,
    }),
  };
  b = await createAccounts(admin, B.id, [
    { code: 'cash', type: 'ASSET' },
    { code: 'revenue', type: 'REVENUE' },
    { code: 'zero', type: 'ASSET' },
    { code: 'group', type: 'ASSET' },
  ]);
  for (const account of Object.values(a)) remember(A, account.id);
  for (const account of Object.values(b)) remember(B, account.id);

  aEntry = await post(A, [debit(a.cash, '80.00'), credit(a.revenue, '80.00')]);
  await post(A, [debit(a.cash, '50.00'), credit(a.capital, '50.00')]);
  await post(A, [debit(a.cash, '7.00'), credit(a.capitalSub, '7.00')]);
  await post(A, [debit(a.cash, '30.00'), credit(a.capitalBob, '30.00')]);
  bEntry = await post(B, [debit(b.cash, '100.00'), credit(b.revenue, '100.00')]);
  bReversible = await post(B, [debit(b.cash, '5.00'), credit(b.revenue, '5.00')]);
  bPendingCommit = await post(B, [debit(b.cash, '3.00'), credit(b.revenue, '3.00')], true);
  bPendingVoid = await post(B, [debit(b.cash, '2.00'), credit(b.revenue, '2.00')], true);

  treasurer = await issueToken(admin, { grants: [{ role: 'TREASURER', scope: A.id }] });
  member = await issueToken(admin, { grants: [{ role: 'MEMBER', scope: a.capital.id }] });
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

describe('reads of B by id', () => {
  /** Each read of B, the answer a stranger gets, and whether the admin control finds the object. */
  const reads = (): { name: string; query: string; variables: Record<string, unknown>; real: boolean }[] => [
    {
      name: 'book',
      query: 'query($id: ID!) { r: book(id: $id) { id name } }',
      variables: { id: B.id },
      real: true,
    },
    {
      name: 'account',
      query: 'query($id: ID!) { r: account(id: $id) { id code } }',
      variables: { id: b.cash.id },
      real: true,
    },
    {
      name: 'account, forged under A',
      query: 'query($id: ID!) { r: account(id: $id) { id code } }',
      variables: { id: forged('Account', b.cash.id) },
      real: false,
    },
    {
      name: 'journalEntry',
      query: 'query($id: ID!) { r: journalEntry(id: $id) { id memo } }',
      variables: { id: bEntry },
      real: true,
    },
    {
      name: 'journalEntry, forged under A',
      query: 'query($id: ID!) { r: journalEntry(id: $id) { id memo } }',
      variables: { id: forged('JournalEntry', bEntry) },
      real: false,
    },
    {
      name: 'accountBalance',
      query: 'query($id: ID!) { r: accountBalance(accountId: $id) { posted account { id } } }',
      variables: { id: b.cash.id },
      real: true,
    },
    {
      name: 'accountBalance, forged under A',
      query: 'query($id: ID!) { r: accountBalance(accountId: $id) { posted account { id } } }',
      variables: { id: forged('Account', b.cash.id) },
      real: false,
    },
    {
      name: 'trialBalance',
      query: 'query($id: ID!) { r: trialBalance(bookId: $id) { balanced lines { account { id } debits } } }',
      variables: { id: B.id },
      real: true,
    },
    {
      name: 'verifyBookChain',
      query: 'query($id: ID!) { r: verifyBookChain(bookId: $id) { ok entriesChecked headHash } }',
      variables: { id: B.id },
      real: true,
    },
    {
      name: 'node (Book)',
      query: 'query($id: ID!) { r: node(id: $id) { id ... on Book { name } } }',
      variables: { id: B.id },
      real: true,
    },
    {
      name: 'node (Account)',
      query: 'query($id: ID!) { r: node(id: $id) { id ... on Account { code } } }',
      variables: { id: b.cash.id },
      real: true,
    },
    {
      name: 'node (JournalEntry)',
      query: 'query($id: ID!) { r: node(id: $id) { id ... on JournalEntry { memo } } }',
      variables: { id: bEntry },
      real: true,
    },
    {
      name: 'node (Account, forged under A)',
      query: 'query($id: ID!) { r: node(id: $id) { id } }',
      variables: { id: forged('Account', b.cash.id) },
      real: false,
    },
    {
      name: 'node (JournalEntry, forged under A)',
      query: 'query($id: ID!) { r: node(id: $id) { id } }',
      variables: { id: forged('JournalEntry', bEntry) },
      real: false,
    },
  ];

  it('the ids are real: the admin reads every one of them', async () => {
    for (const read of reads().filter((r) => r.real)) {
      const answer = await rawGraphQL(server.url, read.query, read.variables);
      expect({ read: read.name, errors: answer.body.errors }).toEqual({ read: read.name, errors: undefined });
      expect({ read: read.name, found: answer.body.data?.r !== null }).toEqual({
        read: read.name,
        found: true,
      });
    }
  });

  it('the treasurer of A gets null for each, with no error and nothing of B', async () => {
    for (const read of reads()) {
      const answer = await asTreasurer(read.query, read.variables);
      expect({ read: read.name, data: answer.body.data }).toEqual({ read: read.name, data: { r: null } });
    }
  });

  it("the treasurer of A gets empty connections for B's accounts and entries", async () => {
    const empty = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
    const page = 'edges { cursor node { id } } pageInfo { hasNextPage endCursor }';
    const answer = await asTreasurer(
      `query($b: ID!, $acct: ID!, $forgedAcct: ID!) {
        accounts(bookId: $b) { ${page} }
        journalEntries(bookId: $b) { ${page} }
        byAccount: journalEntries(bookId: $b, accountId: $acct) { ${page} }
        forgedAccount: journalEntries(bookId: $b, accountId: $forgedAcct) { ${page} }
      }`,
      { b: B.id, acct: b.cash.id, forgedAcct: forged('Account', b.cash.id) },
    );
    expect(answer.body.data).toEqual({
      accounts: empty,
      journalEntries: empty,
      byAccount: empty,
      forgedAccount: empty,
    });
    // Control: the same query as the admin lists B's rows.
    const control = await rawGraphQL(
      server.url,
      `query($b: ID!) { journalEntries(bookId: $b) { ${page} } }`,
      {
        b: B.id,
      },
    );
    expect((control.body.data!.journalEntries as { edges: unknown[] }).edges.length).toBe(4);
  });
});

describe("A's own objects never lead to B", () => {
  it('books lists exactly A', async () => {
    const answer = await asTreasurer('query { books(first: 100) { edges { node { id } } } }');
    expect(answer.body.data).toEqual({ books: { edges: [{ node: { id: A.id } }] } });
  });

  it('journalEntries(bookId: A, accountId: <B account>) is empty, also with a forged id', async () => {
    const answer = await asTreasurer(
      `query($a: ID!, $acct: ID!, $forgedAcct: ID!, $own: ID!) {
        foreign: journalEntries(bookId: $a, accountId: $acct) { edges { node { id } } }
        forged: journalEntries(bookId: $a, accountId: $forgedAcct) { edges { node { id } } }
        own: journalEntries(bookId: $a, accountId: $own) { edges { node { id } } }
      }`,
      { a: A.id, acct: b.cash.id, forgedAcct: forged('Account', b.cash.id), own: a.revenue.id },
    );
    expect(answer.body.data).toEqual({
      foreign: { edges: [] },
      forged: { edges: [] },
      own: { edges: [{ node: { id: aEntry } }] },
    });
  });

  it("nested fields and connections of A's book, accounts, entries and reports stay in A", async () => {
    const answer = await asTreasurer(
      `query($a: ID!, $cash: ID!) {
        book(id: $a) { id accounts(first: 20) { edges { cursor node { id book { id } parent { id }
          children(first: 5) { edges { node { id } } } } } } }
        account(id: $cash) { journalEntries(first: 20) { edges { cursor node { id book { id }
          lines { account { id book { id } } } reverses { id } reversedBy { id } } } } }
        journalEntries(bookId: $a, first: 20) { edges { node { id lines { account { id } } } } }
        trialBalance(bookId: $a) { book { id } lines { account { id } } }
        verifyBookChain(bookId: $a) { ok book { id } }
        accountBalance(accountId: $cash) { account { id book { id } } }
      }`,
      { a: A.id, cash: a.cash.id },
    );
    const text = JSON.stringify(answer.body.data);
    // The answer is full of A (so the scan above had something to look at) ...
    for (const id of [A.id, a.cash.id, a.revenue.id, a.capital.id, a.capitalSub.id, aEntry])
      expect(text).toContain(id);
    expect(answer.body.data?.verifyBookChain).toEqual({ ok: true, book: { id: A.id } });
    // ... and every account it reaches is one of A's.
    const accountIds = [...text.matchAll(/"id":"([^"]+)"/g)]
      .map((m) => m[1]!)
      .filter((id) => decodeGlobalId(id).typename === 'Account');
    for (const id of accountIds) expect(decodeGlobalId(id).bookId).toBe(A.raw);
  });
});

describe('writes into B', () => {
  const ENTRY = 'entry { id } userErrors { code field }';

  it('postJournalEntry and postPendingEntry into B answer UNKNOWN_BOOK; B is unchanged', async () => {
    const before = await snapshot(B.raw);
    const lines = [debit(b.cash, '1.00'), credit(b.revenue, '1.00')];
    for (const mutation of ['postJournalEntry', 'postPendingEntry']) {
      const type = mutation === 'postJournalEntry' ? 'PostJournalEntryInput' : 'PostPendingEntryInput';
      const answer = await asTreasurer(
        `mutation($input: ${type}!) { r: ${mutation}(input: $input) { ${ENTRY} } }`,
        {
          input: { bookId: B.id, idempotencyKey: newKey('iso-b'), lines },
        },
      );
      expect({ mutation, r: answer.body.data?.r }).toEqual({
        mutation,
        r: { entry: null, userErrors: [{ code: 'UNKNOWN_BOOK', field: 'bookId' }] },
      });
    }
    expect(await snapshot(B.raw)).toEqual(before);
  });

  it("entries into A naming B's accounts (or forged ones) answer UNKNOWN_ACCOUNT; neither book changes", async () => {
    const beforeA = await snapshot(A.raw);
    const beforeB = await snapshot(B.raw);
    for (const foreign of [b.cash.id, forged('Account', b.cash.id)]) {
      const lines = [
        { accountId: foreign, side: 'DEBIT', amount: '1.00', unit: 'USD' },
        credit(a.revenue, '1.00'),
      ];
      for (const [mutation, type] of [
        ['postJournalEntry', 'PostJournalEntryInput'],
        ['postPendingEntry', 'PostPendingEntryInput'],
      ] as const) {
        const answer = await asTreasurer(
          `mutation($input: ${type}!) { r: ${mutation}(input: $input) { ${ENTRY} } }`,
          {
            input: { bookId: A.id, idempotencyKey: newKey('iso-a'), lines },
          },
        );
        const r = answer.body.data?.r as { entry: unknown; userErrors: { code: string }[] };
        expect({ mutation, entry: r.entry, codes: r.userErrors.map((e) => e.code) }).toEqual({
          mutation,
          entry: null,
          codes: ['UNKNOWN_ACCOUNT'],
        });
      }
    }
    expect(await snapshot(A.raw)).toEqual(beforeA);
    expect(await snapshot(B.raw)).toEqual(beforeB);
  });

  it('postJournalEntries into B answers UNKNOWN_BOOK in both modes; B is unchanged', async () => {
    const before = await snapshot(B.raw);
    for (const mode of ['ATOMIC', 'INDEPENDENT']) {
      const answer = await asTreasurer(
        `mutation($input: PostJournalEntriesInput!) { postJournalEntries(input: $input) {
          postedCount results { index entry { id } userErrors { code } } userErrors { code } } }`,
        {
          input: {
            bookId: B.id,
            mode,
            entries: [
              {
                idempotencyKey: newKey('iso-batch'),
                lines: [debit(b.cash, '1.00'), credit(b.revenue, '1.00')],
              },
              {
                idempotencyKey: newKey('iso-batch'),
                lines: [debit(b.cash, '2.00'), credit(b.revenue, '2.00')],
              },
            ],
          },
        },
      );
      const r = answer.body.data?.postJournalEntries as {
        postedCount: number;
        results: { entry: unknown; userErrors: { code: string }[] }[];
        userErrors: { code: string }[];
      };
      expect(r.postedCount).toBe(0);
      const codes = [...r.userErrors, ...r.results.flatMap((x) => x.userErrors)].map((e) => e.code);
      expect(codes.length).toBeGreaterThan(0);
      expect(new Set(codes)).toEqual(new Set(['UNKNOWN_BOOK']));
      expect(r.results.every((x) => x.entry === null)).toBe(true);
    }
    expect(await snapshot(B.raw)).toEqual(before);
  });

  it("a batch into A whose lines name B's accounts: UNKNOWN_ACCOUNT for those entries (ATOMIC posts nothing)", async () => {
    const beforeB = await snapshot(B.raw);
    const good = () => ({
      idempotencyKey: newKey('iso-good'),
      lines: [debit(a.cash, '1.00'), credit(a.revenue, '1.00')],
    });
    const bad = (accountId: string) => ({
      idempotencyKey: newKey('iso-bad'),
      lines: [debit(a.cash, '1.00'), { accountId, side: 'CREDIT', amount: '1.00', unit: 'USD' }],
    });
    const document = `mutation($input: PostJournalEntriesInput!) { postJournalEntries(input: $input) {
      postedCount results { index entry { id } userErrors { code field } } userErrors { code } } }`;
    type Batch = {
      postedCount: number;
      results: {
        index: number;
        entry: { id: string } | null;
        userErrors: { code: string; field: string }[];
      }[];
      userErrors: unknown[];
    };

    const beforeA = await snapshot(A.raw);
    const atomic = await asTreasurer(document, {
      input: { bookId: A.id, mode: 'ATOMIC', entries: [good(), bad(b.revenue.id)] },
    });
    const atomicResult = atomic.body.data?.postJournalEntries as Batch;
    expect(atomicResult.postedCount).toBe(0);
    expect(atomicResult.results[1]!.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_ACCOUNT']);
    expect(atomicResult.results.every((x) => x.entry === null)).toBe(true);
    expect(await snapshot(A.raw)).toEqual(beforeA);

    const independent = await asTreasurer(document, {
      input: {
        bookId: A.id,
        mode: 'INDEPENDENT',
        entries: [good(), bad(b.revenue.id), bad(forged('Account', b.revenue.id))],
      },
    });
    const result = independent.body.data?.postJournalEntries as Batch;
    expect(result.userErrors).toEqual([]);
    expect(result.postedCount).toBe(1);
    expect(result.results[0]!.entry).not.toBeNull();
    remember(A, result.results[0]!.entry!.id);
    for (const i of [1, 2]) {
      expect(result.results[i]!.entry).toBeNull();
      expect(result.results[i]!.userErrors).toEqual([
        { code: 'UNKNOWN_ACCOUNT', field: expect.stringContaining('accountId') },
      ]);
    }
    expect(await snapshot(B.raw)).toEqual(beforeB);
  });

  it("reversing, committing and voiding B's entries answers UNKNOWN_ENTRY, also with forged ids", async () => {
    const before = await snapshot(B.raw);
    const attempts = [
      ['reverseJournalEntry', 'ReverseJournalEntryInput', bReversible],
      ['reverseJournalEntry', 'ReverseJournalEntryInput', forged('JournalEntry', bReversible)],
      ['commitPendingEntry', 'CommitPendingEntryInput', bPendingCommit],
      ['commitPendingEntry', 'CommitPendingEntryInput', forged('JournalEntry', bPendingCommit)],
      ['voidPendingEntry', 'VoidPendingEntryInput', bPendingVoid],
      ['voidPendingEntry', 'VoidPendingEntryInput', forged('JournalEntry', bPendingVoid)],
    ] as const;
    for (const [mutation, type, entryId] of attempts) {
      const answer = await asTreasurer(
        `mutation($input: ${type}!) { r: ${mutation}(input: $input) { ${ENTRY} } }`,
        {
          input: { entryId, idempotencyKey: newKey('iso-ref') },
        },
      );
      expect({ mutation, entryId, r: answer.body.data?.r }).toEqual({
        mutation,
        entryId,
        r: { entry: null, userErrors: [{ code: 'UNKNOWN_ENTRY', field: 'entryId' }] },
      });
    }
    expect(await snapshot(B.raw)).toEqual(before);
  });

  it("closeAccount of B's account and createAccount in B (or under B's parent) answer not found", async () => {
    const beforeA = await snapshot(A.raw);
    const beforeB = await snapshot(B.raw);
    const close =
      'mutation($input: CloseAccountInput!) { closeAccount(input: $input) { account { id closed } userErrors { code field } } }';
    for (const accountId of [b.zero.id, forged('Account', b.zero.id)]) {
      const answer = await asTreasurer(close, { input: { accountId } });
      expect(answer.body.data?.closeAccount).toEqual({
        account: null,
        userErrors: [{ code: 'UNKNOWN_ACCOUNT', field: 'accountId' }],
      });
    }

    const create =
      'mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } userErrors { code field } } }';
    const inB = await asTreasurer(create, {
      input: { bookId: B.id, code: `intrusion-${uniqueSuffix()}`, name: 'x', type: 'ASSET', unit: 'USD' },
    });
    expect(inB.body.data?.createAccount).toEqual({
      account: null,
      userErrors: [{ code: 'UNKNOWN_BOOK', field: 'bookId' }],
    });

    const noSuchParent = await asTreasurer(create, {
      input: {
        bookId: A.id,
        code: `child-${uniqueSuffix()}`,
        name: 'x',
        type: 'ASSET',
        unit: 'USD',
        parentId: encodeGlobalId('Account', `${A.raw}:${randomUUID()}`),
      },
    });
    expect(noSuchParent.body.data?.createAccount).toEqual({
      account: null,
      userErrors: [{ code: expect.stringMatching(/^(UNKNOWN_ACCOUNT|INVALID_PARENT)$/), field: 'parentId' }],
    });
    for (const parentId of [b.group.id, forged('Account', b.group.id)]) {
      const answer = await asTreasurer(create, {
        input: {
          bookId: A.id,
          code: `child-${uniqueSuffix()}`,
          name: 'x',
          type: 'ASSET',
          unit: 'USD',
          parentId,
        },
      });
      // The same answer as for a parent that does not exist at all: nothing tells B's ids apart.
      expect(answer.body.data?.createAccount).toEqual(noSuchParent.body.data?.createAccount);
    }
    expect(await snapshot(A.raw)).toEqual(beforeA);
    expect(await snapshot(B.raw)).toEqual(beforeB);
  });

  it("control: the admin can do what the treasurer of A could not (B's targets were valid)", async () => {
    const reversed = await admin.reverseJournalEntry({
      entryId: bReversible,
      idempotencyKey: newKey('iso-ctl'),
    });
    expect(reversed.userErrors).toEqual([]);
    const committed = await admin.commitPendingEntry({
      entryId: bPendingCommit,
      idempotencyKey: newKey('iso-ctl'),
    });
    expect(committed.userErrors).toEqual([]);
    const voided = await admin.voidPendingEntry({ entryId: bPendingVoid, idempotencyKey: newKey('iso-ctl') });
    expect(voided.userErrors).toEqual([]);
    const closed = await admin.closeAccount({ accountId: b.zero.id });
    expect(closed.userErrors).toEqual([]);
  });
});

describe('idempotency keys', () => {
  it("a key used in B posts a new entry in A: no replay of B's entry, no conflict", async () => {
    const { rows } = await db.query(
      'select idempotency_key from journal_entry where book_id = $1 and id = $2',
      [B.raw, raw(bEntry)],
    );
    const key = rows[0].idempotency_key as string;
    const before = await snapshot(B.raw);
    for (const amount of ['100.00', '9.00']) {
      // The same lines as B's entry (so a replay across books would look "the same"), then others.
      const answer = await asTreasurer(
        `mutation($input: PostJournalEntryInput!) { postJournalEntry(input: $input) {
          entry { id idempotencyKey book { id } } replayed userErrors { code } } }`,
        {
          input: {
            bookId: A.id,
            idempotencyKey: key,
            lines: [debit(a.cash, amount), credit(a.revenue, amount)],
          },
        },
      );
      const r = answer.body.data?.postJournalEntry as {
        entry: { id: string; book: { id: string } } | null;
        replayed: boolean;
        userErrors: { code: string }[];
      };
      if (amount === '100.00') {
        expect(r.userErrors).toEqual([]);
        expect(r.replayed).toBe(false);
        expect(r.entry?.book.id).toBe(A.id);
        remember(A, r.entry!.id);
      } else {
        // Now the key is A's own: different input is a reuse, as in any book.
        expect(r.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
      }
    }
    expect(await snapshot(B.raw)).toEqual(before);
  });
});

describe('postedBy', () => {
  it("entries record the principal that posted them: the treasurer's id, not the admin's", async () => {
    const viewer = await asTreasurer('query { viewer { principalId } }');
    const principalId = (viewer.body.data!.viewer as { principalId: string }).principalId;
    const adminViewer = await admin.viewer();
    expect(principalId).not.toBe(adminViewer!.principalId);

    const treasurerClient = ledgerClient(server.url, { token: treasurer.token });
    const posted = await treasurerClient.postJournalEntry({
      bookId: A.id,
      idempotencyKey: newKey('iso-by'),
      lines: [debit(a.cash, '4.00'), credit(a.revenue, '4.00')],
    });
    expect(posted.userErrors).toEqual([]);
    const reversal = await treasurerClient.reverseJournalEntry({
      entryId: posted.entry!.id,
      idempotencyKey: newKey('iso-by'),
    });
    expect(reversal.userErrors).toEqual([]);
    const pending = await treasurerClient.postPendingEntry({
      bookId: A.id,
      idempotencyKey: newKey('iso-by'),
      lines: [debit(a.cash, '1.00'), credit(a.revenue, '1.00')],
    });
    const commit = await treasurerClient.commitPendingEntry({
      entryId: pending.entry!.id,
      idempotencyKey: newKey('iso-by'),
    });
    expect(commit.userErrors).toEqual([]);
    const byTreasurer = [posted.entry!, reversal.entry!, pending.entry!, commit.entry!];
    for (const entry of byTreasurer) {
      remember(A, entry.id);
      expect(entry.postedBy).toBe(principalId);
      const { rows } = await db.query('select posted_by from journal_entry where book_id = $1 and id = $2', [
        A.raw,
        raw(entry.id),
      ]);
      expect(rows).toEqual([{ posted_by: principalId }]);
    }
    // The fixtures, posted by the admin, carry the admin's id.
    expect((await admin.journalEntry({ id: aEntry }))?.postedBy).toBe(adminViewer!.principalId);
  });
});

describe('a MEMBER of an account in A', () => {
  it('reads their own account and its balance', async () => {
    const answer = await asMember(
      `query($own: ID!) {
        account(id: $own) { id code }
        accountBalance(accountId: $own) { posted debits credits account { id } }
        node(id: $own) { id }
      }`,
      { own: a.capital.id },
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data).toEqual({
      account: { id: a.capital.id, code: 'capital-alice' },
      accountBalance: { posted: '50.00', debits: '0.00', credits: '50.00', account: { id: a.capital.id } },
      node: { id: a.capital.id },
    });
  });

  it('sees nothing else of A: other accounts, their balances, the book, entries, reports', async () => {
    const page = 'edges { node { id } }';
    const answer = await asMember(
      `query($a: ID!, $own: ID!, $bob: ID!, $sub: ID!, $cash: ID!, $entry: ID!) {
        bob: account(id: $bob) { id code }
        sub: account(id: $sub) { id code }
        bobBalance: accountBalance(accountId: $bob) { posted }
        subBalance: accountBalance(accountId: $sub) { posted }
        cashBalance: accountBalance(accountId: $cash) { posted }
        bobNode: node(id: $bob) { id }
        bookNode: node(id: $a) { id }
        book(id: $a) { id }
        books { ${page} }
        accounts(bookId: $a) { ${page} }
        journalEntries(bookId: $a) { ${page} }
        ownEntries: journalEntries(bookId: $a, accountId: $own) { ${page} }
        journalEntry(id: $entry) { id }
        trialBalance(bookId: $a) { balanced }
        verifyBookChain(bookId: $a) { ok }
      }`,
      {
        a: A.id,
        own: a.capital.id,
        bob: a.capitalBob.id,
        sub: a.capitalSub.id,
        cash: a.cash.id,
        entry: aEntry,
      },
    );
    expect(answer.body.errors).toBeUndefined();
    const empty = { edges: [] };
    expect(answer.body.data).toEqual({
      bob: null,
      sub: null,
      bobBalance: null,
      subBalance: null,
      cashBalance: null,
      bobNode: null,
      bookNode: null,
      book: null,
      books: empty,
      accounts: empty,
      journalEntries: empty,
      ownEntries: empty,
      journalEntry: null,
      trialBalance: null,
      verifyBookChain: null,
    });
  });

  it('nested fields of their own account that lead elsewhere are FORBIDDEN', async () => {
    const cases = [
      ['account(id: $own) { id book { name } }', ['account', 'book']],
      ['accountBalance(accountId: $own) { account { book { id } } }', ['accountBalance', 'account', 'book']],
    ] as const;
    for (const [selection, path] of cases) {
      const answer = await asMember(`query($own: ID!) { ${selection} }`, { own: a.capital.id });
      const errors = answer.body.errors as unknown as {
        path: (string | number)[];
        extensions: { code: string };
      }[];
      expect({ selection, codes: errors?.map((e) => e.extensions.code) }).toEqual({
        selection,
        codes: ['FORBIDDEN'],
      });
      // The refusal is reported on the first field selected of the refused object.
      expect({ selection, path: errors[0]!.path.slice(0, path.length) }).toEqual({ selection, path });
    }
    // Connections that lead to other accounts or to entries are empty for a member (their edges
    // and cursors would be the book's data).
    for (const selection of [
      'account(id: $own) { journalEntries { edges { node { id memo } } } }',
      'account(id: $own) { children { edges { node { id code } } } }',
    ]) {
      const answer = await asMember(`query($own: ID!) { ${selection} }`, { own: a.capital.id });
      expect({ selection, errors: answer.body.errors }).toEqual({ selection, errors: undefined });
      const account = answer.body.data?.account as Record<string, { edges: unknown[] }>;
      expect(Object.values(account)[0]!.edges).toEqual([]);
    }
  });

  it("reads their own account and balance through the SDK's ownAccount, and nothing through account()", async () => {
    const client = ledgerClient(server.url, { token: member.token });
    const own = await client.ownAccount({ id: a.capital.id });
    expect(own).toMatchObject({ id: a.capital.id, balance: { account: { id: a.capital.id } } });
    expect(typeof own!.balance.posted).toBe('string');
    // The full fragment selects the book, which a member may not read.
    await expect(client.account({ id: a.capital.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Another account of the book is not found.
    expect(await client.ownAccount({ id: a.cash.id })).toBeNull();
  });

  // Connection cursors are data (a child account's cursor is its code): a member who selects only
  // `edges { cursor }` of their own account's `children` must get nothing of those accounts.
  it("selecting only cursors of their account's children reveals nothing of those accounts", async () => {
    const answer = await asMember(
      'query($own: ID!) { account(id: $own) { children { edges { cursor } pageInfo { endCursor } } } }',
      { own: a.capital.id },
    );
    expect(answer.body.errors).toBeUndefined();
    // No edge at all and no end cursor, as for the neighbouring connections.
    expect(answer.body.data).toEqual({ account: { children: { edges: [], pageInfo: { endCursor: null } } } });
    // Control: the account has a child, whose cursor the admin is given (so the member's empty
    // answer is a refusal, not an empty account).
    const control = await rawGraphQL(
      server.url,
      'query($own: ID!) { account(id: $own) { children { edges { cursor node { id } } } } }',
      { own: a.capital.id },
    );
    expect(control.body.errors).toBeUndefined();
    const account = control.body.data?.account as
      | { children: { edges: { cursor: string; node: { id: string } }[] } }
      | null
      | undefined;
    const edges = account?.children.edges ?? [];
    expect(edges.map((e) => e.node.id)).toEqual([a.capitalSub.id]);
    expect(edges[0]!.cursor).not.toBe('');
  });

  // Same for `journalEntries`: each cursor decodes to [effectiveAt in ms, seq], which would tell a
  // member how many entries touch the account, when, and their positions in the book's chain.
  it("selecting only cursors of their account's journalEntries reveals nothing of the entries", async () => {
    const answer = await asMember(
      'query($own: ID!) { account(id: $own) { journalEntries { edges { cursor } pageInfo { hasNextPage } } } }',
      { own: a.capital.id },
    );
    expect(answer.body.errors).toBeUndefined();
    const account = answer.body.data?.account as { journalEntries: { edges: unknown[] } } | null | undefined;
    expect(account).not.toBeNull();
    expect(account!.journalEntries.edges).toEqual([]);
  });

  it('cannot write: posting, closing, creating answer not found', async () => {
    const before = await snapshot(A.raw);
    const post = await asMember(
      'mutation($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { entry { id } userErrors { code } } }',
      {
        input: {
          bookId: A.id,
          idempotencyKey: newKey('iso-member'),
          lines: [debit(a.cash, '1.00'), credit(a.capital, '1.00')],
        },
      },
    );
    expect(post.body.data?.postJournalEntry).toEqual({ entry: null, userErrors: [{ code: 'UNKNOWN_BOOK' }] });
    const close = await asMember(
      'mutation($input: CloseAccountInput!) { closeAccount(input: $input) { account { id } userErrors { code } } }',
      { input: { accountId: a.capital.id } },
    );
    expect(close.body.data?.closeAccount).toEqual({
      account: null,
      userErrors: [{ code: 'UNKNOWN_ACCOUNT' }],
    });
    expect(await snapshot(A.raw)).toEqual(before);
  });
});
