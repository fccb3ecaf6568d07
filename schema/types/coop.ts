/**
 * Cooperatives and their members (issue 5): Coop, MemberClass, Party, Membership and what hangs
 * from them, the public directory, and the read queries. A co-op is its book (same raw id), so a
 * TREASURER grant on the book is a treasurer grant on the co-op.
 *
 * Who reads what (schema/coop-access.ts):
 * - Coop (its private fields, chart, members, parties, voting roll): readers of the book only.
 * - Party and Membership (personal data): readers of the book, and the person, i.e. a token whose
 *   MEMBER grants name accounts of one of that party's memberships. A member's Membership.coop is
 *   null (the Coop object is the treasurers'); Membership.coopProfile gives the public profile.
 * - MemberClass: readers of the book and members of the co-op.
 * - DirectoryEntry: anyone, for listed co-ops; only public fields.
 * Each type checks itself (authScopes), and loaders of node(id:) drop what the caller may not
 * read, so another member's id answers null like an unknown one.
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import type {
  CoopRecord,
  MemberBalances,
  MemberClassRecord,
  MemberStatement,
  MembershipEventRecord,
  MembershipRecord,
  PartyRecord,
  StatementAccount,
} from '../../server/coops/index.js';
import { directoryProfilePath, murmurationsProfile } from '../../server/coops/index.js';
import {
  COOP_ACCOUNT_PURPOSES,
  COOP_KINDS,
  type CoopAccountPurpose,
  canReadAccount,
  canReadBook,
  type Decimal,
  formatAmount,
  type Instalment,
  isAdmin,
  LedgerError,
  MEMBER_ACCOUNT_ROLES,
  MEMBERSHIP_STATES,
  type MemberAccountRole,
  PARTY_KINDS,
  REDEMPTION_RULES,
  readableBooks,
  type Unit,
} from '../../server/core/index.js';
import type { EntryRecord } from '../../server/ledger/index.js';
import { builder } from '../builder.js';
import {
  connectionType,
  decodeCursor,
  emptyConnection,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  pageSize,
  toConnection,
} from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { canReadParty, memberGrantKeys } from '../coop-access.js';
import { coopLoaders } from '../coop-loaders.js';
import { badInput, guard } from '../errors.js';
import { decodeCoopId, decodeScopedId, scopedId } from '../ids.js';
import { loaders, loadNodes } from '../loaders.js';
import { AccountRef, BookRef, JournalEntryRef, SideEnum, UnitRef } from '../refs.js';

const PAGE_DOC = `Page size, 1 to ${PAGE_SIZE_MAX}; default ${PAGE_SIZE_DEFAULT}.`;

export const CoopRef = builder.objectRef<CoopRecord>('Coop');
export const MemberClassRef = builder.objectRef<MemberClassRecord>('MemberClass');
export const PartyRef = builder.objectRef<PartyRecord>('Party');
export const MembershipRef = builder.objectRef<MembershipRecord>('Membership');
/** The public face of a co-op: only fields it publishes in the directory. */
export const DirectoryEntryRef = builder.objectRef<CoopRecord>('DirectoryEntry');

// ---------- enums ----------

