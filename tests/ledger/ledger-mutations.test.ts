/**
 * Every mutation of the ledger and every error code it documents, through real HTTP and the
 * generated SDK against real PostgreSQL. Each rejection is also checked to have posted nothing
 * (the book's entryCount does not move).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createLedgerClient,
  type ErrorCode,
  type JournalLineInput,
  type LedgerClient,
  type MetadataInput,
  type PostJournalEntryInput,
} from '../../client-sdk/index.js';
import { adminToken } from '../helpers/auth.js';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  encodeGlobalId,
  expectClientError,
  newKey,
  rawGraphQL,
  uniqueSuffix,
  waitFor,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer();

/** The main book: USD (2), HOUR (0), BTC (8). */
let book: CreatedBook;
let otherBook: CreatedBook;

const DAY_MS = 24 * 3600 * 1000;

beforeAll(async () => {
  book = await createBook(ctx.ledger, {
    units: [
      { code: 'USD', scale: 2 },
      { code: 'HOUR', scale: 0 },
      { code: 'BTC', scale: 8 },
    ],
  });
  otherBook = await createBook(ctx.ledger);
});

/** Accounts with codes made unique, so every test starts from zero balances. */
async function freshAccounts<const C extends string>(
  setups: {
    code: C;
    type: CreatedAccount['type'];
    unit?: string;
    lowerBound?: string;
    upperBound?: string;
    parentId?: string;
  }[],
  bookId = book.id,
): Promise<Record<C, CreatedAccount>> {
  const suffix = uniqueSuffix();
  const out = {} as Record<C, CreatedAccount>;
  for (const setup of setups) {
    out[setup.code] = await createAccount(ctx.ledger, bookId, { ...setup, code: `${setup.code}-${suffix}` });
  }
  return out;
}

async function entryCount(bookId = book.id): Promise<string> {
  const found = await ctx.ledger.book({ id: bookId });
  expect(found).not.toBeNull();
  return found!.entryCount;
}

async function balanceOf(account: CreatedAccount) {
  const balance = await ctx.ledger.accountBalance({ accountId: account.id });
  expect(balance).not.toBeNull();
  return balance!;
}

function post(lines: JournalLineInput[], extra: Partial<PostJournalEntryInput> = {}) {
  return ctx.ledger.postJournalEntry({ bookId: book.id, idempotencyKey: newKey('post'), lines, ...extra });
}

async function postOk(lines: JournalLineInput[], extra: Partial<PostJournalEntryInput> = {}) {
  const payload = await post(lines, extra);
  expect(payload.userErrors).toEqual([]);
  expect(payload.entry).not.toBeNull();
  return payload.entry!;
}

type Rejectable = { userErrors: readonly { code: ErrorCode; field: string | null }[]; entry?: unknown };

/** Runs a mutation that must be rejected with exactly one error, and posts nothing in `bookId`. */
async function expectRejected(
  run: () => Promise<Rejectable>,
  code: ErrorCode,
  field: string | null | undefined,
  bookId = book.id,
): Promise<void> {
  const before = await entryCount(bookId);
  const payload = await run();
  expect(payload.userErrors.map((e) => e.code)).toEqual([code]);
  if (field !== undefined) expect(payload.userErrors[0]!.field).toBe(field);
  if ('entry' in payload) expect(payload.entry).toBeNull();
  expect(await entryCount(bookId)).toBe(before);
}

describe('createBook', () => {
  it('creates a book with its units, default backdating window and an empty chain', async () => {
    const name = `book ${uniqueSuffix()}`;
    const payload = await ctx.ledger.createBook({
      name,
      description: 'a co-op',
      units: [
        { code: 'EUR', scale: 2 },
        { code: 'NET_CREDIT', scale: 18 },
      ],
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.book).toMatchObject({
      name,
      description: 'a co-op',
      maxBackdateDays: 366,
      entryCount: '0',
      headHash: '0'.repeat(64),
    });
    expect(payload.book!.units).toEqual([
      { code: 'EUR', scale: 2 },
      { code: 'NET_CREDIT', scale: 18 },
    ]);
  });

  it.each([
    ['a scale of 19', [{ code: 'USD', scale: 19 }], 'INVALID_UNIT'],
    ['a negative scale', [{ code: 'USD', scale: -1 }], 'INVALID_UNIT'],
    ['a lower-case code', [{ code: 'usd', scale: 2 }], 'INVALID_UNIT'],
    [
      'a unit listed twice',
      [
        { code: 'USD', scale: 2 },
        { code: 'USD', scale: 2 },
      ],
      'INVALID_UNIT',
    ],
    ['no units', [], 'INVALID_UNIT'],
  ] as const)('refuses %s', async (_what, units, code) => {
    const payload = await ctx.ledger.createBook({ name: 'x', units: [...units] });
    expect(payload.book).toBeNull();
    expect(payload.userErrors.map((e) => e.code)).toEqual([code]);
  });

  it('refuses an empty name and a backdating window over 36600 days', async () => {
    const blank = await ctx.ledger.createBook({ name: '   ', units: [{ code: 'USD', scale: 2 }] });
    expect(blank.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'name']]);
    const wide = await ctx.ledger.createBook({
      name: 'x',
      units: [{ code: 'USD', scale: 2 }],
      maxBackdateDays: 36_601,
    });
    expect(wide.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'maxBackdateDays']]);
  });
});

describe('createAccount', () => {
  it('creates accounts with bounds formatted at the unit scale and a parent in the same unit', async () => {
    const parent = await createAccount(ctx.ledger, book.id, {
      code: `assets-${uniqueSuffix()}`,
      type: 'ASSET',
    });
    const payload = await ctx.ledger.createAccount({
      bookId: book.id,
      code: `bank-${uniqueSuffix()}`,
      name: 'Bank',
      type: 'ASSET',
      unit: 'USD',
      parentId: parent.id,
      lowerBound: '-5',
      upperBound: '1000.5',
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.account).toMatchObject({
      type: 'ASSET',
      unit: { code: 'USD', scale: 2 },
      lowerBound: '-5.00',
      upperBound: '1000.50',
      closed: false,
      closedAt: null,
      book: { id: book.id },
      parent: { id: parent.id },
    });
  });

  it('refuses a duplicate code, an unknown unit, an unknown book and a bad parent', async () => {
    const code = `dup-${uniqueSuffix()}`;
    await createAccount(ctx.ledger, book.id, { code, type: 'ASSET' });
    const dup = await ctx.ledger.createAccount({
      bookId: book.id,
      code,
      name: 'again',
      type: 'ASSET',
      unit: 'USD',
    });
    expect(dup.userErrors.map((e) => [e.code, e.field])).toEqual([['DUPLICATE_CODE', 'code']]);

    const unit = await ctx.ledger.createAccount({
      bookId: book.id,
      code: `u-${uniqueSuffix()}`,
      name: 'x',
      type: 'ASSET',
      unit: 'EUR',
    });
    expect(unit.userErrors.map((e) => [e.code, e.field])).toEqual([['UNKNOWN_UNIT', 'unit']]);

    for (const bookId of ['garbage', encodeGlobalId('Book', randomUUID())]) {
      const missing = await ctx.ledger.createAccount({
        bookId,
        code: 'x',
        name: 'x',
        type: 'ASSET',
        unit: 'USD',
      });
      expect(missing.userErrors.map((e) => [e.code, e.field])).toEqual([['UNKNOWN_BOOK', 'bookId']]);
    }

    const hours = await createAccount(ctx.ledger, book.id, {
      code: `h-${uniqueSuffix()}`,
      type: 'ASSET',
      unit: 'HOUR',
    });
    const otherUnit = await ctx.ledger.createAccount({
      bookId: book.id,
      code: `c-${uniqueSuffix()}`,
      name: 'x',
      type: 'ASSET',
      unit: 'USD',
      parentId: hours.id,
    });
    expect(otherUnit.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_PARENT', 'parentId']]);

    const foreign = await createAccount(ctx.ledger, otherBook.id, {
      code: `f-${uniqueSuffix()}`,
      type: 'ASSET',
    });
    const otherBookParent = await ctx.ledger.createAccount({
      bookId: book.id,
      code: `c-${uniqueSuffix()}`,
      name: 'x',
      type: 'ASSET',
      unit: 'USD',
      parentId: foreign.id,
    });
    expect(otherBookParent.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_PARENT', 'parentId'],
    ]);
  });

  it('refuses bounds that exclude zero, that are inverted, or that have too many decimals', async () => {
    const attempt = (bounds: { lowerBound?: string; upperBound?: string }) =>
      ctx.ledger.createAccount({
        bookId: book.id,
        code: `b-${uniqueSuffix()}`,
        name: 'x',
        type: 'ASSET',
        unit: 'USD',
        ...bounds,
      });
    expect((await attempt({ lowerBound: '1.00' })).userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', 'lowerBound'],
    ]);
    expect((await attempt({ upperBound: '-1.00' })).userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', 'upperBound'],
    ]);
    expect(
      (await attempt({ lowerBound: '-1.00', upperBound: '-2.00' })).userErrors.map((e) => e.code),
    ).toEqual(['INVALID_INPUT']);
    expect((await attempt({ upperBound: '10.001' })).userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_AMOUNT', 'upperBound'],
    ]);
  });
});

