/**
 * Hundreds of concurrent money-moving requests through real HTTP against a few accounts with
 * tight bounds, so that many are refused, then an audit that trusts nothing the service says
 * about itself:
 * - the book's entries, walked in chain order, never take a bounded account past a bound, not
 *   even for a moment (posted, available and projected);
 * - each account's stored totals equal the sums of its lines, computed with SQL over
 *   journal_line, and the balances the API reports;
 * - the entries equal exactly the successful answers (one entry per idempotency key);
 * - the trial balance balances and the hash chain verifies.
 * Then the same with two server processes posting to the same accounts at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ErrorCode,
  JournalEntry,
  JournalEntryInput,
  JournalLineInput,
  LedgerClient,
} from '../../client-sdk/index.js';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  fromMinor,
  ledgerClient,
  newKey,
  seededRandom,
  toMinor,
  usePg,
} from '../helpers/ledger.js';
import {
  type ServerProcess,
  spawnServerProcess,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const ctx = usePg();

const SCALE = 2;

interface Accounts {
  equity: CreatedAccount;
  m1: CreatedAccount;
  m2: CreatedAccount;
  m3: CreatedAccount;
  pool: CreatedAccount;
}

/** Bounds in minor units (normal direction), by account id. */
type Bounds = Map<string, { code: string; lower: bigint | null; upper: bigint | null; debitNormal: boolean }>;

async function setupBook(ledger: LedgerClient): Promise<{ book: CreatedBook; a: Accounts; bounds: Bounds }> {
  const book = await createBook(ledger);
  // Three mutual-credit members (credit limit 50, ceiling 100) and a cash pool (0..150): tight
  // enough that a good share of random transfers must be refused.
  const member = (code: string) =>
    createAccount(ledger, book.id, { code, type: 'LIABILITY', lowerBound: '-50.00', upperBound: '100.00' });
  const a: Accounts = {
    equity: await createAccount(ledger, book.id, { code: 'equity', type: 'EQUITY' }),
    m1: await member('m1'),
    m2: await member('m2'),
    m3: await member('m3'),
    pool: await createAccount(ledger, book.id, {
      code: 'pool',
      type: 'ASSET',
      lowerBound: '0',
      upperBound: '150.00',
    }),
  };
  const bounds: Bounds = new Map();
  for (const m of [a.m1, a.m2, a.m3])
    bounds.set(m.id, { code: m.code, lower: -5000n, upper: 10000n, debitNormal: false });
  bounds.set(a.pool.id, { code: 'pool', lower: 0n, upper: 15000n, debitNormal: true });
  return { book, a, bounds };
}

/** Random lines over the few accounts: transfers between members, pool in and out, splits. */
function randomLines(a: Accounts, random: () => number): JournalLineInput[] {
  const amount = (max: number) => fromMinor(BigInt(100 + Math.floor(random() * max * 100)), SCALE);
  const members = [a.m1, a.m2, a.m3];
  const pick = () => members[Math.floor(random() * members.length)]!;
  const r = random();
  if (r < 0.4) {
    const payer = pick();
    let payee = pick();
    while (payee === payer) payee = pick();
    const x = amount(40);
    return [debit(payer, x), credit(payee, x)];
  }
  if (r < 0.55) {
    const x = amount(60);
    return [debit(a.pool, x), credit(a.equity, x)];
  }
  if (r < 0.7) {
    const x = amount(60);
    return [debit(a.equity, x), credit(a.pool, x)];
  }
  if (r < 0.8) {
    const x = amount(50);
    return random() < 0.5 ? [debit(a.equity, x), credit(pick(), x)] : [debit(pick(), x), credit(a.equity, x)];
  }
  // Two members pay a third, and the pool pays the equity: four bounded movements at once.
  const x = toMinor(amount(20), SCALE);
  const y = toMinor(amount(20), SCALE);
  return [
    debit(a.m1, fromMinor(x, SCALE)),
    debit(a.m2, fromMinor(y, SCALE)),
    credit(a.m3, fromMinor(x + y, SCALE)),
    debit(a.equity, fromMinor(x, SCALE)),
    credit(a.pool, fromMinor(x, SCALE)),
  ];
}

