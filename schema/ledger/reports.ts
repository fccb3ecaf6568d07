import { chainAmount, formatAmount } from '../../server/core/index.js';
import type { AuditMismatch, BookAudit, OpenPendingMismatch } from '../../server/ledger/index.js';
import { builder } from '../builder.js';
import { scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import {
  AccountRef,
  BookRef,
  ChainVerificationRef,
  JournalEntryRef,
  TrialBalanceLineRef,
  TrialBalanceRef,
  TrialBalanceUnitRef,
  UnitRef,
} from '../refs.js';
import { LINES_PER_REQUEST, lineCursor, pageArgsDoc, pageLinesFrom, readTurn } from './line-pages.js';

TrialBalanceRef.implement({
  authScopes: (tb) => ({ bookRead: tb.bookId }),
  description:
    "Every account's net debit or credit balance; in each unit the debit and credit columns are equal.",
  fields: (t) => ({
    book: t.field({
      type: BookRef,
      resolve: async (tb, _a, ctx) => (await loaders(ctx).book.load(tb.bookId))!,
    }),
    asOf: t.field({ type: 'DateTime', nullable: true, resolve: (tb) => tb.asOf }),
    balanced: t.boolean({ resolve: async (tb, _a, ctx) => (await tb.summary(readTurn(ctx))).balanced }),
    lineCount: t.int({
      description: 'How many lines the trial balance has (with `rollupDepth`, the lines shown).',
      resolve: async (tb, _a, ctx) => (await tb.summary(readTurn(ctx))).lineCount,
    }),
    lines: t.field({
      type: [TrialBalanceLineRef],
      description:
        `The lines in account code order (with \`rollupDepth\`, each under its parent). One request answers at most ${LINES_PER_REQUEST} ` +
        'lines: page a longer trial balance with `first` and `after` (give `asOf` so that every page has the figures ' +
        'of one instant), fold it with `rollupDepth`, or read it whole as `csv`.',
      args: {
        first: t.arg.int({ description: pageArgsDoc.first }),
        after: t.arg.string({ description: pageArgsDoc.after }),
      },
      resolve: (tb, args, ctx) =>
        pageLinesFrom(
          ctx,
          (afterId, limit, check) => tb.page(readTurn(ctx), afterId, limit, check),
          args,
          'page the lines with first and after, fold them with rollupDepth, or read csv',
        ),
    }),
    units: t.field({
      type: [TrialBalanceUnitRef],
      resolve: async (tb, _a, ctx) => (await tb.summary(readTurn(ctx))).units,
    }),
  }),
});

TrialBalanceLineRef.implement({
  fields: (t) => ({
    cursor: t.string({
      description: "The line's place, for `lines(after:)`.",
      resolve: (l) => lineCursor(l.account.id),
    }),
    account: t.field({ type: AccountRef, resolve: (l) => l.account }),
    debits: t.field({ type: 'Decimal', resolve: (l) => formatAmount(l.debits, l.account.unit.scale) }),
    credits: t.field({ type: 'Decimal', resolve: (l) => formatAmount(l.credits, l.account.unit.scale) }),
    debitBalance: t.field({
      type: 'Decimal',
      resolve: (l) => formatAmount(l.debitBalance, l.account.unit.scale),
    }),
    creditBalance: t.field({
      type: 'Decimal',
      resolve: (l) => formatAmount(l.creditBalance, l.account.unit.scale),
    }),
  }),
});

TrialBalanceUnitRef.implement({
  fields: (t) => ({
    unit: t.field({ type: UnitRef, resolve: (u) => u.unit }),
    debitBalanceTotal: t.field({
      type: 'Decimal',
      resolve: (u) => formatAmount(u.debitBalanceTotal, u.unit.scale),
    }),
    creditBalanceTotal: t.field({
      type: 'Decimal',
      resolve: (u) => formatAmount(u.creditBalanceTotal, u.unit.scale),
    }),
    balanced: t.exposeBoolean('balanced'),
  }),
});

const ChainMismatchRef = builder
  .objectRef<{ bookId: string; entryId: string | null; seq: string; reason: string }>('ChainMismatch')
  .implement({
    fields: (t) => ({
      entry: t.field({
        type: JournalEntryRef,
        nullable: true,
        resolve: (m, _a, ctx) => (m.entryId ? loaders(ctx).entry.load(scopedId(m.bookId, m.entryId)) : null),
      }),
      seq: t.exposeString('seq'),
      reason: t.exposeString('reason'),
    }),
  });

ChainVerificationRef.implement({
  authScopes: (v) => ({ bookRead: v.bookId }),
  fields: (t) => ({
    book: t.field({
      type: BookRef,
      resolve: async (v, _a, ctx) => (await loaders(ctx).book.load(v.bookId))!,
    }),
    ok: t.exposeBoolean('ok'),
    entriesChecked: t.exposeInt('entriesChecked'),
    headHash: t.exposeString('headHash'),
    firstMismatch: t.field({
      type: ChainMismatchRef,
      nullable: true,
      description:
        'The first entry whose link does not match, or the head when the entries are fine but the head is not.',
      resolve: (v) => (v.firstMismatch ? { bookId: v.bookId, ...v.firstMismatch } : null),
    }),
  }),
});

const AuditFieldEnum = builder.enumType('AuditField', {
  description:
    "What an audit compared: one of an account's running totals (POSTED_DEBITS, POSTED_CREDITS, PENDING_DEBITS, PENDING_CREDITS) " +
    "or one UTC day's posted movement (DAY_DEBITS, DAY_CREDITS), which balances as of an instant are read from.",
  values: [
    'POSTED_DEBITS',
    'POSTED_CREDITS',
    'PENDING_DEBITS',
    'PENDING_CREDITS',
    'DAY_DEBITS',
    'DAY_CREDITS',
  ] as const,
});

const AuditMismatchRef = builder.objectRef<AuditMismatch>('AuditMismatch').implement({
  description: 'A stored total that differs from what the lines make.',
  fields: (t) => ({
    account: t.field({ type: AccountRef, resolve: (m) => m.account }),
    field: t.field({ type: AuditFieldEnum, resolve: (m) => m.field }),
    day: t.field({
      type: 'Date',
      nullable: true,
      description: 'The UTC day of a DAY_DEBITS or DAY_CREDITS mismatch; null for running totals.',
      resolve: (m) => m.day,
    }),
    // Exact values: at the unit's scale, or in full when a stored value is finer than its unit.
    stored: t.field({
      type: 'Decimal',
      description: 'The value stored (a missing day total is 0).',
      resolve: (m) => chainAmount(m.stored, m.account.unit.scale),
    }),
    recomputed: t.field({
      type: 'Decimal',
      description: "The value recomputed from the book's lines.",
      resolve: (m) => chainAmount(m.recomputed, m.account.unit.scale),
    }),
  }),
});

const OpenPendingMismatchKindEnum = builder.enumType('OpenPendingMismatchKind', {
  description:
    'How the open-pending table (the pending entries the expiry sweep reads) differs from the journal, where a ' +
    'pending entry is open while no commit or void (an expiry is a void) names it.',
  values: {
    MISSING_ROW: { description: 'An open pending entry has no row: it would never expire.' },
    EXTRA_ROW: { description: 'A row for an entry that is not an open pending entry.' },
    WRONG_EXPIRES_AT: { description: "The row's expiry is not the pending entry's." },
  } as const,
});

const OpenPendingMismatchRef = builder
  .objectRef<OpenPendingMismatch & { bookId: string }>('OpenPendingMismatch')
  .implement({
    description: 'A difference between the open-pending table and the journal, naming the entry.',
    fields: (t) => ({
      kind: t.field({ type: OpenPendingMismatchKindEnum, resolve: (m) => m.kind }),
      entry: t.field({
        type: JournalEntryRef,
        nullable: true,
        description: 'The pending entry (null only if the row names no entry of the book).',
        resolve: (m, _a, ctx) => loaders(ctx).entry.load(scopedId(m.bookId, m.entryId)),
      }),
      seq: t.exposeString('seq', { description: "The entry's seq." }),
      storedExpiresAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: "The row's expiry; null with no row or a row with none.",
        resolve: (m) => m.stored,
      }),
      journalExpiresAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: "The open pending entry's expiry; null when it has none or is not open.",
        resolve: (m) => m.fromJournal,
      }),
    }),
  });