export const CoopKindEnum = builder.enumType('CoopKind', {
  description: 'What kind of co-op it is, by who its members are.',
  values: COOP_KINDS,
});
export const RedemptionRuleEnum = builder.enumType('RedemptionRule', {
  description:
    "What happens to a leaving member's capital: REPAY_NOW pays it out in the leaving entry (cash or bank); " +
    'HOLD keeps it as a redemption payable to the former member, repaid later with repayRedemption.',
  values: REDEMPTION_RULES,
});
export const PartyKindEnum = builder.enumType('PartyKind', {
  description: 'A person, or an organisation (e.g. a co-op that is a member of a federation).',
  values: PARTY_KINDS,
});
export const MembershipStateEnum = builder.enumType('MembershipState', {
  description:
    'APPLICANT -> CANDIDATE (probation) -> ACTIVE; any of these -> WITHDRAWN (the member left) or TERMINATED ' +
    '(the co-op ended it). APPLICANT may go straight to ACTIVE. WITHDRAWN and TERMINATED are final.',
  values: MEMBERSHIP_STATES,
});
export const CoopAccountPurposeEnum = builder.enumType('CoopAccountPurpose', {
  description: "What each account of a co-op's default chart is for.",
  values: COOP_ACCOUNT_PURPOSES,
});
export const MemberAccountRoleEnum = builder.enumType('MemberAccountRole', {
  description:
    "A member's own accounts in the co-op's book: SHARE_CAPITAL (paid-up shares), SUBSCRIPTION_RECEIVABLE (buy-in " +
    'still owed), SUBSCRIBED_UNPAID (its equity counterpart), INTERNAL_CAPITAL (retained patronage), ' +
    'REDEMPTION_PAYABLE (capital held for a former member).',
  values: MEMBER_ACCOUNT_ROLES,
});
export const InstalmentStatusEnum = builder.enumType('InstalmentStatus', {
  description:
    'PAID; PARTLY_PAID; DUE (today); OVERDUE (due before today, unpaid); UPCOMING; CANCELLED (the membership ended unpaid).',
  values: ['PAID', 'PARTLY_PAID', 'DUE', 'OVERDUE', 'UPCOMING', 'CANCELLED'] as const,
});
export const PaymentMethodEnum = builder.enumType('PaymentMethod', {
  description: "Which of the co-op's money accounts moves: CASH (1000) or BANK (1010).",
  values: ['CASH', 'BANK'] as const,
});

// ---------- helpers ----------

/** Whether the caller may read this membership: a reader of the book, or the person it belongs to. */
export function canReadMembership(ctx: GraphQLContext, m: MembershipRecord): Promise<boolean> {
  return canReadParty(ctx, m.bookId, m.partyId);
}

async function readableOrNull<T>(record: T | null, check: (r: T) => Promise<boolean>): Promise<T | null> {
  return record !== null && (await check(record)) ? record : null;
}

export async function loadMembership(ctx: GraphQLContext, bookId: string, id: string) {
  const m = await guard(() => coopLoaders(ctx).membership.load(scopedId(bookId, id)));
  return readableOrNull(m, (r) => canReadMembership(ctx, r));
}

export async function loadParty(ctx: GraphQLContext, bookId: string, id: string) {
  const p = await guard(() => coopLoaders(ctx).party.load(scopedId(bookId, id)));
  return readableOrNull(p, (r) => canReadParty(ctx, r.bookId, r.id));
}

async function classOf(ctx: GraphQLContext, m: MembershipRecord): Promise<MemberClassRecord> {
  return (await coopLoaders(ctx).memberClass.load(scopedId(m.bookId, m.classId)))!;
}

async function unitOf(ctx: GraphQLContext, m: MembershipRecord): Promise<Unit> {
  return (await classOf(ctx, m)).unit;
}

/** A membership's account as an Account object, when the caller may read that account; else null. */
function memberAccount(ctx: GraphQLContext, m: MembershipRecord, role: MemberAccountRole) {
  const id = m.accounts[role];
  return canReadAccount(ctx.principal, m.bookId, id)
    ? loaders(ctx).account.load(scopedId(m.bookId, id))
    : null;
}

/** Raises a domain error of a query (queries have no userErrors) as a top-level error with its code. */
function queryError(error: LedgerError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code, field: error.field } });
}

// ---------- Coop ----------

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

interface VotingRollRecord {
  coopId: string;
  on: string;
  entries: { membership: MembershipRecord; party: PartyRecord }[];
}

const VotingRollEntryRef = builder
  .objectRef<{ membership: MembershipRecord; party: PartyRecord }>('VotingRollEntry')
  .implement({
    description: 'One member entitled to vote: one member, one vote, whatever shares they hold.',
    fields: (t) => ({
      memberNumber: t.int({ resolve: (e) => e.membership.memberNumber }),
      membership: t.field({ type: MembershipRef, resolve: (e) => e.membership }),
      party: t.field({ type: PartyRef, resolve: (e) => e.party }),
      memberClass: t.field({ type: MemberClassRef, resolve: (e, _a, ctx) => classOf(ctx, e.membership) }),
    }),
  });

