/**
 * Entries are append-only, and the database itself says so: UPDATE, DELETE and TRUNCATE on
 * journal_entry and journal_line are refused by triggers, whoever connects (these statements run
 * through a direct `pg` connection as a superuser, not through the service). And when someone who
 * can switch the triggers off edits history anyway, verifyBookChain names the first entry that
 * no longer matches its hash.
 *
 * Every destructive statement runs in a transaction that is rolled back, so a regression here
 * cannot wipe the entries of the other test files sharing the database; every tampering happens
 * in a book of its own.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  newKey,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ db: true });

interface Fixture {
  book: CreatedBook;
  bookUuid: string;
  accounts: Record<'cash' | 'bank' | 'equity', CreatedAccount>;
  /** Raw ids and global ids of the entries, by seq (1-based index 0). */
  entries: { id: string; uuid: string; seq: string; memo: string }[];
}

/** A book of its own with `count` posted entries. */
async function fixture(count = 4): Promise<Fixture> {
  const book = await createBook(ctx.ledger);
  const accounts = {
    cash: await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' }),
    bank: await createAccount(ctx.ledger, book.id, { code: 'bank', type: 'ASSET' }),
    equity: await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' }),
  };
  const batch = await ctx.ledger.postJournalEntries({
    bookId: book.id,
    mode: 'ATOMIC',
    entries: Array.from({ length: count }, (_, i) => ({
      idempotencyKey: newKey('imm'),
      memo: `entry ${i + 1}`,
      metadata: [{ key: 'n', value: String(i + 1) }],
      lines: [debit(accounts.cash, `${10 + i}.00`), credit(accounts.equity, `${10 + i}.00`)],
    })),
  });
  expect(batch.postedCount).toBe(count);
  const entries = batch.results.map((r) => ({
    id: r.entry!.id,
    uuid: decodeGlobalId(r.entry!.id).id,
    seq: r.entry!.seq,
    memo: r.entry!.memo,
  }));
  expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: count }, (_, i) => String(i + 1)));
  expect((await ctx.ledger.verifyBookChain({ bookId: book.id }))!.ok).toBe(true);
  return { book, bookUuid: decodeGlobalId(book.id).id, accounts, entries };
}

/** Runs `sql` in a transaction that is always rolled back; returns the error it raised, if any. */
async function attempt(sql: string, params: unknown[] = []): Promise<(Error & { code?: string }) | null> {
  await ctx.db.query('begin');
  try {
    await ctx.db.query(sql, params);
    return null;
  } catch (error) {
    return error as Error & { code?: string };
  } finally {
    await ctx.db.query('rollback');
  }
}

/**
 * Edits history the only way left: as a superuser, with the immutability triggers off (and, with
 * `scaleCheckOff`, the trigger that refuses line amounts finer than their unit).
 */
async function tamper(statements: [string, unknown[]][], { scaleCheckOff = false } = {}): Promise<void> {
  const triggers: [string, string][] = [
    ['journal_entry', 'journal_entry_immutable'],
    ['journal_line', 'journal_line_immutable'],
    ...(scaleCheckOff ? [['journal_line', 'journal_line_scale_update'] as [string, string]] : []),
  ];
  await ctx.db.query('begin');
  try {
    for (const [table, trigger] of triggers)
      await ctx.db.query(`alter table ${table} disable trigger ${trigger}`);
    for (const [sql, params] of statements) {
      const result = await ctx.db.query(sql, params);
      expect(result.rowCount, sql).toBeGreaterThan(0);
    }
    for (const [table, trigger] of triggers)
      await ctx.db.query(`alter table ${table} enable trigger ${trigger}`);
    await ctx.db.query('commit');
  } catch (error) {
    await ctx.db.query('rollback');
    throw error;
  }
}

