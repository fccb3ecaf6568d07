/**
 * Fault injection over HTTP (issue 10): the service's PostgreSQL session is terminated
 * (pg_terminate_backend) while a write is inside its transaction, waiting on the book's row. The
 * request must answer as a clear outcome (posted, or a coded error such as UNAVAILABLE: never a
 * masked 500), an answered posting must exist, and the client's retry with the same key must post
 * what was not posted exactly once and replay what was, for the ledger's and the co-ops' writes.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, changeState, createClass, join, pay, setupCoop, today } from '../helpers/coop.js';
import {
  decodeGlobalId,
  ledgerClient,
  newKey,
  type RawGraphQLAnswer,
  rawGraphQL,
  waitFor,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let classId: string;
let db: pg.Client;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  db = new pg.Client({ connectionString: inject('databaseUrl') });
  await db.connect();
  coop = await setupCoop(server.url, admin);
  classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
  const funded = await coop.treasurer.postJournalEntry({
    bookId: coop.bookId,
    idempotencyKey: newKey('fund'),
    lines: [
      { accountId: coop.chart['1010']!, side: 'DEBIT', amount: '500.00', unit: 'USD' },
      { accountId: coop.chart['4000']!, side: 'CREDIT', amount: '500.00', unit: 'USD' },
    ],
  });
  expect(funded.userErrors).toEqual([]);
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

async function entryCount(): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from journal_entry where book_id = $1',
    [coop.bookUuid],
  );
  return rows[0]!.n;
}

/**
 * Sends the request while the book's row is locked from here, terminates every session that
 * waits behind that lock (the service's, inside its write transaction), then lets go.
 */
async function terminatedMidWrite(
  send: () => Promise<RawGraphQLAnswer>,
  lockOn: 'book' | 'bank account',
): Promise<{
  answer: RawGraphQLAnswer;
  terminated: number;
}> {
  const holder = new pg.Client({ connectionString: inject('databaseUrl') });
  await holder.connect();
  try {
    await holder.query('begin');
    if (lockOn === 'book') await holder.query('select 1 from book where id = $1 for update', [coop.bookUuid]);
    else
      await holder.query('select 1 from account where book_id = $1 and id = $2 for update', [
        coop.bookUuid,
        decodeGlobalId(coop.chart['1010']!).id,
      ]);
    const { rows } = await holder.query<{ pid: number }>('select pg_backend_pid() as pid');
    const holderPid = rows[0]!.pid;
    const waiting = async () => {
      const found = await db.query<{ pid: number }>(
        'select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))',
        [holderPid],
      );
      return found.rows.map((r) => r.pid);
    };
    const pending = send();
    pending.catch(() => {});
    await waitFor(async () => (await waiting()).length > 0, { what: 'the write to wait behind the lock' });
    const pids = await waiting();
    for (const pid of pids) await db.query('select pg_terminate_backend($1)', [pid]);
    await holder.query('rollback');
    return { answer: await pending, terminated: pids.length };
  } finally {
    await holder.end();
  }
}

interface Outcome {
  posted: boolean;
  replayed: boolean | undefined;
  codes: string[];
}

function outcomeOf(answer: RawGraphQLAnswer, field: string): Outcome {
  const errors = answer.body.errors ?? [];
  const payload = (answer.body.data as Record<string, Record<string, unknown>> | null | undefined)?.[field];
  const userErrors = [
    ...((payload?.userErrors as { code: string }[] | undefined) ?? []),
    ...((payload?.rowErrors as { code: string }[] | undefined) ?? []),
  ];
  const results = payload?.results as { replayed: boolean; userErrors: { code: string }[] }[] | undefined;
  const codes = [
    ...errors.map((e) => String(e.extensions?.code)),
    ...userErrors.map((e) => e.code),
    ...(results ?? []).flatMap((r) => r.userErrors.map((e) => e.code)),
  ];
  const replayed = results ? results.every((r) => r.replayed) : (payload?.replayed as boolean | undefined);
  const posted =
    payload !== undefined && payload !== null && codes.length === 0 && payload.imported !== false;
  return { posted, replayed, codes };
}