export const VotingRollRef = builder.objectRef<VotingRollRecord>('VotingRoll').implement({
  description:
    'Members entitled to vote on a date: ACTIVE at the end of that day in a class that votes. A person or ' +
    'organisation appears once (one member, one vote). Ordered by member number.',
  authScopes: (r) => ({ bookRead: r.coopId }),
  fields: (t) => ({
    coop: t.field({
      type: CoopRef,
      resolve: async (r, _a, ctx) => (await coopLoaders(ctx).coop.load(r.coopId))!,
    }),
    on: t.field({ type: 'Date', resolve: (r) => r.on }),
    votes: t.int({
      description: 'How many votes there are: the number of entries.',
      resolve: (r) => r.entries.length,
    }),
    entries: t.field({ type: [VotingRollEntryRef], resolve: (r) => r.entries }),
  }),
});

export async function votingRollOf(
  ctx: GraphQLContext,
  coopId: string,
  on: string,
): Promise<VotingRollRecord> {
  const entries = await guard(() => ctx.services.coops.votingRoll(coopId, on));
  return { coopId, on, entries };
}

const MembershipConnection = connectionType('Membership', MembershipRef);
const PartyConnection = connectionType('Party', PartyRef);
export const CoopConnection = connectionType('Coop', CoopRef);
export const DirectoryEntryConnection = connectionType('DirectoryEntry', DirectoryEntryRef);

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
    memberships: t.field({
      type: MembershipConnection,
      description: 'Memberships by member number, optionally only those in one state.',
      args: {
        first: t.arg.int({ description: PAGE_DOC }),
        after: t.arg.string(),
        state: t.arg({ type: MembershipStateEnum }),
      },
      resolve: async (c, args, ctx) => {
        const limit = pageSize(args.first);
        const after = decodeCursor(args.after, 1);
        if (after && !/^\d{1,9}$/.test(after[0]!))
          throw badInput('`after` is not a cursor returned by this connection');
        if (!canReadBook(ctx.principal, c.id)) return emptyConnection();
        const rows = await guard(() =>
          ctx.services.coops.listMemberships(c.id, {
            afterNumber: after ? Number(after[0]) : null,
            limit: limit + 1,
            state: args.state ?? null,
          }),
        );
        for (const m of rows) coopLoaders(ctx).membership.prime(scopedId(m.bookId, m.id), m);
        return toConnection(rows, limit, (m) => [String(m.memberNumber)]);
      },
    }),
    parties: t.field({
      type: PartyConnection,
      description: 'People and organisations registered with the co-op, in registration order.',
      args: { first: t.arg.int({ description: PAGE_DOC }), after: t.arg.string() },
      resolve: async (c, args, ctx) => {
        const limit = pageSize(args.first);
        const after = decodeCursor(args.after, 1);
        if (!canReadBook(ctx.principal, c.id)) return emptyConnection();
        const rows = await guard(() => ctx.services.coops.listParties(c.id, after?.[0] ?? null, limit + 1));
        return toConnection(rows, limit, (p) => [p.id]);
      },
    }),
    votingRoll: t.field({
      type: VotingRollRef,
      description: 'Members entitled to vote on a date (one member, one vote).',
      args: { on: t.arg({ type: 'Date', required: true }) },
      resolve: (c, args, ctx) => votingRollOf(ctx, c.id, args.on),
    }),
  }),
});

// ---------- the public directory ----------

DirectoryEntryRef.implement({
  description:
    "A co-op's public profile in the directory: only the fields it publishes, never members, money or consent.",
  fields: (t) => ({
    id: t.id({
      description: "The Coop's global id (coop(id:) answers it only to the co-op's treasurers).",
      resolve: (c) => encodeGlobalID('Coop', c.id),
    }),
    name: t.exposeString('name'),
    kind: t.field({ type: CoopKindEnum, resolve: (c) => c.kind }),
    naicsCode: t.exposeString('naicsCode'),
    city: t.exposeString('city'),
    neighbourhood: t.exposeString('neighbourhood'),
    latitude: t.string({ nullable: true, resolve: (c) => c.latitude }),
    longitude: t.string({ nullable: true, resolve: (c) => c.longitude }),
    foundedOn: t.field({ type: 'Date', resolve: (c) => c.foundedOn }),
    legalForm: t.exposeString('legalForm'),
    description: t.exposeString('description'),
    website: t.exposeString('website'),
    profilePath: t.string({
      description:
        "Path of the co-op's Murmurations profile on this server, e.g. /directory/coops/<uuid>.json (served while the co-op is listed).",
      resolve: (c) => directoryProfilePath(c.id),
    }),
    murmurationsProfile: t.string({
      description:
        'The Murmurations profile (schema solidarity_economy_initiatives-v0.2.0) as JSON text. With `publicBaseUrl` ' +
        '(where this server is reachable, e.g. https://ledger.example), a co-op without a website gets its profile URL as primary_url.',
      args: { publicBaseUrl: t.arg.string() },
      resolve: (c, args) => {
        const base = args.publicBaseUrl ?? null;
        if (base !== null && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(base)) {
          throw badInput('publicBaseUrl must be an http(s) URL');
        }
        const profileUrl = base === null ? null : `${base.replace(/\/+$/, '')}${directoryProfilePath(c.id)}`;
        return JSON.stringify(murmurationsProfile(c, { profileUrl }));
      },
    }),
  }),
});

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