/** What one request (or one entry of a batch) came back with. */
interface Outcome {
  op: string;
  /** Which client (server process) answered, where the wave records it. */
  via?: number;
  key: string | null;
  entry: JournalEntry | null;
  replayed: boolean;
  codes: ErrorCode[];
}

function outcomeOf(
  op: string,
  key: string | null,
  payload: { entry?: JournalEntry | null; replayed: boolean; userErrors: readonly { code: ErrorCode }[] },
): Outcome {
  return {
    op,
    key,
    entry: payload.entry ?? null,
    replayed: payload.replayed,
    codes: payload.userErrors.map((e) => e.code),
  };
}

/** Requests of one wave, against one (or several, round-robin) clients. */
function firstWave(clients: LedgerClient[], bookId: string, a: Accounts, seed: number, singles: number) {
  const random = seededRandom(seed);
  const client = (i: number) => clients[i % clients.length]!;
  const calls: Promise<Outcome[]>[] = [];
  const inputs: { key: string; lines: JournalLineInput[] }[] = [];
  for (let i = 0; i < singles; i++) {
    const input = { key: newKey('c'), lines: randomLines(a, random) };
    inputs.push(input);
    calls.push(
      client(i)
        .postJournalEntry({ bookId, idempotencyKey: input.key, lines: input.lines })
        .then((p) => [{ ...outcomeOf('post', input.key, p), via: i % clients.length }]),
    );
  }
  // The same requests again, at the same time, through another client where there is one:
  // whatever happens, one key ends with at most one entry.
  for (let i = 0; i < 16; i++) {
    const input = inputs[i * 7]!;
    calls.push(
      client(i * 7 + 1)
        .postJournalEntry({ bookId, idempotencyKey: input.key, lines: input.lines })
        .then((p) => [outcomeOf('post', input.key, p)]),
    );
  }
  for (let i = 0; i < 6; i++) {
    const entries: JournalEntryInput[] = Array.from({ length: 8 }, () => ({
      idempotencyKey: newKey('cb'),
      lines: randomLines(a, random),
    }));
    const mode = i % 2 === 0 ? 'ATOMIC' : 'INDEPENDENT';
    calls.push(
      client(i)
        .postJournalEntries({ bookId, mode, entries })
        .then((p) => {
          expect(p.userErrors).toEqual([]);
          return p.results.map((r) => outcomeOf(`batch-${mode}`, entries[r.index]!.idempotencyKey, r));
        }),
    );
  }
  for (let i = 0; i < 24; i++) {
    const key = newKey('cp');
    calls.push(
      client(i)
        .postPendingEntry({ bookId, idempotencyKey: key, lines: randomLines(a, random) })
        .then((p) => [outcomeOf('pending', key, p)]),
    );
  }
  return Promise.all(calls).then((o) => o.flat());
}

/** Commits a third of the pending entries, voids a third, and races a commit against a void for the rest. */
function secondWave(
  clients: LedgerClient[],
  bookId: string,
  a: Accounts,
  pendings: JournalEntry[],
  seed: number,
) {
  const random = seededRandom(seed);
  const client = (i: number) => clients[i % clients.length]!;
  const calls: Promise<Outcome[]>[] = [];
  pendings.forEach((pending, i) => {
    const commit = () => {
      const key = newKey('cc');
      return client(i)
        .commitPendingEntry({ entryId: pending.id, idempotencyKey: key })
        .then((p) => [outcomeOf('commit', key, p)]);
    };
    const release = () => {
      const key = newKey('cv');
      return client(i + 1)
        .voidPendingEntry({ entryId: pending.id, idempotencyKey: key })
        .then((p) => [outcomeOf('void', key, p)]);
    };
    if (i % 3 === 0) calls.push(commit());
    else if (i % 3 === 1) calls.push(release());
    else calls.push(commit(), release());
  });
  for (let i = 0; i < 60; i++) {
    const key = newKey('c2');
    calls.push(
      client(i)
        .postJournalEntry({ bookId, idempotencyKey: key, lines: randomLines(a, random) })
        .then((p) => [outcomeOf('post', key, p)]),
    );
  }
  return Promise.all(calls).then((o) => o.flat());
}

