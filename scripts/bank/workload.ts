/**
 * The bank test's load: a book of accounts that start at zero with credit limits, workers that
 * move money between them (single payments, batches, two-phase entries) and readers that take
 * the trial balance (every balance at one moment) and check it.
 *
 * Every operation has its own idempotency key and a recorded outcome: `ok` (the ledger answered
 * with an entry), `rejected` (it answered with a userError code) or, while neither came back,
 * `unknown` (timeout, dropped connection, UNAVAILABLE, a server that is down). An unknown op is sent
 * again with the very same input and key until it is ok or rejected.
 *
 * With --large-batches, half of the workers send INDEPENDENT batches of 64 to 200 entries instead,
 * between the unbounded accounts of books of their own (createLargeBook), so that the posting
 * engine's pipeline runs (a flush of at least PIPELINE_OPS_MIN ops decided from its cache, that
 * moved no bounded account, has the next flush decided while its write is in flight).
 *
 * Money is kept as decimal strings and decimal.js values, never as JS numbers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  type JournalLineInput,
  type LedgerClient,
  LedgerClientError,
  type PostJournalEntriesInput,
  type PostJournalEntryInput,
  type PostPendingEntryInput,
} from '../../client-sdk/index.js';
import { backoffDelayMs, type RetryPolicy } from '../../client-sdk/retry.js';
import { type BookScopedId, decodeId, decodeScopedId, scopedId } from '../../schema/ids.js';
import { Decimal, ZERO } from '../../server/core/money.js';
import { PIPELINE_OPS_MIN } from '../../server/ledger/write-connection.js';
import { Prng } from './prng.js';

export const UNIT = 'USD';
const SCALE = 2;

export interface BankAccount {
  /** Global id (what the API takes). */
  id: string;
  /** Raw uuid (what the tables hold). */
  rawId: string;
  code: string;
  /** Null for the unbounded accounts of a large-batch book. */
  lowerBound: Decimal | null;
  upperBound: Decimal | null;
}

export interface Bank {
  bookId: string;
  rawBookId: string;
  accounts: BankAccount[];
}

/** The raw ids in an Account, JournalEntry or Book global id (for a book, `id` is its own id). */
export function rawIds(globalId: string): BookScopedId {
  const scoped = decodeScopedId(globalId, 'Account') ?? decodeScopedId(globalId, 'JournalEntry');
  if (scoped) return scoped;
  const bookId = decodeId(globalId, 'Book');
  if (bookId) return { bookId, id: bookId };
  throw new Error(`not the global id of an account, entry or book: ${globalId}`);
}

/**
 * One book per run (so reruns on a shared database never interfere), with `count` ASSET accounts:
 * all debit-normal, so their balances (debits less credits) always sum to zero. Each starts at
 * zero with a credit limit (a lower bound below zero); every third one also has an upper bound.
 */
export async function createBank(
  client: LedgerClient,
  runId: string,
  count: number,
  rng: Prng,
): Promise<Bank> {
  const created = await client.createBook({
    name: `bank test ${runId}`,
    units: [{ code: UNIT, scale: SCALE }],
  });
  if (!created.book) throw new Error(`createBook failed: ${JSON.stringify(created.userErrors)}`);
  const bookId = created.book.id;
  const accounts: BankAccount[] = [];
  const limits = ['50.00', '100.00', '200.00', '500.00'];
  for (let i = 0; i < count; i++) {
    const lowerBound = new Decimal(rng.pick(limits)).negated();
    const upperBound = i % 3 === 2 ? new Decimal(rng.pick(['150.00', '300.00'])) : null;
    const code = `m${String(i).padStart(4, '0')}`;
    accounts.push(await createBankAccount(client, bookId, code, `member ${i}`, lowerBound, upperBound));
  }
  return { bookId, rawBookId: rawIds(bookId).id, accounts };
}