interface StatementView {
  membership: MembershipRecord;
  unit: Unit;
  statement: MemberStatement;
}

const StatementAccountRef = builder
  .objectRef<StatementAccount & { membership: MembershipRecord; unit: Unit }>('MemberStatementAccount')
  .implement({
    description: 'One of the member’s accounts over the period, balances in its normal direction.',
    fields: (t) => ({
      role: t.field({ type: MemberAccountRoleEnum, resolve: (a) => a.role }),
      account: t.field({
        type: AccountRef,
        nullable: true,
        description: 'The account; null for a caller who may not read it.',
        resolve: (a, _x, ctx) => memberAccount(ctx, a.membership, a.role),
      }),
      opening: t.field({
        type: 'Decimal',
        description: 'Posted balance at the start of `from` (00:00 UTC).',
        resolve: (a) => formatAmount(a.opening, a.unit.scale),
      }),
      closing: t.field({
        type: 'Decimal',
        description: 'Posted balance at the end of `to` (24:00 UTC).',
        resolve: (a) => formatAmount(a.closing, a.unit.scale),
      }),
    }),
  });

const MemberAccountChangeRef = builder
  .objectRef<{ role: MemberAccountRole; side: 'DEBIT' | 'CREDIT'; amount: string }>('MemberAccountChange')
  .implement({
    description: 'A line of an entry on one of the member’s own accounts.',
    fields: (t) => ({
      role: t.field({ type: MemberAccountRoleEnum, resolve: (c) => c.role }),
      side: t.field({ type: SideEnum, resolve: (c) => c.side }),
      amount: t.field({ type: 'Decimal', resolve: (c) => c.amount }),
    }),
  });

const MemberMovementRef = builder
  .objectRef<{ entry: EntryRecord; membership: MembershipRecord }>('MemberMovement')
  .implement({
    description:
      "An entry as the member sees it: when, what, and its lines on the member's own accounts only (the other side " +
      "of the entry, e.g. the co-op's bank account, is the treasurers').",
    fields: (t) => ({
      effectiveAt: t.field({ type: 'DateTime', resolve: (v) => v.entry.effectiveAt }),
      recordedAt: t.field({ type: 'DateTime', resolve: (v) => v.entry.recordedAt }),
      memo: t.string({ resolve: (v) => v.entry.memo }),
      event: t.string({
        nullable: true,
        description:
          'What kind of membership event posted it (SUBSCRIPTION, INSTALMENT, REDEMPTION, ...), when known.',
        resolve: (v) => v.entry.metadata['coop.event'] ?? null,
      }),
      changes: t.field({
        type: [MemberAccountChangeRef],
        resolve: (v) => {
          const roleOf = new Map(MEMBER_ACCOUNT_ROLES.map((r) => [v.membership.accounts[r], r]));
          return v.entry.lines
            .filter((l) => roleOf.has(l.accountId))
            .map((l) => ({
              role: roleOf.get(l.accountId)!,
              side: l.side,
              amount: formatAmount(l.amount, l.scale),
            }));
        },
      }),
    }),
  });