describe('the database refuses to change entries', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(3);
  });

  it.each([
    ['update journal_entry set memo = $2 where book_id = $1', ['x']],
    ['update journal_entry set effective_at = effective_at - $2::interval where book_id = $1', ['1 day']],
    ['update journal_line set amount = amount + 1 where book_id = $1', []],
    [
      'update journal_line set side = case side when $2 then $3 else $2 end where book_id = $1',
      ['DEBIT', 'CREDIT'],
    ],
    ['delete from journal_line where book_id = $1', []],
    ['delete from journal_entry where book_id = $1 and seq = 3', []],
  ])('refuses %s', async (sql, extra) => {
    const error = await attempt(sql, [f.bookUuid, ...extra]);
    expect(error).not.toBeNull();
    // restrict_violation, raised by the ledger_reject_mutation trigger.
    expect(error!.code).toBe('23001');
    expect(error!.message).toMatch(/append-only/);
  });

  it('refuses to truncate the entries or their lines', async () => {
    // Every table that references the journal (pending_open, other domains' links to entries),
    // read from the catalogue so that a domain adding one does not turn this case into 0A000.
    const { rows } = await ctx.db.query<{ name: string }>(
      `select distinct conrelid::regclass::text as name from pg_constraint
        where contype = 'f' and confrelid in ('journal_entry'::regclass, 'journal_line'::regclass)
          and conrelid not in ('journal_entry'::regclass, 'journal_line'::regclass)
        order by 1`,
    );
    expect(rows.map((r) => r.name)).toContain('pending_open');
    for (const sql of [
      'truncate journal_line',
      'truncate journal_entry cascade',
      `truncate ${['journal_line', 'journal_entry', ...rows.map((r) => r.name)].join(', ')}`,
    ]) {
      const error = await attempt(sql);
      expect({ sql, code: error?.code }).toEqual({ sql, code: '23001' });
    }
    // Without CASCADE, or without every table that references them, the foreign keys refuse it
    // even before the trigger would.
    // (0A000: "cannot truncate a table referenced in a foreign key constraint").
    expect((await attempt('truncate journal_entry'))?.code).toBe('0A000');
    expect((await attempt('truncate journal_line, journal_entry'))?.code).toBe('0A000');
  });

  it('still holds every entry unchanged and verifiable afterwards', async () => {
    const { rows } = await ctx.db.query(
      `select e.seq::text as seq, e.memo, count(l.*)::int as lines, sum(l.amount)::text as amount
         from journal_entry e join journal_line l on l.book_id = e.book_id and l.entry_id = e.id
        where e.book_id = $1 group by e.seq, e.memo order by e.seq`,
      [f.bookUuid],
    );
    expect(rows).toEqual([
      { seq: '1', memo: 'entry 1', lines: 2, amount: '20.000000000000000000' },
      { seq: '2', memo: 'entry 2', lines: 2, amount: '22.000000000000000000' },
      { seq: '3', memo: 'entry 3', lines: 2, amount: '24.000000000000000000' },
    ]);
    expect(await ctx.ledger.verifyBookChain({ bookId: f.book.id })).toMatchObject({
      ok: true,
      entriesChecked: 3,
    });
  });
});