interface Case {
  name: string;
  field: string;
  /** Entries the request posts. */
  entries: number;
  /** Builds the request once (with its key); the returned send is the same request every time. */
  prepare: () => Promise<() => Promise<RawGraphQLAnswer>>;
  /** Also terminated while waiting on the bank account's row (later in the write: after the book). */
  touchesBank?: boolean;
}

const gql = (document: string, input: unknown) => () =>
  rawGraphQL(server.url, document, { input }, { token: coop.treasurerToken });

const ENTRY = 'entry { id } replayed userErrors { code field message }';

const CASES: Case[] = [
  {
    name: 'postJournalEntry',
    field: 'postJournalEntry',
    entries: 1,
    touchesBank: true,
    prepare: async () =>
      gql(`mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { ${ENTRY} } }`, {
        bookId: coop.bookId,
        idempotencyKey: newKey('kill'),
        lines: [
          { accountId: coop.chart['1010']!, side: 'DEBIT', amount: '1.00', unit: 'USD' },
          { accountId: coop.chart['4000']!, side: 'CREDIT', amount: '1.00', unit: 'USD' },
        ],
      }),
  },
  {
    name: 'postJournalEntries (ATOMIC, 2 entries)',
    field: 'postJournalEntries',
    entries: 2,
    prepare: async () =>
      gql(
        `mutation ($input: PostJournalEntriesInput!) { postJournalEntries(input: $input) {
           results { replayed userErrors { code } } userErrors { code } } }`,
        {
          bookId: coop.bookId,
          mode: 'ATOMIC',
          entries: [1, 2].map((n) => ({
            idempotencyKey: newKey(`kill${n}`),
            lines: [
              { accountId: coop.chart['1010']!, side: 'DEBIT', amount: `${n}.00`, unit: 'USD' },
              { accountId: coop.chart['4000']!, side: 'CREDIT', amount: `${n}.00`, unit: 'USD' },
            ],
          })),
        },
      ),
  },
  {
    name: 'reverseJournalEntry',
    field: 'reverseJournalEntry',
    entries: 1,
    prepare: async () => {
      const posted = await coop.treasurer.postJournalEntry({
        bookId: coop.bookId,
        idempotencyKey: newKey('to-reverse'),
        lines: [
          { accountId: coop.chart['1010']!, side: 'DEBIT', amount: '3.00', unit: 'USD' },
          { accountId: coop.chart['4000']!, side: 'CREDIT', amount: '3.00', unit: 'USD' },
        ],
      });
      return gql(
        `mutation ($input: ReverseJournalEntryInput!) { reverseJournalEntry(input: $input) { ${ENTRY} } }`,
        {
          entryId: posted.entry!.id,
          idempotencyKey: newKey('kill-rev'),
        },
      );
    },
  },
  {
    name: 'joinCoop (posts the subscription)',
    field: 'joinCoop',
    entries: 1,
    prepare: async () => {
      const party = await coop.treasurer.registerParty({ coopId: coop.id, name: `Member ${newKey('m')}` });
      return gql(`mutation ($input: JoinCoopInput!) { joinCoop(input: $input) { ${ENTRY} } }`, {
        coopId: coop.id,
        partyId: party.party!.id,
        memberClassId: classId,
        appliedOn: today(),
        idempotencyKey: newKey('kill-join'),
      });
    },
  },
  {
    name: 'payInstalment',
    field: 'payInstalment',
    entries: 1,
    touchesBank: true,
    prepare: async () => {
      const joined = await join(coop, { classId, appliedOn: today() });
      return gql(`mutation ($input: PayInstalmentInput!) { payInstalment(input: $input) { ${ENTRY} } }`, {
        membershipId: joined.membership.id,
        amount: '40.00',
        paidOn: today(),
        method: 'BANK',
        idempotencyKey: newKey('kill-pay'),
      });
    },
  },
  {
    name: 'transferShares',
    field: 'transferShares',
    entries: 1,
    prepare: async () => {
      const tradable = await createClass(coop, {
        code: `T${newKey('c').slice(-6)}`,
        name: 'Investor',
        buyIn: '100.00',
        voting: false,
        transferable: true,
      });
      const seller = await join(coop, { classId: tradable, appliedOn: today() });
      const buyer = await join(coop, { classId: tradable, appliedOn: today() });
      await pay(coop, seller.membership.id, '100.00', today());
      await changeState(coop, seller.membership.id, 'ACTIVE', today());
      await changeState(coop, buyer.membership.id, 'ACTIVE', today());
      return gql(`mutation ($input: TransferSharesInput!) { transferShares(input: $input) { ${ENTRY} } }`, {
        fromMembershipId: seller.membership.id,
        toMembershipId: buyer.membership.id,
        amount: '10.00',
        effectiveOn: today(),
        idempotencyKey: newKey('kill-transfer'),
      });
    },
  },
  {
    name: 'commitPendingEntry',
    field: 'commitPendingEntry',
    entries: 1,
    prepare: async () => {
      const pending = await coop.treasurer.postPendingEntry({
        bookId: coop.bookId,
        idempotencyKey: newKey('pending'),
        lines: [
          { accountId: coop.chart['1010']!, side: 'DEBIT', amount: '4.00', unit: 'USD' },
          { accountId: coop.chart['4000']!, side: 'CREDIT', amount: '4.00', unit: 'USD' },
        ],
      });
      expect(pending.userErrors).toEqual([]);
      return gql(
        `mutation ($input: CommitPendingEntryInput!) { commitPendingEntry(input: $input) { ${ENTRY} } }`,
        {
          entryId: pending.entry!.id,
          idempotencyKey: newKey('kill-commit'),
        },
      );
    },
  },
  {
    name: 'importMembersCsv (3 members, a subscription each)',
    field: 'importMembersCsv',
    entries: 3,
    prepare: async () =>
      gql(
        `mutation ($input: ImportMembersCsvInput!) { importMembersCsv(input: $input) {
           imported replayed userErrors { code } rowErrors { code } } }`,
        {
          coopId: coop.id,
          kind: 'MEMBERS',
          idempotencyKey: newKey('kill-import'),
          csv: `name,class,applied_on\n${[1, 2, 3].map((n) => `Member ${n} ${newKey('csv')},W,${today()}`).join('\n')}\n`,
        },
      ),
  },
];

