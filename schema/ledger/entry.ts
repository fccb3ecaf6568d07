import { canReadBook, formatAmount } from '../../server/core/index.js';
import type { EntryRecord } from '../../server/ledger/index.js';
import { EXPIRY_ACTOR, pages } from '../../server/ledger/index.js';
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
import { scopedId } from '../ids.js';
import { loaders, loadNodes } from '../loaders.js';
import {
  AccountRef,
  BookRef,
  EntryKindEnum,
  EntryStatusEnum,
  JournalEntryRef,
  JournalLineRef,
  MetadataEntryRef,
  SideEnum,
  UnitRef,
} from '../refs.js';

const linked = (ctx: GraphQLContext, e: EntryRecord, id: string | null) =>
  id ? loaders(ctx).entry.load(scopedId(e.bookId, id)) : null;

builder.node(JournalEntryRef, {
  description: 'An immutable, balanced journal entry. Corrections are new entries (reversals), never edits.',
  authScopes: (e) => ({ bookRead: e.bookId }),
  id: { resolve: (e) => scopedId(e.bookId, e.id) },
  loadMany: (ids, ctx) => loadNodes(loaders(ctx).entry, ids),
  fields: (t) => ({
    book: t.field({
      type: BookRef,
      resolve: async (e, _a, ctx) => (await loaders(ctx).book.load(e.bookId))!,
    }),
    seq: t.string({
      description: "Position in the book's hash chain, from 1 (a decimal integer string).",
      resolve: (e) => e.seq,
    }),
    kind: t.field({ type: EntryKindEnum, resolve: (e) => e.kind }),
    status: t.field({
      type: EntryStatusEnum,
      resolve: async (e, _a, ctx) => {
        if (e.kind !== 'PENDING') return 'POSTED';
        const links = await loaders(ctx).entryLinks.load(scopedId(e.bookId, e.id));
        if (links.resolutionKind === 'COMMIT') return 'COMMITTED';
        if (links.resolutionKind === 'VOID') {
          const resolution = await loaders(ctx).entry.load(scopedId(e.bookId, links.resolvedBy!));
          return resolution?.postedBy === EXPIRY_ACTOR ? 'EXPIRED' : 'VOIDED';
        }
        return e.expiresAt && e.expiresAt.getTime() <= Date.now() ? 'EXPIRED' : 'PENDING';
      },
    }),
    idempotencyKey: t.exposeString('idempotencyKey'),
    effectiveAt: t.field({
      type: 'DateTime',
      description: 'When the entry counts for balances.',
      resolve: (e) => e.effectiveAt,
    }),
    recordedAt: t.field({
      type: 'DateTime',
      description: 'When the server recorded it.',
      resolve: (e) => e.recordedAt,
    }),
    memo: t.exposeString('memo'),
    metadata: t.field({
      type: [MetadataEntryRef],
      resolve: (e) =>
        Object.keys(e.metadata)
          .sort()
          .map((key) => ({ key, value: e.metadata[key]! })),
    }),
    lines: t.field({
      type: [JournalLineRef],
      // `amount` named: a line the posting engine just decided makes its Decimal in a getter,
      // which a spread leaves out.
      resolve: (e) => e.lines.map((l) => ({ ...l, amount: l.amount, bookId: e.bookId })),
    }),
    reverses: t.field({
      type: JournalEntryRef,
      nullable: true,
      resolve: (e, _a, ctx) => linked(ctx, e, e.reversesId),
    }),
    reversedBy: t.field({
      type: JournalEntryRef,
      nullable: true,
      resolve: async (e, _a, ctx) =>
        linked(ctx, e, (await loaders(ctx).entryLinks.load(scopedId(e.bookId, e.id))).reversedBy),
    }),
    pendingEntry: t.field({
      type: JournalEntryRef,
      nullable: true,
      description: 'For COMMIT and VOID entries: the pending entry they resolve.',
      resolve: (e, _a, ctx) => linked(ctx, e, e.pendingId),
    }),
    resolvedBy: t.field({
      type: JournalEntryRef,
      nullable: true,
      description: 'For PENDING entries: the COMMIT or VOID entry that resolved it.',
      resolve: async (e, _a, ctx) =>
        linked(ctx, e, (await loaders(ctx).entryLinks.load(scopedId(e.bookId, e.id))).resolvedBy),
    }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.expiresAt }),
    postedBy: t.string({ nullable: true, resolve: (e) => e.postedBy }),
    prevHash: t.exposeString('prevHash'),
    hash: t.exposeString('hash', {
      description: "SHA-256 over the previous hash and this entry's canonical content.",
    }),
  }),
});

JournalLineRef.implement({
  fields: (t) => ({
    lineNo: t.exposeInt('lineNo'),
    account: t.field({
      type: AccountRef,
      resolve: async (l, _a, ctx) => (await loaders(ctx).account.load(scopedId(l.bookId, l.accountId)))!,
    }),
    side: t.field({ type: SideEnum, resolve: (l) => l.side }),
    amount: t.field({ type: 'Decimal', resolve: (l) => formatAmount(l.amount, l.scale) }),
    unit: t.field({ type: UnitRef, resolve: (l) => ({ code: l.unitCode, scale: l.scale }) }),
    pending: t.boolean({
      description: 'True for the lines of a PENDING entry (reservations).',
      resolve: (l) => l.phase === 'PENDING',
    }),
  }),
});

export const JournalEntryConnection = connectionType('JournalEntry', JournalEntryRef);

/**
 * A cursor's key: an instant JavaScript can represent (ms within +-8.64e15) and a positive bigint
 * sequence number, both numbers PostgreSQL takes; null for anything else.
 */
function entryKey([ms, seq]: string[]): { effectiveAtMs: string; seq: string } | null {
  return /^-?\d{1,16}$/.test(ms!) && Math.abs(Number(ms)) <= 8.64e15 && /^\d{1,18}$/.test(seq!)
    ? { effectiveAtMs: ms!, seq: seq! }
    : null;
}

/** A page of a book's entries (or one account's), in (effectiveAt, seq) order, forward or backward. */
export function listEntries(
  ctx: GraphQLContext,
  args: PageArgs & {
    bookId: string;
    accountId: string | null;
    from?: Date | null;
    to?: Date | null;
    kinds?: string[] | null;
  },
) {
  // Cursors hold effectiveAt and seq: only readers of the book get edges, whatever the parent.
  if (!canReadBook(ctx.principal, args.bookId)) {
    validatePageArgs(args, 2);
    return emptyConnection();
  }
  const filter = {
    bookId: args.bookId,
    accountId: args.accountId,
    from: args.from ?? null,
    to: args.to ?? null,
    kinds: args.kinds ?? null,
  };
  return resolvePage(args, {
    arity: 2,
    key: entryKey,
    cursorOf: (e: EntryRecord) => [String(e.effectiveAt.getTime()), e.seq],
    read: async (q) => {
      const rows = await guard(() => pages.entryPage(ctx.services.ledger, filter, q));
      for (const row of rows) loaders(ctx).entry.prime(scopedId(row.bookId, row.id), row);
      return rows;
    },
    count: () => guard(() => pages.entryCount(ctx.services.ledger, filter)),
  });
}