/** Which codes each kind of request may legitimately be refused with under this load. */
const ALLOWED_CODES: Record<string, ErrorCode[]> = {
  post: ['BALANCE_BOUND_EXCEEDED'],
  pending: ['BALANCE_BOUND_EXCEEDED'],
  'batch-ATOMIC': ['BALANCE_BOUND_EXCEEDED', 'BATCH_ITEM_FAILED'],
  'batch-INDEPENDENT': ['BALANCE_BOUND_EXCEEDED'],
  commit: ['PENDING_ALREADY_RESOLVED'],
  void: ['PENDING_ALREADY_RESOLVED'],
};

interface Totals {
  pd: bigint;
  pc: bigint;
  ped: bigint;
  pec: bigint;
}
const zero = (): Totals => ({ pd: 0n, pc: 0n, ped: 0n, pec: 0n });

/** The audit. `outcomes` are every answer the clients got. */
async function audit(
  ledger: LedgerClient,
  book: CreatedBook,
  a: Accounts,
  bounds: Bounds,
  outcomes: Outcome[],
) {
  // 1. Every refusal is one this load can cause; nothing failed for another reason.
  for (const o of outcomes) {
    expect(
      o.codes.every((c) => ALLOWED_CODES[o.op]!.includes(c)),
      `${o.op}: ${o.codes.join(',')}`,
    ).toBe(true);
    expect(o.entry === null).toBe(o.codes.length > 0);
  }
  const refusedByBounds = outcomes.filter((o) => o.codes.includes('BALANCE_BOUND_EXCEEDED')).length;
  const ok = outcomes.filter((o) => o.entry !== null);
  expect(refusedByBounds).toBeGreaterThan(20);
  expect(ok.length).toBeGreaterThan(50);

  // 2. One entry per key; replays point at an entry some other answer posted.
  const byKey = new Map<string, Set<string>>();
  for (const o of ok) {
    const ids = byKey.get(o.key!) ?? new Set();
    ids.add(o.entry!.id);
    byKey.set(o.key!, ids);
  }
  for (const [key, ids] of byKey) expect({ key, entries: ids.size }).toEqual({ key, entries: 1 });
  const postedAnswers = ok.filter((o) => !o.replayed);
  const answeredIds = new Set(postedAnswers.map((o) => o.entry!.id));
  expect(answeredIds.size).toBe(postedAnswers.length);
  for (const o of ok.filter((o) => o.replayed)) expect(answeredIds.has(o.entry!.id)).toBe(true);

  // 3. The book holds exactly the entries that were answered as posted, numbered 1..N.
  const listed: JournalEntry[] = [];
  for await (const entry of ledger.iterateJournalEntries({ bookId: book.id })) listed.push(entry);
  const n = postedAnswers.length;
  expect(listed).toHaveLength(n);
  expect(new Set(listed.map((e) => e.id))).toEqual(answeredIds);
  expect((await ledger.book({ id: book.id }))!.entryCount).toBe(String(n));
  const bookUuid = decodeGlobalId(book.id).id;
  const { rows: counted } = await ctx.db.query(
    'select count(*)::int as n from journal_entry where book_id = $1',
    [bookUuid],
  );
  expect(counted[0].n).toBe(n);
  const bySeq = [...listed].sort((x, y) => Number(BigInt(x.seq) - BigInt(y.seq)));
  expect(bySeq.map((e) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));

  // 4. Walk the chain in order: no bounded account ever leaves its bounds, even transiently.
  const state = new Map<string, Totals>();
  const byId = new Map(listed.map((e) => [e.id, e]));
  const apply = (lines: JournalEntry['lines'], sign: 1n | -1n, pending: boolean) => {
    for (const line of lines) {
      const t = state.get(line.account.id) ?? zero();
      const amount = sign * toMinor(line.amount, SCALE);
      const field: keyof Totals = pending
        ? line.side === 'DEBIT'
          ? 'ped'
          : 'pec'
        : line.side === 'DEBIT'
          ? 'pd'
          : 'pc';
      t[field] += amount;
      state.set(line.account.id, t);
    }
  };
  const violations: string[] = [];
  for (const entry of bySeq) {
    const target = entry.pendingEntry ? byId.get(entry.pendingEntry.id) : undefined;
    switch (entry.kind) {
      case 'STANDARD':
      case 'REVERSAL':
        apply(entry.lines, 1n, false);
        break;
      case 'PENDING':
        apply(entry.lines, 1n, true);
        break;
      case 'COMMIT':
        expect(target?.kind).toBe('PENDING');
        apply(target!.lines, -1n, true);
        apply(entry.lines, 1n, false);
        break;
      case 'VOID':
        expect(target?.kind).toBe('PENDING');
        apply(target!.lines, -1n, true);
        break;
    }
    for (const [id, b] of bounds) {
      const t = state.get(id) ?? zero();
      const posted = b.debitNormal ? t.pd - t.pc : t.pc - t.pd;
      const available = posted - (b.debitNormal ? t.pec : t.ped);
      const projected = posted + (b.debitNormal ? t.ped : t.pec);
      if ((b.lower !== null && available < b.lower) || (b.upper !== null && projected > b.upper)) {
        violations.push(
          `after seq ${entry.seq} (${entry.kind}): ${b.code} available ${available} projected ${projected}`,
        );
      }
    }
  }
  expect(violations).toEqual([]);
  // Every pending entry was resolved exactly once.
  const resolutions = listed
    .filter((e) => e.kind === 'COMMIT' || e.kind === 'VOID')
    .map((e) => e.pendingEntry!.id);
  expect(new Set(resolutions).size).toBe(resolutions.length);

  // 5. Stored totals = sums of lines (SQL over journal_line) = what the API reports = the walk.
  const { rows: sums } = await ctx.db.query(
    `select a.id as account_id,
            a.posted_debits::numeric(38,2)::text as stored_pd, a.posted_credits::numeric(38,2)::text as stored_pc,
            a.pending_debits::numeric(38,2)::text as stored_ped, a.pending_credits::numeric(38,2)::text as stored_pec,
            coalesce(sum(l.amount) filter (where l.phase = 'POSTED' and l.side = 'DEBIT'), 0)::numeric(38,2)::text as pd,
            coalesce(sum(l.amount) filter (where l.phase = 'POSTED' and l.side = 'CREDIT'), 0)::numeric(38,2)::text as pc,
            coalesce(sum(l.amount) filter (where l.phase = 'PENDING' and l.side = 'DEBIT' and r.id is null), 0)::numeric(38,2)::text as ped,
            coalesce(sum(l.amount) filter (where l.phase = 'PENDING' and l.side = 'CREDIT' and r.id is null), 0)::numeric(38,2)::text as pec
       from account a
       left join journal_line l on l.book_id = a.book_id and l.account_id = a.id
       left join journal_entry r on r.book_id = l.book_id and r.pending_id = l.entry_id
      where a.book_id = $1
      group by a.book_id, a.id`,
    [bookUuid],
  );
  expect(sums).toHaveLength(5);
  for (const account of Object.values(a)) {
    const row = sums.find((r) => r.account_id === decodeGlobalId(account.id).id)!;
    const fromLines = { pd: row.pd, pc: row.pc, ped: row.ped, pec: row.pec };
    expect({
      account: account.code,
      stored: { pd: row.stored_pd, pc: row.stored_pc, ped: row.stored_ped, pec: row.stored_pec },
    }).toEqual({
      account: account.code,
      stored: fromLines,
    });
    const walked = state.get(account.id) ?? zero();
    expect({
      account: account.code,
      walked: {
        pd: fromMinor(walked.pd, SCALE),
        pc: fromMinor(walked.pc, SCALE),
        ped: fromMinor(walked.ped, SCALE),
        pec: fromMinor(walked.pec, SCALE),
      },
    }).toEqual({
      account: account.code,
      walked: fromLines,
    });
    const balance = (await ledger.accountBalance({ accountId: account.id }))!;
    expect({
      account: account.code,
      debits: balance.debits,
      credits: balance.credits,
      pendingDebits: balance.pendingDebits,
      pendingCredits: balance.pendingCredits,
    }).toEqual({
      account: account.code,
      debits: row.pd,
      credits: row.pc,
      pendingDebits: row.ped,
      pendingCredits: row.pec,
    });
    const b = bounds.get(account.id);
    if (b) {
      const posted = toMinor(balance.posted, SCALE);
      const available = toMinor(balance.available!, SCALE);
      const projected = toMinor(balance.projected!, SCALE);
      expect(available <= posted && posted <= projected).toBe(true);
      if (b.lower !== null)
        expect(available >= b.lower, `${account.code} available ${balance.available}`).toBe(true);
      if (b.upper !== null)
        expect(projected <= b.upper, `${account.code} projected ${balance.projected}`).toBe(true);
    }
  }

  // 6. The trial balance balances; the chain verifies over every entry.
  const trial = await ledger.trialBalance({ bookId: book.id });
  expect(trial!.balanced).toBe(true);
  expect(await ledger.verifyBookChain({ bookId: book.id })).toMatchObject({
    ok: true,
    entriesChecked: n,
    firstMismatch: null,
  });
}

