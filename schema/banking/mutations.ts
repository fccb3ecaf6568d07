/**
 * Mutations of banking (issue 17). Each takes one `input` and answers a payload with `userErrors`
 * (nothing changed when there are any). Imports and postings take an `idempotencyKey`: the same
 * key and input answer the first result (`replayed: true`), another input IDEMPOTENCY_KEY_REUSED.
 * A caller who may not write the book gets the answer of an unknown account, line, rule or
 * reconciliation.
 */
import type {
  BankLineRecord,
  BankRuleRecord,
  BankStatementRecord,
  CsvMapping,
  LinePosting,
  ReconciliationRecord,
} from '../../server/banking/index.js';
import { LedgerError } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { actorOf, type GraphQLContext } from '../context.js';
import { ErrorCodeEnum, guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { decodeScopedId } from '../ids.js';
import { BankAccountRef } from './queries.js';
import {
  BankFormatEnum,
  BankLineRef,
  BankReconciliationRef,
  BankRuleRef,
  BankStatementRef,
  CsvDateFormatEnum,
  CsvDelimiterEnum,
  DELIMITERS,
  decodeBankId,
  PostingRef,
  RuleDirectionEnum,
} from './types.js';

const keyDoc =
  '1-128 printable ASCII characters, unique per book: the same key and input answer the first result again.';

/** An account id of any book: its book and raw id, or '' for both when it is no account id. */
function accountKey(id: string | number): { bookId: string; id: string } {
  const key = decodeScopedId(String(id), 'Account');
  return key ?? { bookId: '', id: '' };
}

/** A counter account's raw id in this book ('' for another book's or a malformed one). */
function counterId(id: string | number | null | undefined, bookId: string): string | null {
  if (id === null || id === undefined) return null;
  const key = decodeScopedId(String(id), 'Account');
  return key && key.bookId === bookId ? key.id : '';
}

const CsvMappingInput = builder.inputType('BankCsvMappingInput', {
  description:
    "How the account's CSV exports are read, by the names in the file's header: a date, the amount as one signed column " +
    '(amountColumn) or two (moneyInColumn, moneyOutColumn), one to five description columns. Remembered for the account.',
  fields: (t) => ({
    delimiter: t.field({ type: CsvDelimiterEnum, defaultValue: 'COMMA' }),
    dateColumn: t.string({ required: true }),
    dateFormat: t.field({ type: CsvDateFormatEnum, required: true }),
    amountColumn: t.string({ description: 'Signed: positive is money in.' }),
    moneyInColumn: t.string(),
    moneyOutColumn: t.string(),
    decimalComma: t.boolean({ defaultValue: false, description: 'Amounts written 1.234,56.' }),
    descriptionColumns: t.stringList({ required: true }),
    referenceColumn: t.string({ description: "The bank's reference of a line (used to find duplicates)." }),
    counterpartyColumn: t.string(),
    balanceColumn: t.string({
      description: 'The running balance: the last line’s is the statement’s closing balance.',
    }),
  }),
});

type RawMapping = typeof CsvMappingInput.$inferInput;

function toMapping(m: RawMapping | null | undefined): CsvMapping | null {
  if (!m) return null;
  return {
    delimiter: DELIMITERS[(m.delimiter ?? 'COMMA') as keyof typeof DELIMITERS],
    dateColumn: m.dateColumn,
    dateFormat: m.dateFormat,
    amountColumn: m.amountColumn ?? null,
    moneyInColumn: m.moneyInColumn ?? null,
    moneyOutColumn: m.moneyOutColumn ?? null,
    decimalComma: m.decimalComma ?? false,
    descriptionColumns: m.descriptionColumns,
    referenceColumn: m.referenceColumn ?? null,
    counterpartyColumn: m.counterpartyColumn ?? null,
    balanceColumn: m.balanceColumn ?? null,
  };
}

const errorsOf = (r: unknown) => (r instanceof LedgerError ? userErrorsOf(r) : []);

const BankRowErrorRef = builder
  .objectRef<{ row: number; column: string | null; code: string; message: string }>('BankFileRowError')
  .implement({
    description: 'A problem with one line of an imported bank file (row = line number of the file).',
    fields: (t) => ({
      row: t.exposeInt('row'),
      column: t.string({ nullable: true, resolve: (e) => e.column }),
      // biome-ignore lint/suspicious/noExplicitAny: the code is one of ERROR_CODES
      code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code as any }),
      message: t.exposeString('message'),
    }),
  });

