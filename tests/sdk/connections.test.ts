/**
 * Issue 11, item 4: connections are what Relay clients expect, through real HTTP and the SDK, on
 * every connection of the schema: a full `pageInfo` (`hasNextPage`, `hasPreviousPage`,
 * `startCursor`, `endCursor`), `totalCount` (the whole list with its filters, whatever the
 * cursors), forward paging (`first`/`after`) and backward paging (`last`/`before`), `first`/`last`
 * between 1 and 100, and the SDK's iterators walking either way.
 *
 * Each connection gets a list whose order is known by construction (codes, member numbers,
 * backdated entries posted out of order, names), and `checkConnection` walks it forward and
 * backward two at a time, reads a window between two cursors, and checks the refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, coopInput, createClass, daysAgo, join, setupCoop } from '../helpers/coop.js';
import {
  type CreatedAccount,
  createAccount,
  createAccounts,
  createBook,
  credit,
  debit,
  expectClientError,
  ledgerClient,
  newKey,
  rawGraphQL,
  uniqueSuffix,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
});

afterAll(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------

interface Page {
  edges: { cursor: string; node: { id: string } }[];
  nodes: { id: string }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

interface PageArgs {
  first?: number;
  last?: number;
  after?: string;
  before?: string;
}

const SELECTION =
  '{ edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount }';

/**
 * A fetcher for a connection written as a document with `$first $last $after $before` (plus fixed
 * variables) and the path to the connection in its data.
 */
function fetcher(
  document: string,
  variables: Record<string, unknown>,
  path: string[],
  /** Default: the run's ADMIN token; null: none. */
  token?: string | null,
): (
  args: PageArgs,
) => Promise<{ page: Page | null; errors: { extensions?: Record<string, unknown> }[] | undefined }> {
  return async (args) => {
    const answer = await rawGraphQL(
      server.url,
      document.replace('$SELECTION', SELECTION),
      { ...variables, ...args },
      {
        ...(token === undefined ? {} : { token }),
      },
    );
    let data: unknown = answer.body.data;
    for (const key of path) data = (data as Record<string, unknown> | null)?.[key];
    return { page: (data as Page | undefined) ?? null, errors: answer.body.errors };
  };
}

type Fetch = ReturnType<typeof fetcher>;

async function page(fetch: Fetch, args: PageArgs): Promise<Page> {
  const { page: p, errors } = await fetch(args);
  expect(errors, JSON.stringify(args)).toBeUndefined();
  expect(p).not.toBeNull();
  const ids = p!.edges.map((e) => e.node.id);
  expect(p!.nodes.map((n) => n.id)).toEqual(ids);
  expect(p!.pageInfo.startCursor).toBe(p!.edges[0]?.cursor ?? null);
  expect(p!.pageInfo.endCursor).toBe(p!.edges.at(-1)?.cursor ?? null);
  return p!;
}

async function refusedWith(fetch: Fetch, args: PageArgs): Promise<string> {
  const { errors } = await fetch(args);
  expect(errors, JSON.stringify(args)).toHaveLength(1);
  return String(errors![0]!.extensions?.code);
}

const ids = (p: Page) => p.edges.map((e) => e.node.id);