function pendingsOf(outcomes: Outcome[]): JournalEntry[] {
  return outcomes.filter((o) => o.op === 'pending' && o.entry !== null).map((o) => o.entry!);
}

function checkRaces(outcomes: Outcome[], pendings: JournalEntry[]) {
  // Every pending entry was resolved by exactly one request; of each commit/void pair sent at the
  // same time, the loser was told PENDING_ALREADY_RESOLVED.
  const wins = outcomes.filter((o) => (o.op === 'commit' || o.op === 'void') && o.entry !== null);
  expect(new Set(wins.map((o) => o.entry!.pendingEntry!.id))).toEqual(new Set(pendings.map((p) => p.id)));
  expect(wins).toHaveLength(pendings.length);
  const racing = pendings.filter((_, i) => i % 3 === 2).length;
  expect(outcomes.filter((o) => o.codes.includes('PENDING_ALREADY_RESOLVED'))).toHaveLength(racing);
}

describe('concurrent posting in one server process', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('keeps bounds, totals, entry count and the chain right under 300+ concurrent requests', async () => {
    const ledger = ledgerClient(server.url);
    const { book, a, bounds } = await setupBook(ledger);
    const wave1 = await firstWave([ledger], book.id, a, 1, 240);
    const pendings = pendingsOf(wave1);
    expect(pendings.length).toBeGreaterThan(3);
    const wave2 = await secondWave([ledger], book.id, a, pendings, 2);
    checkRaces(wave2, pendings);
    await audit(ledger, book, a, bounds, [...wave1, ...wave2]);
  });
});

