/**
 * The first decision for an idempotency key is the only one (issue 10 item 4). A request the
 * posting engine refuses against the locked state is remembered under its key, in the same
 * transaction as the postings of its group, so a later copy of it (a resend, a copy a paused
 * process reads late) replays the refusal and never posts, even once the ledger could take it;
 * the same key with other input is IDEMPOTENCY_KEY_REUSED. Refusals decided without the database
 * or the clock (the shape of the input) are deterministic and not stored.
 *
 * The last case is the attack itself: two service processes on one database, one paused
 * (SIGSTOP) with a request in its socket while its retry is refused by the other.
 */

import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
  usePg,
  waitFor,
} from '../helpers/ledger.js';
import {
  type ServerProcess,
  spawnServerProcess,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const ctx = usePg();

interface Wallet {
  book: CreatedBook;
  /** ASSET with a lower bound of 0, holding 10.00. */
  wallet: CreatedAccount;
  expense: CreatedAccount;
  equity: CreatedAccount;
}

async function walletBook(ledger: LedgerClient): Promise<Wallet> {
  const book = await createBook(ledger);
  const wallet = await createAccount(ledger, book.id, { code: 'wallet', type: 'ASSET', lowerBound: '0.00' });
  const expense = await createAccount(ledger, book.id, { code: 'expense', type: 'EXPENSE' });
  const equity = await createAccount(ledger, book.id, { code: 'equity', type: 'EQUITY' });
  await fund(ledger, { book, wallet, expense, equity }, '10.00');
  return { book, wallet, expense, equity };
}

async function fund(ledger: LedgerClient, w: Wallet, amount: string): Promise<void> {
  const funded = await ledger.postJournalEntry({
    bookId: w.book.id,
    idempotencyKey: newKey('fund'),
    lines: [debit(w.wallet, amount), credit(w.equity, amount)],
  });
  expect(funded.userErrors).toEqual([]);
}

/** A payment of 30.00 out of a wallet holding 10.00: BALANCE_BOUND_EXCEEDED until it is funded. */
function overdraft(w: Wallet, key = newKey('overdraft')): PostJournalEntryInput {
  return {
    bookId: w.book.id,
    idempotencyKey: key,
    lines: [debit(w.expense, '30.00'), credit(w.wallet, '30.00')],
  };
}

async function entriesWithKey(w: Wallet, key: string): Promise<number> {
  const { rows } = await ctx.db.query(
    'select count(*)::int as n from journal_entry where book_id = $1 and idempotency_key = $2',
    [decodeGlobalId(w.book.id).id, key],
  );
  return rows[0].n;
}

async function refusalRows(w: Wallet, key: string): Promise<{ code: string; field: string | null }[]> {
  const { rows } = await ctx.db.query(
    'select code, field from journal_refusal where book_id = $1 and idempotency_key = $2',
    [decodeGlobalId(w.book.id).id, key],
  );
  return rows;
}

const codes = (payload: { userErrors: { code: string }[] }) => payload.userErrors.map((e) => e.code);

describe('refusals are remembered under their key', () => {
  let server: TestServer;
  let ledger: LedgerClient;

  beforeAll(async () => {
    server = await startTestServer();
    ledger = ledgerClient(server.url);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('replays a refusal to the same key and input even once the ledger could take it', async () => {
    const w = await walletBook(ledger);
    const input = overdraft(w);
    const first = await ledger.postJournalEntry(input);
    expect(first.userErrors).toEqual([
      expect.objectContaining({ code: 'BALANCE_BOUND_EXCEEDED', field: 'lines[1].accountId' }),
    ]);
    expect(await refusalRows(w, input.idempotencyKey)).toEqual([
      { code: 'BALANCE_BOUND_EXCEEDED', field: 'lines[1].accountId' },
    ]);

    await fund(ledger, w, '100.00');
    const again = await ledger.postJournalEntry(input);
    expect(again).toMatchObject({ entry: null, userErrors: first.userErrors });
    const reused = await ledger.postJournalEntry({ ...input, memo: 'corrected' });
    expect(codes(reused)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    // A new key is a new request, decided now.
    const fresh = await ledger.postJournalEntry(overdraft(w));
    expect(fresh.userErrors).toEqual([]);

    expect(await entriesWithKey(w, input.idempotencyKey)).toBe(0);
    expect((await ledger.accountBalance({ accountId: w.wallet.id }))!.posted).toBe('80.00');
  });

  it('remembers the entry that failed an atomic batch, not its neighbours', async () => {
    const w = await walletBook(ledger);
    const neighbour = {
      idempotencyKey: newKey('neighbour'),
      lines: [debit(w.wallet, '1.00'), credit(w.equity, '1.00')],
    };
    const cause = {
      idempotencyKey: newKey('cause'),
      lines: [debit(w.expense, '50.00'), credit(w.wallet, '50.00')],
    };
    const batch = { bookId: w.book.id, mode: 'ATOMIC' as const, entries: [neighbour, cause] };
    const first = await ledger.postJournalEntries(batch);
    expect(first.results.map((r) => codes(r))).toEqual([['BATCH_ITEM_FAILED'], ['BALANCE_BOUND_EXCEEDED']]);

    await fund(ledger, w, '100.00');
    const again = await ledger.postJournalEntries(batch);
    expect(again.postedCount).toBe(0);
    expect(again.results.map((r) => codes(r))).toEqual([['BATCH_ITEM_FAILED'], ['BALANCE_BOUND_EXCEEDED']]);
    expect(await refusalRows(w, neighbour.idempotencyKey)).toEqual([]);
    // The neighbour was never decided on its own: its key is free for it.
    const alone = await ledger.postJournalEntry({ bookId: w.book.id, ...neighbour });
    expect(alone).toMatchObject({ userErrors: [], replayed: false });
    expect(await entriesWithKey(w, cause.idempotencyKey)).toBe(0);
  });

  it('replays refusals of reversals, commits and voids', async () => {
    const w = await walletBook(ledger);
    const payment = await ledger.postJournalEntry({
      bookId: w.book.id,
      idempotencyKey: newKey('pay'),
      lines: [debit(w.expense, '10.00'), credit(w.wallet, '10.00')],
    });
    const reverseInput = { entryId: payment.entry!.id, idempotencyKey: newKey('rev') };
    const reversed = await ledger.reverseJournalEntry(reverseInput);
    expect(reversed.userErrors).toEqual([]);
    // Reversing a pending entry is refused, and stays refused.
    const pending = await ledger.postPendingEntry({
      bookId: w.book.id,
      idempotencyKey: newKey('pending'),
      lines: [debit(w.expense, '1.00'), credit(w.wallet, '1.00')],
    });
    const notReversible = { entryId: pending.entry!.id, idempotencyKey: newKey('rev') };
    expect(codes(await ledger.reverseJournalEntry(notReversible))).toEqual(['NOT_REVERSIBLE']);
    expect(codes(await ledger.reverseJournalEntry(notReversible))).toEqual(['NOT_REVERSIBLE']);
    // A commit refused because the entry was voided first keeps that answer.
    const voided = await ledger.voidPendingEntry({
      entryId: pending.entry!.id,
      idempotencyKey: newKey('void'),
    });
    expect(voided.userErrors).toEqual([]);
    const commit = { entryId: pending.entry!.id, idempotencyKey: newKey('commit') };
    expect(codes(await ledger.commitPendingEntry(commit))).toEqual(['PENDING_ALREADY_RESOLVED']);
    expect(codes(await ledger.commitPendingEntry(commit))).toEqual(['PENDING_ALREADY_RESOLVED']);
    expect(codes(await ledger.commitPendingEntry({ ...commit, memo: 'other' }))).toEqual([
      'IDEMPOTENCY_KEY_REUSED',
    ]);
  });

  it('stores nothing for a refusal that needs no database: the same input is refused alike anyway', async () => {
    const w = await walletBook(ledger);
    const key = newKey('shape');
    const oneLine = await ledger.postJournalEntry({
      bookId: w.book.id,
      idempotencyKey: key,
      lines: [debit(w.wallet, '1.00')],
    });
    expect(codes(oneLine)).toEqual(['INVALID_INPUT']);
    expect(await refusalRows(w, key)).toEqual([]);
    const corrected = await ledger.postJournalEntry({
      bookId: w.book.id,
      idempotencyKey: key,
      lines: [debit(w.wallet, '1.00'), credit(w.equity, '1.00')],
    });
    expect(corrected).toMatchObject({ userErrors: [], replayed: false });
  });
});

// ---------------------------------------------------------------------------------------------
// Two processes, one paused
// ---------------------------------------------------------------------------------------------

const running = new Set<ServerProcess>();

afterEach(async () => {
  for (const p of running) p.kill('SIGCONT');
  await Promise.all([...running].map((p) => p.stop()));
  running.clear();
});

/** Bytes received and not yet read by the process on 127.0.0.1:`port` (Linux: /proc/net/tcp). */
function unreadBytesOnPort(port: number): number {
  const lines = readFileSync('/proc/net/tcp', 'utf8').trim().split('\n').slice(1);
  let total = 0;
  for (const line of lines) {
    const [, local, , state, queues] = line.trim().split(/\s+/);
    const localPort = Number.parseInt(local!.split(':')[1]!, 16);
    const rxQueue = Number.parseInt(queues!.split(':')[1]!, 16);
    if (localPort === port && state === '01') total += rxQueue;
  }
  return total;
}

const POST_ENTRY = `mutation($input: PostJournalEntryInput!) {
  postJournalEntry(input: $input) { replayed entry { id } userErrors { code field } }
}`;

/**
 * Sends one GraphQL request on a connection of its own (no pooled keep-alive socket, which the
 * server might close while paused), resolving with the parsed answer.
 */
function postOnOwnConnection(
  server: ServerProcess,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/graphql',
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${server.adminToken}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(text));
          } catch (error) {
            reject(new Error(`not JSON (HTTP ${res.statusCode}): ${text}`, { cause: error }));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('a stale copy in a paused process', () => {
  it('is answered with the refusal its retry got from the other process, and never posts', async () => {
    const paused = await spawnServerProcess();
    running.add(paused);
    const other = await spawnServerProcess();
    running.add(other);
    const ledger = ledgerClient(other.url);
    const w = await walletBook(ledger);
    const input = overdraft(w);

    // Process 1 is paused with the request in its socket (the kernel accepted the connection).
    paused.kill('SIGSTOP');
    const before = unreadBytesOnPort(paused.port);
    const stale = postOnOwnConnection(paused, POST_ENTRY, { input });
    await waitFor(() => unreadBytesOnPort(paused.port) > before, {
      what: 'the request to reach the paused process',
    });

    // Its retry goes to process 2 and is refused; then the wallet is funded, so the same
    // payment would now be accepted if it were decided afresh.
    const retry = await ledger.postJournalEntry(input);
    expect(codes(retry)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    await fund(ledger, w, '100.00');

    paused.kill('SIGCONT');
    const answer = await stale;
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.postJournalEntry).toEqual({
      replayed: false,
      entry: null,
      userErrors: [{ code: 'BALANCE_BOUND_EXCEEDED', field: 'lines[1].accountId' }],
    });
    expect(await entriesWithKey(w, input.idempotencyKey)).toBe(0);
    expect((await ledger.accountBalance({ accountId: w.wallet.id }))!.posted).toBe('110.00');

    // Both processes keep answering the key the same way.
    for (const server of [paused, other]) {
      const again = await ledgerClient(server.url).postJournalEntry(input);
      expect(codes(again)).toEqual(['BALANCE_BOUND_EXCEEDED']);
      const reused = await ledgerClient(server.url).postJournalEntry({ ...input, memo: 'other' });
      expect(codes(reused)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    }
    expect(await entriesWithKey(w, input.idempotencyKey)).toBe(0);
    expect((await ledger.auditBook({ bookId: w.book.id }))!.ok).toBe(true);
  }, 120_000); // two server processes to start on a shared machine
});