const ImportPayload = builder
  .objectRef<{
    statement: BankStatementRecord | null;
    replayed: boolean;
    rowErrors: { row: number; column: string | null; code: string; message: string }[];
    userErrors: LedgerError[];
  }>('ImportBankStatementPayload')
  .implement({
    fields: (t) => ({
      statement: t.field({
        type: BankStatementRef,
        nullable: true,
        description:
          'The imported statement (with how many lines were new and how many duplicates); null when refused.',
        resolve: (p) => p.statement,
      }),
      imported: t.boolean({ resolve: (p) => p.statement !== null }),
      replayed: t.boolean({ resolve: (p) => p.replayed }),
      rowErrors: t.field({ type: [BankRowErrorRef], resolve: (p) => p.rowErrors }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const LinesPayload = builder
  .objectRef<{ lines: BankLineRecord[]; userErrors: LedgerError[] }>('BankMatchesPayload')
  .implement({
    fields: (t) => ({
      lines: t.field({ type: [BankLineRef], description: 'The lines now matched.', resolve: (p) => p.lines }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const LinePayload = builder
  .objectRef<{ line: BankLineRecord | null; userErrors: LedgerError[] }>('UnmatchBankLinePayload')
  .implement({
    fields: (t) => ({
      line: t.field({ type: BankLineRef, nullable: true, resolve: (p) => p.line }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

function rulePayload(name: string) {
  return builder.objectRef<{ rule: BankRuleRecord | null; userErrors: LedgerError[] }>(name).implement({
    fields: (t) => ({
      rule: t.field({ type: BankRuleRef, nullable: true, resolve: (p) => p.rule }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}

function reconciliationPayload(name: string) {
  return builder
    .objectRef<{ reconciliation: ReconciliationRecord | null; userErrors: LedgerError[] }>(name)
    .implement({
      fields: (t) => ({
        reconciliation: t.field({
          type: BankReconciliationRef,
          nullable: true,
          resolve: (p) => p.reconciliation,
        }),
        userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
      }),
    });
}

type Postings = {
  postings: (LinePosting & { bookId: string })[];
  replayed: boolean;
  userErrors: LedgerError[];
};

const ApplyRulesPayload = builder.objectRef<Postings>('ApplyBankRulesPayload').implement({
  fields: (t) => ({
    postings: t.field({
      type: [PostingRef],
      description:
        'Every unmatched line a rule covered: the entry posted and matched, or why the ledger refused it.',
      resolve: (p) => p.postings,
    }),
    postedCount: t.int({ resolve: (p) => p.postings.filter((x) => x.entryId).length }),
    replayed: t.boolean({ resolve: (p) => p.replayed }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

const PostLinePayload = builder.objectRef<Postings>('PostBankLinePayload').implement({
  fields: (t) => ({
    posting: t.field({ type: PostingRef, nullable: true, resolve: (p) => p.postings[0] ?? null }),
    replayed: t.boolean({ resolve: (p) => p.replayed }),
    userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
  }),
});

const OptionsPayload = builder
  .objectRef<{ account: unknown; userErrors: LedgerError[] }>('SetBankAccountOptionsPayload')
  .implement({
    fields: (t) => ({
      bankAccount: t.field({ type: BankAccountRef, nullable: true, resolve: (p) => p.account as never }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const run = <T>(ctx: GraphQLContext, work: (banking: GraphQLContext['services']['banking']) => Promise<T>) =>
  guard(() => work(ctx.services.banking));

builder.mutationFields((t) => ({
  setBankAccountOptions: t.field({
    type: OptionsPayload,
    description: "Remembers how an account's CSV files are read and its matching window (0 to 31 days).",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('SetBankAccountOptionsInput', {
          fields: (f) => ({
            accountId: f.id({ required: true }),
            csvMapping: f.field({ type: CsvMappingInput }),
            matchWindowDays: f.int(),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = accountKey(input.accountId);
      const error = await run(ctx, (b) =>
        b.setAccountOptions(
          {
            bookId: key.bookId,
            accountId: key.id,
            csvMapping: toMapping(input.csvMapping),
            matchWindowDays: input.matchWindowDays ?? null,
          },
          actorOf(ctx),
        ),
      );
      if (error) return { account: null, userErrors: userErrorsOf(error) };
      const [account] = await guard(() => ctx.services.ledger.getAccounts([key]));
      return { account: account ?? null, userErrors: [] };
    },
  }),
  importBankStatement: t.field({
    type: ImportPayload,
    description:
      'Imports a bank statement file for a bank account, all or nothing: a file with any problem imports nothing and names ' +
      'every problem by line. Lines the account already has (same bank reference, or same date, amount and description) are skipped.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('ImportBankStatementInput', {
          fields: (f) => ({
            accountId: f.id({ required: true, description: 'An ASSET or LIABILITY account of the book.' }),
            format: f.field({ type: BankFormatEnum, required: true }),
            content: f.string({ required: true, description: 'The file as text (at most 10,000 lines).' }),
            fileName: f.string(),
            csvMapping: f.field({
              type: CsvMappingInput,
              description:
                'CSV only: used and remembered; without it the account’s remembered mapping is used.',
            }),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = accountKey(input.accountId);
      const result = await run(ctx, (b) =>
        b.importStatement(
          {
            bookId: key.bookId,
            accountId: key.id,
            format: input.format,
            content: input.content,
            fileName: input.fileName ?? null,
            csvMapping: toMapping(input.csvMapping),
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { statement: null, replayed: false, rowErrors: [], userErrors: userErrorsOf(result) }
        : { ...result, userErrors: [] };
    },
  }),
  confirmBankMatches: t.field({
    type: LinesPayload,
    description:
      'Matches bank lines to journal entries (a suggestion confirmed, or another entry chosen), all or nothing: each entry must ' +
      "move the line's amount on the account and stand for no other line.",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('ConfirmBankMatchesInput', {
          fields: (f) => ({
            accountId: f.id({ required: true }),
            matches: f.field({
              type: [
                builder.inputType('BankMatchInput', {
                  fields: (g) => ({ lineId: g.id({ required: true }), entryId: g.id({ required: true }) }),
                }),
              ],
              required: true,
            }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = accountKey(input.accountId);
      const matches = input.matches.map((m) => {
        const line = decodeBankId(m.lineId, 'BankStatementLine');
        const entry = decodeScopedId(String(m.entryId), 'JournalEntry');
        return {
          lineId: line?.bookId === key.bookId ? line.id : '',
          entryId: entry?.bookId === key.bookId ? entry.id : '',
        };
      });
      const result = await run(ctx, (b) =>
        b.confirmMatches({ bookId: key.bookId, accountId: key.id, matches }, actorOf(ctx)),
      );
      return result instanceof LedgerError
        ? { lines: [], userErrors: errorsOf(result) }
        : { lines: result, userErrors: [] };
    },
  }),
  acceptBankSuggestions: t.field({
    type: LinesPayload,
    description:
      "Confirms every current suggestion of the account's unmatched lines (of one statement when given).",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('AcceptBankSuggestionsInput', {
          fields: (f) => ({ accountId: f.id({ required: true }), statementId: f.id() }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = accountKey(input.accountId);
      const statement = input.statementId != null ? decodeBankId(input.statementId, 'BankStatement') : null;
      const statementId =
        input.statementId != null ? (statement?.bookId === key.bookId ? statement.id : '') : null;
      const result = await run(ctx, (b) =>
        statementId === ''
          ? Promise.resolve([])
          : b.acceptSuggestions({ bookId: key.bookId, accountId: key.id, statementId }, actorOf(ctx)),
      );
      return result instanceof LedgerError
        ? { lines: [], userErrors: errorsOf(result) }
        : { lines: result, userErrors: [] };
    },
  }),
  unmatchBankLine: t.field({
    type: LinePayload,
    description: "Undoes a line's match (not inside a closed reconciliation); the entry stays in the ledger.",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('UnmatchBankLineInput', {
          fields: (f) => ({ lineId: f.id({ required: true }) }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = decodeBankId(input.lineId, 'BankStatementLine') ?? { bookId: '', id: '' };
      const result = await run(ctx, (b) => b.unmatch({ bookId: key.bookId, lineId: key.id }, actorOf(ctx)));
      return result instanceof LedgerError
        ? { line: null, userErrors: errorsOf(result) }
        : { line: result, userErrors: [] };
    },
  }),
  createBankRule: t.field({
    type: rulePayload('CreateBankRulePayload'),
    description: 'A rule for the account\'s unmatched lines: "description contains RENT -> 5100 Rent".',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('CreateBankRuleInput', {
          fields: (f) => ({
            accountId: f.id({ required: true, description: 'The bank account whose lines the rule posts.' }),
            descriptionContains: f.string({
              required: true,
              description: 'Text in the line’s description, any case.',
            }),
            direction: f.field({ type: RuleDirectionEnum, defaultValue: 'ANY' }),
            counterAccountId: f.id(),
            counterAccountCode: f.string({ description: 'Or the counter account by its code.' }),
            memo: f.string({ description: "The entries' memo; default the line's description." }),
            priority: f.int({ description: 'Lowest first; default after the account’s other rules.' }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = accountKey(input.accountId);
      const result = await run(ctx, (b) =>
        b.createRule(
          {
            bookId: key.bookId,
            accountId: key.id,
            descriptionContains: input.descriptionContains,
            direction: input.direction ?? 'ANY',
            counterAccountId: counterId(input.counterAccountId, key.bookId),
            counterAccountCode: input.counterAccountCode ?? null,
            memo: input.memo ?? null,
            priority: input.priority ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { rule: null, userErrors: errorsOf(result) }
        : { rule: result, userErrors: [] };
    },
  }),
  deleteBankRule: t.field({
    type: rulePayload('DeleteBankRulePayload'),
    description: 'Deletes a rule; entries it posted stay.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('DeleteBankRuleInput', {
          fields: (f) => ({ ruleId: f.id({ required: true }) }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = decodeBankId(input.ruleId, 'BankRule') ?? { bookId: '', id: '' };
      const result = await run(ctx, (b) =>
        b.deleteRule({ bookId: key.bookId, ruleId: key.id }, actorOf(ctx)),
      );
      return result instanceof LedgerError
        ? { rule: null, userErrors: errorsOf(result) }
        : { rule: result, userErrors: [] };
    },
  }),
  applyBankRules: t.field({
    type: ApplyRulesPayload,
    description:
      "Posts each unmatched line (of one statement when given) that one of the account's rules covers as a new entry, and matches it.",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('ApplyBankRulesInput', {
          fields: (f) => ({
            accountId: f.id({ required: true }),
            statementId: f.id(),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = accountKey(input.accountId);
      const statement = input.statementId != null ? decodeBankId(input.statementId, 'BankStatement') : null;
      const result = await run(ctx, (b) =>
        b.applyRules(
          {
            bookId: key.bookId,
            accountId: key.id,
            statementId:
              input.statementId != null ? (statement?.bookId === key.bookId ? statement.id : '') : null,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { postings: [], replayed: false, userErrors: errorsOf(result) }
        : {
            postings: result.value.map((p) => ({ ...p, bookId: key.bookId })),
            replayed: result.replayed,
            userErrors: [],
          };
    },
  }),
  postBankLine: t.field({
    type: PostLinePayload,
    description:
      'Posts one unmatched line as a new entry against a counter account chosen by hand, and matches it.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('PostBankLineInput', {
          fields: (f) => ({
            lineId: f.id({ required: true }),
            counterAccountId: f.id(),
            counterAccountCode: f.string({ description: 'Or the counter account by its code.' }),
            memo: f.string({ description: "Default: the line's description." }),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = decodeBankId(input.lineId, 'BankStatementLine') ?? { bookId: '', id: '' };
      const result = await run(ctx, (b) =>
        b.postLine(
          {
            bookId: key.bookId,
            lineId: key.id,
            counterAccountId: counterId(input.counterAccountId, key.bookId),
            counterAccountCode: input.counterAccountCode ?? null,
            memo: input.memo ?? null,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { postings: [], replayed: false, userErrors: errorsOf(result) }
        : { postings: [{ ...result.value, bookId: key.bookId }], replayed: result.replayed, userErrors: [] };
    },
  }),
  startBankReconciliation: t.field({
    type: reconciliationPayload('StartBankReconciliationPayload'),
    description:
      "Opens a reconciliation of a bank account for a statement period (the day after the account's last one ended, when it has one).",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('StartBankReconciliationInput', {
          fields: (f) => ({
            accountId: f.id({ required: true }),
            periodStart: f.field({ type: 'Date', required: true }),
            periodEnd: f.field({ type: 'Date', required: true }),
            statementBalance: f.field({
              type: 'Decimal',
              description:
                'The bank’s closing balance on periodEnd; default the closing balance of an imported statement ending then.',
            }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = accountKey(input.accountId);
      const result = await run(ctx, (b) =>
        b.startReconciliation(
          {
            bookId: key.bookId,
            accountId: key.id,
            periodStart: input.periodStart,
            periodEnd: input.periodEnd,
            statementBalance: input.statementBalance ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { reconciliation: null, userErrors: errorsOf(result) }
        : { reconciliation: result, userErrors: [] };
    },
  }),
  closeBankReconciliation: t.field({
    type: reconciliationPayload('CloseBankReconciliationPayload'),
    description:
      'Closes a reconciliation that agrees (RECONCILIATION_NOT_BALANCED otherwise, with the difference); a closed one never changes.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('CloseBankReconciliationInput', {
          fields: (f) => ({ reconciliationId: f.id({ required: true }) }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = decodeBankId(input.reconciliationId, 'BankReconciliation') ?? { bookId: '', id: '' };
      const result = await run(ctx, (b) =>
        b.closeReconciliation({ bookId: key.bookId, reconciliationId: key.id }, actorOf(ctx)),
      );
      return result instanceof LedgerError
        ? { reconciliation: null, userErrors: errorsOf(result) }
        : { reconciliation: result, userErrors: [] };
    },
  }),
}));