describe('concurrent posting from two server processes', () => {
  const processes: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
  });

  it('keeps bounds and the chain across processes posting to the same accounts', async () => {
    processes.push(...(await Promise.all([spawnServerProcess(), spawnServerProcess()])));
    const clients = processes.map((p) => ledgerClient(p.url));
    const { book, a, bounds } = await setupBook(clients[0]!);
    const wave1 = await firstWave(clients, book.id, a, 3, 200);
    const pendings = pendingsOf(wave1);
    expect(pendings.length).toBeGreaterThan(3);
    // A rare INTERNAL_SERVER_ERROR on a void in this wave (2026-12-06; about 1 run in 30 under
    // load) was a commit racing it from the other process, seen between two reads of the void's
    // optimistic flush: race-void-commit.test.ts forces it. On a failure, the services' error lines
    // go with it.
    const wave2 = await secondWave(clients, book.id, a, pendings, 4).catch((error: unknown) => {
      for (const [i, p] of processes.entries()) {
        const errors = p
          .output()
          .split('\n')
          .filter((line) => /"level":(50|60)|error/i.test(line));
        console.error(`service ${i} error lines:\n${errors.join('\n').slice(-8000)}`);
      }
      throw error;
    });
    checkRaces(wave2, pendings);
    // Both processes posted entries (the round-robin really spread the load).
    for (const [index] of clients.entries()) {
      expect(wave1.some((o) => o.via === index && o.entry !== null)).toBe(true);
    }
    await audit(clients[1]!, book, a, bounds, [...wave1, ...wave2]);
  });
});
