/**
 * A co-op's register: member classes, parties (people and organisations) and their memberships,
 * with each membership's money (buy-in, capital, instalments) and history.
 *
 * Party and Membership are personal data: readable by the co-op's treasurers and by the person
 * (a token whose MEMBER grants name accounts of one of that party's memberships). A member's
 * Membership.coop is null (the Coop object is the treasurers'); Membership.coopProfile gives the
 * public profile. MemberClass: readers of the book and members of the co-op. Each type checks
 * itself (authScopes), and loaders of node(id:) drop what the caller may not read, so another
 * member's id answers null like an unknown one.
 */
import type { MemberBalances, MembershipEventRecord, MembershipRecord } from '../../server/coops/index.js';
import { canReadBook, type Decimal, formatAmount, type Instalment } from '../../server/core/index.js';
import { canReadParty } from '../access.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { guard } from '../errors.js';
import { scopedId } from '../ids.js';
import { loaders, loadNodes } from '../loaders.js';
import { AccountRef, JournalEntryRef, UnitRef } from '../refs.js';
import { canReadMembership, memberAccount, readableOrNull } from './access.js';
import { classOf, coopLoaders, unitOf } from './loaders.js';
import {
  CoopRef,
  DirectoryEntryRef,
  InstalmentStatusEnum,
  MemberClassRef,
  MembershipRef,
  MembershipStateEnum,
  PartyKindEnum,
  PartyRef,
} from './refs.js';
import { MemberStatementRef, statementOf } from './statements.js';

// ---------- MemberClass ----------

builder.node(MemberClassRef, {
  description:
    'A class of membership (worker-owner, consumer, supporter, ...): its buy-in, instalment plan and whether it votes. ' +
    "Readable by the co-op's treasurers and its members.",
  authScopes: (c) => ({ $any: { bookRead: c.bookId, coopMember: c.bookId } }),
  id: { resolve: (c) => scopedId(c.bookId, c.id) },
  loadMany: (ids, ctx) => loadNodes(coopLoaders(ctx).memberClass, ids),
  fields: (t) => ({
    coop: t.field({
      type: CoopRef,
      nullable: true,
      description: 'The co-op; null for a caller who may not read the Coop object (a member).',
      resolve: (c, _a, ctx) =>
        canReadBook(ctx.principal, c.bookId) ? coopLoaders(ctx).coop.load(c.bookId) : null,
    }),
    code: t.exposeString('code', { description: 'Unique in the co-op: 1-40 of A-Z, a-z, 0-9, _ and -.' }),
    name: t.exposeString('name'),
    buyIn: t.field({
      type: 'Decimal',
      description: 'The share subscription a member of this class takes on joining (may be zero).',
      resolve: (c) => formatAmount(c.buyIn, c.unit.scale),
    }),
    unit: t.field({ type: UnitRef, description: "The co-op's base currency.", resolve: (c) => c.unit }),
    instalmentCount: t.exposeInt('instalmentCount', {
      description: 'Instalments the buy-in is paid in (1 to 240).',
    }),
    instalmentIntervalMonths: t.exposeInt('instalmentIntervalMonths', {
      description: 'Months between instalments (1 to 24); the first is due on the day of joining.',
    }),
    voting: t.exposeBoolean('voting', { description: 'Whether ACTIVE members of this class vote.' }),
    transferable: t.exposeBoolean('transferable', {
      description: 'Whether shares may be transferred to or from members of this class.',
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.createdAt }),
  }),
});

// ---------- Party ----------

builder.node(PartyRef, {
  description:
    "A person or organisation in a co-op's register. Personal data: readable only by the co-op's treasurers and by the " +
    'person (a token whose MEMBER grants name accounts of their membership).',
  authScopes: (p) => ({ $any: { bookRead: p.bookId, partyRead: scopedId(p.bookId, p.id) } }),
  id: { resolve: (p) => scopedId(p.bookId, p.id) },
  loadMany: async (ids, ctx) => {
    const found = await loadNodes(coopLoaders(ctx).party, ids);
    return Promise.all(found.map((p) => readableOrNull(p, (r) => canReadParty(ctx, r.bookId, r.id))));
  },
  fields: (t) => ({
    kind: t.field({ type: PartyKindEnum, resolve: (p) => p.kind }),
    name: t.exposeString('name'),
    email: t.exposeString('email', { description: "'' when not given." }),
    phone: t.exposeString('phone', { description: "'' when not given." }),
    address: t.exposeString('address', { description: "'' when not given." }),
    organizationCoop: t.field({
      type: CoopRef,
      nullable: true,
      description:
        'For an organisation that is itself a co-op (a federation member): that co-op, when the caller may read it.',
      resolve: (p, _a, ctx) =>
        p.organizationCoopId && canReadBook(ctx.principal, p.organizationCoopId)
          ? coopLoaders(ctx).coop.load(p.organizationCoopId)
          : null,
    }),
    externalRef: t.string({
      nullable: true,
      description:
        "The co-op's own reference for this party (unique in the co-op), e.g. from an imported file.",
      resolve: (p) => p.externalRef,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (p) => p.createdAt }),
    memberships: t.field({
      type: [MembershipRef],
      description:
        'Memberships of this party in the co-op (past and present), by member number; at most 100.',
      resolve: async (p, _a, ctx) => {
        if (!(await canReadParty(ctx, p.bookId, p.id))) return [];
        const rows = await guard(() =>
          ctx.services.coops.listMemberships(p.bookId, {
            afterNumber: null,
            limit: 100,
            state: null,
            partyId: p.id,
          }),
        );
        for (const m of rows) coopLoaders(ctx).membership.prime(scopedId(m.bookId, m.id), m);
        return rows;
      },
    }),
  }),
});

