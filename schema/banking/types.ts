/**
 * Types of bank statements and reconciliation (issue 17). Every object belongs to a book and checks
 * it itself (`bookRead`): the book's treasurers, stewards and admins read them; members and
 * analysts never do. Ids are global and carry their book (`BankStatement:<book>:<id>`); money is a
 * Decimal at the account's scale, signed from the account holder's side (positive: money in).
 */
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import {
  BANK_FORMATS,
  type BankLineRecord,
  type BankRuleRecord,
  type BankStatementRecord,
  type CsvMapping,
  type EntryRecord,
  type LinePosting,
  MATCH_HOWS,
  type MatchSuggestion,
  RECONCILIATION_STATUSES,
  type ReconciliationRecord,
  RULE_DIRECTIONS,
} from '../../server/banking/index.js';
import { type Decimal, formatAmount } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { connectionType } from '../connection.js';
import { ErrorCodeEnum } from '../errors.js';
import { parseScopedId, scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import { AccountRef, JournalEntryRef } from '../refs.js';

export type BankTypename = 'BankStatement' | 'BankStatementLine' | 'BankRule' | 'BankReconciliation';

export const bankId = (typename: BankTypename, bookId: string, id: string) =>
  encodeGlobalID(typename, scopedId(bookId, id));

/** A book-scoped id of this banking type, or null. */
export function decodeBankId(globalId: string | number, typename: BankTypename) {
  try {
    const decoded = decodeGlobalID(String(globalId));
    return decoded.typename === typename ? parseScopedId(decoded.id) : null;
  } catch {
    return null;
  }
}

const money = (d: Decimal, scale: number) => formatAmount(d, scale);

export const BankFormatEnum = builder.enumType('BankStatementFormat', {
  description: 'CSV (read through the account’s column mapping), OFX (1.x or 2.x), ISO 20022 camt.053.',
  values: BANK_FORMATS,
});
export const CsvDelimiterEnum = builder.enumType('CsvDelimiter', {
  values: ['COMMA', 'SEMICOLON', 'TAB'] as const,
});
export const CsvDateFormatEnum = builder.enumType('CsvDateFormat', {
  values: {
    ISO: { value: 'YYYY-MM-DD', description: '2025-03-31' },
    DMY_SLASH: { value: 'DD/MM/YYYY', description: '31/03/2025' },
    MDY_SLASH: { value: 'MM/DD/YYYY', description: '03/31/2025' },
    DMY_DOT: { value: 'DD.MM.YYYY', description: '31.03.2025' },
    YMD_COMPACT: { value: 'YYYYMMDD', description: '20250331' },
  } as const,
});
export const MatchHowEnum = builder.enumType('BankMatchHow', {
  description:
    'SUGGESTION: a suggestion accepted; CHOSEN: confirmed or chosen by the treasurer; RULE: posted from a rule; BY_HAND: posted by hand.',
  values: MATCH_HOWS,
});
export const RuleDirectionEnum = builder.enumType('BankRuleDirection', {
  description: 'IN: money in only; OUT: money out only; ANY: both.',
  values: RULE_DIRECTIONS,
});
export const ReconciliationStatusEnum = builder.enumType('BankReconciliationStatus', {
  values: RECONCILIATION_STATUSES,
});

export const DELIMITERS = { COMMA: ',', SEMICOLON: ';', TAB: '\t' } as const;

export const CsvMappingRef = builder.objectRef<CsvMapping>('BankCsvMapping').implement({
  description: "How the account's CSV exports are read (column names as in the file's header).",
  fields: (t) => ({
    delimiter: t.field({
      type: CsvDelimiterEnum,
      resolve: (m) =>
        Object.entries(DELIMITERS).find(([, v]) => v === m.delimiter)![0] as keyof typeof DELIMITERS,
    }),
    dateColumn: t.exposeString('dateColumn'),
    dateFormat: t.field({ type: CsvDateFormatEnum, resolve: (m) => m.dateFormat }),
    amountColumn: t.string({ nullable: true, resolve: (m) => m.amountColumn }),
    moneyInColumn: t.string({ nullable: true, resolve: (m) => m.moneyInColumn }),
    moneyOutColumn: t.string({ nullable: true, resolve: (m) => m.moneyOutColumn }),
    decimalComma: t.exposeBoolean('decimalComma'),
    descriptionColumns: t.exposeStringList('descriptionColumns'),
    referenceColumn: t.string({ nullable: true, resolve: (m) => m.referenceColumn }),
    counterpartyColumn: t.string({ nullable: true, resolve: (m) => m.counterpartyColumn }),
    balanceColumn: t.string({ nullable: true, resolve: (m) => m.balanceColumn }),
  }),
});

const accountOf = (ctx: Parameters<typeof loaders>[0], bookId: string, accountId: string) =>
  loaders(ctx)
    .account.load(scopedId(bookId, accountId))
    .then((a) => a!);

export const BankStatementRef = builder.objectRef<BankStatementRecord>('BankStatement');
export const BankLineRef = builder.objectRef<BankLineRecord>('BankStatementLine');
export const BankRuleRef = builder.objectRef<BankRuleRecord>('BankRule');
export const BankReconciliationRef = builder.objectRef<ReconciliationRecord>('BankReconciliation');

BankStatementRef.implement({
  authScopes: (s) => ({ bookRead: s.bookId }),
  description: 'One imported statement file.',
  fields: (t) => ({
    id: t.id({ resolve: (s) => bankId('BankStatement', s.bookId, s.id) }),
    account: t.field({ type: AccountRef, resolve: (s, _a, ctx) => accountOf(ctx, s.bookId, s.accountId) }),
    format: t.field({ type: BankFormatEnum, resolve: (s) => s.format }),
    fileName: t.exposeString('fileName'),
    fileSha256: t.exposeString('fileSha256'),
    periodStart: t.field({ type: 'Date', nullable: true, resolve: (s) => s.periodStart }),
    periodEnd: t.field({ type: 'Date', nullable: true, resolve: (s) => s.periodEnd }),
    openingBalance: t.field({
      type: 'Decimal',
      nullable: true,
      description: "The file's opening balance, or its closing balance less its lines.",
      resolve: (s) => (s.openingBalance ? money(s.openingBalance, s.unit.scale) : null),
    }),
    closingBalance: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (s) => (s.closingBalance ? money(s.closingBalance, s.unit.scale) : null),
    }),
    lineCount: t.exposeInt('lineCount', { description: 'Lines in the file.' }),
    importedCount: t.exposeInt('importedCount', { description: 'Lines new to the account, imported.' }),
    duplicateCount: t.exposeInt('duplicateCount', { description: 'Lines the account already had, skipped.' }),
    importedAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
  }),
});