/** Walks the whole list both ways, two at a time, and checks every page and every refusal. */
async function checkConnection(fetch: Fetch, expected: string[]): Promise<void> {
  expect(expected.length).toBeGreaterThanOrEqual(5);
  const n = expected.length;

  const whole = await page(fetch, { first: 100 });
  expect(ids(whole)).toEqual(expected);
  expect(whole.totalCount).toBe(n);
  expect(whole.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  const cursors = whole.edges.map((e) => e.cursor);

  // Forward, two at a time: every page counts the whole list.
  const forward: string[] = [];
  let after: string | undefined;
  for (let i = 0; ; i++) {
    const p = await page(fetch, after === undefined ? { first: 2 } : { first: 2, after });
    expect(p.totalCount).toBe(n);
    expect(p.pageInfo.hasPreviousPage).toBe(after !== undefined);
    forward.push(...ids(p));
    expect(p.pageInfo.hasNextPage).toBe(forward.length < n);
    if (!p.pageInfo.hasNextPage) break;
    after = p.pageInfo.endCursor!;
    expect(i).toBeLessThan(n);
  }
  expect(forward).toEqual(expected);

  // Backward, two at a time, from the end: the same list in the same order.
  const backward: string[] = [];
  let before: string | undefined;
  for (let i = 0; ; i++) {
    const p = await page(fetch, before === undefined ? { last: 2 } : { last: 2, before });
    expect(p.totalCount).toBe(n);
    expect(p.pageInfo.hasNextPage).toBe(before !== undefined);
    backward.unshift(...ids(p));
    expect(p.pageInfo.hasPreviousPage).toBe(backward.length < n);
    if (!p.pageInfo.hasPreviousPage) break;
    before = p.pageInfo.startCursor!;
    expect(i).toBeLessThan(n);
  }
  expect(backward).toEqual(expected);

  // `last` alone is the end of the list; `last` before a cursor the nodes just before it.
  expect(ids(await page(fetch, { last: 2 }))).toEqual(expected.slice(n - 2));
  expect(ids(await page(fetch, { last: 2, before: cursors[3]! }))).toEqual(expected.slice(1, 3));
  // A window between two cursors, either way.
  expect(ids(await page(fetch, { first: 100, after: cursors[0]!, before: cursors[4]! }))).toEqual(
    expected.slice(1, 4),
  );
  expect(ids(await page(fetch, { last: 100, after: cursors[0]!, before: cursors[4]! }))).toEqual(
    expected.slice(1, 4),
  );
  // Past either end: an empty page without cursors, still counting the list.
  const beyond = await page(fetch, { first: 2, after: cursors[n - 1]! });
  expect(beyond.edges).toEqual([]);
  expect(beyond.totalCount).toBe(n);
  expect(beyond.pageInfo).toEqual({
    hasNextPage: false,
    hasPreviousPage: true,
    startCursor: null,
    endCursor: null,
  });

  // Refusals: sizes out of 1..100, both sizes, cursors of another shape.
  for (const bad of [{ first: 0 }, { first: 101 }, { last: 0 }, { last: 101 }, { first: 2, last: 2 }])
    expect(await refusedWith(fetch, bad)).toBe('BAD_USER_INPUT');
  const foreign = Buffer.from(JSON.stringify(['a', 'b', 'c'])).toString('base64url');
  expect(await refusedWith(fetch, { last: 2, before: foreign })).toBe('BAD_USER_INPUT');
  expect(await refusedWith(fetch, { first: 2, after: 'not a cursor' })).toBe('BAD_USER_INPUT');
}

const ARGS = '$first: Int, $last: Int, $after: String, $before: String';
const PASS = 'first: $first, last: $last, after: $after, before: $before';

// ---------------------------------------------------------------------------------------------
// The ledger's connections
// ---------------------------------------------------------------------------------------------

describe('the ledger’s connections', () => {
  let bookId: string;
  let accounts: Record<string, CreatedAccount>;
  let parentId: string;
  let childIds: string[];
  /** Entries in (effectiveAt, seq) order. */
  let entryIds: string[];
  /** Entries with a line on 1000, in order. */
  let cashEntryIds: string[];
  let outsider: string;

  beforeAll(async () => {
    bookId = (await createBook(admin)).id;
    // Created out of code order: the list is by code.
    accounts = await createAccounts(admin, bookId, [
      { code: '4000', type: 'REVENUE' },
      { code: '1000', type: 'ASSET' },
      { code: '3000', type: 'EQUITY' },
      { code: '2000', type: 'LIABILITY' },
      { code: '5000', type: 'EXPENSE' },
    ]);
    parentId = accounts['3000']!.id;
    childIds = [];
    for (const code of ['3000-c', '3000-a', '3000-e', '3000-b', '3000-d'])
      childIds.push((await createAccount(admin, bookId, { code, type: 'EQUITY', parentId })).id);
    // Sorted by code: a b c d e.
    childIds = [childIds[1]!, childIds[3]!, childIds[0]!, childIds[4]!, childIds[2]!];

    // Posted out of effectiveAt order; two on the same instant are ordered by seq (posting order).
    const post = async (days: number, lines: ReturnType<typeof debit>[]) =>
      (
        await admin.postJournalEntry({
          bookId,
          idempotencyKey: newKey('e'),
          effectiveAt: daysAgo(days),
          lines,
        })
      ).entry!.id;
    const { '1000': cash, '4000': sales, '5000': costs, '2000': owed } = accounts;
    const e3 = await post(3, [debit(cash!, '3.00'), credit(sales!, '3.00')]);
    const e9 = await post(9, [debit(costs!, '9.00'), credit(owed!, '9.00')]);
    const e5a = await post(5, [debit(cash!, '5.00'), credit(sales!, '5.00')]);
    const e1 = await post(1, [debit(costs!, '1.00'), credit(owed!, '1.00')]);
    const e5b = await post(5, [debit(cash!, '2.00'), debit(cash!, '3.00'), credit(sales!, '5.00')]);
    const e7 = await post(7, [debit(cash!, '7.00'), credit(sales!, '7.00')]);
    const e2 = await post(2, [debit(cash!, '2.00'), credit(sales!, '2.00')]);
    entryIds = [e9, e7, e5a, e5b, e3, e2, e1];
    // e5b has two lines on 1000: listed once.
    cashEntryIds = [e7, e5a, e5b, e3, e2];
    outsider = (
      await issueToken(admin, { grants: [{ role: 'TREASURER', scope: (await createBook(admin)).id }] })
    ).token;
  });

  it('books: a token’s books in creation order', async () => {
    const books = [];
    for (let i = 0; i < 5; i++) books.push((await createBook(admin)).id);
    const token = (
      await issueToken(admin, { grants: books.map((b) => ({ role: 'TREASURER' as const, scope: b })) })
    ).token;
    await checkConnection(
      fetcher(`query (${ARGS}) { books(${PASS}) $SELECTION }`, {}, ['books'], token),
      books,
    );
  });

  it('accounts(bookId:) by code, and the same through Book.accounts', async () => {
    const byCode = ['1000', '2000', '3000', '4000', '5000', '3000-a', '3000-b', '3000-c', '3000-d', '3000-e']
      .sort()
      .map((code) => (code.includes('-') ? childIds['abcde'.indexOf(code.at(-1)!)]! : accounts[code]!.id));
    await checkConnection(
      fetcher(`query ($bookId: ID!, ${ARGS}) { accounts(bookId: $bookId, ${PASS}) $SELECTION }`, { bookId }, [
        'accounts',
      ]),
      byCode,
    );
    await checkConnection(
      fetcher(
        `query ($id: ID!, ${ARGS}) { book(id: $id) { accounts(${PASS}) $SELECTION } }`,
        { id: bookId },
        ['book', 'accounts'],
      ),
      byCode,
    );
    // The filters count too: the type filter's list is one account long.
    const equity = await page(
      fetcher(
        `query ($bookId: ID!, ${ARGS}) { accounts(bookId: $bookId, type: REVENUE, ${PASS}) $SELECTION }`,
        { bookId },
        ['accounts'],
      ),
      { first: 10 },
    );
    expect(equity.totalCount).toBe(1);
  });

  it('Account.children by code', async () => {
    await checkConnection(
      fetcher(
        `query ($id: ID!, ${ARGS}) { account(id: $id) { children(${PASS}) $SELECTION } }`,
        { id: parentId },
        ['account', 'children'],
      ),
      childIds,
    );
  });

  it('journalEntries by (effectiveAt, seq), of the book and of one account', async () => {
    await checkConnection(
      fetcher(
        `query ($bookId: ID!, ${ARGS}) { journalEntries(bookId: $bookId, ${PASS}) $SELECTION }`,
        { bookId },
        ['journalEntries'],
      ),
      entryIds,
    );
    await checkConnection(
      fetcher(
        `query ($bookId: ID!, $accountId: ID, ${ARGS}) { journalEntries(bookId: $bookId, accountId: $accountId, ${PASS}) $SELECTION }`,
        { bookId, accountId: accounts['1000']!.id },
        ['journalEntries'],
      ),
      cashEntryIds,
    );
    // `from` is inclusive and `to` exclusive; the count follows the filter.
    const window = await page(
      fetcher(
        `query ($bookId: ID!, $from: DateTime, $to: DateTime, ${ARGS}) { journalEntries(bookId: $bookId, from: $from, to: $to, ${PASS}) $SELECTION }`,
        { bookId, from: daysAgo(7), to: daysAgo(3) },
        ['journalEntries'],
      ),
      { last: 100 },
    );
    expect(ids(window)).toEqual(entryIds.slice(1, 4));
    expect(window.totalCount).toBe(3);
  });

  it('Account.journalEntries by (effectiveAt, seq)', async () => {
    await checkConnection(
      fetcher(
        `query ($id: ID!, ${ARGS}) { account(id: $id) { journalEntries(${PASS}) $SELECTION } }`,
        { id: accounts['1000']!.id },
        ['account', 'journalEntries'],
      ),
      cashEntryIds,
    );
  });

  it('another tenant gets empty pages that count nothing, and the same refusals of bad arguments', async () => {
    const empty = { edges: [], nodes: [], totalCount: 0 };
    for (const [document, variables, path] of [
      [
        `query ($bookId: ID!, ${ARGS}) { accounts(bookId: $bookId, ${PASS}) $SELECTION }`,
        { bookId },
        ['accounts'],
      ],
      [
        `query ($bookId: ID!, ${ARGS}) { journalEntries(bookId: $bookId, ${PASS}) $SELECTION }`,
        { bookId },
        ['journalEntries'],
      ],
    ] as const) {
      const fetch = fetcher(document, variables, [...path], outsider);
      expect(await page(fetch, { last: 5 })).toMatchObject(empty);
      expect(await refusedWith(fetch, { first: 0 })).toBe('BAD_USER_INPUT');
    }
  });

  it('the SDK: totalCount and pageInfo in its documents, and iterators both ways', async () => {
    const first = await admin.journalEntries({ bookId, first: 3 });
    expect(first.totalCount).toBe(entryIds.length);
    expect(first.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.edges[0]!.cursor,
      endCursor: first.edges[2]!.cursor,
    });
    const last = await admin.journalEntries({ bookId, last: 2 });
    expect(last.edges.map((e) => e.node.id)).toEqual(entryIds.slice(-2));
    const forward: string[] = [];
    for await (const e of admin.iterateJournalEntries({ bookId, first: 2 })) forward.push(e.id);
    expect(forward).toEqual(entryIds);
    const newestFirst: string[] = [];
    for await (const e of admin.iterateJournalEntries({ bookId, first: 2 }, { backward: true }))
      newestFirst.push(e.id);
    expect(newestFirst).toEqual([...entryIds].reverse());
    const accountsBack: string[] = [];
    for await (const a of admin.iterateAccounts({ bookId, type: 'ASSET' }, { backward: true }))
      accountsBack.push(a.code);
    expect(accountsBack).toEqual(['1000']);
    // The SDK surfaces the refusal of a bad size as BAD_USER_INPUT.
    expect((await expectClientError(admin.accounts({ bookId, last: 101 }))).code).toBe('BAD_USER_INPUT');
  });
});