export const MemberStatementRef = builder.objectRef<StatementView>('MemberStatement').implement({
  description:
    "A member's accounts over a period (dates inclusive): opening and closing balances and the entries between.",
  authScopes: (s) => ({
    $any: {
      bookRead: s.membership.bookId,
      partyRead: scopedId(s.membership.bookId, s.membership.partyId),
    },
  }),
  fields: (t) => ({
    membership: t.field({ type: MembershipRef, resolve: (s) => s.membership }),
    from: t.field({ type: 'Date', resolve: (s) => s.statement.from }),
    to: t.field({ type: 'Date', resolve: (s) => s.statement.to }),
    unit: t.field({ type: UnitRef, resolve: (s) => s.unit }),
    accounts: t.field({
      type: [StatementAccountRef],
      resolve: (s) => s.statement.accounts.map((a) => ({ ...a, membership: s.membership, unit: s.unit })),
    }),
    capitalOpening: t.field({
      type: 'Decimal',
      description: "The member's capital at the start: paid-up share capital plus internal capital.",
      resolve: (s) => formatAmount(s.statement.capitalOpening, s.unit.scale),
    }),
    capitalClosing: t.field({
      type: 'Decimal',
      description: "The member's capital at the end.",
      resolve: (s) => formatAmount(s.statement.capitalClosing, s.unit.scale),
    }),
    movements: t.field({
      type: [MemberMovementRef],
      description:
        "Entries of the period touching the member's accounts, oldest first, showing only those accounts' lines.",
      resolve: (s) => s.statement.entries.map((entry) => ({ entry, membership: s.membership })),
    }),
    entries: t.field({
      type: [JournalEntryRef],
      nullable: true,
      description:
        "The same entries in full (every line); null for a caller who may not read the co-op's book (use movements).",
      resolve: (s, _a, ctx) => (canReadBook(ctx.principal, s.membership.bookId) ? s.statement.entries : null),
    }),
    truncated: t.boolean({
      description: 'True when the period holds more entries than are listed (at most 1000).',
      resolve: (s) => s.statement.truncated,
    }),
  }),
});

export async function statementOf(
  ctx: GraphQLContext,
  m: MembershipRecord,
  from: string,
  to: string,
): Promise<StatementView> {
  const [statement, unit] = await Promise.all([
    guard(() => ctx.services.coops.statement(m, from, to)),
    unitOf(ctx, m),
  ]);
  if (statement instanceof LedgerError) throw queryError(statement);
  for (const e of statement.entries) loaders(ctx).entry.prime(scopedId(e.bookId, e.id), e);
  return { membership: m, unit, statement };
}

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

// ---------- queries ----------

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
  coops: t.field({
    type: CoopConnection,
    description: 'Co-ops the caller may read (all of them for an admin), in creation order.',
    authScopes: { authenticated: true },
    args: { first: t.arg.int({ description: PAGE_DOC }), after: t.arg.string() },
    resolve: async (_r, args, ctx) => {
      const limit = pageSize(args.first);
      const after = decodeCursor(args.after, 1);
      const only = isAdmin(ctx.principal) ? null : (readableBooks(ctx.principal) ?? []);
      if (only !== null && only.length === 0) return emptyConnection();
      const rows = await guard(() => ctx.services.coops.listCoops(after?.[0] ?? null, limit + 1, only));
      for (const c of rows) coopLoaders(ctx).coop.prime(c.id, c);
      return toConnection(rows, limit, (c) => [c.id]);
    },
  }),
  coopDirectory: t.field({
    type: DirectoryEntryConnection,
    description:
      'The public directory: co-ops that chose to be listed, by name. Open to anyone, without a token. ' +
      '`city` matches case-insensitively.',
    authScopes: { public: true },
    args: {
      first: t.arg.int({ description: PAGE_DOC }),
      after: t.arg.string(),
      city: t.arg.string(),
      kind: t.arg({ type: CoopKindEnum }),
    },
    resolve: async (_r, args, ctx) => {
      const limit = pageSize(args.first);
      const after = decodeCursor(args.after, 2);
      if (args.city != null && args.city.length > 100) throw badInput('city must be at most 100 characters');
      if (after && !/^[0-9a-f-]{36}$/.test(after[1]!))
        throw badInput('`after` is not a cursor returned by this connection');
      const rows = await guard(() =>
        ctx.services.coops.listDirectory(after ? { name: after[0]!, id: after[1]! } : null, limit + 1, {
          city: args.city ?? null,
          kind: args.kind ?? null,
        }),
      );
      return toConnection(rows, limit, (c) => [c.name, c.id]);
    },
  }),
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