describe('postJournalEntry', () => {
  it('posts a balanced entry, chains it, and moves the balances', async () => {
    const a = await freshAccounts([
      { code: 'cash', type: 'ASSET' },
      { code: 'sales', type: 'REVENUE' },
    ]);
    const countBefore = BigInt(await entryCount());
    const headBefore = (await ctx.ledger.book({ id: book.id }))!.headHash;
    const before = Date.now();
    const entry = await postOk([debit(a.cash, '25'), credit(a.sales, '25.00')], {
      memo: 'first sale',
      metadata: [
        { key: 'z.order', value: '42' },
        { key: 'a:till', value: 'north' },
      ],
    });
    const after = Date.now();

    expect(entry).toMatchObject({
      kind: 'STANDARD',
      status: 'POSTED',
      memo: 'first sale',
      seq: String(countBefore + 1n),
      prevHash: headBefore,
      book: { id: book.id },
      reverses: null,
      reversedBy: null,
      pendingEntry: null,
      resolvedBy: null,
      expiresAt: null,
    });
    expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.hash).not.toBe(entry.prevHash);
    // Metadata comes back sorted by key.
    expect(entry.metadata).toEqual([
      { key: 'a:till', value: 'north' },
      { key: 'z.order', value: '42' },
    ]);
    expect(entry.lines).toEqual([
      {
        lineNo: 1,
        side: 'DEBIT',
        amount: '25.00',
        unit: { code: 'USD', scale: 2 },
        pending: false,
        account: { id: a.cash.id, code: a.cash.code },
      },
      {
        lineNo: 2,
        side: 'CREDIT',
        amount: '25.00',
        unit: { code: 'USD', scale: 2 },
        pending: false,
        account: { id: a.sales.id, code: a.sales.code },
      },
    ]);
    // effectiveAt defaults to now (the server runs in this process, on this clock).
    const effective = Date.parse(entry.effectiveAt);
    expect(effective).toBeGreaterThanOrEqual(before);
    expect(effective).toBeLessThanOrEqual(after);
    expect(Date.parse(entry.recordedAt)).toBeGreaterThanOrEqual(before);

    const headAfter = await ctx.ledger.book({ id: book.id });
    expect(headAfter!.entryCount).toBe(String(countBefore + 1n));
    expect(headAfter!.headHash).toBe(entry.hash);

    expect(await balanceOf(a.cash)).toMatchObject({
      posted: '25.00',
      debits: '25.00',
      credits: '0.00',
      pendingDebits: '0.00',
      pendingCredits: '0.00',
      available: '25.00',
      projected: '25.00',
    });
    // REVENUE is credit-normal: a credit raises its balance.
    expect(await balanceOf(a.sales)).toMatchObject({ posted: '25.00', debits: '0.00', credits: '25.00' });

    const second = await postOk([debit(a.cash, '1.00'), credit(a.sales, '1.00')]);
    expect(second.prevHash).toBe(entry.hash);
    expect(second.seq).toBe(String(countBefore + 2n));
  });

  it('stores an effectiveAt given with an offset as the same instant in UTC', async () => {
    const a = await freshAccounts([
      { code: 'cash', type: 'ASSET' },
      { code: 'sales', type: 'REVENUE' },
    ]);
    const instant = new Date(Date.now() - 3 * DAY_MS);
    instant.setUTCMilliseconds(0);
    const local = new Date(instant.getTime() + 2 * 3600 * 1000).toISOString().replace('Z', '+02:00');
    const entry = await postOk([debit(a.cash, '1.00'), credit(a.sales, '1.00')], { effectiveAt: local });
    expect(entry.effectiveAt).toBe(instant.toISOString());
  });

  it('posts an entry balanced in each of two units, and 100 lines', async () => {
    const a = await freshAccounts([
      { code: 'cash', type: 'ASSET' },
      { code: 'sales', type: 'REVENUE' },
      { code: 'time', type: 'ASSET', unit: 'HOUR' },
      { code: 'owed', type: 'LIABILITY', unit: 'HOUR' },
    ]);
    const entry = await postOk([
      debit(a.cash, '10.00'),
      credit(a.sales, '10.00'),
      debit(a.time, '3'),
      credit(a.owed, '3'),
    ]);
    expect(entry.lines.map((l) => [l.unit.code, l.amount])).toEqual([
      ['USD', '10.00'],
      ['USD', '10.00'],
      ['HOUR', '3'],
      ['HOUR', '3'],
    ]);
    expect((await balanceOf(a.time)).posted).toBe('3');

    const many = [...Array.from({ length: 99 }, () => debit(a.cash, '0.01')), credit(a.sales, '0.99')];
    const big = await postOk(many);
    expect(big.lines).toHaveLength(100);
    expect((await balanceOf(a.cash)).posted).toBe('10.99');
  });

  it('honours the full precision of an 18-decimal unit and 18 integer digits', async () => {
    const fine = await createBook(ctx.ledger, { units: [{ code: 'MICRO', scale: 18 }] });
    const a = {
      x: await createAccount(ctx.ledger, fine.id, { code: 'x', type: 'ASSET', unit: 'MICRO' }),
      y: await createAccount(ctx.ledger, fine.id, { code: 'y', type: 'EQUITY', unit: 'MICRO' }),
    };
    for (const amount of ['0.000000000000000001', '999999999999999999.999999999999999999']) {
      const payload = await ctx.ledger.postJournalEntry({
        bookId: fine.id,
        idempotencyKey: newKey(),
        lines: [debit(a.x, amount), credit(a.y, amount)],
      });
      expect(payload.userErrors).toEqual([]);
      expect(payload.entry!.lines[0]!.amount).toBe(amount);
    }
    const balance = await ctx.ledger.accountBalance({ accountId: a.x.id });
    expect(balance!.posted).toBe('1000000000000000000.000000000000000000');
    const tooBig = await ctx.ledger.postJournalEntry({
      bookId: fine.id,
      idempotencyKey: newKey(),
      lines: [debit(a.x, '1000000000000000000'), credit(a.y, '1000000000000000000')],
    });
    expect(tooBig.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_AMOUNT', 'lines[0].amount']]);
  });

  describe('Decimal amounts', () => {
    let a: Record<'cash' | 'sales' | 'time' | 'owed' | 'coin' | 'vault', CreatedAccount>;
    beforeAll(async () => {
      a = await freshAccounts([
        { code: 'cash', type: 'ASSET' },
        { code: 'sales', type: 'REVENUE' },
        { code: 'time', type: 'ASSET', unit: 'HOUR' },
        { code: 'owed', type: 'LIABILITY', unit: 'HOUR' },
        { code: 'coin', type: 'ASSET', unit: 'BTC' },
        { code: 'vault', type: 'EQUITY', unit: 'BTC' },
      ]);
    });

    it.each([
      ['a JSON number', 10],
      ['a JSON float', 10.5],
      ['exponent notation', '1e3'],
      ['NaN', 'NaN'],
      ['Infinity', 'Infinity'],
      ['a leading space', ' 1'],
      ['a trailing space', '1 '],
      ['a plus sign', '+1'],
      ['hexadecimal', '0x10'],
      ['a bare point', '1.'],
      ['no integer part', '.5'],
      ['leading zeros', '01'],
      ['an empty string', ''],
      ['thousands separators', '1,000.00'],
    ])(
      'refuses %s in a variable with a top-level INVALID_AMOUNT error and posts nothing',
      async (_what, amount) => {
        const before = await entryCount();
        const error = await expectClientError(
          post([{ ...debit(a.cash, '1.00'), amount: amount as unknown as string }, credit(a.sales, '1.00')]),
        );
        expect(error.errors.map((e) => e.extensions?.code)).toContain('INVALID_AMOUNT');
        expect(error.code).toBe('INVALID_AMOUNT');
        expect(await entryCount()).toBe(before);
      },
    );

    it('refuses a number literal in the document with INVALID_AMOUNT', async () => {
      const before = await entryCount();
      const literal = (amount: string) => `mutation { postJournalEntry(input: {
          bookId: "${book.id}", idempotencyKey: "${newKey()}",
          lines: [{ accountId: "${a.cash.id}", side: DEBIT, amount: ${amount}, unit: "USD" },
                  { accountId: "${a.sales.id}", side: CREDIT, amount: "1.00", unit: "USD" }] }) { entry { id } } }`;
      for (const amount of ['1', '1.00', '"1e0"']) {
        const { body } = await rawGraphQL(ctx.server.url, literal(amount));
        expect(body.errors?.map((e) => e.extensions?.code)).toContain('INVALID_AMOUNT');
        expect(body.data?.postJournalEntry ?? null).toBeNull();
      }
      // The same document with a proper string literal posts: the refusals above were about the amount.
      const { body } = await rawGraphQL(ctx.server.url, literal('"1.00"'));
      expect(body.errors).toBeUndefined();
      expect(await entryCount()).toBe(String(BigInt(before) + 1n));
    });

    it('refuses more decimals than the unit scale as a userError on that line', async () => {
      await expectRejected(
        () => post([debit(a.cash, '1.00'), credit(a.sales, '1.001')]),
        'INVALID_AMOUNT',
        'lines[1].amount',
      );
      await expectRejected(
        () => post([debit(a.time, '1.0'), credit(a.owed, '1.0')]),
        'INVALID_AMOUNT',
        'lines[0].amount',
      );
      await expectRejected(
        () => post([debit(a.coin, '0.000000001'), credit(a.vault, '0.000000001')]),
        'INVALID_AMOUNT',
        'lines[0].amount',
      );
      // At the scale exactly: accepted, and trailing zeros within the scale are fine.
      await postOk([debit(a.coin, '0.00000001'), credit(a.vault, '0.00000001')]);
      await postOk([debit(a.cash, '1.5'), credit(a.sales, '1.50')]);
    });

    it('refuses zero and negative amounts', async () => {
      for (const amount of ['0', '0.00', '-0', '-5.00']) {
        await expectRejected(
          () => post([debit(a.cash, amount), credit(a.sales, amount)]),
          'INVALID_AMOUNT',
          'lines[0].amount',
        );
      }
    });
  });

  describe('lines and accounts', () => {
    let a: Record<'cash' | 'sales' | 'time' | 'owed', CreatedAccount>;
    beforeAll(async () => {
      a = await freshAccounts([
        { code: 'cash', type: 'ASSET' },
        { code: 'sales', type: 'REVENUE' },
        { code: 'time', type: 'ASSET', unit: 'HOUR' },
        { code: 'owed', type: 'LIABILITY', unit: 'HOUR' },
      ]);
    });

    it('refuses fewer than 2 and more than 100 lines', async () => {
      await expectRejected(() => post([]), 'INVALID_INPUT', 'lines');
      await expectRejected(() => post([debit(a.cash, '1.00')]), 'INVALID_INPUT', 'lines');
      const lines = [...Array.from({ length: 100 }, () => debit(a.cash, '0.01')), credit(a.sales, '1.00')];
      await expectRejected(() => post(lines), 'INVALID_INPUT', 'lines');
    });

    it('refuses an entry whose debits and credits differ', async () => {
      await expectRejected(
        () => post([debit(a.cash, '10.00'), credit(a.sales, '9.99')]),
        'UNBALANCED_ENTRY',
        'lines',
      );
      await expectRejected(
        () => post([debit(a.cash, '10.00'), debit(a.cash, '10.00')]),
        'UNBALANCED_ENTRY',
        'lines',
      );
    });

    it('refuses an entry whose totals match only across units (each unit must balance)', async () => {
      // 10 USD against 10 HOUR: the numbers agree, the units do not.
      await expectRejected(
        () => post([debit(a.cash, '10'), credit(a.owed, '10')]),
        'UNBALANCED_ENTRY',
        'lines',
      );
      // USD balances but HOUR does not.
      await expectRejected(
        () =>
          post([debit(a.cash, '10.00'), credit(a.sales, '10.00'), debit(a.time, '2'), credit(a.owed, '1')]),
        'UNBALANCED_ENTRY',
        'lines',
      );
    });

    it('refuses a line whose unit is not the account unit', async () => {
      await expectRejected(
        () => post([debit(a.cash, '10.00'), credit(a.sales, '10', 'HOUR')]),
        'UNIT_MISMATCH',
        'lines[1].unit',
      );
      await expectRejected(
        () => post([debit(a.cash, '10', 'EUR'), credit(a.sales, '10.00')]),
        'UNIT_MISMATCH',
        'lines[0].unit',
      );
    });

    it('refuses accounts of another book, garbage ids, other types of id and unknown uuids', async () => {
      const foreign = await createAccount(ctx.ledger, otherBook.id, {
        code: `f-${uniqueSuffix()}`,
        type: 'ASSET',
      });
      const candidates = [
        foreign.id,
        'garbage',
        '',
        book.id,
        encodeGlobalId(
          'Account',
          `${Buffer.from(book.id, 'base64').toString().split(':')[1]}:${randomUUID()}`,
        ),
        encodeGlobalId('Account', 'not-a-uuid:also-not'),
      ];
      for (const accountId of candidates) {
        await expectRejected(
          () => post([debit(a.cash, '1.00'), { ...credit(a.sales, '1.00'), accountId }]),
          'UNKNOWN_ACCOUNT',
          'lines[1].accountId',
        );
      }
    });
  });

  describe('effectiveAt', () => {
    let a: Record<'cash' | 'sales', CreatedAccount>;
    beforeAll(async () => {
      a = await freshAccounts([
        { code: 'cash', type: 'ASSET' },
        { code: 'sales', type: 'REVENUE' },
      ]);
    });
    const lines = () => [debit(a.cash, '1.00'), credit(a.sales, '1.00')];

    /**
     * Posts with effectiveAt = the instant of sending + `offsetMs` and expects `outcome`. The
     * server reads its clock a little after the test sends (never before: same machine), so an
     * edge is checked from the side the delay cannot help: the instant of sending + 60 s must be
     * accepted and the window's start - 1 ms refused, whatever the delay. On the other side of each
     * edge the delay can help: an answer against `outcome` there counts as a failure only when the
     * round trip took less than `marginMs` (else the server's clock could have been that far on,
     * and it is tried again).
     */
    async function expectAtOffset(
      offsetMs: number,
      outcome: 'accepted' | 'refused',
      { bookId = book.id, accounts = a, marginMs = Number.POSITIVE_INFINITY } = {},
    ): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        const sentAt = Date.now();
        const payload = await ctx.ledger.postJournalEntry({
          bookId,
          idempotencyKey: newKey('edge'),
          effectiveAt: new Date(sentAt + offsetMs).toISOString(),
          lines: [debit(accounts.cash, '1.00'), credit(accounts.sales, '1.00')],
        });
        const tookMs = Date.now() - sentAt;
        const accepted = payload.userErrors.length === 0;
        if (accepted === (outcome === 'accepted')) {
          if (accepted) expect(payload.entry).not.toBeNull();
          else {
            expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([
              ['INVALID_EFFECTIVE_AT', 'effectiveAt'],
            ]);
            expect(payload.entry).toBeNull();
          }
          return;
        }
        const answer = accepted ? 'accepted' : JSON.stringify(payload.userErrors);
        expect(
          tookMs,
          `${outcome} expected at ${offsetMs} ms from sending, was ${answer}`,
        ).toBeGreaterThanOrEqual(marginMs);
        expect(attempt, `every try took ${marginMs} ms or more`).toBeLessThan(10);
      }
    }

    it('accepts an effectiveAt up to 60 s ahead (clock skew) and refuses one beyond', async () => {
      await expectAtOffset(60_000, 'accepted');
      await expectAtOffset(60_250, 'refused', { marginMs: 250 });
    });

    it('accepts backdating up to the default window of 366 days and refuses it beyond', async () => {
      expect((await ctx.ledger.book({ id: book.id }))!.maxBackdateDays).toBe(366);
      await expectAtOffset(-366 * DAY_MS - 1, 'refused');
      await expectAtOffset(-366 * DAY_MS + 250, 'accepted', { marginMs: 250 });
    });

    it('uses the window the book was created with', async () => {
      const narrow = await createBook(ctx.ledger, { maxBackdateDays: 10 });
      const accounts = {
        cash: await createAccount(ctx.ledger, narrow.id, { code: 'cash', type: 'ASSET' }),
        sales: await createAccount(ctx.ledger, narrow.id, { code: 'sales', type: 'REVENUE' }),
      };
      expect((await ctx.ledger.book({ id: narrow.id }))!.maxBackdateDays).toBe(10);
      await expectAtOffset(-10 * DAY_MS - 1, 'refused', { bookId: narrow.id, accounts });
      await expectAtOffset(-10 * DAY_MS + 250, 'accepted', { bookId: narrow.id, accounts, marginMs: 250 });
      expect((await ctx.ledger.book({ id: narrow.id }))!.entryCount).toBe('1');
    });

    it('refuses a DateTime without a time zone with a top-level error', async () => {
      const error = await expectClientError(post(lines(), { effectiveAt: '2026-01-01T00:00:00' }));
      expect(error.errors.length).toBeGreaterThan(0);
    });
  });

  describe('memo, metadata and idempotency key limits', () => {
    let a: Record<'cash' | 'sales', CreatedAccount>;
    beforeAll(async () => {
      a = await freshAccounts([
        { code: 'cash', type: 'ASSET' },
        { code: 'sales', type: 'REVENUE' },
      ]);
    });
    const lines = () => [debit(a.cash, '1.00'), credit(a.sales, '1.00')];

    it('accepts a memo of 1000 characters and refuses 1001', async () => {
      const entry = await postOk(lines(), { memo: 'm'.repeat(1000) });
      expect(entry.memo).toHaveLength(1000);
      await expectRejected(() => post(lines(), { memo: 'm'.repeat(1001) }), 'INVALID_INPUT', 'memo');
    });

    it('accepts 50 pairs at the key and value limits', async () => {
      const metadata: MetadataInput[] = Array.from({ length: 50 }, (_, i) => ({
        key: `${String(i).padStart(2, '0')}${'k'.repeat(38)}`,
        value: 'v'.repeat(500),
      }));
      const entry = await postOk(lines(), { metadata });
      expect(entry.metadata).toHaveLength(50);
      expect(entry.metadata[0]!.key).toHaveLength(40);
      expect(entry.metadata[0]!.value).toHaveLength(500);
    });

    it('keeps keys that look like JavaScript internals as plain keys', async () => {
      const entry = await postOk(lines(), {
        metadata: [
          { key: '__proto__', value: 'p' },
          { key: 'constructor', value: 'c' },
        ],
      });
      expect(entry.metadata).toEqual([
        { key: '__proto__', value: 'p' },
        { key: 'constructor', value: 'c' },
      ]);
    });

    it.each([
      ['51 pairs', Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })), 'metadata'],
      ['a 41-character key', [{ key: 'k'.repeat(41), value: 'v' }], 'metadata[0].key'],
      ['an empty key', [{ key: '', value: 'v' }], 'metadata[0].key'],
      [
        'a key with a slash',
        [
          { key: 'ok', value: 'v' },
          { key: 'a/b', value: 'v' },
        ],
        'metadata[1].key',
      ],
      ['a key with a space', [{ key: 'a b', value: 'v' }], 'metadata[0].key'],
      ['a 501-character value', [{ key: 'k', value: 'v'.repeat(501) }], 'metadata[0].value'],
      [
        'a key given twice',
        [
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ],
        'metadata[1].key',
      ],
    ])('refuses metadata with %s', async (_what, metadata, field) => {
      await expectRejected(() => post(lines(), { metadata }), 'INVALID_METADATA', field);
    });

    it.each([
      ['empty', ''],
      ['129 characters', 'k'.repeat(129)],
      ['a space', 'has space'],
      ['non-ASCII', 'clé'],
      ['a control character', 'a\tb'],
    ])('refuses an idempotency key that is %s', async (_what, idempotencyKey) => {
      await expectRejected(
        () => post(lines(), { idempotencyKey }),
        'INVALID_IDEMPOTENCY_KEY',
        'idempotencyKey',
      );
    });

    it('accepts a 128-character key of printable ASCII', async () => {
      const key = `${newKey()}~!@#$%^&*()[]{}<>?/|\\'"`;
      const entry = await postOk(lines(), { idempotencyKey: key.padEnd(128, 'x') });
      expect(entry.idempotencyKey).toHaveLength(128);
    });
  });

  describe('unknown books', () => {
    it('refuses a garbage book id and the id of a book that does not exist', async () => {
      const a = await freshAccounts([
        { code: 'cash', type: 'ASSET' },
        { code: 'sales', type: 'REVENUE' },
      ]);
      for (const bookId of ['garbage', encodeGlobalId('Book', randomUUID()), a.cash.id]) {
        const payload = await ctx.ledger.postJournalEntry({
          bookId,
          idempotencyKey: newKey(),
          lines: [debit(a.cash, '1.00'), credit(a.sales, '1.00')],
        });
        expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['UNKNOWN_BOOK', 'bookId']]);
        const pending = await ctx.ledger.postPendingEntry({
          bookId,
          idempotencyKey: newKey(),
          lines: [debit(a.cash, '1.00'), credit(a.sales, '1.00')],
        });
        expect(pending.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_BOOK']);
        const batch = await ctx.ledger.postJournalEntries({
          bookId,
          mode: 'INDEPENDENT',
          entries: [{ idempotencyKey: newKey(), lines: [debit(a.cash, '1.00'), credit(a.sales, '1.00')] }],
        });
        expect(batch.postedCount).toBe(0);
        expect(
          [...batch.userErrors, ...batch.results.flatMap((r) => r.userErrors)].map((e) => e.code),
        ).toEqual(['UNKNOWN_BOOK']);
      }
      expect((await balanceOf(a.cash)).posted).toBe('0.00');
    });
  });
});

