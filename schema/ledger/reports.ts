import { formatAmount } from '../../server/core/index.js';
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
    balanced: t.exposeBoolean('balanced'),
    lines: t.field({ type: [TrialBalanceLineRef], resolve: (tb) => tb.lines }),
    units: t.field({ type: [TrialBalanceUnitRef], resolve: (tb) => tb.units }),
  }),
});

TrialBalanceLineRef.implement({
  fields: (t) => ({
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
