/**
 * A book id that decodes (base64 of `Book:<raw>`) to a raw part that is no UUID. The posting
 * mutations with lines named by account code looked the codes up with that raw part as a uuid
 * parameter: PostgreSQL refused the cast and the ADMIN got a masked 500 (`Unexpected error.`)
 * instead of UNKNOWN_BOOK (found by tests/platform/mutation-fuzz.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  createAccounts,
  createBook,
  encodeGlobalId,
  ledgerClient,
  newKey,
  rawGraphQL,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let bookId: string;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  bookId = (await createBook(admin)).id;
  await createAccounts(admin, bookId, [
    { code: '1000', type: 'ASSET' },
    { code: '4000', type: 'REVENUE' },
  ]);
});

afterAll(async () => {
  await server?.stop();
});

const byCode = [
  { accountCode: '1000', side: 'DEBIT', amount: '1.00', unit: 'USD' },
  { accountCode: '4000', side: 'CREDIT', amount: '1.00', unit: 'USD' },
];

const FORGED = [
  ['not a uuid', encodeGlobalId('Book', 'nope')],
  ['a scoped id', encodeGlobalId('Book', '0190f0e0-0000-7000-8000-000000000001:x')],
  ['SQL', encodeGlobalId('Book', "x' or '1'='1")],
  ['a Coop id, not a uuid', encodeGlobalId('Coop', 'nope')],
] as const;

describe('a forged book id whose raw part is no uuid, with lines named by code', () => {
  for (const [what, forged] of FORGED) {
    it(`${what}: postJournalEntry, postPendingEntry and postJournalEntries answer UNKNOWN_BOOK`, async () => {
      const single = await rawGraphQL(
        server.url,
        'mutation ($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { entry { id } userErrors { code field } } }',
        { input: { bookId: forged, idempotencyKey: newKey('forged'), lines: byCode } },
      );
      expect(single.status, JSON.stringify(single.body)).toBe(200);
      expect(single.body).toEqual({
        data: { postJournalEntry: { entry: null, userErrors: [{ code: 'UNKNOWN_BOOK', field: 'bookId' }] } },
      });
      const pending = await rawGraphQL(
        server.url,
        'mutation ($input: PostPendingEntryInput!) { postPendingEntry(input: $input) { entry { id } userErrors { code field } } }',
        { input: { bookId: forged, idempotencyKey: newKey('forged'), lines: byCode } },
      );
      expect(pending.body).toEqual({
        data: { postPendingEntry: { entry: null, userErrors: [{ code: 'UNKNOWN_BOOK', field: 'bookId' }] } },
      });
      const batch = await rawGraphQL(
        server.url,
        `mutation ($input: PostJournalEntriesInput!) { postJournalEntries(input: $input) {
           results { entry { id } userErrors { code field } } userErrors { code } } }`,
        {
          input: {
            bookId: forged,
            mode: 'INDEPENDENT',
            entries: [{ idempotencyKey: newKey('forged'), lines: byCode }],
          },
        },
      );
      expect(batch.body).toEqual({
        data: {
          postJournalEntries: {
            results: [{ entry: null, userErrors: [{ code: 'UNKNOWN_BOOK', field: 'entries[0].bookId' }] }],
            userErrors: [],
          },
        },
      });
    });
  }
});