describe('idempotency', () => {
  let a: Record<'cash' | 'sales', CreatedAccount>;
  beforeAll(async () => {
    a = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0' },
      { code: 'sales', type: 'REVENUE' },
    ]);
  });

  async function journalEntryCount(bookId = book.id): Promise<number> {
    let n = 0;
    for await (const _ of ctx.ledger.iterateJournalEntries({ bookId })) n++;
    return n;
  }

  it('answers a repeat with the original entry, replayed, and posts nothing new', async () => {
    const input: PostJournalEntryInput = {
      bookId: book.id,
      idempotencyKey: newKey('idem'),
      memo: 'dues',
      metadata: [{ key: 'member', value: '7' }],
      lines: [debit(a.cash, '30.00'), credit(a.sales, '30.00')],
    };
    const first = await ctx.ledger.postJournalEntry(input);
    expect(first.userErrors).toEqual([]);
    expect(first.replayed).toBe(false);
    const count = await entryCount();
    const listed = await journalEntryCount();

    // No effectiveAt: "now" differs between the two calls, and it is still the same request.
    const again = await ctx.ledger.postJournalEntry(input);
    expect(again.userErrors).toEqual([]);
    expect(again.replayed).toBe(true);
    expect(again.entry).toEqual(first.entry);
    // Absent and explicit null are the same input.
    const withNulls = await ctx.ledger.postJournalEntry({ ...input, effectiveAt: null });
    expect(withNulls.replayed).toBe(true);
    expect(withNulls.entry!.id).toBe(first.entry!.id);

    expect(await entryCount()).toBe(count);
    expect(await journalEntryCount()).toBe(listed);
    expect((await balanceOf(a.cash)).posted).toBe('30.00');
  });

  it('refuses the same key with a different input (amount, memo, line order, effectiveAt, operation)', async () => {
    const key = newKey('reuse');
    const lines = [debit(a.cash, '5.00'), credit(a.sales, '5.00')];
    const first = await post(lines, { idempotencyKey: key, memo: 'a' });
    expect(first.userErrors).toEqual([]);
    const variants: (() => Promise<Rejectable>)[] = [
      () => post([debit(a.cash, '5.01'), credit(a.sales, '5.01')], { idempotencyKey: key, memo: 'a' }),
      () => post(lines, { idempotencyKey: key, memo: 'b' }),
      () => post(lines, { idempotencyKey: key }),
      () => post([lines[1]!, lines[0]!], { idempotencyKey: key, memo: 'a' }),
      () =>
        post(lines, {
          idempotencyKey: key,
          memo: 'a',
          effectiveAt: new Date(Date.now() - 1000).toISOString(),
        }),
      () => post(lines, { idempotencyKey: key, memo: 'a', metadata: [{ key: 'x', value: 'y' }] }),
      () => ctx.ledger.postPendingEntry({ bookId: book.id, idempotencyKey: key, memo: 'a', lines }),
    ];
    for (const variant of variants) await expectRejected(variant, 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey');
    // And the original still replays.
    const replay = await post(lines, { idempotencyKey: key, memo: 'a' });
    expect(replay.replayed).toBe(true);
    expect(replay.entry!.id).toBe(first.entry!.id);
  });

  it('replays even when the same request would now be refused', async () => {
    const spend = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0' },
      { code: 'equity', type: 'EQUITY' },
      { code: 'costs', type: 'EXPENSE' },
    ]);
    await postOk([debit(spend.cash, '10.00'), credit(spend.equity, '10.00')]);
    const input = {
      idempotencyKey: newKey(),
      lines: [debit(spend.costs, '10.00'), credit(spend.cash, '10.00')],
    };
    const first = await post(input.lines, input);
    expect(first.userErrors).toEqual([]);
    // The cash is gone: a new entry like it would cross the bound, the replay does not re-decide.
    await expectRejected(() => post(input.lines), 'BALANCE_BOUND_EXCEEDED', 'lines[1].accountId');
    const replay = await post(input.lines, input);
    expect(replay.userErrors).toEqual([]);
    expect(replay.replayed).toBe(true);
    expect(replay.entry!.id).toBe(first.entry!.id);
    expect((await balanceOf(spend.cash)).posted).toBe('0.00');
  });

  // Issue 10 item 4: the first decision for a key is the only one, refusals included.
  it('answers a key refused under the lock with its refusal, and a corrected request needs a new key', async () => {
    const key = newKey('retry');
    const unbalanced = () => post([debit(a.cash, '1.00'), credit(a.sales, '2.00')], { idempotencyKey: key });
    await expectRejected(unbalanced, 'UNBALANCED_ENTRY', 'lines');
    await expectRejected(unbalanced, 'UNBALANCED_ENTRY', 'lines');
    await expectRejected(
      () => post([debit(a.cash, '2.00'), credit(a.sales, '2.00')], { idempotencyKey: key }),
      'IDEMPOTENCY_KEY_REUSED',
      'idempotencyKey',
    );
    const fixed = await post([debit(a.cash, '2.00'), credit(a.sales, '2.00')], {
      idempotencyKey: newKey('retry'),
    });
    expect(fixed.userErrors).toEqual([]);
    expect(fixed.replayed).toBe(false);
  });

  it('scopes keys to their book', async () => {
    const key = newKey('scoped');
    const here = await post([debit(a.cash, '1.00'), credit(a.sales, '1.00')], { idempotencyKey: key });
    expect(here.userErrors).toEqual([]);
    const o = {
      cash: await createAccount(ctx.ledger, otherBook.id, { code: `cash-${uniqueSuffix()}`, type: 'ASSET' }),
      sales: await createAccount(ctx.ledger, otherBook.id, {
        code: `sales-${uniqueSuffix()}`,
        type: 'REVENUE',
      }),
    };
    const there = await ctx.ledger.postJournalEntry({
      bookId: otherBook.id,
      idempotencyKey: key,
      lines: [debit(o.cash, '1.00'), credit(o.sales, '1.00')],
    });
    expect(there.userErrors).toEqual([]);
    expect(there.replayed).toBe(false);
    expect(there.entry!.id).not.toBe(here.entry!.id);
    expect(there.entry!.book.id).toBe(otherBook.id);
  });

  it('replays through postJournalEntry an entry first posted in a batch', async () => {
    const entry = {
      idempotencyKey: newKey('batched'),
      memo: 'x',
      lines: [debit(a.cash, '4.00'), credit(a.sales, '4.00')],
    };
    const batch = await ctx.ledger.postJournalEntries({
      bookId: book.id,
      mode: 'INDEPENDENT',
      entries: [entry],
    });
    expect(batch.postedCount).toBe(1);
    const single = await ctx.ledger.postJournalEntry({ bookId: book.id, ...entry });
    expect(single.replayed).toBe(true);
    expect(single.entry!.id).toBe(batch.results[0]!.entry!.id);
  });

  it('answers concurrent repeats of one request with one entry', async () => {
    const input: PostJournalEntryInput = {
      bookId: book.id,
      idempotencyKey: newKey('race'),
      lines: [debit(a.cash, '3.00'), credit(a.sales, '3.00')],
    };
    const before = BigInt(await entryCount());
    const results = await Promise.all(Array.from({ length: 12 }, () => ctx.ledger.postJournalEntry(input)));
    for (const r of results) expect(r.userErrors).toEqual([]);
    expect(new Set(results.map((r) => r.entry!.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(BigInt(await entryCount())).toBe(before + 1n);
  });
});

describe('balance bounds', () => {
  it('keeps an ASSET between its lower and upper bound, both inclusive', async () => {
    const a = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0', upperBound: '1000.00' },
      { code: 'equity', type: 'EQUITY' },
      { code: 'costs', type: 'EXPENSE' },
    ]);
    await postOk([debit(a.cash, '100.00'), credit(a.equity, '100.00')]);
    await expectRejected(
      () => post([debit(a.costs, '100.01'), credit(a.cash, '100.01')]),
      'BALANCE_BOUND_EXCEEDED',
      'lines[1].accountId',
    );
    await postOk([debit(a.costs, '100.00'), credit(a.cash, '100.00')]);
    expect((await balanceOf(a.cash)).posted).toBe('0.00');

    await postOk([debit(a.cash, '1000.00'), credit(a.equity, '1000.00')]);
    await expectRejected(
      () => post([debit(a.cash, '0.01'), credit(a.equity, '0.01')]),
      'BALANCE_BOUND_EXCEEDED',
      'lines[0].accountId',
    );
    expect((await balanceOf(a.cash)).posted).toBe('1000.00');
  });

  it('treats a negative lower bound of a credit-normal LIABILITY as a credit limit', async () => {
    // A member of a mutual-credit network: spending debits the member (balance goes below zero,
    // down to the credit limit of 50), earning credits it (up to a ceiling of 200).
    const a = await freshAccounts([
      { code: 'member', type: 'LIABILITY', lowerBound: '-50.00', upperBound: '200.00' },
      { code: 'shop', type: 'LIABILITY' },
    ]);
    await postOk([debit(a.member, '50.00'), credit(a.shop, '50.00')]);
    expect(await balanceOf(a.member)).toMatchObject({ posted: '-50.00', debits: '50.00', credits: '0.00' });
    await expectRejected(
      () => post([debit(a.member, '0.01'), credit(a.shop, '0.01')]),
      'BALANCE_BOUND_EXCEEDED',
      'lines[0].accountId',
    );
    // Credits raise a LIABILITY: 250 takes it from -50 to exactly the ceiling.
    await postOk([debit(a.shop, '250.00'), credit(a.member, '250.00')]);
    expect((await balanceOf(a.member)).posted).toBe('200.00');
    await expectRejected(
      () => post([debit(a.shop, '0.01'), credit(a.member, '0.01')]),
      'BALANCE_BOUND_EXCEEDED',
      'lines[1].accountId',
    );
    // The shop has no bounds: it went to -200 without complaint.
    expect((await balanceOf(a.shop)).posted).toBe('-200.00');
  });

  it('applies an upper bound to a debit-normal EXPENSE (a budget)', async () => {
    const a = await freshAccounts([
      { code: 'travel', type: 'EXPENSE', upperBound: '300.00' },
      { code: 'bank', type: 'ASSET' },
    ]);
    await postOk([debit(a.travel, '300.00'), credit(a.bank, '300.00')]);
    await expectRejected(
      () => post([debit(a.travel, '0.01'), credit(a.bank, '0.01')]),
      'BALANCE_BOUND_EXCEEDED',
      'lines[0].accountId',
    );
    // A refund lowers the expense and is always allowed.
    await postOk([debit(a.bank, '50.00'), credit(a.travel, '50.00')]);
    expect((await balanceOf(a.travel)).posted).toBe('250.00');
  });

  it('checks the net effect of all lines of an entry on one account', async () => {
    const a = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0' },
      { code: 'equity', type: 'EQUITY' },
    ]);
    await postOk([debit(a.cash, '10.00'), credit(a.equity, '10.00')]);
    // Two credits of 6.00 and 5.00 on one account holding 10.00: each alone fits, together not.
    await expectRejected(
      () => post([credit(a.cash, '6.00'), credit(a.cash, '5.00'), debit(a.equity, '11.00')]),
      'BALANCE_BOUND_EXCEEDED',
      undefined,
    );
    await postOk([credit(a.cash, '6.00'), credit(a.cash, '4.00'), debit(a.equity, '10.00')]);
    // The same account on both sides is refused whatever its net (issue 10 item 13).
    await expectRejected(
      () => post([credit(a.cash, '10.00'), debit(a.cash, '10.00')]),
      'INVALID_INPUT',
      'lines[1].accountId',
    );
  });
});

