/**
 * Financial statements (issue 17): `incomeStatement` for any period and `balanceSheet` as of any
 * day, per unit, sub-accounts rolled up to a depth or shown, with a comparison column; each as
 * data, CSV and PDF. The trial balance's roll-up (`trialBalance(rollupDepth:)`) adds `depth`,
 * `rolledUp` and `csv` here. Like the trial balance, a book the caller may not read answers null;
 * arguments the statement cannot be made with (a period that ends before it starts, a depth out of
 * range) are BAD_USER_INPUT naming the argument.
 */
import { GraphQLError } from 'graphql';
import {
  COMPARISONS,
  canReadBook,
  type Decimal,
  formatAmount,
  LedgerError,
  type StatementLine,
  type StatementSection,
} from '../../server/core/index.js';
import {
  type BalanceSheetReport,
  type IncomeStatementReport,
  type RolledTrialBalanceLine,
  type StatementReport,
  statementCsv,
  statementFileName,
  statementPdf,
} from '../../server/ledger/index.js';
import { builder } from '../builder.js';
import { guard } from '../errors.js';
import { decodeBookId } from '../ids.js';
import {
  AccountRef,
  AccountTypeEnum,
  BookRef,
  TrialBalanceLineRef,
  TrialBalanceRef,
  UnitRef,
} from '../refs.js';
import { LINES_PER_REQUEST, lineCursor, pageArgsDoc, pageLines, readTurn } from './line-pages.js';

export const StatementComparisonEnum = builder.enumType('StatementComparison', {
  description:
    'The comparison column: NONE; PREVIOUS_PERIOD (the period just before, as long: whole calendar months compare with as ' +
    'many months before, other periods with as many days); PREVIOUS_YEAR (the same days a year earlier, month ends kept).',
  values: COMPARISONS,
});

/** A section or line with the scale of its unit and whether a comparison column exists. */
interface Scaled<T> {
  value: T;
  scale: number;
  report: StatementReport;
}

const money = (d: Decimal | undefined, scale: number) => (d === undefined ? null : formatAmount(d, scale));

const PeriodRef = builder.objectRef<{ from: string; to: string }>('StatementPeriod').implement({
  description: 'Calendar days (UTC), both inclusive.',
  fields: (t) => ({
    from: t.field({ type: 'Date', resolve: (p) => p.from }),
    to: t.field({ type: 'Date', resolve: (p) => p.to }),
  }),
});

const ComparisonRef = builder
  .objectRef<{ kind: 'PREVIOUS_PERIOD' | 'PREVIOUS_YEAR'; period: { from: string; to: string } }>(
    'StatementComparisonColumn',
  )
  .implement({
    fields: (t) => ({
      kind: t.field({ type: StatementComparisonEnum, resolve: (c) => c.kind }),
      period: t.field({
        type: PeriodRef,
        description:
          "The comparison's days (for a balance sheet: `to` is its day, `from` its period's start).",
        resolve: (c) => c.period,
      }),
    }),
  });

const LineRef = builder.objectRef<Scaled<StatementLine>>('StatementLine').implement({
  description:
    "One account of a statement: its balance with every sub-account below it (shown under it or folded into it), in the account's normal direction.",
  fields: (t) => ({
    cursor: t.string({
      description: "The line's place in its section, for `lines(after:)`.",
      resolve: (l) => lineCursor(l.value.accountId),
    }),
    account: t.field({ type: AccountRef, resolve: (l) => l.report.accounts.get(l.value.accountId)! }),
    depth: t.int({ description: '1 for a top-level line of its section.', resolve: (l) => l.value.depth }),
    amount: t.field({ type: 'Decimal', resolve: (l) => formatAmount(l.value.amounts[0]!, l.scale) }),
    ownAmount: t.field({
      type: 'Decimal',
      description: "The account's own balance, without its sub-accounts.",
      resolve: (l) => formatAmount(l.value.ownAmounts[0]!, l.scale),
    }),
    comparisonAmount: t.field({
      type: 'Decimal',
      nullable: true,
      description: 'The same in the comparison column; null without one.',
      resolve: (l) => money(l.value.amounts[1], l.scale),
    }),
    rolledUp: t.boolean({
      description: 'Sub-accounts are folded into this line (the depth limit) rather than shown under it.',
      resolve: (l) => l.value.folded,
    }),
  }),
});