export const BookAuditRef = builder.objectRef<BookAudit>('BookAudit').implement({
  authScopes: (a) => ({ bookRead: a.bookId }),
  description:
    "An audit of a book: its hash chain, every stored account total and per-day total recomputed from the book's lines, " +
    'and the open-pending table (what the expiry sweep reads) recomputed from the journal.',
  fields: (t) => ({
    book: t.field({
      type: BookRef,
      resolve: async (a, _a, ctx) => (await loaders(ctx).book.load(a.bookId))!,
    }),
    ok: t.exposeBoolean('ok', {
      description:
        'The chain verifies, every stored total equals what the lines make, and the open-pending table matches the journal.',
    }),
    chain: t.field({ type: ChainVerificationRef, resolve: (a) => a.chain }),
    accountsChecked: t.exposeInt('accountsChecked'),
    dayTotalsChecked: t.exposeInt('dayTotalsChecked', {
      description: '(account, UTC day) pairs compared: stored day totals and days with posted lines.',
    }),
    mismatchCount: t.exposeInt('mismatchCount', { description: 'Every mismatch found.' }),
    mismatches: t.field({
      type: [AuditMismatchRef],
      description: 'The mismatches, at most 1000 (mismatchCount counts them all).',
      resolve: (a) => a.mismatches,
    }),
    openPendingChecked: t.exposeInt('openPendingChecked', {
      description: 'Pending entries compared: open by the journal, or with a row in the open-pending table.',
    }),
    openPendingMismatchCount: t.exposeInt('openPendingMismatchCount', {
      description: 'Every difference between the open-pending table and the journal.',
    }),
    openPendingMismatches: t.field({
      type: [OpenPendingMismatchRef],
      description:
        'The open-pending differences by seq, at most 1000 (openPendingMismatchCount counts them all).',
      resolve: (a) => a.openPendingMismatches.map((m) => ({ ...m, bookId: a.bookId })),
    }),
  }),
});