describe('the database refuses amounts finer than their unit (issue 10 item 2)', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(2);
  });

  /** Runs `statements` in a transaction that is rolled back; the first error, if any. */
  async function attemptAll(statements: string[], params: unknown[]) {
    await ctx.db.query('begin');
    try {
      for (const sql of statements) await ctx.db.query(sql, sql.includes('$1') ? params : []);
      return null;
    } catch (error) {
      return error as Error & { code?: string };
    } finally {
      await ctx.db.query('rollback');
    }
  }

  it('refuses a new line of 10.004 USD', async () => {
    const insert = (amount: string) =>
      attempt(
        `insert into journal_line (book_id, entry_id, line_no, account_id, side, amount, unit_code, effective_at, phase, seq)
         select book_id, entry_id, 99, account_id, side, $2::numeric, unit_code, effective_at, phase, seq
           from journal_line where book_id = $1 and entry_id = $3 and line_no = 1`,
        [f.bookUuid, amount, f.entries[0]!.uuid],
      );
    const error = await insert('10.004');
    expect(error?.code).toBe('23514'); // check_violation
    expect(error?.message).toMatch(/more decimal places than its unit allows/);
    // The control: the same insert at the unit's scale is not refused by it.
    expect(await insert('10.01')).toBeNull();
  });

  it('refuses a line changed by 0.004 even with the immutability trigger off', async () => {
    const off = 'alter table journal_line disable trigger journal_line_immutable';
    const error = await attemptAll(
      [off, 'update journal_line set amount = amount + 0.004 where book_id = $1 and line_no = 1'],
      [f.bookUuid],
    );
    expect(error?.code).toBe('23514');
    // With the trigger off, a change at the unit's scale goes through (it is the chain that sees it).
    expect(
      await attemptAll(
        [off, 'update journal_line set amount = amount + 0.01 where book_id = $1 and line_no = 1'],
        [f.bookUuid],
      ),
    ).toBeNull();
  });

  it.each([
    ['lower_bound = -0.001', true],
    ['upper_bound = 100.005', true],
    ['posted_debits = posted_debits + 0.004', true],
    ['pending_credits = pending_credits + 0.000000000000000001', true],
    ['lower_bound = -0.01, upper_bound = 100.10, posted_debits = posted_debits + 1.25', false],
  ])('on an account: %s is refused: %s', async (set, refused) => {
    const error = await attemptAll([`update account set ${set} where book_id = $1`], [f.bookUuid]);
    expect(error?.code ?? null).toBe(refused ? '23514' : null);
  });

  it('refuses a new account with a bound finer than its unit', async () => {
    const insert = (bound: string) =>
      attempt(
        `insert into account (book_id, id, code, name, type, unit_code, lower_bound, created_at)
         values ($1, gen_random_uuid(), 'fine', 'fine', 'ASSET', 'USD', $2::numeric, now())`,
        [f.bookUuid, bound],
      );
    expect((await insert('-5.001'))?.code).toBe('23514');
    expect(await insert('-5.00')).toBeNull();
  });
});