// ---------- Membership ----------

const MemberAccountsRef = builder.objectRef<MembershipRecord>('MemberAccounts').implement({
  description:
    "A member's own accounts in the co-op's book. Each is null for a caller who may not read that account " +
    '(a MEMBER token reads the accounts its grants name).',
  fields: (t) => ({
    shareCapital: t.field({
      type: AccountRef,
      nullable: true,
      description: 'Paid-up share capital (equity).',
      resolve: (m, _a, ctx) => memberAccount(ctx, m, 'SHARE_CAPITAL'),
    }),
    subscriptionReceivable: t.field({
      type: AccountRef,
      nullable: true,
      description: 'What the member still owes on the buy-in (asset).',
      resolve: (m, _a, ctx) => memberAccount(ctx, m, 'SUBSCRIPTION_RECEIVABLE'),
    }),
    subscribedUnpaid: t.field({
      type: AccountRef,
      nullable: true,
      description: 'Subscribed capital not yet paid (equity, the counterpart of the receivable).',
      resolve: (m, _a, ctx) => memberAccount(ctx, m, 'SUBSCRIBED_UNPAID'),
    }),
    internalCapital: t.field({
      type: AccountRef,
      nullable: true,
      description: "The member's internal capital account (retained patronage).",
      resolve: (m, _a, ctx) => memberAccount(ctx, m, 'INTERNAL_CAPITAL'),
    }),
    redemptionPayable: t.field({
      type: AccountRef,
      nullable: true,
      description: 'Capital held for the member after leaving under the HOLD rule (liability).',
      resolve: (m, _a, ctx) => memberAccount(ctx, m, 'REDEMPTION_PAYABLE'),
    }),
  }),
});

const MembershipEventRef = builder
  .objectRef<MembershipEventRecord & { bookId: string }>('MembershipEvent')
  .implement({
    description:
      'One change of state of a membership: who recorded it, when, and the entry it posted if any.',
    fields: (t) => ({
      fromState: t.field({
        type: MembershipStateEnum,
        nullable: true,
        description: 'null for the first event (joining as APPLICANT).',
        resolve: (e) => e.fromState,
      }),
      toState: t.field({ type: MembershipStateEnum, resolve: (e) => e.toState }),
      effectiveOn: t.field({
        type: 'Date',
        description: 'The day the change took effect.',
        resolve: (e) => e.effectiveOn,
      }),
      recordedAt: t.field({
        type: 'DateTime',
        description: 'When it was recorded.',
        resolve: (e) => e.recordedAt,
      }),
      recordedBy: t.string({
        nullable: true,
        description: 'The principal id that recorded it.',
        resolve: (e) => e.recordedBy,
      }),
      note: t.exposeString('note'),
      entry: t.field({
        type: JournalEntryRef,
        nullable: true,
        description:
          'The entry posted with the change (the subscription on joining, the redemption on leaving); null when none, ' +
          'or for a caller who may not read the book (a member sees the movements in their statement).',
        resolve: (e, _a, ctx) =>
          e.entryId && canReadBook(ctx.principal, e.bookId)
            ? loaders(ctx).entry.load(scopedId(e.bookId, e.entryId))
            : null,
      }),
    }),
  });

const InstalmentRef = builder.objectRef<Instalment & { scale: number }>('Instalment').implement({
  description: 'One instalment of the buy-in; payments settle instalments in order.',
  fields: (t) => ({
    number: t.exposeInt('number', { description: 'From 1.' }),
    dueOn: t.field({ type: 'Date', resolve: (i) => i.dueOn }),
    amount: t.field({ type: 'Decimal', resolve: (i) => formatAmount(i.amount, i.scale) }),
    paid: t.field({ type: 'Decimal', resolve: (i) => formatAmount(i.paid, i.scale) }),
    status: t.field({ type: InstalmentStatusEnum, resolve: (i) => i.status }),
  }),
});

/** A money field of a membership, from its balances. */
function money(description: string, pick: (b: MemberBalances, m: MembershipRecord) => Decimal) {
  return {
    description,
    resolve: async (m: MembershipRecord, _a: unknown, ctx: GraphQLContext) => {
      const [b, unit] = await Promise.all([guard(() => coopLoaders(ctx).balances.load(m)), unitOf(ctx, m)]);
      return formatAmount(pick(b, m), unit.scale);
    },
  };
}