describe('reverseJournalEntry', () => {
  let a: Record<'cash' | 'sales' | 'costs', CreatedAccount>;
  beforeAll(async () => {
    a = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0' },
      { code: 'sales', type: 'REVENUE' },
      { code: 'costs', type: 'EXPENSE' },
    ]);
  });

  it('posts a mirrored entry linked both ways, effective when the original was, once', async () => {
    const effectiveAt = new Date(Date.now() - 3 * DAY_MS).toISOString();
    const original = await postOk([debit(a.cash, '40.00'), credit(a.sales, '40.00')], {
      effectiveAt,
      memo: 'sale',
    });
    const count = BigInt(await entryCount());
    const key = newKey('rev');
    const reversal = await ctx.ledger.reverseJournalEntry({
      entryId: original.id,
      idempotencyKey: key,
      memo: 'refund',
    });
    expect(reversal.userErrors).toEqual([]);
    expect(reversal.replayed).toBe(false);
    const r = reversal.entry!;
    expect(r).toMatchObject({
      kind: 'REVERSAL',
      status: 'POSTED',
      memo: 'refund',
      effectiveAt: original.effectiveAt,
      reverses: { id: original.id },
      seq: String(count + 1n),
    });
    expect(r.id).not.toBe(original.id);
    expect(r.lines.map((l) => [l.account.id, l.side, l.amount])).toEqual(
      original.lines.map((l) => [l.account.id, l.side === 'DEBIT' ? 'CREDIT' : 'DEBIT', l.amount]),
    );
    expect(reversal.reversedEntry).toMatchObject({ id: original.id, reversedBy: { id: r.id } });
    expect((await ctx.ledger.journalEntry({ id: original.id }))!.reversedBy).toEqual({ id: r.id });
    expect(await balanceOf(a.cash)).toMatchObject({ posted: '0.00', debits: '40.00', credits: '40.00' });
    expect((await balanceOf(a.sales)).posted).toBe('0.00');

    const replay = await ctx.ledger.reverseJournalEntry({
      entryId: original.id,
      idempotencyKey: key,
      memo: 'refund',
    });
    expect(replay.replayed).toBe(true);
    expect(replay.entry!.id).toBe(r.id);
    await expectRejected(
      () => ctx.ledger.reverseJournalEntry({ entryId: original.id, idempotencyKey: key, memo: 'other' }),
      'IDEMPOTENCY_KEY_REUSED',
      'idempotencyKey',
    );
    await expectRejected(
      () => ctx.ledger.reverseJournalEntry({ entryId: original.id, idempotencyKey: newKey() }),
      'ALREADY_REVERSED',
      'entryId',
    );
    expect(BigInt(await entryCount())).toBe(count + 1n);
  });

  it('honours an explicit effectiveAt and can reverse a reversal', async () => {
    const original = await postOk([debit(a.cash, '5.00'), credit(a.sales, '5.00')], {
      effectiveAt: new Date(Date.now() - 5 * DAY_MS).toISOString(),
    });
    const effectiveAt = new Date(Date.now() - DAY_MS).toISOString();
    const reversal = await ctx.ledger.reverseJournalEntry({
      entryId: original.id,
      idempotencyKey: newKey(),
      effectiveAt,
    });
    expect(reversal.entry!.effectiveAt).toBe(effectiveAt);
    const again = await ctx.ledger.reverseJournalEntry({
      entryId: reversal.entry!.id,
      idempotencyKey: newKey(),
    });
    expect(again.userErrors).toEqual([]);
    expect(again.entry!.reverses).toEqual({ id: reversal.entry!.id });
    expect(again.entry!.effectiveAt).toBe(effectiveAt);
    expect(again.entry!.lines.map((l) => l.side)).toEqual(original.lines.map((l) => l.side));
    expect((await balanceOf(a.cash)).posted).toBe('5.00');
  });

  it('refuses a reversal that would take an account past a bound', async () => {
    const b = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0' },
      { code: 'sales', type: 'REVENUE' },
      { code: 'costs', type: 'EXPENSE' },
    ]);
    const income = await postOk([debit(b.cash, '10.00'), credit(b.sales, '10.00')]);
    await postOk([debit(b.costs, '10.00'), credit(b.cash, '10.00')]);
    await expectRejected(
      () => ctx.ledger.reverseJournalEntry({ entryId: income.id, idempotencyKey: newKey() }),
      'BALANCE_BOUND_EXCEEDED',
      undefined,
    );
    expect((await ctx.ledger.journalEntry({ id: income.id }))!.reversedBy).toBeNull();
  });

  it('lets exactly one of several concurrent reversals of an entry through', async () => {
    const original = await postOk([debit(a.cash, '8.00'), credit(a.sales, '8.00')]);
    const count = BigInt(await entryCount());
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        ctx.ledger.reverseJournalEntry({ entryId: original.id, idempotencyKey: newKey('race-rev') }),
      ),
    );
    const winners = results.filter((r) => r.entry !== null);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.entry === null).map((r) => r.userErrors.map((e) => e.code))).toEqual(
      Array.from({ length: 7 }, () => ['ALREADY_REVERSED']),
    );
    expect(BigInt(await entryCount())).toBe(count + 1n);
    expect((await ctx.ledger.journalEntry({ id: original.id }))!.reversedBy).toEqual({
      id: winners[0]!.entry!.id,
    });
  });

  it('refuses unknown entries and ids of other types', async () => {
    const bookUuid = Buffer.from(book.id, 'base64').toString().split(':')[1]!;
    for (const entryId of [
      'garbage',
      encodeGlobalId('JournalEntry', `${bookUuid}:${randomUUID()}`),
      a.cash.id,
      book.id,
    ]) {
      await expectRejected(
        () => ctx.ledger.reverseJournalEntry({ entryId, idempotencyKey: newKey() }),
        'UNKNOWN_ENTRY',
        'entryId',
      );
      await expectRejected(
        () => ctx.ledger.commitPendingEntry({ entryId, idempotencyKey: newKey() }),
        'UNKNOWN_ENTRY',
        'entryId',
      );
      await expectRejected(
        () => ctx.ledger.voidPendingEntry({ entryId, idempotencyKey: newKey() }),
        'UNKNOWN_ENTRY',
        'entryId',
      );
    }
  });
});