const MatchRef = builder
  .objectRef<NonNullable<BankLineRecord['match']> & { bookId: string }>('BankMatch')
  .implement({
    fields: (t) => ({
      entry: t.field({
        type: JournalEntryRef,
        resolve: async (m, _a, ctx) => (await loaders(ctx).entry.load(scopedId(m.bookId, m.entryId)))!,
      }),
      how: t.field({ type: MatchHowEnum, resolve: (m) => m.how }),
      rule: t.field({
        type: BankRuleRef,
        nullable: true,
        resolve: async (m, _a, ctx) =>
          m.ruleId ? ((await ctx.services.banking.getRules(m.bookId, [m.ruleId]))[0] ?? null) : null,
      }),
      matchedAt: t.field({ type: 'DateTime', resolve: (m) => m.matchedAt }),
      matchedBy: t.string({ description: 'The principal who confirmed it.', resolve: (m) => m.matchedBy }),
    }),
  });

BankLineRef.implement({
  authScopes: (l) => ({ bookRead: l.bookId }),
  description: 'One line of a bank statement; amount positive for money into the account.',
  fields: (t) => ({
    id: t.id({ resolve: (l) => bankId('BankStatementLine', l.bookId, l.id) }),
    statement: t.field({
      type: BankStatementRef,
      resolve: async (l, _a, ctx) =>
        (await ctx.services.banking.getStatements([{ bookId: l.bookId, id: l.statementId }]))[0]!,
    }),
    account: t.field({ type: AccountRef, resolve: (l, _a, ctx) => accountOf(ctx, l.bookId, l.accountId) }),
    lineNumber: t.int({
      description: "The file's line the transaction starts on.",
      resolve: (l) => l.lineNo,
    }),
    bookedOn: t.field({ type: 'Date', resolve: (l) => l.bookedOn }),
    valueOn: t.field({ type: 'Date', nullable: true, resolve: (l) => l.valueOn }),
    amount: t.field({ type: 'Decimal', resolve: (l) => money(l.amount, l.unit.scale) }),
    description: t.exposeString('description'),
    reference: t.string({
      nullable: true,
      description: "The bank's reference, when it gives one.",
      resolve: (l) => l.reference,
    }),
    counterparty: t.string({ nullable: true, resolve: (l) => l.counterparty }),
    match: t.field({
      type: MatchRef,
      nullable: true,
      resolve: (l) => (l.match ? { ...l.match, bookId: l.bookId } : null),
    }),
  }),
});