/** An ASSET account of a bank book, with its bounds (null: none). */
async function createBankAccount(
  client: LedgerClient,
  bookId: string,
  code: string,
  name: string,
  lowerBound: Decimal | null,
  upperBound: Decimal | null,
): Promise<BankAccount> {
  // createAccount carries no idempotency key, so it is sent once; faults start after setup.
  const payload = await client.createAccount({
    bookId,
    code,
    name,
    type: 'ASSET',
    unit: UNIT,
    ...(lowerBound ? { lowerBound: lowerBound.toFixed(SCALE) } : {}),
    ...(upperBound ? { upperBound: upperBound.toFixed(SCALE) } : {}),
  });
  if (!payload.account) throw new Error(`createAccount failed: ${JSON.stringify(payload.userErrors)}`);
  return { id: payload.account.id, rawId: rawIds(payload.account.id).id, code, lowerBound, upperBound };
}

/** Accounts of a large-batch book (createLargeBook). */
export const LARGE_BOOK_ACCOUNTS = 20;
/** Entries in a large batch: from the fewest ops of a flush that leads the pipeline, to 200. */
export const LARGE_BATCH_MIN = PIPELINE_OPS_MIN;
export const LARGE_BATCH_MAX = 200;

/**
 * A book for the large batches: LARGE_BOOK_ACCOUNTS ASSET accounts with no bounds, so a flush of
 * its entries alone may lead the pipeline (a write that moved a bounded account does not: the
 * next flush would need its latest line) and none of its entries is ever refused. A book of its
 * own, written by one service process, so that the other process's writes of the main book do
 * not make its cache stale.
 */
export async function createLargeBook(client: LedgerClient, runId: string, index: number): Promise<Bank> {
  const created = await client.createBook({
    name: `bank test ${runId} large batches ${index}`,
    units: [{ code: UNIT, scale: SCALE }],
  });
  if (!created.book) throw new Error(`createBook failed: ${JSON.stringify(created.userErrors)}`);
  const bookId = created.book.id;
  const accounts: BankAccount[] = [];
  for (let i = 0; i < LARGE_BOOK_ACCOUNTS; i++) {
    const code = `u${String(i).padStart(4, '0')}`;
    accounts.push(await createBankAccount(client, bookId, code, `unbounded ${i}`, null, null));
  }
  return { bookId, rawBookId: rawIds(bookId).id, accounts };
}

// ---------------------------------------------------------------------------------------------
// Outcomes

export type OpKind = 'PAYMENT' | 'BATCH_ITEM' | 'PENDING' | 'COMMIT' | 'VOID';
export type Outcome = 'ok' | 'rejected' | 'unknown';

export interface LineSpec {
  accountId: string;
  side: 'DEBIT' | 'CREDIT';
  amount: string;
}

export interface OpRecord {
  key: string;
  kind: OpKind;
  /** The lines sent (PAYMENT, BATCH_ITEM, PENDING). */
  lines: LineSpec[];
  /** COMMIT and VOID: the key of the pending entry they resolve. */
  pendingKey?: string;
  outcome: Outcome;
  /** The userError code of a rejection. */
  code?: string;
  /** Raw id of the entry the ledger acknowledged. */
  entryId?: string;
  attempts: number;
  /** Attempts after which the outcome was unknown. */
  unknownAttempts: number;
}

export interface LoadStats {
  requests: number;
  /** Requests that came back with no decision, by reason (TIMEOUT, UNAVAILABLE, NETWORK_ERROR...). */
  unknownByReason: Map<string, number>;
  /** Attempts sent with a deliberately short client timeout, and how many of them timed out. */
  shortTimeoutsSent: number;
  shortTimeoutsFired: number;
  /** Answers that are not allowed: IDEMPOTENCY_KEY_REUSED for a resend, a half-posted atomic batch. */
  anomalies: string[];
  reads: number;
  readFailures: number;
  /** Violations seen by readers (sum not zero, balance beyond a bound). */
  readViolations: string[];
}

export function newStats(): LoadStats {
  return {
    requests: 0,
    unknownByReason: new Map(),
    shortTimeoutsSent: 0,
    shortTimeoutsFired: 0,
    anomalies: [],
    reads: 0,
    readFailures: 0,
    readViolations: [],
  };
}

