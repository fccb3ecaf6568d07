import { canReadAccount, formatAmount } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { guard } from '../errors.js';
import { scopedId } from '../ids.js';
import { loaders, loadNodes } from '../loaders.js';
import {
  AccountBalanceRef,
  AccountRef,
  AccountTypeEnum,
  BookRef,
  JournalEntryRef,
  UnitRef,
} from '../refs.js';
import { AccountConnection, listAccounts } from './book.js';
import { JournalEntryConnection, listEntries } from './entry.js';

builder.node(AccountRef, {
  description: 'An account of a book, in one unit, with optional balance bounds.',
  authScopes: (a) => ({ $any: { bookRead: a.bookId, accountRead: scopedId(a.bookId, a.id) } }),
  id: { resolve: (a) => scopedId(a.bookId, a.id) },
  loadMany: (ids, ctx) => loadNodes(loaders(ctx).account, ids),
  fields: (t) => ({
    book: t.field({
      type: BookRef,
      resolve: async (a, _args, ctx) => (await loaders(ctx).book.load(a.bookId))!,
    }),
    code: t.exposeString('code', { description: 'Unique within the book.' }),
    name: t.exposeString('name'),
    type: t.field({ type: AccountTypeEnum, resolve: (a) => a.type }),
    unit: t.field({ type: UnitRef, resolve: (a) => a.unit }),
    parent: t.field({
      type: AccountRef,
      nullable: true,
      description:
        'The parent account (same book and unit), for roll-ups; null when there is none or the caller may not read it ' +
        '(a MEMBER token reads only the accounts its grants name).',
      resolve: (a, _args, ctx) =>
        a.parentId && canReadAccount(ctx.principal, a.bookId, a.parentId)
          ? loaders(ctx).account.load(scopedId(a.bookId, a.parentId))
          : null,
    }),
    children: t.connection(
      {
        type: AccountRef,
        description: "This account's children (closed ones included) ordered by code.",
        resolve: (a, args, ctx) => listAccounts(ctx, a.bookId, { ...args, includeClosed: true }, a.id),
      },
      AccountConnection,
    ),
    lowerBound: t.field({
      type: 'Decimal',
      nullable: true,
      description: 'Lowest balance allowed, in the normal direction; below zero it is a credit limit.',
      resolve: (a) => (a.lowerBound ? formatAmount(a.lowerBound, a.unit.scale) : null),
    }),
    upperBound: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (a) => (a.upperBound ? formatAmount(a.upperBound, a.unit.scale) : null),
    }),
    closed: t.boolean({ resolve: (a) => a.closed }),
    closedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.closedAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
    balance: t.field({
      type: AccountBalanceRef,
      description: 'Current balance, or the posted balance as of an instant when `asOf` is given.',
      args: { asOf: t.arg({ type: 'DateTime' }) },
      resolve: (a, args, ctx) => guard(() => ctx.services.ledger.balance(a, args.asOf ?? null)),
    }),
    journalEntries: t.connection(
      {
        type: JournalEntryRef,
        description:
          'Entries with a line on this account, in (effectiveAt, recording) order; `from` inclusive, `to` exclusive.',
        args: {
          from: t.arg({ type: 'DateTime' }),
          to: t.arg({ type: 'DateTime' }),
        },
        resolve: (a, args, ctx) => listEntries(ctx, { bookId: a.bookId, accountId: a.id, ...args }),
      },
      JournalEntryConnection,
    ),
  }),
});

AccountBalanceRef.implement({
  authScopes: (b) => ({
    $any: { bookRead: b.account.bookId, accountRead: scopedId(b.account.bookId, b.account.id) },
  }),
  description:
    "Balances in the account's normal direction (debit for ASSET and EXPENSE, credit otherwise). Pending figures are " +
    'only known for the present and are null when `asOf` is given.',
  fields: (t) => ({
    account: t.field({ type: AccountRef, resolve: (b) => b.account }),
    asOf: t.field({ type: 'DateTime', nullable: true, resolve: (b) => b.asOf }),
    unit: t.field({ type: UnitRef, resolve: (b) => b.account.unit }),
    debits: t.field({
      type: 'Decimal',
      description: 'Sum of posted debits.',
      resolve: (b) => formatAmount(b.debits, b.account.unit.scale),
    }),
    credits: t.field({
      type: 'Decimal',
      description: 'Sum of posted credits.',
      resolve: (b) => formatAmount(b.credits, b.account.unit.scale),
    }),
    posted: t.field({
      type: 'Decimal',
      description: 'Posted balance.',
      resolve: (b) => formatAmount(b.posted, b.account.unit.scale),
    }),
    pendingDebits: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (b) => (b.pendingDebits ? formatAmount(b.pendingDebits, b.account.unit.scale) : null),
    }),
    pendingCredits: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (b) => (b.pendingCredits ? formatAmount(b.pendingCredits, b.account.unit.scale) : null),
    }),
    available: t.field({
      type: 'Decimal',
      nullable: true,
      description:
        'Posted balance less every pending decrease: what is left above the lower bound if all pending entries post.',
      resolve: (b) => (b.available ? formatAmount(b.available, b.account.unit.scale) : null),
    }),
    projected: t.field({
      type: 'Decimal',
      nullable: true,
      description: 'Posted balance plus every pending increase.',
      resolve: (b) => (b.projected ? formatAmount(b.projected, b.account.unit.scale) : null),
    }),
    rollup: t.field({
      type: 'Decimal',
      description:
        "Posted balance of this account together with all its descendants (same unit), in this account's normal direction.",
      resolve: async (b, _args, ctx) =>
        formatAmount(
          await guard(() => ctx.services.ledger.rollupBalance(b.account, b.asOf)),
          b.account.unit.scale,
        ),
    }),
  }),
});
