/**
 * Issue 11, item 5: one error vocabulary, through real HTTP and the SDK.
 *
 * - A malformed Date and a malformed DateTime answer the same code, INVALID_DATE (a bad DateTime
 *   answered INVALID_INPUT), in variables and in literals.
 * - `effectiveAt` takes a plain date, read as 00:00 UTC, as `payInstalment`'s `paidOn` does.
 * - Amounts in messages are written at their unit's scale ("by 1.00", not "by 1").
 * - A variable that does not fit its type answers a short message naming the path, with a stable
 *   code and `extensions.field`, never an echo of the whole input (a missing field of a journal
 *   entry answered 671 characters without a code).
 */
import { createYoga } from 'graphql-yoga';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { buildSchema, inputErrorsPlugin } from '../../schema/index.js';
import { daysAgo, setupCoop } from '../helpers/coop.js';
import {
  type CreatedAccount,
  createAccounts,
  createBook,
  credit,
  debit,
  expectClientError,
  ledgerClient,
  newKey,
  rawGraphQL,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let bookId: string;
let cash: CreatedAccount;
let sales: CreatedAccount;
let hours: CreatedAccount;
let hoursOwed: CreatedAccount;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  bookId = (
    await createBook(admin, {
      units: [
        { code: 'USD', scale: 2 },
        { code: 'HOUR', scale: 0 },
      ],
    })
  ).id;
  const a = await createAccounts(admin, bookId, [
    { code: '1000', type: 'ASSET' },
    { code: '4000', type: 'REVENUE' },
    { code: 'H1', type: 'ASSET', unit: 'HOUR' },
    { code: 'H2', type: 'LIABILITY', unit: 'HOUR' },
  ]);
  [cash, sales, hours, hoursOwed] = [a['1000'], a['4000'], a.H1, a.H2];
});

afterAll(async () => {
  await server?.stop();
});