export interface LoadOptions {
  client: LedgerClient;
  bank: Bank;
  /** The large-batch books (none without --large-batches): the readers check them too. */
  largeBooks: Bank[];
  runId: string;
  seed: number;
  /** Inject client timeouts shorter than some requests. */
  shortTimeouts: boolean;
  /** Normal time limit of one attempt. */
  timeoutMs: number;
  stats: LoadStats;
  ops: OpRecord[];
  /** True once workers must not start new operations (they still finish the current one). */
  stopping: () => boolean;
  /** Past this instant (ms since epoch) unknown ops are left unknown: the run must end. */
  giveUpAt: () => number;
}

/**
 * Sleeps between resends of an unknown op: 50 ms doubling to 1 s, with the SDK's jitter drawn from
 * the seeded generator. `retries` is unused: the bank resends until the op is decided or time is up.
 */
const RESEND_POLICY: RetryPolicy = { retries: Number.POSITIVE_INFINITY, baseDelayMs: 50, maxDelayMs: 1_000 };

/** Share of batches / of other requests sent with a deliberately short client time limit. */
export const SHORT_TIMEOUT_SHARE_BATCH = 0.3;
export const SHORT_TIMEOUT_SHARE_SINGLE = 0.04;
/** Bounds (ms) of those short time limits. */
export const SHORT_TIMEOUT_MIN_MS = 2;
export const SHORT_TIMEOUT_MAX_MS = 40;

type Answer<T> = { kind: 'answer'; value: T } | { kind: 'unknown'; reason: string };

/**
 * Sends one request and says whether the ledger decided. Deliberately short client timeouts are
 * drawn here: a few percent of single requests and a third of batches get 2 to 40 ms, shorter than
 * many of them take, so their outcome is unknown even though the server may well have posted them.
 */