BankRuleRef.implement({
  authScopes: (r) => ({ bookRead: r.bookId }),
  description: 'Posts an unmatched line whose description contains the text to the counter account.',
  fields: (t) => ({
    id: t.id({ resolve: (r) => bankId('BankRule', r.bookId, r.id) }),
    account: t.field({ type: AccountRef, resolve: (r, _a, ctx) => accountOf(ctx, r.bookId, r.accountId) }),
    priority: t.exposeInt('priority', { description: 'Rules are tried lowest first.' }),
    descriptionContains: t.exposeString('descriptionContains'),
    direction: t.field({ type: RuleDirectionEnum, resolve: (r) => r.direction }),
    counterAccount: t.field({
      type: AccountRef,
      resolve: (r, _a, ctx) => accountOf(ctx, r.bookId, r.counterAccountId),
    }),
    memo: t.string({ nullable: true, resolve: (r) => r.memo }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
  }),
});

export const SuggestionRef = builder.objectRef<MatchSuggestion>('BankMatchSuggestion').implement({
  description: 'An entry that stands for a line: same amount on the account, a date within the window.',
  fields: (t) => ({
    line: t.field({ type: BankLineRef, resolve: (s) => s.line }),
    entry: t.field({
      type: JournalEntryRef,
      resolve: async (s, _a, ctx) => (await loaders(ctx).entry.load(scopedId(s.line.bookId, s.entryId)))!,
    }),
    dayDifference: t.int({
      description: "The entry's day less the line's, in days.",
      resolve: (s) => s.dayDifference,
    }),
    referenceMatched: t.boolean({
      description: "The entry's memo or metadata holds the line's bank reference.",
      resolve: (s) => s.referenceMatched,
    }),
  }),
});

export const PostingRef = builder.objectRef<LinePosting & { bookId: string }>('BankLinePosting').implement({
  description: 'What became of one line: the entry posted for it, or why the ledger refused it.',
  fields: (t) => ({
    line: t.field({
      type: BankLineRef,
      resolve: async (p, _a, ctx) => (await ctx.services.banking.getLines(p.bookId, [p.lineId]))[0]!,
    }),
    entry: t.field({
      type: JournalEntryRef,
      nullable: true,
      resolve: (p, _a, ctx) => (p.entryId ? loaders(ctx).entry.load(scopedId(p.bookId, p.entryId)) : null),
    }),
    rule: t.field({
      type: BankRuleRef,
      nullable: true,
      resolve: async (p, _a, ctx) =>
        p.ruleId ? ((await ctx.services.banking.getRules(p.bookId, [p.ruleId]))[0] ?? null) : null,
    }),
    errorCode: t.field({ type: ErrorCodeEnum, nullable: true, resolve: (p) => p.error?.code ?? null }),
    errorMessage: t.string({ nullable: true, resolve: (p) => p.error?.message ?? null }),
  }),
});

BankReconciliationRef.implement({
  authScopes: (r) => ({ bookRead: r.bookId }),
  description:
    'A statement period set against the books: it agrees when every statement line is matched and the statement balance ' +
    'equals the book balance less the outstanding entries; closed, it never changes.',
  fields: (t) => ({
    id: t.id({ resolve: (r) => bankId('BankReconciliation', r.bookId, r.id) }),
    account: t.field({ type: AccountRef, resolve: (r, _a, ctx) => accountOf(ctx, r.bookId, r.accountId) }),
    periodStart: t.field({ type: 'Date', resolve: (r) => r.periodStart }),
    periodEnd: t.field({ type: 'Date', resolve: (r) => r.periodEnd }),
    status: t.field({ type: ReconciliationStatusEnum, resolve: (r) => r.status }),
    statementBalance: t.field({
      type: 'Decimal',
      resolve: (r) => money(r.figures.statementBalance, r.unit.scale),
    }),
    bookBalance: t.field({
      type: 'Decimal',
      description: "The account's posted balance at the end of periodEnd (debits less credits).",
      resolve: (r) => money(r.figures.bookBalance, r.unit.scale),
    }),
    matchedCount: t.int({ resolve: (r) => r.figures.matchedLineIds.length }),
    matchedTotal: t.field({ type: 'Decimal', resolve: (r) => money(r.figures.matchedTotal, r.unit.scale) }),
    unmatchedLines: t.field({
      type: [BankLineRef],
      description: 'Statement lines of the period not matched to an entry dated in or before it.',
      resolve: (r, _a, ctx) => ctx.services.banking.getLines(r.bookId, r.figures.unmatchedLineIds),
    }),
    unmatchedLinesTotal: t.field({
      type: 'Decimal',
      resolve: (r) => money(r.figures.unmatchedLinesTotal, r.unit.scale),
    }),
    outstandingEntries: t.field({
      type: [JournalEntryRef],
      description:
        'Entries on the account not matched to a line dated up to periodEnd (cheques not cashed, deposits in transit).',
      resolve: async (r, _a, ctx) =>
        (
          await loaders(ctx).entry.loadMany(r.figures.outstandingEntryIds.map((id) => scopedId(r.bookId, id)))
        ).filter((e): e is EntryRecord => e !== null && !(e instanceof Error)),
    }),
    outstandingTotal: t.field({
      type: 'Decimal',
      resolve: (r) => money(r.figures.outstandingTotal, r.unit.scale),
    }),
    difference: t.field({
      type: 'Decimal',
      description:
        'statementBalance - (bookBalance - outstandingTotal + unmatchedLinesTotal): what nothing explains.',
      resolve: (r) => money(r.figures.difference, r.unit.scale),
    }),
    agrees: t.boolean({ resolve: (r) => r.figures.agrees }),
    closedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.closedAt }),
    closedBy: t.string({ nullable: true, resolve: (r) => r.closedBy }),
  }),
});

export const BankStatementConnection = connectionType('BankStatement', BankStatementRef);
export const BankLineConnection = connectionType('BankStatementLine', BankLineRef);
export const BankReconciliationConnection = connectionType('BankReconciliation', BankReconciliationRef);