describe('dates: one code for a malformed Date and a malformed DateTime', () => {
  it('a malformed DateTime in the variables is INVALID_DATE (SDK)', async () => {
    const error = await expectClientError(admin.journalEntries({ bookId, from: 'last tuesday' }));
    expect(error.code).toBe('INVALID_DATE');
    const past = await expectClientError(
      admin.accountBalance({ accountId: cash.id, asOf: '2025-02-29T00:00:00Z' }),
    );
    expect(past.code).toBe('INVALID_DATE');
  });

  it('a malformed Date in the variables is INVALID_DATE too (SDK)', async () => {
    const coop = await setupCoop(server.url, admin);
    const error = await expectClientError(coop.treasurer.votingRoll({ coopId: coop.id, on: '2026-02-30' }));
    expect(error.code).toBe('INVALID_DATE');
  });

  it('malformed Date and DateTime literals in the query text are INVALID_DATE', async () => {
    const dt = await rawGraphQL(server.url, `{ trialBalance(bookId: "${bookId}", asOf: 5) { balanced } }`);
    expect(dt.body.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_DATE']);
    const d = await rawGraphQL(server.url, `{ votingRoll(coopId: "${bookId}", on: "soon") { votes } }`);
    expect(d.body.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_DATE']);
  });

  it('effectiveAt takes a plain date as 00:00 UTC of that day, as paidOn does', async () => {
    const day = daysAgo(3);
    const payload = await admin.postJournalEntry({
      bookId,
      idempotencyKey: newKey('plain-date'),
      effectiveAt: day,
      lines: [debit(cash, '3.00'), credit(sales, '3.00')],
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.entry!.effectiveAt).toBe(`${day}T00:00:00.000Z`);
    // The same request with the instant written out is the same request (a replay).
    const again = await admin.postJournalEntry({
      bookId,
      idempotencyKey: payload.entry!.idempotencyKey,
      effectiveAt: `${day}T00:00:00Z`,
      lines: [debit(cash, '3.00'), credit(sales, '3.00')],
    });
    expect(again.replayed).toBe(true);
    // A plain date that does not exist is INVALID_DATE, not a rolled-over day.
    const error = await expectClientError(
      admin.postJournalEntry({
        bookId,
        idempotencyKey: newKey('feb30'),
        effectiveAt: '2026-02-30',
        lines: [debit(cash, '3.00'), credit(sales, '3.00')],
      }),
    );
    expect(error.code).toBe('INVALID_DATE');
  });
});

describe('instants are kept to the millisecond (issue 10, item 13)', () => {
  it('an effectiveAt finer than a millisecond is INVALID_DATE and posts nothing; trailing zeros are fine', async () => {
    const day = daysAgo(2);
    const key = newKey('sub-ms');
    const error = await expectClientError(
      admin.postJournalEntry({
        bookId,
        idempotencyKey: key,
        effectiveAt: `${day}T10:00:00.1234Z`,
        lines: [debit(cash, '4.00'), credit(sales, '4.00')],
      }),
    );
    expect(error.code).toBe('INVALID_DATE');
    expect(error.message).toContain('finer than a millisecond');
    // Nothing was posted under the key: the same key with a millisecond instant posts now.
    const posted = await admin.postJournalEntry({
      bookId,
      idempotencyKey: key,
      effectiveAt: `${day}T10:00:00.123000Z`,
      lines: [debit(cash, '4.00'), credit(sales, '4.00')],
    });
    expect(posted.userErrors).toEqual([]);
    expect(posted.replayed).toBe(false);
    expect(posted.entry!.effectiveAt).toBe(`${day}T10:00:00.123Z`);
    // The same refusal for a literal in the query text.
    const literal = await rawGraphQL(
      server.url,
      `{ trialBalance(bookId: "${bookId}", asOf: "${day}T10:00:00.000000001Z") { balanced } }`,
    );
    expect(literal.body.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_DATE']);
  });
});

describe('amounts in messages are written at the unit scale', () => {
  it('an unbalanced entry says "by 1.00" in USD and "by 2" in HOUR (scale 0)', async () => {
    const payload = await admin.postJournalEntry({
      bookId,
      idempotencyKey: newKey('unbalanced'),
      lines: [debit(cash, '2.00'), credit(sales, '1.00'), debit(hours, '1'), credit(hoursOwed, '3')],
    });
    expect(payload.userErrors).toEqual([
      {
        code: 'UNBALANCED_ENTRY',
        field: 'lines',
        message:
          'debits must equal credits for every unit (USD: debits exceed credits by 1.00; HOUR: credits exceed debits by 2)',
      },
    ]);
  });
});

const MISSING_KEY = `mutation ($input: PostJournalEntryInput!) {
  postJournalEntry(input: $input) { entry { id } userErrors { code } } }`;

function entryWithoutKey() {
  return {
    bookId,
    memo: 'x'.repeat(300),
    metadata: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(50) })),
    lines: [debit(cash, '1.00'), credit(sales, '1.00')],
  };
}

/** What a variable coercion error must look like (checked in-process and over HTTP). */
function expectShortCodedError(
  errors: { message: string; extensions?: Record<string, unknown> }[] | undefined,
  code: string,
  field: string,
  message: RegExp,
) {
  expect(errors).toHaveLength(1);
  const [error] = errors!;
  expect(error!.extensions).toMatchObject({ code, field });
  expect(error!.message).toMatch(message);
  expect(error!.message.length).toBeLessThan(250);
  expect(error!.message).not.toContain('xxxxxxxxxx');
}

describe('variables that do not fit their types: short messages, a code, the path', () => {
  const cases = () =>
    [
      {
        what: 'a missing required field',
        variables: { input: entryWithoutKey() },
        code: 'BAD_USER_INPUT',
        field: 'input.idempotencyKey',
        message: /^input\.idempotencyKey is required \(String!\) but was not provided$/,
      },
      {
        what: 'a field the input type does not have',
        variables: { input: { ...entryWithoutKey(), idempotencyKey: 'k', colour: 'red' } },
        code: 'BAD_USER_INPUT',
        field: 'input.colour',
        message: /^input\.colour is not a field of PostJournalEntryInput$/,
      },
      {
        what: 'a malformed amount deep in the input (the scalar’s own code)',
        variables: {
          input: {
            ...entryWithoutKey(),
            idempotencyKey: 'k',
            lines: [debit(cash, '1.00'), credit(sales, '1e3')],
          },
        },
        code: 'INVALID_AMOUNT',
        field: 'input.lines[1].amount',
        message: /^input\.lines\[1\]\.amount: Decimal must be a string/,
      },
      {
        what: 'a malformed instant',
        variables: { input: { ...entryWithoutKey(), idempotencyKey: 'k', effectiveAt: 'soon' } },
        code: 'INVALID_DATE',
        field: 'input.effectiveAt',
        message: /^input\.effectiveAt: DateTime must be/,
      },
      {
        what: 'an enum value that does not exist',
        variables: {
          input: {
            ...entryWithoutKey(),
            idempotencyKey: 'k',
            lines: [{ ...debit(cash, '1.00'), side: 'LEFT' }],
          },
        },
        code: 'BAD_USER_INPUT',
        field: 'input.lines[0].side',
        message: /^input\.lines\[0\]\.side: Value "LEFT" does not exist in "Side" enum/,
      },
      {
        what: 'no input at all',
        variables: {},
        code: 'BAD_USER_INPUT',
        field: 'input',
        message: /^\$input \(PostJournalEntryInput!\) is required but was not provided$/,
      },
    ] as const;

  it('in the schema’s yoga plugin (inputErrorsPlugin), every case', async () => {
    const yoga = createYoga({
      schema: buildSchema(),
      plugins: [inputErrorsPlugin()],
      logging: false,
      context: () => ({ principal: null, requestId: 'test', logger: pino({ level: 'silent' }) }),
    });
    for (const c of cases()) {
      const response = await yoga.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: MISSING_KEY, variables: c.variables }),
      });
      expect(response.status, c.what).toBe(400);
      const body = (await response.json()) as {
        errors?: { message: string; extensions?: Record<string, unknown> }[];
      };
      expectShortCodedError(body.errors, c.code, c.field, c.message);
    }
  });

  // The service's yoga instance lists `inputErrorsPlugin()` (server/service.ts passes it to the
  // platform's app); the answer keeps the executor's HTTP status, 400.
  it('over HTTP from the service, every case, answered 400', async () => {
    for (const c of cases()) {
      const answer = await rawGraphQL(server.url, MISSING_KEY, c.variables);
      expect(answer.status, c.what).toBe(400);
      expectShortCodedError(answer.body.errors, c.code, c.field, c.message);
    }
  });

  it('over HTTP from the service, the scalar codes already reach the client (INVALID_AMOUNT, INVALID_DATE)', async () => {
    const amount = await rawGraphQL(server.url, MISSING_KEY, cases()[2].variables);
    expect(amount.body.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_AMOUNT']);
    const date = await rawGraphQL(server.url, MISSING_KEY, cases()[3].variables);
    expect(date.body.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_DATE']);
  });
});