async function attempt<T>(
  options: LoadOptions,
  rng: Prng,
  isBatch: boolean,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<Answer<T>> {
  const { stats } = options;
  stats.requests++;
  const short =
    options.shortTimeouts && rng.chance(isBatch ? SHORT_TIMEOUT_SHARE_BATCH : SHORT_TIMEOUT_SHARE_SINGLE);
  const limitMs = short ? rng.int(SHORT_TIMEOUT_MIN_MS, SHORT_TIMEOUT_MAX_MS) : options.timeoutMs;
  if (short) stats.shortTimeoutsSent++;
  try {
    return { kind: 'answer', value: await send(AbortSignal.timeout(limitMs)) };
  } catch (error) {
    let reason = 'ERROR';
    if (error instanceof LedgerClientError) {
      reason = error.code === 'ABORTED' ? 'TIMEOUT' : error.code;
    }
    if (short && reason === 'TIMEOUT') stats.shortTimeoutsFired++;
    stats.unknownByReason.set(reason, (stats.unknownByReason.get(reason) ?? 0) + 1);
    return { kind: 'unknown', reason };
  }
}

/**
 * Sends `send` until the ledger decides, recording the outcome on `records` through `decide`,
 * which returns false when the answer is not a decision (then the op is retried).
 */
async function untilDecided<T>(
  options: LoadOptions,
  rng: Prng,
  records: OpRecord[],
  isBatch: boolean,
  send: (signal: AbortSignal) => Promise<T>,
  decide: (value: T) => void,
): Promise<void> {
  for (let n = 1; ; n++) {
    for (const record of records) record.attempts = n;
    const answer = await attempt(options, rng, isBatch, send);
    if (answer.kind === 'answer') {
      decide(answer.value);
      return;
    }
    for (const record of records) record.unknownAttempts++;
    if (Date.now() >= options.giveUpAt()) return;
    await sleep(backoffDelayMs(RESEND_POLICY, n, undefined, () => rng.next()));
  }
}

function amount(rng: Prng): string {
  // 0.01 to 60.00, skewed to small amounts.
  const cents = rng.chance(0.7) ? rng.int(1, 1_000) : rng.int(1_000, 6_000);
  return new Decimal(cents).dividedBy(100).toFixed(SCALE);
}

/** A payment: `amount` leaves the payer (credit) and reaches the payee (debit). */
function paymentLines(bank: Bank, rng: Prng): LineSpec[] {
  const payer = rng.pick(bank.accounts);
  let payee = rng.pick(bank.accounts);
  while (payee === payer) payee = rng.pick(bank.accounts);
  const value = amount(rng);
  return [
    { accountId: payee.id, side: 'DEBIT', amount: value },
    { accountId: payer.id, side: 'CREDIT', amount: value },
  ];
}

const toInput = (lines: LineSpec[]): JournalLineInput[] => lines.map((line) => ({ ...line, unit: UNIT }));

function record(
  options: LoadOptions,
  key: string,
  kind: OpKind,
  lines: LineSpec[],
  pendingKey?: string,
): OpRecord {
  const op: OpRecord = { key, kind, lines, outcome: 'unknown', attempts: 0, unknownAttempts: 0 };
  if (pendingKey !== undefined) op.pendingKey = pendingKey;
  options.ops.push(op);
  return op;
}

function settle(
  op: OpRecord,
  result: { entry: { id: string } | null; userErrors: readonly { code: string }[] },
  stats: LoadStats,
) {
  if (result.entry && result.userErrors.length === 0) {
    op.outcome = 'ok';
    op.entryId = rawIds(result.entry.id).id;
    delete op.code;
    return;
  }
  const code = result.userErrors[0]?.code ?? 'NO_ENTRY';
  if (code === 'IDEMPOTENCY_KEY_REUSED') {
    // The same input was sent again: the ledger must replay it, never call it a different request.
    stats.anomalies.push(`${op.key}: IDEMPOTENCY_KEY_REUSED for a resend of the same input`);
  }
  op.outcome = 'rejected';
  op.code = code;
}

/**
 * Sends a batch (postJournalEntries) until the ledger decides, settling each item from its result.
 */
async function sendBatch(
  options: LoadOptions,
  retryRng: Prng,
  bookId: string,
  base: string,
  mode: 'ATOMIC' | 'INDEPENDENT',
  items: OpRecord[],
): Promise<void> {
  const input: PostJournalEntriesInput = {
    bookId,
    mode,
    entries: items.map((item) => ({ idempotencyKey: item.key, lines: toInput(item.lines) })),
  };
  await untilDecided(
    options,
    retryRng,
    items,
    true,
    (signal) => options.client.postJournalEntries(input, { signal }),
    (payload) => {
      if (payload.results.length !== items.length) {
        // A batch-level rejection: nothing posted.
        for (const item of items)
          settle(item, { entry: null, userErrors: payload.userErrors }, options.stats);
        return;
      }
      for (const result of payload.results) settle(items[result.index]!, result, options.stats);
      const posted = items.filter((item) => item.outcome === 'ok').length;
      if (mode === 'ATOMIC' && posted !== 0 && posted !== items.length) {
        options.stats.anomalies.push(`${base}: ATOMIC batch answered ${posted} of ${items.length} posted`);
      }
    },
  );
}

/**
 * A large-batch worker (--large-batches): INDEPENDENT batches of LARGE_BATCH_MIN to LARGE_BATCH_MAX
 * payments between the unbounded accounts of `book`, each entry with its own key, resent on an
 * unknown outcome like any batch, until `stopping()`.
 */
export async function runLargeBatchWorker(options: LoadOptions, index: number, book: Bank): Promise<void> {
  const rng = Prng.derive(options.seed, `large-${index}`);
  const retryRng = Prng.derive(options.seed, `large-retries-${index}`);
  for (let n = 0; !options.stopping(); n++) {
    const base = `${options.runId}.L${index}.${n}`;
    const size = rng.int(LARGE_BATCH_MIN, LARGE_BATCH_MAX);
    const items = Array.from({ length: size }, (_, i) =>
      record(options, `${base}.b${i}`, 'BATCH_ITEM', paymentLines(book, rng)),
    );
    await sendBatch(options, retryRng, book.bookId, base, 'INDEPENDENT', items);
  }
}

/** One worker: a seeded sequence of operations until `stopping()`. */
export async function runWorker(options: LoadOptions, index: number): Promise<void> {
  const { client, bank, runId } = options;
  // The op sequence depends on the seed and the worker only; retry timing uses its own generator.
  const rng = Prng.derive(options.seed, `worker-${index}`);
  const retryRng = Prng.derive(options.seed, `retries-${index}`);
  const bookId = bank.bookId;
  for (let n = 0; !options.stopping(); n++) {
    const base = `${runId}.w${index}.${n}`;
    const dice = rng.next();
    if (dice < 0.65) {
      const op = record(options, base, 'PAYMENT', paymentLines(bank, rng));
      const input: PostJournalEntryInput = { bookId, idempotencyKey: op.key, lines: toInput(op.lines) };
      await untilDecided(
        options,
        retryRng,
        [op],
        false,
        (signal) => client.postJournalEntry(input, { signal }),
        (payload) => settle(op, payload, options.stats),
      );
    } else if (dice < 0.8) {
      const size = rng.int(2, 12);
      const mode = rng.chance(0.5) ? 'ATOMIC' : 'INDEPENDENT';
      const items = Array.from({ length: size }, (_, i) =>
        record(options, `${base}.b${i}`, 'BATCH_ITEM', paymentLines(bank, rng)),
      );
      await sendBatch(options, retryRng, bookId, base, mode, items);
    } else {
      const pending = record(options, `${base}.p`, 'PENDING', paymentLines(bank, rng));
      const input: PostPendingEntryInput = {
        bookId,
        idempotencyKey: pending.key,
        lines: toInput(pending.lines),
      };
      await untilDecided(
        options,
        retryRng,
        [pending],
        false,
        (signal) => client.postPendingEntry(input, { signal }),
        (payload) => settle(pending, payload, options.stats),
      );
      if (pending.outcome !== 'ok') continue;
      const commit = rng.chance(0.6);
      const resolution = record(
        options,
        `${base}.${commit ? 'c' : 'v'}`,
        commit ? 'COMMIT' : 'VOID',
        [],
        pending.key,
      );
      const entryId = encodeGlobalID('JournalEntry', scopedId(bank.rawBookId, pending.entryId!));
      const ref = { entryId, idempotencyKey: resolution.key };
      await untilDecided(
        options,
        retryRng,
        [resolution],
        false,
        (signal) =>
          commit ? client.commitPendingEntry(ref, { signal }) : client.voidPendingEntry(ref, { signal }),
        (payload) => settle(resolution, payload, options.stats),
      );
    }
  }
}

/**
 * A reader: the trial balance is every account's balance read in one statement (one snapshot of
 * the book). Each read must sum to zero and keep every balance within its account's bounds.
 */
export async function runReader(options: LoadOptions, index: number): Promise<void> {
  const { client, stats } = options;
  const rng = Prng.derive(options.seed, `reader-${index}`);
  // Every other read is of the main book; the others are of each large-batch book in turn.
  const books = [options.bank, ...options.largeBooks];
  const byId = new Map(books.flatMap((book) => book.accounts.map((a) => [a.id, a] as const)));
  const turns =
    options.largeBooks.length === 0 ? [options.bank] : options.largeBooks.flatMap((b) => [options.bank, b]);
  for (let n = 0; !options.stopping(); n++) {
    const bookId = turns[n % turns.length]!.bookId;
    try {
      const trial = await client.trialBalance({ bookId }, { signal: AbortSignal.timeout(options.timeoutMs) });
      if (!trial) throw new Error('trialBalance answered null');
      stats.reads++;
      let sum = ZERO;
      for (const line of trial.lines) {
        const balance = new Decimal(line.debits).minus(new Decimal(line.credits));
        sum = sum.plus(balance);
        const account = byId.get(line.account.id);
        if (!account) {
          stats.readViolations.push(`read ${stats.reads}: unknown account ${line.account.id}`);
          continue;
        }
        if (
          (account.lowerBound && balance.lessThan(account.lowerBound)) ||
          (account.upperBound && balance.greaterThan(account.upperBound))
        ) {
          stats.readViolations.push(
            `read ${stats.reads}: ${account.code} balance ${balance.toFixed(SCALE)} beyond its bounds`,
          );
        }
      }
      if (!sum.isZero() || !trial.balanced) {
        stats.readViolations.push(
          `read ${stats.reads}: balances sum to ${sum.toFixed(SCALE)}, balanced=${trial.balanced}`,
        );
      }
    } catch {
      stats.readFailures++;
    }
    await sleep(rng.int(50, 250));
  }
}
