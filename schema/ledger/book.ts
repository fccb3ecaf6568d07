import { canReadBook } from '../../server/core/index.js';
import { type AccountRow, pages } from '../../server/ledger/index.js';
import { builder } from '../builder.js';
import {
  connectionType,
  emptyConnection,
  type PageArgs,
  resolvePage,
  validatePageArgs,
} from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { guard } from '../errors.js';
import { loaders, loadNodes } from '../loaders.js';
import { AccountRef, AccountTypeEnum, BookRef, UnitRef } from '../refs.js';

builder.node(BookRef, {
  description: 'A set of accounts kept together: one per co-op, one per mutual-credit network.',
  authScopes: (b) => ({ bookRead: b.id }),
  id: { resolve: (b) => b.id },
  loadMany: (ids, ctx) => loadNodes(loaders(ctx).book, ids),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    units: t.field({ type: [UnitRef], resolve: (b) => b.units }),
    maxBackdateDays: t.exposeInt('maxBackdateDays', {
      description: 'How many days in the past an entry of this book may be effective.',
    }),
    entryCount: t.string({
      description: 'Entries posted in this book so far (a decimal integer string).',
      resolve: (b) => b.entryCount,
    }),
    headHash: t.string({
      description: 'Hash of the last entry in the chain (64 zeros before the first).',
      resolve: (b) => b.lastHash,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.createdAt }),
    accounts: t.connection(
      {
        type: AccountRef,
        description: 'Accounts of this book ordered by code.',
        args: {
          type: t.arg({ type: AccountTypeEnum }),
          includeClosed: t.arg.boolean({ defaultValue: true }),
        },
        resolve: (b, args, ctx) => listAccounts(ctx, b.id, args),
      },
      AccountConnection,
    ),
  }),
});

export const BookConnection = connectionType('Book', BookRef);
export const AccountConnection = connectionType('Account', AccountRef);

/** A page of a book's accounts (or of an account's children), by code, forward or backward. */
export function listAccounts(
  ctx: GraphQLContext,
  bookId: string,
  args: PageArgs & {
    type?: (typeof AccountTypeEnum)['$inferType'] | null;
    includeClosed?: boolean | null;
  },
  parentId?: string | null,
) {
  // Edges and cursors are data too (a cursor holds the account code): only readers of the book
  // get any, whatever object the connection hangs from (a member's own account included).
  if (!canReadBook(ctx.principal, bookId)) {
    validatePageArgs(args, 1);
    return emptyConnection();
  }
  const filter = {
    bookId,
    includeClosed: args.includeClosed ?? true,
    type: args.type ?? null,
    ...(parentId === undefined ? {} : { parentId }),
  };
  return resolvePage(args, {
    arity: 1,
    key: ([code]) => code!,
    cursorOf: (a: AccountRow) => [a.code],
    read: async (q) => {
      const rows = await guard(() => pages.accountPage(ctx.services.ledger, filter, q));
      for (const row of rows) loaders(ctx).account.prime(`${row.bookId}:${row.id}`, row);
      return rows;
    },
    count: () => guard(() => pages.accountCount(ctx.services.ledger, filter)),
  });
}
