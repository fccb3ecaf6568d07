/**
 * Root queries of the co-ops domain. As in the ledger's, a caller gets null (or an empty page) for
 * what they may not read, never an error that reveals another tenant's ids; coopDirectory is open
 * to anyone.
 */
import type { CoopRecord, MembershipRecord } from '../../server/coops/index.js';
import { canReadBook, isAdmin, readableBooks } from '../../server/core/index.js';
import { memberGrantKeys } from '../access.js';
import { builder } from '../builder.js';
import { emptyConnection, resolvePage, validatePageArgs } from '../connection.js';
import { badInput, guard } from '../errors.js';
import { decodeCoopId, decodeScopedId } from '../ids.js';
import { loadMembership, loadParty } from './access.js';
import { CoopConnection } from './coop.js';
import { DirectoryEntryConnection } from './directory.js';
import { coopLoaders } from './loaders.js';
import { CoopKindEnum, CoopRef, DirectoryEntryRef, MembershipRef, PartyRef } from './refs.js';
import { MemberStatementRef, statementOf } from './statements.js';
import { VotingRollRef, votingRollOf } from './voting-roll.js';

builder.queryFields((t) => ({
  coop: t.field({
    type: CoopRef,
    nullable: true,
    description:
      'A co-op by id; null when it does not exist or the caller is not one of its treasurers (or an admin).',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => {
      const id = decodeCoopId(args.id);
      return canReadBook(ctx.principal, id) ? guard(() => coopLoaders(ctx).coop.load(id)) : null;
    },
  }),
  coops: t.connection(
    {
      type: CoopRef,
      description: 'Co-ops the caller may read (all of them for an admin), in creation order.',
      authScopes: { authenticated: true },
      resolve: (_r, args, ctx) => {
        const only = isAdmin(ctx.principal) ? null : (readableBooks(ctx.principal) ?? []);
        if (only !== null && only.length === 0) {
          validatePageArgs(args, 1);
          return emptyConnection();
        }
        return resolvePage(args, {
          arity: 1,
          key: ([id]) => id!,
          cursorOf: (c: CoopRecord) => [c.id],
          read: async (q) => {
            const rows = await guard(() => ctx.services.coops.coopPage(q, only));
            for (const c of rows) coopLoaders(ctx).coop.prime(c.id, c);
            return rows;
          },
          count: () => guard(() => ctx.services.coops.coopCount(only)),
        });
      },
    },
    CoopConnection,
  ),
  coopDirectory: t.connection(
    {
      type: DirectoryEntryRef,
      description:
        'The public directory: co-ops that chose to be listed, by name. Open to anyone, without a token. ' +
        '`city` matches case-insensitively.',
      authScopes: { public: true },
      args: {
        city: t.arg.string(),
        kind: t.arg({ type: CoopKindEnum }),
      },
      resolve: (_r, args, ctx) => {
        if (args.city != null && args.city.length > 100)
          throw badInput('city must be at most 100 characters');
        const filter = { city: args.city ?? null, kind: args.kind ?? null };
        return resolvePage(args, {
          arity: 2,
          key: ([name, id]) => (/^[0-9a-f-]{36}$/.test(id!) ? { name: name!, id: id! } : null),
          cursorOf: (c: CoopRecord) => [c.name, c.id],
          read: (q) => guard(() => ctx.services.coops.directoryPage(q, filter)),
          count: () => guard(() => ctx.services.coops.directoryCount(filter)),
        });
      },
    },
    DirectoryEntryConnection,
  ),
  membership: t.field({
    type: MembershipRef,
    nullable: true,
    description: "A membership by id; null unless the caller is one of the co-op's treasurers or the member.",
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => {
      const key = decodeScopedId(String(args.id), 'Membership');
      return key ? loadMembership(ctx, key.bookId, key.id) : null;
    },
  }),
  party: t.field({
    type: PartyRef,
    nullable: true,
    description:
      "A person or organisation by id; null unless the caller is one of the co-op's treasurers or that person.",
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) => {
      const key = decodeScopedId(String(args.id), 'Party');
      return key ? loadParty(ctx, key.bookId, key.id) : null;
    },
  }),
  myMemberships: t.field({
    type: [MembershipRef],
    description:
      "The caller's own memberships: those whose accounts the token's MEMBER grants name (empty for other tokens).",
    authScopes: { authenticated: true },
    resolve: async (_r, _a, ctx) => {
      const keys = memberGrantKeys(ctx.principal);
      if (keys.length === 0) return [];
      const ids = await guard(() => ctx.services.coops.membershipIdsOfAccounts(keys));
      const found = await Promise.all(
        ids.map((k) => {
          const [bookId, id] = k.split(':') as [string, string];
          return loadMembership(ctx, bookId, id);
        }),
      );
      return found
        .filter((m): m is MembershipRecord => m !== null)
        .sort((a, b) =>
          a.bookId === b.bookId ? a.memberNumber - b.memberNumber : a.bookId < b.bookId ? -1 : 1,
        );
    },
  }),
  votingRoll: t.field({
    type: VotingRollRef,
    nullable: true,
    description: "The co-op's voting roll on a date; null unless the caller is one of its treasurers.",
    authScopes: { authenticated: true },
    args: { coopId: t.arg.id({ required: true }), on: t.arg({ type: 'Date', required: true }) },
    resolve: async (_r, args, ctx) => {
      const id = decodeCoopId(args.coopId);
      if (!canReadBook(ctx.principal, id)) return null;
      if (!(await guard(() => coopLoaders(ctx).coop.load(id)))) return null;
      return votingRollOf(ctx, id, args.on);
    },
  }),
  memberStatement: t.field({
    type: MemberStatementRef,
    nullable: true,
    description:
      "A member's statement from `from` to `to` (inclusive dates); null unless the caller is one of the co-op's treasurers or the member.",
    authScopes: { authenticated: true },
    args: {
      membershipId: t.arg.id({ required: true }),
      from: t.arg({ type: 'Date', required: true }),
      to: t.arg({ type: 'Date', required: true }),
    },
    resolve: async (_r, args, ctx) => {
      const key = decodeScopedId(String(args.membershipId), 'Membership');
      const m = key ? await loadMembership(ctx, key.bookId, key.id) : null;
      return m ? statementOf(ctx, m, args.from, args.to) : null;
    },
  }),
}));