const SectionRef = builder.objectRef<Scaled<StatementSection>>('StatementSection').implement({
  description: "One type's accounts in one unit, as a tree in code order.",
  fields: (t) => ({
    type: t.field({ type: AccountTypeEnum, resolve: (s) => s.value.type }),
    lineCount: t.int({ resolve: (s) => s.value.lines.length }),
    lines: t.field({
      type: [LineRef],
      description:
        `The lines, each under its parent. One request answers at most ${LINES_PER_REQUEST} lines in all (every section ` +
        'together): page a longer section with `first` and `after`, fold it with `depth`, or read the statement as `csv`.',
      args: {
        first: t.arg.int({ description: pageArgsDoc.first }),
        after: t.arg.string({ description: pageArgsDoc.after }),
      },
      resolve: (s, args, ctx) =>
        pageLines(
          ctx,
          s.value.lines,
          (l) => l.accountId,
          args,
          "page each section's lines with first and after, fold them with depth, or read csv",
        ).map((value) => ({ value, scale: s.scale, report: s.report })),
    }),
    total: t.field({
      type: 'Decimal',
      description: 'Every account of the section, once.',
      resolve: (s) => formatAmount(s.value.totals[0]!, s.scale),
    }),
    comparisonTotal: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (s) => money(s.value.totals[1], s.scale),
    }),
  }),
});

type IncomeUnit = IncomeStatementReport['units'][number];
type BalanceUnit = BalanceSheetReport['units'][number];

const sectionOf = <U extends { unit: { scale: number } }>(u: Scaled<U>, s: StatementSection) => ({
  value: s,
  scale: u.value.unit.scale,
  report: u.report,
});

const IncomeUnitRef = builder.objectRef<Scaled<IncomeUnit>>('IncomeStatementUnit').implement({
  fields: (t) => ({
    unit: t.field({ type: UnitRef, resolve: (u) => u.value.unit }),
    revenue: t.field({ type: SectionRef, resolve: (u) => sectionOf(u, u.value.revenue) }),
    expenses: t.field({ type: SectionRef, resolve: (u) => sectionOf(u, u.value.expenses) }),
    result: t.field({
      type: 'Decimal',
      description: 'Revenue less expenses (a loss is negative).',
      resolve: (u) => formatAmount(u.value.results[0]!, u.scale),
    }),
    comparisonResult: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (u) => money(u.value.results[1], u.scale),
    }),
  }),
});

const BalanceUnitRef = builder.objectRef<Scaled<BalanceUnit>>('BalanceSheetUnit').implement({
  fields: (t) => {
    const figure = (description: string, pick: (u: BalanceUnit) => Decimal[]) => ({
      now: t.field({
        type: 'Decimal',
        description,
        resolve: (u) => formatAmount(pick(u.value)[0]!, u.scale),
      }),
      before: t.field({ type: 'Decimal', nullable: true, resolve: (u) => money(pick(u.value)[1], u.scale) }),
    });
    const period = figure('Revenue less expenses from periodStart to asOf.', (u) => u.periodResults);
    const earlier = figure(
      'Revenue less expenses before periodStart that no closing entry has moved to an equity account.',
      (u) => u.earlierResults,
    );
    const equity = figure('Equity accounts plus both results.', (u) => u.totalEquity);
    const total = figure('Liabilities plus total equity.', (u) => u.totalLiabilitiesAndEquity);
    return {
      unit: t.field({ type: UnitRef, resolve: (u) => u.value.unit }),
      assets: t.field({ type: SectionRef, resolve: (u) => sectionOf(u, u.value.assets) }),
      liabilities: t.field({ type: SectionRef, resolve: (u) => sectionOf(u, u.value.liabilities) }),
      equity: t.field({
        type: SectionRef,
        description: 'Equity accounts; the results of the period and before it are beside them.',
        resolve: (u) => sectionOf(u, u.value.equity),
      }),
      resultOfPeriod: period.now,
      comparisonResultOfPeriod: period.before,
      earlierResults: earlier.now,
      comparisonEarlierResults: earlier.before,
      totalEquity: equity.now,
      comparisonTotalEquity: equity.before,
      totalLiabilitiesAndEquity: total.now,
      comparisonTotalLiabilitiesAndEquity: total.before,
      balanced: t.boolean({
        description: 'Assets equal liabilities plus total equity (in every column).',
        resolve: (u) => u.value.balanced.every(Boolean),
      }),
    };
  },
});

