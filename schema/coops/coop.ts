/**
 * The Coop object: a co-op's profile, its default chart of accounts and what hangs from it (member
 * classes, memberships, parties, the voting roll). A co-op is its book (same raw id), so a
 * TREASURER grant on the book is a treasurer grant on the co-op; the Coop object is readable by
 * readers of the book only (a member reads its public profile, the DirectoryEntry).
 */
import type { MembershipRecord, PartyRecord } from '../../server/coops/index.js';
import { COOP_ACCOUNT_PURPOSES, type CoopAccountPurpose, canReadBook } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { connectionType, emptyConnection, resolvePage, validatePageArgs } from '../connection.js';
import { guard } from '../errors.js';
import { scopedId } from '../ids.js';
import { loaders, loadNodes } from '../loaders.js';
import { AccountRef, BookRef, UnitRef } from '../refs.js';
import { coopLoaders } from './loaders.js';
import {
  CoopAccountPurposeEnum,
  CoopKindEnum,
  CoopRef,
  DirectoryEntryRef,
  MemberClassRef,
  MembershipRef,
  MembershipStateEnum,
  PartyRef,
  RedemptionRuleEnum,
} from './refs.js';
import { VotingRollRef, votingRollOf } from './voting-roll.js';

const CoopAccountRef = builder
  .objectRef<{ bookId: string; purpose: CoopAccountPurpose; accountId: string }>('CoopAccount')
  .implement({
    description: "An account of the co-op's default chart and what it is for.",
    fields: (t) => ({
      purpose: t.field({ type: CoopAccountPurposeEnum, resolve: (a) => a.purpose }),
      account: t.field({
        type: AccountRef,
        resolve: async (a, _args, ctx) => (await loaders(ctx).account.load(scopedId(a.bookId, a.accountId)))!,
      }),
    }),
  });

const MembershipConnection = connectionType('Membership', MembershipRef);
const PartyConnection = connectionType('Party', PartyRef);
export const CoopConnection = connectionType('Coop', CoopRef);

builder.node(CoopRef, {
  description:
    "A cooperative. A co-op is its book: the same id (its Book holds the accounts and entries), so a TREASURER grant on the book is one on the co-op. Readable by the co-op's treasurers and admins.",
  authScopes: (c) => ({ bookRead: c.id }),
  id: { resolve: (c) => c.id },
  loadMany: (ids, ctx) => loadNodes(coopLoaders(ctx).coop, ids),
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.field({ type: CoopKindEnum, resolve: (c) => c.kind }),
    naicsCode: t.exposeString('naicsCode', { description: 'Sector, as a NAICS code of 2 to 6 digits.' }),
    city: t.exposeString('city'),
    neighbourhood: t.exposeString('neighbourhood', { description: "'' when not given." }),
    latitude: t.string({
      nullable: true,
      description: 'Decimal degrees as a string (up to 6 places); null when no coordinates are given.',
      resolve: (c) => c.latitude,
    }),
    longitude: t.string({ nullable: true, resolve: (c) => c.longitude }),
    foundedOn: t.field({ type: 'Date', resolve: (c) => c.foundedOn }),
    legalForm: t.exposeString('legalForm'),
    fiscalYearStart: t.exposeString('fiscalYearStart', {
      description: 'First day of the fiscal year, "MM-DD".',
    }),
    baseCurrency: t.field({
      type: UnitRef,
      description: 'The unit of buy-ins and member capital.',
      resolve: (c) => c.baseCurrency,
    }),
    redemptionRule: t.field({ type: RedemptionRuleEnum, resolve: (c) => c.redemptionRule }),
    dataSharingConsent: t.exposeBoolean('dataSharingConsent', {
      description: "Whether the co-op's figures may count in city aggregates.",
    }),
    dataSharingConsentAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the consent was given; null while it is not.',
      resolve: (c) => c.dataSharingConsentAt,
    }),
    publicListing: t.exposeBoolean('publicListing', {
      description:
        'Whether the co-op is listed in the public directory (coopDirectory, Murmurations profile).',
    }),
    description: t.exposeString('description'),
    website: t.exposeString('website', { description: "An http(s) URL, or ''." }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (c) => c.updatedAt }),
    book: t.field({
      type: BookRef,
      description: "The co-op's book (same raw id).",
      resolve: async (c, _a, ctx) => (await loaders(ctx).book.load(c.id))!,
    }),
    chartOfAccounts: t.field({
      type: [CoopAccountRef],
      description: 'The accounts of the default chart, by purpose (the treasurer may add more to the book).',
      resolve: (c) =>
        COOP_ACCOUNT_PURPOSES.filter((p) => c.accounts[p]).map((purpose) => ({
          bookId: c.id,
          purpose,
          accountId: c.accounts[purpose],
        })),
    }),
    profile: t.field({
      type: DirectoryEntryRef,
      description: 'The public fields of the co-op, as the directory shows them (when listed).',
      resolve: (c) => c,
    }),
    memberClasses: t.field({
      type: [MemberClassRef],
      description: 'Member classes by code (at most 50).',
      resolve: (c, _a, ctx) => guard(() => ctx.services.coops.listMemberClasses(c.id)),
    }),
    memberships: t.connection(
      {
        type: MembershipRef,
        description: 'Memberships by member number, optionally only those in one state.',
        args: { state: t.arg({ type: MembershipStateEnum }) },
        resolve: (c, args, ctx) => {
          if (!canReadBook(ctx.principal, c.id)) {
            validatePageArgs(args, 1);
            return emptyConnection();
          }
          const state = args.state ?? null;
          return resolvePage(args, {
            arity: 1,
            key: ([n]) => (/^\d{1,9}$/.test(n!) ? Number(n) : null),
            cursorOf: (m: MembershipRecord) => [String(m.memberNumber)],
            read: async (q) => {
              const rows = await guard(() => ctx.services.coops.membershipPage(c.id, q, state));
              for (const m of rows) coopLoaders(ctx).membership.prime(scopedId(m.bookId, m.id), m);
              return rows;
            },
            count: () => guard(() => ctx.services.coops.membershipCount(c.id, state)),
          });
        },
      },
      MembershipConnection,
    ),
    parties: t.connection(
      {
        type: PartyRef,
        description: 'People and organisations registered with the co-op, in registration order.',
        resolve: (c, args, ctx) => {
          if (!canReadBook(ctx.principal, c.id)) {
            validatePageArgs(args, 1);
            return emptyConnection();
          }
          return resolvePage(args, {
            arity: 1,
            key: ([id]) => id!,
            cursorOf: (p: PartyRecord) => [p.id],
            read: (q) => guard(() => ctx.services.coops.partyPage(c.id, q)),
            count: () => guard(() => ctx.services.coops.partyCount(c.id)),
          });
        },
      },
      PartyConnection,
    ),
    votingRoll: t.field({
      type: VotingRollRef,
      description: 'Members entitled to vote on a date (one member, one vote).',
      args: { on: t.arg({ type: 'Date', required: true }) },
      resolve: (c, args, ctx) => votingRollOf(ctx, c.id, args.on),
    }),
  }),
});