describe('pending entries', () => {
  let a: Record<'cash' | 'equity' | 'costs', CreatedAccount>;
  beforeAll(async () => {
    a = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0', upperBound: '500.00' },
      { code: 'equity', type: 'EQUITY' },
      { code: 'costs', type: 'EXPENSE' },
    ]);
    await postOk([debit(a.cash, '100.00'), credit(a.equity, '100.00')]);
  });

  it('reserves against the lower bound, commits once, and cannot be resolved again', async () => {
    const count = BigInt(await entryCount());
    const held = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey('hold'),
      memo: 'card hold',
      lines: [debit(a.costs, '70.00'), credit(a.cash, '70.00')],
    });
    expect(held.userErrors).toEqual([]);
    const pending = held.entry!;
    expect(pending).toMatchObject({ kind: 'PENDING', status: 'PENDING', resolvedBy: null, expiresAt: null });
    expect(pending.lines.map((l) => l.pending)).toEqual([true, true]);
    expect(BigInt(await entryCount())).toBe(count + 1n);
    expect(await balanceOf(a.cash)).toMatchObject({
      posted: '100.00',
      debits: '100.00',
      credits: '0.00',
      pendingDebits: '0.00',
      pendingCredits: '70.00',
      available: '30.00',
      projected: '100.00',
    });
    expect(await balanceOf(a.costs)).toMatchObject({
      posted: '0.00',
      pendingDebits: '70.00',
      available: '0.00',
      projected: '70.00',
    });

    // Only 30 is left above the bound, for pending and posted entries alike.
    await expectRejected(
      () =>
        ctx.ledger.postPendingEntry({
          bookId: book.id,
          idempotencyKey: newKey(),
          lines: [debit(a.costs, '30.01'), credit(a.cash, '30.01')],
        }),
      'BALANCE_BOUND_EXCEEDED',
      'lines[1].accountId',
    );
    await expectRejected(
      () => post([debit(a.costs, '30.01'), credit(a.cash, '30.01')]),
      'BALANCE_BOUND_EXCEEDED',
      'lines[1].accountId',
    );
    const spend = await postOk([debit(a.costs, '30.00'), credit(a.cash, '30.00')]);
    expect(await balanceOf(a.cash)).toMatchObject({ posted: '70.00', available: '0.00' });

    const key = newKey('commit');
    const committed = await ctx.ledger.commitPendingEntry({
      entryId: pending.id,
      idempotencyKey: key,
      memo: 'settled',
    });
    expect(committed.userErrors).toEqual([]);
    expect(committed.replayed).toBe(false);
    const commit = committed.entry!;
    expect(commit).toMatchObject({
      kind: 'COMMIT',
      status: 'POSTED',
      memo: 'settled',
      pendingEntry: { id: pending.id },
    });
    expect(commit.lines.map((l) => [l.account.id, l.side, l.amount, l.pending])).toEqual(
      pending.lines.map((l) => [l.account.id, l.side, l.amount, false]),
    );
    expect(committed.pendingEntry).toMatchObject({
      id: pending.id,
      status: 'COMMITTED',
      resolvedBy: { id: commit.id },
    });
    expect(await ctx.ledger.journalEntry({ id: pending.id })).toMatchObject({
      status: 'COMMITTED',
      resolvedBy: { id: commit.id },
    });
    expect(await balanceOf(a.cash)).toMatchObject({
      posted: '0.00',
      credits: '100.00',
      pendingCredits: '0.00',
      available: '0.00',
      projected: '0.00',
    });
    expect(await balanceOf(a.costs)).toMatchObject({ posted: '100.00', pendingDebits: '0.00' });

    const replay = await ctx.ledger.commitPendingEntry({
      entryId: pending.id,
      idempotencyKey: key,
      memo: 'settled',
    });
    expect(replay.replayed).toBe(true);
    expect(replay.entry!.id).toBe(commit.id);
    await expectRejected(
      () => ctx.ledger.commitPendingEntry({ entryId: pending.id, idempotencyKey: newKey() }),
      'PENDING_ALREADY_RESOLVED',
      'entryId',
    );
    await expectRejected(
      () => ctx.ledger.voidPendingEntry({ entryId: pending.id, idempotencyKey: newKey() }),
      'PENDING_ALREADY_RESOLVED',
      'entryId',
    );

    // Pending and void entries are not reversible; standard and commit entries are not pending.
    await expectRejected(
      () => ctx.ledger.reverseJournalEntry({ entryId: pending.id, idempotencyKey: newKey() }),
      'NOT_REVERSIBLE',
      'entryId',
    );
    for (const entryId of [spend.id, commit.id]) {
      await expectRejected(
        () => ctx.ledger.commitPendingEntry({ entryId, idempotencyKey: newKey() }),
        'NOT_PENDING',
        'entryId',
      );
      await expectRejected(
        () => ctx.ledger.voidPendingEntry({ entryId, idempotencyKey: newKey() }),
        'NOT_PENDING',
        'entryId',
      );
    }

    // A commit can be reversed like any posted entry.
    await ctx.ledger.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      lines: [debit(a.cash, '1.00'), credit(a.equity, '1.00')],
    });
    const undo = await ctx.ledger.reverseJournalEntry({ entryId: commit.id, idempotencyKey: newKey() });
    expect(undo.userErrors).toEqual([]);
    expect((await balanceOf(a.cash)).posted).toBe('71.00');
  });

  it('reserves against the upper bound and releases the reservation when voided', async () => {
    const b = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0', upperBound: '500.00' },
      { code: 'equity', type: 'EQUITY' },
    ]);
    const held = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      lines: [debit(b.cash, '500.00'), credit(b.equity, '500.00')],
    });
    expect(held.userErrors).toEqual([]);
    expect(await balanceOf(b.cash)).toMatchObject({
      posted: '0.00',
      pendingDebits: '500.00',
      available: '0.00',
      projected: '500.00',
    });
    await expectRejected(
      () =>
        ctx.ledger.postPendingEntry({
          bookId: book.id,
          idempotencyKey: newKey(),
          lines: [debit(b.cash, '0.01'), credit(b.equity, '0.01')],
        }),
      'BALANCE_BOUND_EXCEEDED',
      'lines[0].accountId',
    );
    await expectRejected(
      () => post([debit(b.cash, '0.01'), credit(b.equity, '0.01')]),
      'BALANCE_BOUND_EXCEEDED',
      'lines[0].accountId',
    );

    const key = newKey('void');
    const voided = await ctx.ledger.voidPendingEntry({
      entryId: held.entry!.id,
      idempotencyKey: key,
      memo: 'cancelled',
    });
    expect(voided.userErrors).toEqual([]);
    expect(voided.entry).toMatchObject({
      kind: 'VOID',
      status: 'POSTED',
      lines: [],
      memo: 'cancelled',
      pendingEntry: { id: held.entry!.id },
    });
    expect(voided.pendingEntry).toMatchObject({ status: 'VOIDED', resolvedBy: { id: voided.entry!.id } });
    expect(await balanceOf(b.cash)).toMatchObject({
      posted: '0.00',
      pendingDebits: '0.00',
      projected: '0.00',
    });
    await postOk([debit(b.cash, '0.01'), credit(b.equity, '0.01')]);

    const replay = await ctx.ledger.voidPendingEntry({
      entryId: held.entry!.id,
      idempotencyKey: key,
      memo: 'cancelled',
    });
    expect(replay.replayed).toBe(true);
    expect(replay.entry!.id).toBe(voided.entry!.id);
    await expectRejected(
      () => ctx.ledger.voidPendingEntry({ entryId: held.entry!.id, idempotencyKey: newKey() }),
      'PENDING_ALREADY_RESOLVED',
      'entryId',
    );
    await expectRejected(
      () => ctx.ledger.commitPendingEntry({ entryId: held.entry!.id, idempotencyKey: newKey() }),
      'PENDING_ALREADY_RESOLVED',
      'entryId',
    );
    await expectRejected(
      () => ctx.ledger.reverseJournalEntry({ entryId: voided.entry!.id, idempotencyKey: newKey() }),
      'NOT_REVERSIBLE',
      'entryId',
    );
  });

  it('refuses an expiresAt in the past or more than 366 days ahead', async () => {
    const lines = [debit(a.costs, '1.00'), credit(a.cash, '1.00')];
    for (const offset of [-1000, 367 * DAY_MS]) {
      await expectRejected(
        () =>
          ctx.ledger.postPendingEntry({
            bookId: book.id,
            idempotencyKey: newKey(),
            lines,
            expiresAt: new Date(Date.now() + offset).toISOString(),
          }),
        'INVALID_INPUT',
        'expiresAt',
      );
    }
  });

  it('refuses to commit a pending entry after it expired', async () => {
    const b = await freshAccounts([
      { code: 'cash', type: 'ASSET' },
      { code: 'equity', type: 'EQUITY' },
    ]);
    const expiresAt = new Date(Date.now() + 1000).toISOString();
    const held = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      expiresAt,
      lines: [debit(b.cash, '5.00'), credit(b.equity, '5.00')],
    });
    expect(held.userErrors).toEqual([]);
    expect(held.entry).toMatchObject({ status: 'PENDING', expiresAt });
    expect((await balanceOf(b.cash)).pendingDebits).toBe('5.00');
    await waitFor(() => Date.now() > Date.parse(expiresAt), {
      what: 'the pending entry to expire',
      intervalMs: 2,
    });
    // The expiry sweep of any server process on this database (every 5 s) may or may not have
    // voided it by now: the answer is the same either way (the next test forces the sweep first).
    const commit = await ctx.ledger.commitPendingEntry({ entryId: held.entry!.id, idempotencyKey: newKey() });
    expect(commit.entry).toBeNull();
    expect(commit.userErrors.map((e) => [e.code, e.field])).toEqual([['PENDING_EXPIRED', 'entryId']]);
    const after = await ctx.ledger.journalEntry({ id: held.entry!.id });
    expect(after!.status).toBe('EXPIRED');
    expect((await balanceOf(b.cash)).posted).toBe('0.00');
    // Nothing was committed: the entry is unresolved, or resolved by the sweep's VOID.
    if (after!.resolvedBy !== null) {
      expect(await ctx.ledger.journalEntry({ id: after!.resolvedBy.id })).toMatchObject({
        kind: 'VOID',
        postedBy: 'system:expiry',
      });
    }
    // Release it now, so that no sweep adds an entry to this book while later tests count entries.
    const released = await ctx.ledger.voidPendingEntry({ entryId: held.entry!.id, idempotencyKey: newKey() });
    expect(released.userErrors.filter((e) => e.code !== 'PENDING_ALREADY_RESOLVED')).toEqual([]);
    expect((await balanceOf(b.cash)).pendingDebits).toBe('0.00');
  });

  // Once the expiry sweep has voided an expired pending entry, committing it still answers
  // PENDING_EXPIRED: the code a client sees must not depend on whether a sweep ran first.
  it('answers PENDING_EXPIRED, not PENDING_ALREADY_RESOLVED, once the expiry sweep has released it', async () => {
    const b = await freshAccounts([
      { code: 'cash', type: 'ASSET' },
      { code: 'equity', type: 'EQUITY' },
    ]);
    const expiresAt = new Date(Date.now() + 1000).toISOString();
    const held = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      expiresAt,
      lines: [debit(b.cash, '5.00'), credit(b.equity, '5.00')],
    });
    expect(held.userErrors).toEqual([]);
    await waitFor(() => Date.now() > Date.parse(expiresAt) + 5, { what: 'the pending entry to expire' });
    // The background sweep (every 5 s in every server process) voids expired entries; run it now.
    await ctx.server.services.ledger.expirePending();
    const swept = await ctx.ledger.journalEntry({ id: held.entry!.id });
    expect(swept).toMatchObject({ status: 'EXPIRED' });
    expect(swept!.resolvedBy).not.toBeNull();
    expect(await balanceOf(b.cash)).toMatchObject({
      posted: '0.00',
      pendingDebits: '0.00',
      projected: '0.00',
    });
    // Whether or not a sweep got there first, committing an expired entry is the same mistake.
    await expectRejected(
      () => ctx.ledger.commitPendingEntry({ entryId: held.entry!.id, idempotencyKey: newKey() }),
      'PENDING_EXPIRED',
      'entryId',
    );
  });
});

