/**
 * `importJournalCsv` (issue 17): journal entries from a CSV file, all or nothing, accounts named by
 * code or id. Problems of the file are `rowErrors` (line and column); problems of the request (the
 * book, the key) are `userErrors`. Same key and file: every entry answered again, `replayed`.
 */
import { LedgerError } from '../../server/core/index.js';
import {
  JOURNAL_CSV_ROWS_MAX,
  JOURNAL_IMPORT_KEY_LENGTH_MAX,
  type JournalImportResult,
} from '../../server/ledger/index.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { ErrorCodeEnum, guard, UserErrorRef } from '../errors.js';
import { decodeBookId, decodeScopedId } from '../ids.js';
import { JournalEntryRef } from '../refs.js';

export const JournalRowErrorRef = builder
  .objectRef<{ row: number; column: string | null; code: string; message: string }>('JournalRowError')
  .implement({
    description: 'A problem with one row of an imported file (row = line number, the header is line 1).',
    fields: (t) => ({
      row: t.exposeInt('row'),
      column: t.string({ nullable: true, resolve: (e) => e.column }),
      // biome-ignore lint/suspicious/noExplicitAny: the code is one of ERROR_CODES
      code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code as any }),
      message: t.exposeString('message'),
    }),
  });

const ImportJournalCsvPayload = builder
  .objectRef<{ result: JournalImportResult | null; userErrors: LedgerError[] }>('ImportJournalCsvPayload')
  .implement({
    fields: (t) => ({
      imported: t.boolean({
        description:
          'Every entry of the file is posted (by this request, or by the first one with this key).',
        resolve: (p) => p.result?.imported ?? false,
      }),
      replayed: t.boolean({
        description: 'This key and file were imported before; nothing new was posted.',
        resolve: (p) => p.result?.replayed ?? false,
      }),
      postedCount: t.int({
        description: 'Entries posted by this request (0 for a replay).',
        resolve: (p) => (p.result && !p.result.replayed ? p.result.entries.length : 0),
      }),
      entries: t.field({
        type: [JournalEntryRef],
        description: "The file's entries in the order they first appear.",
        resolve: (p) => p.result?.entries ?? [],
      }),
      rowErrors: t.field({ type: [JournalRowErrorRef], resolve: (p) => p.result?.rowErrors ?? [] }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const ImportJournalCsvInput = builder.inputType('ImportJournalCsvInput', {
  fields: (t) => ({
    bookId: t.id({ required: true }),
    csv: t.string({
      required: true,
      description: `Header: entry, date, account_code (or account) or account_id, debit, credit; optional unit, memo. At most ${JOURNAL_CSV_ROWS_MAX} rows, 1000 entries.`,
    }),
    idempotencyKey: t.string({
      required: true,
      description: `1-${JOURNAL_IMPORT_KEY_LENGTH_MAX} printable ASCII characters; entry n of the file is keyed <key>:<n>.`,
    }),
  }),
});

builder.mutationFields((t) => ({
  importJournalCsv: t.field({
    type: ImportJournalCsvPayload,
    description:
      'Posts the journal entries of a CSV file, all or nothing (one atomic batch): a file with any problem posts nothing and names every problem by line and column.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ImportJournalCsvInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeBookId(input.bookId);
      const result = await guard(() =>
        ctx.services.ledger.importJournalCsv(
          {
            bookId,
            csv: input.csv,
            idempotencyKey: input.idempotencyKey,
            decodeAccountId: (text) => {
              const key = decodeScopedId(text, 'Account');
              return key && key.bookId === bookId ? key.id : null;
            },
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { result: null, userErrors: [result] }
        : { result, userErrors: [] };
    },
  }),
}));
