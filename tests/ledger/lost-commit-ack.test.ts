/**
 * The commit that PostgreSQL made but whose answer never reached the service (issue 10's fault
 * injection): a TCP proxy between the service and PostgreSQL forwards everything until it is armed,
 * then cuts the next connection on which PostgreSQL answers `COMMIT` (its CommandComplete), before
 * the service reads that answer. The write is durable; the service saw only a dead connection.
 * The client's answer must not claim anything false (UNAVAILABLE, or posted), and its retry with
 * the same key must replay the committed entry: never post it a second time.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, createClass, join, setupCoop, today } from '../helpers/coop.js';
import { ledgerClient, newKey, type RawGraphQLAnswer, rawGraphQL, waitFor } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const COMMIT_TAG = Buffer.from('COMMIT\0');

interface Proxy {
  url: string;
  /**
   * Arms the cut: once the service sends a message holding `marker` on a connection, the next
   * answer of PostgreSQL on that connection (with `tag`: the next one holding that command tag) is
   * not forwarded, and the connection is cut. Resolves once it was.
   */
  armCut(marker: string, tag?: Buffer): Promise<void>;
  close(): Promise<void>;
}

async function commitCuttingProxy(databaseUrl: string): Promise<Proxy> {
  const target = new URL(databaseUrl);
  let armed: { marker: Buffer; tag: Buffer | null; done: () => void } | null = null;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    /** This connection sent the armed marker: its next (tagged) answer is cut. */
    let marked: { tag: Buffer | null; done: () => void } | null = null;
    client.on('data', (chunk) => {
      if (armed && chunk.includes(armed.marker)) {
        marked = { tag: armed.tag, done: armed.done };
        armed = null;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (marked && (marked.tag === null || chunk.includes(marked.tag))) {
        const { done } = marked;
        marked = null;
        client.destroy();
        upstream.destroy();
        done();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    armCut: (marker, tag) =>
      new Promise<void>((resolve) => {
        armed = { marker: Buffer.from(marker), tag: tag ?? null, done: resolve };
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let proxy: Proxy;
let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let classId: string;
let db: pg.Client;

beforeAll(async () => {
  proxy = await commitCuttingProxy(inject('databaseUrl'));
  server = await startTestServer({ databaseUrl: proxy.url, config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  db = new pg.Client({ connectionString: inject('databaseUrl') });
  await db.connect();
  coop = await setupCoop(server.url, admin);
  classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
  await proxy?.close();
});

async function entryCount(): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from journal_entry where book_id = $1',
    [coop.bookUuid],
  );
  return rows[0]!.n;
}

function payloadOf(answer: RawGraphQLAnswer, field: string) {
  return (
    answer.body.data as Record<string, { replayed: boolean; userErrors: { code: string }[] } | null> | null
  )?.[field];
}

interface Case {
  name: string;
  field: string;
  /** The request, and what arms the cut: a marker its write sends, and the answer to cut. */
  prepare: () => Promise<{
    send: () => Promise<RawGraphQLAnswer>;
    marker: string;
    tag?: Buffer;
    /** Entries the request posts (default 1). */
    entries?: number;
  }>;
}

const cases: Case[] = [
  {
    name: 'postJournalEntry',
    field: 'postJournalEntry',
    prepare: async () => {
      // The memo is sent only by the write (one statement, committed on its own), never by a read.
      const marker = `cut-${newKey('memo')}`;
      const input = {
        bookId: coop.bookId,
        idempotencyKey: newKey('ack'),
        memo: marker,
        lines: [
          { accountId: coop.chart['1010']!, side: 'DEBIT', amount: '7.00', unit: 'USD' },
          { accountId: coop.chart['4000']!, side: 'CREDIT', amount: '7.00', unit: 'USD' },
        ],
      };
      const send = () =>
        rawGraphQL(
          server.url,
          'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { replayed userErrors { code } } }',
          { input },
          { token: coop.treasurerToken },
        );
      return { send, marker };
    },
  },
  {
    name: 'joinCoop (its own transaction, posting the subscription)',
    field: 'joinCoop',
    prepare: async () => {
      const party = await coop.treasurer.registerParty({ coopId: coop.id, name: `Member ${newKey('m')}` });
      const input = {
        coopId: coop.id,
        partyId: party.party!.id,
        memberClassId: classId,
        appliedOn: today(),
        idempotencyKey: newKey('ack-join'),
      };
      const send = () =>
        rawGraphQL(
          server.url,
          'mutation ($input: JoinCoopInput!) { joinCoop(input: $input) { replayed userErrors { code } } }',
          { input },
          { token: coop.treasurerToken },
        );
      // Its transaction inserts the membership with its key, then posts, then sends COMMIT.
      return { send, marker: input.idempotencyKey, tag: COMMIT_TAG };
    },
  },
  {
    name: 'payInstalment',
    field: 'payInstalment',
    prepare: async () => {
      const joined = await join(coop, { classId, appliedOn: today() });
      const input = {
        membershipId: joined.membership.id,
        amount: '25.00',
        paidOn: today(),
        method: 'BANK',
        idempotencyKey: newKey('ack-pay'),
      };
      const send = () =>
        rawGraphQL(
          server.url,
          'mutation ($input: PayInstalmentInput!) { payInstalment(input: $input) { replayed userErrors { code } } }',
          { input },
          { token: coop.treasurerToken },
        );
      return { send, marker: input.idempotencyKey, tag: COMMIT_TAG };
    },
  },
  {
    name: 'postJournalEntries (INDEPENDENT, 3 entries)',
    field: 'postJournalEntries',
    prepare: async () => {
      const marker = `cut-${newKey('memo')}`;
      const input = {
        bookId: coop.bookId,
        mode: 'INDEPENDENT',
        entries: [1, 2, 3].map((n) => ({
          idempotencyKey: newKey(`ack${n}`),
          memo: n === 2 ? marker : 'batch',
          lines: [
            { accountId: coop.chart['1010']!, side: 'DEBIT', amount: `${n}.00`, unit: 'USD' },
            { accountId: coop.chart['4000']!, side: 'CREDIT', amount: `${n}.00`, unit: 'USD' },
          ],
        })),
      };
      const send = async () => {
        const answer = await rawGraphQL(
          server.url,
          `mutation ($input: PostJournalEntriesInput!) { postJournalEntries(input: $input) {
             results { replayed userErrors { code } } userErrors { code } } }`,
          { input },
          { token: coop.treasurerToken },
        );
        // One payload of the batch's shape: replayed when every entry was, and every refusal.
        const payload = (
          answer.body.data as {
            postJournalEntries: {
              results: { replayed: boolean; userErrors: { code: string }[] }[];
              userErrors: { code: string }[];
            };
          } | null
        )?.postJournalEntries;
        if (!payload) return answer;
        const folded = {
          replayed: payload.results.every((r) => r.replayed),
          userErrors: [...payload.userErrors, ...payload.results.flatMap((r) => r.userErrors)],
        };
        return { ...answer, body: { data: { postJournalEntries: folded } } };
      };
      return { send, marker, entries: 3 };
    },
  },
];

describe('a commit made by PostgreSQL whose answer the service never read', () => {
  for (const c of cases) {
    it(`${c.name}: the retry replays the committed entry, never posts it twice`, async () => {
      const { send, marker, tag, entries = 1 } = await c.prepare();
      const before = await entryCount();
      const cut = proxy.armCut(marker, tag);
      const first = await send();
      await cut;
      // The commit is durable although the service never saw its answer.
      expect(await entryCount()).toBe(before + entries);
      const firstPayload = payloadOf(first, c.field);
      if (firstPayload) expect(firstPayload).toMatchObject({ userErrors: [] });
      else expect(first.body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAVAILABLE']);
      let retry: ReturnType<typeof payloadOf>;
      await waitFor(
        async () => {
          retry = payloadOf(await send(), c.field);
          return retry !== null && retry !== undefined;
        },
        { what: 'the retry to be answered' },
      );
      expect(retry!).toEqual({ replayed: true, userErrors: [] });
      expect(await entryCount()).toBe(before + entries);
    });
  }
});