builder.node(MembershipRef, {
  description:
    "A party's membership in a co-op: its class, state and history, and the money of its buy-in. Personal data: readable " +
    "only by the co-op's treasurers and by the member.",
  authScopes: (m) => ({ $any: { bookRead: m.bookId, partyRead: scopedId(m.bookId, m.partyId) } }),
  id: { resolve: (m) => scopedId(m.bookId, m.id) },
  loadMany: async (ids, ctx) => {
    const found = await loadNodes(coopLoaders(ctx).membership, ids);
    return Promise.all(found.map((m) => readableOrNull(m, (r) => canReadMembership(ctx, r))));
  },
  fields: (t) => ({
    memberNumber: t.exposeInt('memberNumber', {
      description: 'Unique in the co-op, from 1, in joining order.',
    }),
    coop: t.field({
      type: CoopRef,
      nullable: true,
      description: "The co-op; null for a member (the Coop object is its treasurers'): use coopProfile.",
      resolve: (m, _a, ctx) =>
        canReadBook(ctx.principal, m.bookId) ? coopLoaders(ctx).coop.load(m.bookId) : null,
    }),
    coopProfile: t.field({
      type: DirectoryEntryRef,
      description:
        "The co-op's public fields (name, kind, city, ...), for everyone who may read the membership.",
      resolve: async (m, _a, ctx) => (await guard(() => coopLoaders(ctx).coop.load(m.bookId)))!,
    }),
    party: t.field({
      type: PartyRef,
      resolve: async (m, _a, ctx) =>
        (await guard(() => coopLoaders(ctx).party.load(scopedId(m.bookId, m.partyId))))!,
    }),
    memberClass: t.field({ type: MemberClassRef, resolve: (m, _a, ctx) => guard(() => classOf(ctx, m)) }),
    state: t.field({ type: MembershipStateEnum, resolve: (m) => m.state }),
    stateSince: t.field({
      type: 'Date',
      description: 'The day the current state took effect.',
      resolve: (m) => m.stateSince,
    }),
    appliedOn: t.field({
      type: 'Date',
      description: 'The day the party joined (as APPLICANT).',
      resolve: (m) => m.appliedOn,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (m) => m.createdAt }),
    unit: t.field({
      type: UnitRef,
      description: "The co-op's base currency.",
      resolve: (m, _a, ctx) => unitOf(ctx, m),
    }),
    subscribed: t.field({
      type: 'Decimal',
      description: "The buy-in subscribed on joining (the class's buy-in then).",
      resolve: async (m, _a, ctx) => formatAmount(m.subscribed, (await unitOf(ctx, m)).scale),
    }),
    paidIn: t.field({ type: 'Decimal', ...money('Paid towards the subscription so far.', (b) => b.paidIn) }),
    outstanding: t.field({
      type: 'Decimal',
      ...money(
        'Subscription still owed (zero once paid, or cancelled on leaving).',
        (b) => b.subscriptionOutstanding,
      ),
    }),
    shareCapital: t.field({
      type: 'Decimal',
      ...money('Paid-up share capital held now.', (b) => b.shareCapital),
    }),
    internalCapital: t.field({
      type: 'Decimal',
      ...money("Balance of the member's internal capital account.", (b) => b.internalCapital),
    }),
    redemptionPayable: t.field({
      type: 'Decimal',
      ...money(
        'Capital held for the former member under the HOLD rule, not yet repaid.',
        (b) => b.redemptionPayable,
      ),
    }),
    accounts: t.field({ type: MemberAccountsRef, resolve: (m) => m }),
    history: t.field({
      type: [MembershipEventRef],
      description: 'Every change of state, oldest first (the first is joining as APPLICANT).',
      resolve: async (m, _a, ctx) =>
        (await guard(() => ctx.services.coops.events(m.bookId, m.id))).map((e) => ({
          ...e,
          bookId: m.bookId,
        })),
    }),
    schedule: t.field({
      type: [InstalmentRef],
      description: 'The buy-in instalment plan and how far it is paid (empty for a zero buy-in).',
      resolve: async (m, _a, ctx) => {
        const [cls, b] = await Promise.all([
          guard(() => classOf(ctx, m)),
          guard(() => coopLoaders(ctx).balances.load(m)),
        ]);
        return ctx.services.coops.scheduleOf(m, cls, b).map((i) => ({ ...i, scale: cls.unit.scale }));
      },
    }),
    statement: t.field({
      type: MemberStatementRef,
      description: "The member's accounts from `from` to `to` (inclusive dates).",
      args: { from: t.arg({ type: 'Date', required: true }), to: t.arg({ type: 'Date', required: true }) },
      resolve: (m, args, ctx) => statementOf(ctx, m, args.from, args.to),
    }),
  }),
});