describe("the database holds the journal's references, checked once per statement (issue 12)", () => {
  let f: Fixture;
  let other: Fixture;
  beforeAll(async () => {
    f = await fixture(2);
    other = await fixture(1);
  });

  /** A copy of the book's first line as line 99 of `entryId`, on `accountId` (defaults: as is). */
  const insertLine = (entryId?: string, accountId?: string) =>
    attempt(
      `insert into journal_line (book_id, entry_id, line_no, account_id, side, amount, unit_code, effective_at, phase, seq)
       select book_id, coalesce($2::uuid, entry_id), 99, coalesce($3::uuid, account_id), side, amount, unit_code, effective_at, phase, seq
         from journal_line where book_id = $1 and entry_id = $4 and line_no = 1`,
      [f.bookUuid, entryId ?? null, accountId ?? null, f.entries[0]!.uuid],
    );
  const uuidOf = (account: CreatedAccount) => decodeGlobalId(account.id).id;

  it('takes a line that names an entry and an account of its book', async () => {
    expect(await insertLine(f.entries[1]!.uuid, uuidOf(f.accounts.bank))).toBeNull();
  });

  it.each([
    ['no entry', () => [crypto.randomUUID(), undefined], /names no entry of its book/],
    ["another book's entry", () => [other.entries[0]!.uuid, undefined], /names no entry of its book/],
    ['no account', () => [undefined, crypto.randomUUID()], /is not an account of its book/],
    [
      "another book's account",
      () => [undefined, uuidOf(other.accounts.cash)],
      /is not an account of its book/,
    ],
  ] as const)('refuses a line that names %s', async (_, args, message) => {
    const [entryId, accountId] = args();
    const error = await insertLine(entryId, accountId);
    expect(error?.code).toBe('23503'); // foreign_key_violation
    expect(error?.message).toMatch(message);
  });

  it('refuses an entry of a book that does not exist', async () => {
    const error = await attempt(
      `insert into journal_entry (book_id, id, seq, kind, idempotency_key, request_hash, effective_at, recorded_at,
           memo, metadata, posted_by, prev_hash, hash)
       select gen_random_uuid(), gen_random_uuid(), seq, kind, idempotency_key, request_hash, effective_at, recorded_at,
           memo, metadata, posted_by, prev_hash, hash
         from journal_entry where book_id = $1 and seq = 1`,
      [f.bookUuid],
    );
    expect(error?.code).toBe('23503');
    expect(error?.message).toMatch(/names book .* which does not exist/);
  });

  it.each([
    ['delete an account the journal names', 'delete from account where book_id = $1 and id = $2'],
    [
      'give such an account another id',
      'update account set id = gen_random_uuid() where book_id = $1 and id = $2',
    ],
    ['delete the book', 'delete from book where id = $1 and $2::uuid is not null'],
    [
      'give the book another id',
      'update book set id = gen_random_uuid() where id = $1 and $2::uuid is not null',
    ],
  ])('refuses to %s', async (_, sql) => {
    const error = await attempt(sql, [f.bookUuid, uuidOf(f.accounts.cash)]);
    expect(error?.code).toBe('23001'); // restrict_violation
    expect(error?.message).toMatch(/never deleted or given another id/);
  });

  it('refuses to delete an account no line names yet (an account is closed instead)', async () => {
    const unused = await createAccount(ctx.ledger, f.book.id, { code: 'unused', type: 'ASSET' });
    const error = await attempt('delete from account where book_id = $1 and id = $2', [
      f.bookUuid,
      uuidOf(unused),
    ]);
    expect(error?.code).toBe('23001');
  });

  it.each(['truncate account cascade', 'truncate book cascade'])('refuses to %s', async (sql) => {
    expect((await attempt(sql))?.code).toBe('23001');
  });

  it('still updates what is not a key: balances, bounds, closing', async () => {
    expect(
      await attempt(
        'update account set lower_bound = -5.00, closed_at = now() where book_id = $1 and id = $2',
        [f.bookUuid, uuidOf(f.accounts.bank)],
      ),
    ).toBeNull();
  });
});