describe('postJournalEntries', () => {
  let a: Record<'cash' | 'equity' | 'costs' | 'time', CreatedAccount>;
  beforeAll(async () => {
    a = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0' },
      { code: 'equity', type: 'EQUITY' },
      { code: 'costs', type: 'EXPENSE' },
      { code: 'time', type: 'ASSET', unit: 'HOUR' },
    ]);
  });
  const fund = (amount: string) => ({
    idempotencyKey: newKey('b'),
    lines: [debit(a.cash, amount), credit(a.equity, amount)],
  });
  const spend = (amount: string) => ({
    idempotencyKey: newKey('b'),
    lines: [debit(a.costs, amount), credit(a.cash, amount)],
  });

  it('posts every entry of an ATOMIC batch, in order, and replays the whole batch', async () => {
    const count = BigInt(await entryCount());
    const entries = [fund('10.00'), fund('20.00'), spend('25.00')];
    const batch = await ctx.ledger.postJournalEntries({ bookId: book.id, mode: 'ATOMIC', entries });
    expect(batch.userErrors).toEqual([]);
    expect(batch.postedCount).toBe(3);
    expect(batch.results.map((r) => [r.index, r.replayed, r.userErrors.length])).toEqual([
      [0, false, 0],
      [1, false, 0],
      [2, false, 0],
    ]);
    expect(batch.results.map((r) => r.entry!.seq)).toEqual([count + 1n, count + 2n, count + 3n].map(String));
    expect(batch.results[1]!.entry!.prevHash).toBe(batch.results[0]!.entry!.hash);
    expect((await balanceOf(a.cash)).posted).toBe('5.00');

    const again = await ctx.ledger.postJournalEntries({ bookId: book.id, mode: 'ATOMIC', entries });
    expect(again.postedCount).toBe(0);
    expect(again.results.map((r) => r.replayed)).toEqual([true, true, true]);
    expect(again.results.map((r) => r.entry!.id)).toEqual(batch.results.map((r) => r.entry!.id));
    // A replay inside an atomic batch with a new entry: the new one posts, the replay stays one.
    const mixed = await ctx.ledger.postJournalEntries({
      bookId: book.id,
      mode: 'ATOMIC',
      entries: [entries[0]!, fund('1.00')],
    });
    expect(mixed.userErrors).toEqual([]);
    expect(mixed.results.map((r) => [r.replayed, r.userErrors.length])).toEqual([
      [true, 0],
      [false, 0],
    ]);
    expect(mixed.postedCount).toBe(1);
    expect(BigInt(await entryCount())).toBe(count + 4n);
  });

  it('posts nothing of an ATOMIC batch with one bad entry and says which one', async () => {
    const count = await entryCount();
    const cash = (await balanceOf(a.cash)).posted;
    const batch = await ctx.ledger.postJournalEntries({
      bookId: book.id,
      mode: 'ATOMIC',
      entries: [
        fund('1.00'),
        { idempotencyKey: newKey(), lines: [debit(a.cash, '1.00'), credit(a.equity, '0.99')] },
        fund('2.00'),
      ],
    });
    expect(batch.postedCount).toBe(0);
    expect(batch.userErrors).toEqual([]);
    expect(batch.results.map((r) => r.entry)).toEqual([null, null, null]);
    expect(batch.results.map((r) => r.userErrors.map((e) => [e.code, e.field]))).toEqual([
      [['BATCH_ITEM_FAILED', 'entries[0]']],
      [['UNBALANCED_ENTRY', 'entries[1].lines']],
      [['BATCH_ITEM_FAILED', 'entries[2]']],
    ]);
    expect(await entryCount()).toBe(count);
    expect((await balanceOf(a.cash)).posted).toBe(cash);
  });

  it('checks bounds against the entries before it in the batch', async () => {
    const b = await freshAccounts([
      { code: 'cash', type: 'ASSET', lowerBound: '0' },
      { code: 'equity', type: 'EQUITY' },
      { code: 'costs', type: 'EXPENSE' },
    ]);
    await postOk([debit(b.cash, '100.00'), credit(b.equity, '100.00')]);
    const spendB = () => ({
      idempotencyKey: newKey(),
      lines: [debit(b.costs, '60.00'), credit(b.cash, '60.00')],
    });
    const count = await entryCount();
    const atomic = await ctx.ledger.postJournalEntries({
      bookId: book.id,
      mode: 'ATOMIC',
      entries: [spendB(), spendB()],
    });
    expect(atomic.results.map((r) => r.userErrors.map((e) => [e.code, e.field]))).toEqual([
      [['BATCH_ITEM_FAILED', 'entries[0]']],
      [['BALANCE_BOUND_EXCEEDED', 'entries[1].lines[1].accountId']],
    ]);
    expect(await entryCount()).toBe(count);

    const independent = await ctx.ledger.postJournalEntries({
      bookId: book.id,
      mode: 'INDEPENDENT',
      entries: [spendB(), spendB()],
    });
    expect(independent.postedCount).toBe(1);
    expect(independent.results.map((r) => r.userErrors.map((e) => e.code))).toEqual([
      [],
      ['BALANCE_BOUND_EXCEEDED'],
    ]);
    expect((await balanceOf(b.cash)).posted).toBe('40.00');
  });

  it('answers each entry of an INDEPENDENT batch on its own, with paths into the batch', async () => {
    const count = BigInt(await entryCount());
    const dupKey = newKey('dup');
    const foreign = await createAccount(ctx.ledger, otherBook.id, {
      code: `f-${uniqueSuffix()}`,
      type: 'ASSET',
    });
    const batch = await ctx.ledger.postJournalEntries({
      bookId: book.id,
      mode: 'INDEPENDENT',
      entries: [
        fund('1.00'),
        {
          idempotencyKey: newKey(),
          lines: [debit(a.cash, '1.00'), { ...credit(a.equity, '1.00'), accountId: foreign.id }],
        },
        { idempotencyKey: newKey(), lines: [debit(a.cash, '1.00'), credit(a.equity, '1.001')] },
        { idempotencyKey: newKey(), lines: [debit(a.cash, '1.00'), credit(a.time, '1', 'USD')] },
        { idempotencyKey: dupKey, lines: [debit(a.cash, '3.00'), credit(a.equity, '3.00')] },
        { idempotencyKey: dupKey, lines: [debit(a.cash, '3.00'), credit(a.equity, '3.00')] },
        { idempotencyKey: dupKey, lines: [debit(a.cash, '4.00'), credit(a.equity, '4.00')] },
        { idempotencyKey: newKey(), lines: [debit(a.cash, '1.00')] },
        fund('2.00'),
      ],
    });
    expect(batch.userErrors).toEqual([]);
    expect(batch.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(batch.results.map((r) => r.userErrors.map((e) => [e.code, e.field]))).toEqual([
      [],
      [['UNKNOWN_ACCOUNT', 'entries[1].lines[1].accountId']],
      [['INVALID_AMOUNT', 'entries[2].lines[1].amount']],
      [['UNIT_MISMATCH', 'entries[3].lines[1].unit']],
      [],
      [],
      [['IDEMPOTENCY_KEY_REUSED', 'entries[6].idempotencyKey']],
      [['INVALID_INPUT', 'entries[7].lines']],
      [],
    ]);
    expect(batch.results.map((r) => r.replayed)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
    ]);
    expect(batch.results[5]!.entry!.id).toBe(batch.results[4]!.entry!.id);
    expect(batch.postedCount).toBe(3);
    expect(BigInt(await entryCount())).toBe(count + 3n);
  });

  it('refuses, in an ATOMIC batch, a key given twice with different input, and posts nothing', async () => {
    const count = await entryCount();
    const key = newKey('twice');
    const batch = await ctx.ledger.postJournalEntries({
      bookId: book.id,
      mode: 'ATOMIC',
      entries: [
        { idempotencyKey: key, lines: [debit(a.cash, '1.00'), credit(a.equity, '1.00')] },
        { idempotencyKey: key, lines: [debit(a.cash, '2.00'), credit(a.equity, '2.00')] },
      ],
    });
    expect(batch.postedCount).toBe(0);
    expect(batch.results.map((r) => r.userErrors.map((e) => [e.code, e.field]))).toEqual([
      [['BATCH_ITEM_FAILED', 'entries[0]']],
      [['IDEMPOTENCY_KEY_REUSED', 'entries[1].idempotencyKey']],
    ]);
    expect(await entryCount()).toBe(count);
    // The key was not used up.
    expect(
      (await post([debit(a.cash, '2.00'), credit(a.equity, '2.00')], { idempotencyKey: key })).replayed,
    ).toBe(false);
  });

  it('takes 1000 entries, and refuses 1001 (a body well under the 1 MiB limit) and an empty batch', async () => {
    const b = await freshAccounts([
      { code: 'cash', type: 'ASSET' },
      { code: 'equity', type: 'EQUITY' },
    ]);
    const small = (i: number) => ({
      idempotencyKey: `n${i}-${uniqueSuffix()}`,
      lines: [debit(b.cash, '1'), credit(b.equity, '1')],
    });
    const sentBytes: number[] = [];
    const measuring = ledgerClientWithBodySizes(sentBytes);

    const count = BigInt(await entryCount());
    const tooMany = await measuring.postJournalEntries({
      bookId: book.id,
      mode: 'INDEPENDENT',
      entries: Array.from({ length: 1001 }, (_, i) => small(i)),
    });
    expect(sentBytes[0]).toBeLessThan(1024 * 1024);
    expect(tooMany.userErrors.map((e) => [e.code, e.field])).toEqual([['BATCH_TOO_LARGE', 'entries']]);
    expect(tooMany.results).toEqual([]);
    expect(tooMany.postedCount).toBe(0);
    expect(BigInt(await entryCount())).toBe(count);

    const empty = await ctx.ledger.postJournalEntries({ bookId: book.id, mode: 'ATOMIC', entries: [] });
    expect(empty.userErrors.map((e) => e.field)).toEqual(['entries']);
    expect(empty.postedCount).toBe(0);

    const full = await ctx.ledger.postJournalEntries({
      bookId: book.id,
      mode: 'ATOMIC',
      entries: Array.from({ length: 1000 }, (_, i) => small(i)),
    });
    expect(full.userErrors).toEqual([]);
    expect(full.postedCount).toBe(1000);
    expect(new Set(full.results.map((r) => r.entry!.seq)).size).toBe(1000);
    expect(BigInt(await entryCount())).toBe(count + 1000n);
    expect((await balanceOf(b.cash)).posted).toBe('1000.00');
  });
});