describe('a write whose database session is terminated while it waits on a row', () => {
  const runs = CASES.flatMap((c) => [
    { c, lockOn: 'book' as const },
    ...(c.touchesBank ? [{ c, lockOn: 'bank account' as const }] : []),
  ]);
  for (const { c, lockOn } of runs) {
    it(`${c.name}, waiting on the ${lockOn}: a coded answer, then one posting whatever the retries`, async () => {
      const send = await c.prepare();
      const before = await entryCount();
      const { answer, terminated } = await terminatedMidWrite(send, lockOn);
      expect(terminated).toBeGreaterThan(0);
      const first = outcomeOf(answer, c.field);
      // Posted (200), or refused as UNAVAILABLE (503, with the advice to retry with the same key).
      if (first.posted) expect(answer.status).toBe(200);
      else {
        expect(first.codes, JSON.stringify(answer.body)).toEqual(['UNAVAILABLE']);
        expect(answer.status).toBe(503);
      }
      // What was answered as posted is there; what was not answered is not.
      expect(await entryCount()).toBe(before + (first.posted ? c.entries : 0));
      let second: Outcome | undefined;
      await waitFor(
        async () => {
          second = outcomeOf(await send(), c.field);
          return !second.codes.includes('UNAVAILABLE');
        },
        { what: 'the retry to reach the database' },
      );
      expect(second, JSON.stringify(second)).toEqual({ posted: true, replayed: first.posted, codes: [] });
      expect(outcomeOf(await send(), c.field)).toEqual({ posted: true, replayed: true, codes: [] });
      expect(await entryCount()).toBe(before + c.entries);
    });
  }
});