describe('verifyBookChain finds tampering', () => {
  const entryEdit =
    (sql: string, ...params: unknown[]) =>
    (f: Fixture, target: Fixture['entries'][number]) =>
      [[sql, [f.bookUuid, target.uuid, ...params]]] as [string, unknown[]][];

  it.each([
    [
      'a memo',
      2,
      entryEdit('update journal_entry set memo = $3 where book_id = $1 and id = $2', 'rewritten'),
    ],
    [
      'an effectiveAt',
      3,
      entryEdit(
        "update journal_entry set effective_at = effective_at - interval '1 day' where book_id = $1 and id = $2",
      ),
    ],
    [
      'metadata',
      1,
      entryEdit(`update journal_entry set metadata = '{"n":"99"}'::jsonb where book_id = $1 and id = $2`),
    ],
    [
      'an idempotency key',
      4,
      entryEdit('update journal_entry set idempotency_key = $3 where book_id = $1 and id = $2', 'forged'),
    ],
    [
      'a line amount',
      2,
      entryEdit(
        'update journal_line set amount = amount + 0.01 where book_id = $1 and entry_id = $2 and line_no = 1',
      ),
    ],
    // Balanced edits: the entry still balances, only the chain can tell.
    [
      'both sides of an entry',
      3,
      entryEdit(
        `update journal_line set side = case side when 'DEBIT' then 'CREDIT' else 'DEBIT' end where book_id = $1 and entry_id = $2`,
      ),
    ],
    [
      'the account of a line',
      2,
      (f: Fixture, target: Fixture['entries'][number]) =>
        [
          [
            'update journal_line set account_id = $3 where book_id = $1 and entry_id = $2 and line_no = 1',
            [f.bookUuid, target.uuid, decodeGlobalId(f.accounts.bank.id).id],
          ],
        ] as [string, unknown[]][],
    ],
  ] as const)('names the entry after changing %s (seq %i)', async (_what, seq, edit) => {
    const f = await fixture(4);
    const target = f.entries[seq - 1]!;
    await tamper(edit(f, target));
    const verified = await ctx.ledger.verifyBookChain({ bookId: f.book.id });
    expect(verified).toMatchObject({
      ok: false,
      entriesChecked: seq - 1,
      firstMismatch: { seq: String(seq), entry: { id: target.id } },
      book: { id: f.book.id },
    });
    expect(verified!.firstMismatch!.reason).toMatch(/hash/);
  });

  // Issue 10 item 2: amounts were hashed at the unit's scale, so 10.004 hashed like 10.00.
  it('names the entry after changing a line amount by 0.004 USD, below the unit scale', async () => {
    const f = await fixture(4);
    const target = f.entries[1]!;
    await tamper(
      [
        [
          'update journal_line set amount = amount + 0.004 where book_id = $1 and entry_id = $2 and line_no = 1',
          [f.bookUuid, target.uuid],
        ],
      ],
      { scaleCheckOff: true },
    );
    const { rows } = await ctx.db.query(
      'select amount::text as amount from journal_line where book_id = $1 and entry_id = $2 and line_no = 1',
      [f.bookUuid, target.uuid],
    );
    expect(rows[0].amount).toBe('11.004000000000000000');
    const verified = await ctx.ledger.verifyBookChain({ bookId: f.book.id });
    expect(verified).toMatchObject({
      ok: false,
      entriesChecked: 1,
      firstMismatch: { seq: '2', entry: { id: target.id } },
    });
    expect(verified!.firstMismatch!.reason).toMatch(/hash/);
  });

  it('names the entry after one that was deleted from the middle of the chain', async () => {
    const f = await fixture(4);
    const gone = f.entries[1]!;
    await tamper([
      ['delete from journal_line where book_id = $1 and entry_id = $2', [f.bookUuid, gone.uuid]],
      ['delete from journal_entry where book_id = $1 and id = $2', [f.bookUuid, gone.uuid]],
    ]);
    const verified = await ctx.ledger.verifyBookChain({ bookId: f.book.id });
    expect(verified).toMatchObject({
      ok: false,
      entriesChecked: 1,
      firstMismatch: { seq: '3', entry: { id: f.entries[2]!.id } },
    });
  });

  it('notices the last entry missing although the rest of the chain is intact', async () => {
    const f = await fixture(3);
    const last = f.entries[2]!;
    await tamper([
      ['delete from journal_line where book_id = $1 and entry_id = $2', [f.bookUuid, last.uuid]],
      ['delete from journal_entry where book_id = $1 and id = $2', [f.bookUuid, last.uuid]],
    ]);
    const verified = await ctx.ledger.verifyBookChain({ bookId: f.book.id });
    expect(verified).toMatchObject({
      ok: false,
      entriesChecked: 2,
      firstMismatch: { seq: '3', entry: null },
    });
  });

  it('leaves other books verifiable', async () => {
    const healthy = await fixture(2);
    const tampered = await fixture(2);
    await tamper([
      [
        'update journal_entry set memo = $3 where book_id = $1 and id = $2',
        [tampered.bookUuid, tampered.entries[0]!.uuid, 'x'],
      ],
    ]);
    expect((await ctx.ledger.verifyBookChain({ bookId: tampered.book.id }))!.ok).toBe(false);
    expect(await ctx.ledger.verifyBookChain({ bookId: healthy.book.id })).toMatchObject({
      ok: true,
      entriesChecked: 2,
    });
    // The triggers are back on: the same edit is refused again.
    const error = await attempt('update journal_entry set memo = $2 where book_id = $1', [
      healthy.bookUuid,
      'y',
    ]);
    expect(error?.code).toBe('23001');
  });
});