describe('closeAccount', () => {
  it('closes only an empty account without reservations; a closed account takes no new lines', async () => {
    const a = await freshAccounts([
      { code: 'till', type: 'ASSET' },
      { code: 'sales', type: 'REVENUE' },
    ]);
    const sale = await postOk([debit(a.till, '12.00'), credit(a.sales, '12.00')]);
    await expectRejected(
      () => ctx.ledger.closeAccount({ accountId: a.till.id }),
      'ACCOUNT_NOT_EMPTY',
      'accountId',
    );

    await postOk([debit(a.sales, '12.00'), credit(a.till, '12.00')]);
    const held = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      lines: [debit(a.till, '1.00'), credit(a.sales, '1.00')],
    });
    expect(held.userErrors).toEqual([]);
    await expectRejected(
      () => ctx.ledger.closeAccount({ accountId: a.till.id }),
      'ACCOUNT_NOT_EMPTY',
      'accountId',
    );
    expect(
      (await ctx.ledger.voidPendingEntry({ entryId: held.entry!.id, idempotencyKey: newKey() })).userErrors,
    ).toEqual([]);

    // Zero balance (12 in, 12 out) and nothing pending: it closes.
    const closed = await ctx.ledger.closeAccount({ accountId: a.till.id });
    expect(closed.userErrors).toEqual([]);
    expect(closed.account).toMatchObject({ id: a.till.id, closed: true });
    expect(closed.account!.closedAt).not.toBeNull();

    await expectRejected(
      () => post([debit(a.till, '1.00'), credit(a.sales, '1.00')]),
      'ACCOUNT_CLOSED',
      'lines[0].accountId',
    );
    await expectRejected(
      () =>
        ctx.ledger.postPendingEntry({
          bookId: book.id,
          idempotencyKey: newKey(),
          lines: [debit(a.sales, '1.00'), credit(a.till, '1.00')],
        }),
      'ACCOUNT_CLOSED',
      'lines[1].accountId',
    );
    await expectRejected(
      () => ctx.ledger.reverseJournalEntry({ entryId: sale.id, idempotencyKey: newKey() }),
      'ACCOUNT_CLOSED',
      undefined,
    );
    await expectRejected(
      () => ctx.ledger.closeAccount({ accountId: a.till.id }),
      'ACCOUNT_CLOSED',
      'accountId',
    );
    for (const accountId of [
      'garbage',
      book.id,
      encodeGlobalId('Account', `${randomUUID()}:${randomUUID()}`),
    ]) {
      await expectRejected(() => ctx.ledger.closeAccount({ accountId }), 'UNKNOWN_ACCOUNT', 'accountId');
    }
    expect((await ctx.ledger.account({ id: a.till.id }))!.closed).toBe(true);
  });
});

/** A client whose fetch records the size of every request body it sends. */
function ledgerClientWithBodySizes(sizes: number[]): LedgerClient {
  return createLedgerClient({
    url: ctx.server.url,
    token: adminToken(),
    retries: 0,
    fetch: (input, init) => {
      const body = init?.body;
      sizes.push(typeof body === 'string' ? Buffer.byteLength(body) : -1);
      return globalThis.fetch(input, init);
    },
  });
}