const unitsOf = <U extends { unit: { scale: number } }>(report: StatementReport, units: U[]) =>
  units.map((value) => ({ value, scale: value.unit.scale, report }));

export const IncomeStatementRef = builder.objectRef<IncomeStatementReport>('IncomeStatement').implement({
  authScopes: (s) => ({ bookRead: s.book.id }),
  description: 'Revenue and expenses over a period, per unit.',
  fields: (t) => ({
    book: t.field({ type: BookRef, resolve: (s) => s.book }),
    period: t.field({ type: PeriodRef, resolve: (s) => s.period }),
    comparison: t.field({ type: ComparisonRef, nullable: true, resolve: (s) => s.comparison }),
    depth: t.int({
      nullable: true,
      description: 'The roll-up depth; null shows every account.',
      resolve: (s) => s.depth,
    }),
    units: t.field({ type: [IncomeUnitRef], resolve: (s) => unitsOf(s, s.units) }),
    fileName: t.string({
      description: 'A file name for the download, without extension.',
      resolve: (s) => statementFileName(s, 'csv').slice(0, -4),
    }),
    csv: t.string({ description: 'The statement as CSV for spreadsheets.', resolve: (s) => statementCsv(s) }),
    pdfBase64: t.string({
      description: 'The statement as a printable PDF, base64-encoded.',
      resolve: async (s) => (await statementPdf(s)).toString('base64'),
    }),
  }),
});

export const BalanceSheetRef = builder.objectRef<BalanceSheetReport>('BalanceSheet').implement({
  authScopes: (s) => ({ bookRead: s.book.id }),
  description: 'Assets, liabilities and equity as of a day, with the result of the period, per unit.',
  fields: (t) => ({
    book: t.field({ type: BookRef, resolve: (s) => s.book }),
    asOf: t.field({ type: 'Date', resolve: (s) => s.period.to }),
    periodStart: t.field({ type: 'Date', resolve: (s) => s.period.from }),
    comparison: t.field({ type: ComparisonRef, nullable: true, resolve: (s) => s.comparison }),
    depth: t.int({
      nullable: true,
      description: 'The roll-up depth; null shows every account.',
      resolve: (s) => s.depth,
    }),
    units: t.field({ type: [BalanceUnitRef], resolve: (s) => unitsOf(s, s.units) }),
    fileName: t.string({
      description: 'A file name for the download, without extension.',
      resolve: (s) => statementFileName(s, 'csv').slice(0, -4),
    }),
    csv: t.string({ description: 'The statement as CSV for spreadsheets.', resolve: (s) => statementCsv(s) }),
    pdfBase64: t.string({
      description: 'The statement as a printable PDF, base64-encoded.',
      resolve: async (s) => (await statementPdf(s)).toString('base64'),
    }),
  }),
});