// ---------------------------------------------------------------------------------------------
// The co-ops' connections
// ---------------------------------------------------------------------------------------------

describe('the co-ops’ connections', () => {
  let coop: CoopFixture;
  let partyIds: string[];
  let membershipIds: string[];

  beforeAll(async () => {
    coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '0.00', voting: true });
    partyIds = [];
    membershipIds = [];
    for (let i = 0; i < 5; i++) {
      const joined = await join(coop, { classId, appliedOn: daysAgo(10), name: `Member ${i}` });
      partyIds.push(joined.partyId);
      membershipIds.push(joined.membership.id);
    }
    // A party without a membership, registered last.
    const extra = await coop.treasurer.registerParty({ coopId: coop.id, name: 'Not yet a member' });
    partyIds.push(extra.party!.id);
  });

  it('coops: a token’s co-ops in creation order', async () => {
    const coops = [];
    for (let i = 0; i < 5; i++) coops.push((await admin.createCoop(coopInput())).coop!.id);
    const token = (
      await issueToken(admin, {
        // A Coop id names its book in a grant.
        grants: coops.map((c) => ({ role: 'TREASURER' as const, scope: c })),
      })
    ).token;
    await checkConnection(
      fetcher(`query (${ARGS}) { coops(${PASS}) $SELECTION }`, {}, ['coops'], token),
      coops,
    );
    const viaSdk = ledgerClient(server.url, { token });
    expect((await viaSdk.coops({ last: 1 })).edges.map((e) => e.node.id)).toEqual(coops.slice(-1));
    expect((await viaSdk.coops()).totalCount).toBe(5);
  });

  it('coopDirectory: listed co-ops of a city by name, to anyone', async () => {
    const city = `Pagetown ${uniqueSuffix()}`;
    const listed: { id: string; name: string }[] = [];
    for (const name of ['Delta', 'Alpha', 'Echo', 'Charlie', 'Bravo']) {
      const created = await admin.createCoop(
        coopInput({ name: `${name} ${uniqueSuffix()}`, city, publicListing: true }),
      );
      listed.push({ id: created.coop!.id, name: created.coop!.name });
    }
    // An unlisted co-op of the same city is not in the list.
    await admin.createCoop(coopInput({ city, publicListing: false }));
    const byName = [...listed].sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => c.id);
    await checkConnection(
      fetcher(
        `query ($city: String, ${ARGS}) { coopDirectory(city: $city, ${PASS}) $SELECTION }`,
        { city },
        ['coopDirectory'],
        null,
      ),
      byName,
    );
    const anonymous = ledgerClient(server.url, { token: null });
    expect((await anonymous.coopDirectory({ city: city.toUpperCase(), last: 2 })).totalCount).toBe(5);
  });

  it('Coop.memberships by member number, with a state filter that counts', async () => {
    await checkConnection(
      fetcher(
        `query ($id: ID!, ${ARGS}) { coop(id: $id) { memberships(${PASS}) $SELECTION } }`,
        { id: coop.id },
        ['coop', 'memberships'],
        coop.treasurerToken,
      ),
      membershipIds,
    );
    const active = await coop.treasurer.coopMemberships({ coopId: coop.id, state: 'ACTIVE' });
    expect(active?.totalCount).toBe(0);
    const back: number[] = [];
    for await (const m of coop.treasurer.iterateMemberships(
      { coopId: coop.id, first: 2 },
      { backward: true },
    ))
      back.push(m.memberNumber);
    expect(back).toEqual([5, 4, 3, 2, 1]);
  });

  it('Coop.parties in registration order', async () => {
    await checkConnection(
      fetcher(
        `query ($id: ID!, ${ARGS}) { coop(id: $id) { parties(${PASS}) $SELECTION } }`,
        { id: coop.id },
        ['coop', 'parties'],
        coop.treasurerToken,
      ),
      partyIds,
    );
    const back: string[] = [];
    for await (const p of coop.treasurer.iterateParties({ coopId: coop.id }, { backward: true }))
      back.push(p.id);
    expect(back).toEqual([...partyIds].reverse());
  });
});
