import { canReadBook } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { connectionType, decodeCursor, emptyConnection, pageSize, toConnection } from '../connection.js';
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
    accounts: t.field({
      type: AccountConnection,
      description: 'Accounts of this book ordered by code.',
      args: {
        first: t.arg.int(),
        after: t.arg.string(),
        type: t.arg({ type: AccountTypeEnum }),
        includeClosed: t.arg.boolean({ defaultValue: true }),
      },
      resolve: (b, args, ctx) => listAccounts(ctx, b.id, args),
    }),
  }),
});

export const BookConnection = connectionType('Book', BookRef);
export const AccountConnection = connectionType('Account', AccountRef);

export async function listAccounts(
  ctx: Parameters<typeof loaders>[0],
  bookId: string,
  args: {
    first?: number | null;
    after?: string | null;
    type?: (typeof AccountTypeEnum)['$inferType'] | null;
    includeClosed?: boolean | null;
  },
  parentId?: string | null,
) {
  const limit = pageSize(args.first);
  const after = decodeCursor(args.after, 1);
  // Edges and cursors are data too (a cursor holds the account code): only readers of the book
  // get any, whatever object the connection hangs from (a member's own account included).
  if (!canReadBook(ctx.principal, bookId)) return emptyConnection();
  const rows = await guard(() =>
    ctx.services.ledger.listAccounts(bookId, {
      afterCode: after?.[0] ?? null,
      limit: limit + 1,
      includeClosed: args.includeClosed ?? true,
      type: args.type ?? null,
      parentId,
    }),
  );
  for (const row of rows) loaders(ctx).account.prime(`${row.bookId}:${row.id}`, row);
  return toConnection(rows, limit, (a) => [a.code]);
}