builder.objectFields(TrialBalanceLineRef, (t) => ({
  depth: t.int({
    description: '1 for an account without a parent account, 2 below it, ...',
    resolve: (l) => (l as RolledTrialBalanceLine).depth,
  }),
  rolledUp: t.boolean({
    description: "With `rollupDepth`: this line includes its sub-accounts' debits and credits.",
    resolve: (l) => (l as RolledTrialBalanceLine).rolledUp,
  }),
}));

builder.objectFields(TrialBalanceRef, (t) => ({
  rollupDepth: t.int({ nullable: true, resolve: (tb) => tb.rollupDepth }),
  csv: t.string({
    description: 'The trial balance as CSV for spreadsheets (the lines shown, then each unit total).',
    resolve: (tb, _a, ctx) => tb.csv(readTurn(ctx)),
  }),
}));

/** A rejection of a statement's arguments: BAD_USER_INPUT naming the argument. */
function refused(error: LedgerError): never {
  throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', field: error.field } });
}

const depthArgDoc =
  'Show accounts down to this depth (1: top-level accounts only), each sub-account deeper folded into its ancestor; ' +
  'omit to show every account under its parent. 1 to 100.';

builder.queryFields((t) => ({
  incomeStatement: t.field({
    type: IncomeStatementRef,
    nullable: true,
    description:
      'Revenue and expenses from `from` to `to` (UTC days, inclusive), per unit, with an optional comparison column. ' +
      'Null for a book the caller may not read.',
    authScopes: { authenticated: true },
    args: {
      bookId: t.arg.id({ required: true }),
      from: t.arg({ type: 'Date', required: true }),
      to: t.arg({ type: 'Date', required: true }),
      depth: t.arg.int({ description: depthArgDoc }),
      compare: t.arg({ type: StatementComparisonEnum, defaultValue: 'NONE' }),
      omitZero: t.arg.boolean({
        defaultValue: false,
        description: 'Leave out accounts that are zero in every column.',
      }),
    },
    resolve: async (_r, args, ctx) => {
      const bookId = decodeBookId(String(args.bookId));
      if (!canReadBook(ctx.principal, bookId)) return null;
      const result = await guard(() =>
        ctx.services.ledger.incomeStatement(bookId, {
          from: args.from,
          to: args.to,
          depth: args.depth ?? null,
          compare: args.compare ?? 'NONE',
          omitZero: args.omitZero ?? false,
        }),
      );
      if (result instanceof LedgerError) return result.code === 'UNKNOWN_BOOK' ? null : refused(result);
      return result;
    },
  }),
  balanceSheet: t.field({
    type: BalanceSheetRef,
    nullable: true,
    description:
      'Assets, liabilities and equity at the end of `asOf` (a UTC day), per unit, with the result from `periodStart` ' +
      '(default 1 January of that year) and the results before it, and an optional comparison column. Null for a book ' +
      'the caller may not read.',
    authScopes: { authenticated: true },
    args: {
      bookId: t.arg.id({ required: true }),
      asOf: t.arg({ type: 'Date', required: true }),
      periodStart: t.arg({
        type: 'Date',
        description: 'The first day of the period whose result is shown apart.',
      }),
      depth: t.arg.int({ description: depthArgDoc }),
      compare: t.arg({ type: StatementComparisonEnum, defaultValue: 'NONE' }),
      omitZero: t.arg.boolean({
        defaultValue: false,
        description: 'Leave out accounts that are zero in every column.',
      }),
    },
    resolve: async (_r, args, ctx) => {
      const bookId = decodeBookId(String(args.bookId));
      if (!canReadBook(ctx.principal, bookId)) return null;
      const result = await guard(() =>
        ctx.services.ledger.balanceSheet(bookId, {
          asOf: args.asOf,
          periodStart: args.periodStart ?? null,
          depth: args.depth ?? null,
          compare: args.compare ?? 'NONE',
          omitZero: args.omitZero ?? false,
        }),
      );
      if (result instanceof LedgerError) return result.code === 'UNKNOWN_BOOK' ? null : refused(result);
      return result;
    },
  }),
}));
