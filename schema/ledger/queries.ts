import { canReadAccount, canReadBook, isAdmin, LedgerError, readableBooks } from '../../server/core/index.js';
import { type BookRecord, pages } from '../../server/ledger/index.js';
import { builder } from '../builder.js';
import { emptyConnection, resolvePage, validatePageArgs } from '../connection.js';
import { badInput, guard } from '../errors.js';
import { decodeBookId, decodeScopedId, scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import {
  AccountBalanceRef,
  AccountRef,
  AccountTypeEnum,
  BookRef,
  ChainVerificationRef,
  EntryKindEnum,
  JournalEntryRef,
  TrialBalanceRef,
} from '../refs.js';
import { AccountConnection, BookConnection, listAccounts } from './book.js';
import { JournalEntryConnection, listEntries } from './entry.js';
import { BookAuditRef } from './reports.js';

builder.queryFields((t) => ({
  book: t.field({
    type: BookRef,
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => {
      const bookId = decodeBookId(String(args.id));
      return canReadBook(ctx.principal, bookId) ? guard(() => loaders(ctx).book.load(bookId)) : null;
    },
  }),
  books: t.connection(
    {
      type: BookRef,
      description: 'Books the caller may read (all of them for an admin), in creation order.',
      authScopes: { authenticated: true },
      resolve: (_r, args, ctx) => {
        const only = isAdmin(ctx.principal) ? null : (readableBooks(ctx.principal) ?? []);
        return resolvePage(args, {
          arity: 1,
          key: ([id]) => id!,
          cursorOf: (b: BookRecord) => [b.id],
          read: (q) => guard(() => pages.bookPage(ctx.services.ledger, q, only)),
          count: () => guard(() => pages.bookCount(ctx.services.ledger, only)),
        });
      },
    },
    BookConnection,
  ),
  account: t.field({
    type: AccountRef,
    nullable: true,
    description:
      'An account by its id, or by its book and code (`account(bookId: ..., code: "1010")`): give `id`, or `bookId` and `code`.',
    authScopes: { authenticated: true },
    args: {
      id: t.arg.id(),
      bookId: t.arg.id({ description: 'With `code`: the book whose chart holds the code.' }),
      code: t.arg.string({ description: 'With `bookId`: the account code (unique in its book).' }),
    },
    resolve: (_r, args, ctx) => {
      const byCode = args.bookId != null || args.code != null;
      if (args.id != null ? byCode : args.bookId == null || args.code == null)
        throw badInput('give `id`, or `bookId` and `code`');
      if (args.id == null) {
        const bookId = decodeBookId(String(args.bookId));
        // A member may read only their own account: the lookup by code is for the book's readers.
        return canReadBook(ctx.principal, bookId)
          ? guard(() => ctx.services.ledger.accountByCode(bookId, args.code!))
          : null;
      }
      const key = decodeScopedId(String(args.id), 'Account');
      return key && canReadAccount(ctx.principal, key.bookId, key.id)
        ? guard(() => loaders(ctx).account.load(scopedId(key.bookId, key.id)))
        : null;
    },
  }),
  accounts: t.connection(
    {
      type: AccountRef,
      description: 'Accounts of a book ordered by code.',
      authScopes: { authenticated: true },
      args: {
        bookId: t.arg.id({ required: true }),
        type: t.arg({ type: AccountTypeEnum }),
        includeClosed: t.arg.boolean({ defaultValue: true }),
      },
      // An empty page for a book the caller may not read (listAccounts checks).
      resolve: (_r, args, ctx) => listAccounts(ctx, decodeBookId(String(args.bookId)), args),
    },
    AccountConnection,
  ),
  journalEntry: t.field({
    type: JournalEntryRef,
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => {
      const key = decodeScopedId(String(args.id), 'JournalEntry');
      return key && canReadBook(ctx.principal, key.bookId)
        ? guard(() => loaders(ctx).entry.load(scopedId(key.bookId, key.id)))
        : null;
    },
  }),
  journalEntries: t.connection(
    {
      type: JournalEntryRef,
      description:
        'Entries of a book in (effectiveAt, recording) order; `from` is inclusive and `to` exclusive on effectiveAt. ' +
        'With `accountId`, only entries with a line on that account.',
      authScopes: { authenticated: true },
      args: {
        bookId: t.arg.id({ required: true }),
        accountId: t.arg.id(),
        from: t.arg({ type: 'DateTime' }),
        to: t.arg({ type: 'DateTime' }),
        kinds: t.arg({ type: [EntryKindEnum] }),
      },
      resolve: (_r, args, ctx) => {
        const bookId = decodeBookId(String(args.bookId));
        let accountId: string | null = null;
        if (args.accountId) {
          const key = decodeScopedId(String(args.accountId), 'Account');
          // An account of another book, or not an account: nothing to list.
          if (!key || key.bookId !== bookId) {
            validatePageArgs(args, 2);
            return emptyConnection();
          }
          accountId = key.id;
        }
        // An empty page for a book the caller may not read (listEntries checks).
        return listEntries(ctx, { ...args, bookId, accountId });
      },
    },
    JournalEntryConnection,
  ),
  accountBalance: t.field({
    type: AccountBalanceRef,
    nullable: true,
    description: 'Current balances, or the posted balance as of an instant (inclusive) when `asOf` is given.',
    authScopes: { authenticated: true },
    args: { accountId: t.arg.id({ required: true }), asOf: t.arg({ type: 'DateTime' }) },
    resolve: async (_r, args, ctx) => {
      const key = decodeScopedId(String(args.accountId), 'Account');
      if (!key || !canReadAccount(ctx.principal, key.bookId, key.id)) return null;
      const account = await guard(() => loaders(ctx).account.load(scopedId(key.bookId, key.id)));
      return account ? guard(() => ctx.services.ledger.balance(account, args.asOf ?? null)) : null;
    },
  }),
  trialBalance: t.field({
    type: TrialBalanceRef,
    nullable: true,
    authScopes: { authenticated: true },
    args: {
      bookId: t.arg.id({ required: true }),
      asOf: t.arg({ type: 'DateTime' }),
      rollupDepth: t.arg.int({
        description:
          'Accounts down to this depth (1: accounts without a parent), each at the limit with its sub-accounts folded in; ' +
          'omit for every account on its own line. 1 to 100.',
      }),
    },
    resolve: async (_r, args, ctx) => {
      const bookId = decodeBookId(String(args.bookId));
      if (!canReadBook(ctx.principal, bookId)) return null;
      const result = await guard(() =>
        ctx.services.ledger.trialBalance(bookId, args.asOf ?? null, args.rollupDepth ?? null),
      );
      if (result instanceof LedgerError && result.code !== 'UNKNOWN_BOOK') throw badInput(result.message);
      return result instanceof LedgerError ? null : result;
    },
  }),
  verifyBookChain: t.field({
    type: ChainVerificationRef,
    nullable: true,
    description: "Recomputes the book's hash chain and names the first entry that does not match.",
    authScopes: { authenticated: true },
    args: { bookId: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const bookId = decodeBookId(String(args.bookId));
      if (!canReadBook(ctx.principal, bookId)) return null;
      const result = await guard(() => ctx.services.ledger.verifyChain(bookId));
      return result instanceof LedgerError ? null : result;
    },
  }),
  auditBook: t.field({
    type: BookAuditRef,
    nullable: true,
    description:
      "Audits a book: verifies its hash chain and recomputes every account's stored totals and every per-day total " +
      'from the lines, reporting each mismatch. Reads the whole book. Null for a book the caller cannot read.',
    authScopes: { authenticated: true },
    args: { bookId: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const bookId = decodeBookId(String(args.bookId));
      if (!canReadBook(ctx.principal, bookId)) return null;
      const result = await guard(() => ctx.services.ledger.auditBook(bookId));
      return result instanceof LedgerError ? null : result;
    },
  }),
}));
