/**
 * Root queries of mutual credit and the network's fields. A caller gets null (or an empty page)
 * for a network it may not read, never an error that reveals another tenant's ids.
 */
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { isAdmin, LedgerError } from '../../server/core/index.js';
import type { ClearingFigures, NetworkRecord } from '../../server/credit/index.js';
import { builder } from '../builder.js';
import { emptyConnection, resolvePage, validatePageArgs } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { badInput, guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { parseScopedId } from '../ids.js';
import { UnitRef } from '../refs.js';
import {
  ClearingConnection,
  ClearingModeEnum,
  ClearingRef,
  isStewardOf,
  LimitChangeConnection,
  LimitChangeRef,
  type Member,
  MemberConnection,
  MemberRef,
  mayReadMember,
  mayReadNetwork,
  NetworkConnection,
  NetworkRef,
  ObligationConnection,
  ObligationRef,
  ownMembers,
  PegRef,
  PolicyRef,
  PreviewRef,
  ProofRef,
  RequestConnection,
  RequestRef,
  StatisticsRef,
} from './types.js';

/** A network's book id from its CreditNetwork id (or its Book id); '' when it is neither. */
export function decodeNetworkId(globalId: string | number): string {
  try {
    const decoded = decodeGlobalID(String(globalId));
    return decoded.typename === 'CreditNetwork' || decoded.typename === 'Book' ? decoded.id : '';
  } catch {
    return '';
  }
}

/** A book-scoped id of this type (`<type>:<book>:<id>`), or null. */
export function decodeCreditId(
  globalId: string | number,
  typename: string,
): { bookId: string; id: string } | null {
  try {
    const decoded = decodeGlobalID(String(globalId));
    return decoded.typename === typename ? parseScopedId(decoded.id) : null;
  } catch {
    return null;
  }
}

/** Members as the caller may see them (balances and limits only of its own, unless a steward). */
export async function visibleMembers(
  ctx: GraphQLContext,
  rows: Awaited<ReturnType<GraphQLContext['services']['credit']['getMembers']>>,
  scale: number,
): Promise<Member[]> {
  const own = await ownMembers(ctx);
  return rows.map((m) => ({
    ...m,
    scale,
    visible: isStewardOf(ctx, m.bookId) || own.has(`${m.bookId}/${m.id}`),
  }));
}

/** The caller's own member of this network, as a member filter (null: a steward sees all). */
async function memberScope(
  ctx: GraphQLContext,
  bookId: string,
  memberId: string | null,
): Promise<string | null | false> {
  if (isStewardOf(ctx, bookId)) return memberId;
  const own = [...(await ownMembers(ctx))]
    .filter((k) => k.startsWith(`${bookId}/`))
    .map((k) => k.split('/')[1]!);
  if (memberId !== null) return own.includes(memberId) ? memberId : false;
  return own.length === 1 ? own[0]! : false;
}

/**
 * A network through `node(id:)`: the same reading rule as `creditNetwork(id:)` (its stewards, the
 * treasurers of its member co-ops, an admin); what the caller may not read, or no network, is null.
 */
async function loadNetworkNodes(ids: readonly string[], ctx: GraphQLContext) {
  const readable = new Set<string>();
  for (const id of ids) if (UUID.test(id) && (await mayReadNetwork(ctx, id))) readable.add(id);
  if (readable.size === 0) return ids.map(() => null);
  const found = new Map(
    (await guard(() => ctx.services.credit.getNetworks([...readable]))).map((n) => [n.id, n]),
  );
  return ids.map((id) => found.get(id) ?? null);
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

builder.node(NetworkRef, {
  description:
    'A mutual-credit network: one book in its own unit. Read by its stewards and by the treasurers of its member co-ops.',
  // Checked on the object itself, like every Node type, so each path to a network is checked again.
  authScopes: async (n, ctx) => mayReadNetwork(ctx, n.id),
  // The CreditNetwork id (`CreditNetwork:<book uuid>`); its Book id names the same book.
  id: { resolve: (n) => n.id },
  loadMany: (ids, ctx) => loadNetworkNodes(ids, ctx),
  fields: (t) => ({
    bookId: t.id({
      description: "The network's Book id (its ledger, for stewards).",
      resolve: (n) => encodeGlobalID('Book', n.id),
    }),
    name: t.exposeString('name'),
    unit: t.field({ type: UnitRef, resolve: (n) => n.unit }),
    peg: t.field({ type: PegRef, nullable: true, resolve: (n) => n.peg }),
    currencies: t.field({
      type: [UnitRef],
      description: 'Currencies obligations may be recorded in.',
      resolve: (n) => n.currencies,
    }),
    memberCount: t.exposeInt('memberCount'),
    createdAt: t.field({ type: 'DateTime', resolve: (n) => n.createdAt }),
    policy: t.field({
      type: PolicyRef,
      resolve: async (n, _a, ctx) => ({
        ...(await guard(() => ctx.services.credit.policy(n.id)))!,
        scale: n.unit.scale,
      }),
    }),
    policyHistory: t.field({
      type: [PolicyRef],
      description: 'Every version, oldest first.',
      resolve: async (n, _a, ctx) =>
        (await guard(() => ctx.services.credit.policyHistory(n.id))).map((p) => ({
          ...p,
          scale: n.unit.scale,
        })),
    }),
    myMembers: t.field({
      type: [MemberRef],
      description: 'The members the caller acts for (as treasurer of their co-ops).',
      resolve: async (n, _a, ctx) => {
        const own = [...(await ownMembers(ctx))]
          .filter((k) => k.startsWith(`${n.id}/`))
          .map((k) => k.split('/')[1]!);
        const rows = await guard(() =>
          ctx.services.credit.getMembers(own.map((id) => ({ bookId: n.id, id }))),
        );
        return visibleMembers(ctx, rows, n.unit.scale);
      },
    }),
    member: t.field({
      type: MemberRef,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (n, args, ctx) => {
        const key = decodeCreditId(args.id, 'NetworkMember');
        if (!key || key.bookId !== n.id) return null;
        const rows = await guard(() => ctx.services.credit.getMembers([key]));
        return (await visibleMembers(ctx, rows, n.unit.scale))[0] ?? null;
      },
    }),
    members: t.connection(
      {
        type: MemberRef,
        description:
          'Every member by number. Treasurers of member co-ops see names and numbers of all (to pay them) and balances of their own.',
        resolve: (n, args, ctx) =>
          resolvePage(args, {
            arity: 1,
            key: ([num]) => (/^\d+$/.test(num!) ? Number(num) : null),
            cursorOf: (m: Member) => [String(m.number)],
            read: async (q) =>
              visibleMembers(ctx, await guard(() => ctx.services.credit.memberPage(n.id, q)), n.unit.scale),
            count: () => guard(() => ctx.services.credit.memberCount(n.id)),
          }),
      },
      MemberConnection,
    ),
    limitChanges: t.connection(
      {
        type: LimitChangeRef,
        description: 'Every limit change of the network, oldest first (stewards; empty for others).',
        resolve: (n, args, ctx) => {
          if (!isStewardOf(ctx, n.id)) {
            validatePageArgs(args, 1);
            return emptyConnection();
          }
          return resolvePage(args, {
            arity: 1,
            key: ([id]) => id!,
            cursorOf: (c: { id: string }) => [c.id],
            read: async (q) =>
              (await guard(() => ctx.services.credit.limitChangePage(n.id, null, q))).map((c) => ({
                ...c,
                scale: n.unit.scale,
              })),
            count: () => guard(() => ctx.services.credit.limitChangeCount(n.id, null)),
          });
        },
      },
      LimitChangeConnection,
    ),
    paymentRequests: t.connection(
      {
        type: RequestRef,
        description:
          "Requests newest first: all for stewards; for a treasurer those its member pays or is paid (optionally one member's).",
        args: { memberId: t.arg.id() },
        resolve: async (n, args, ctx) => {
          const wanted = args.memberId ? (decodeCreditId(args.memberId, 'NetworkMember')?.id ?? '') : null;
          const scope = await memberScope(ctx, n.id, wanted);
          if (scope === false) {
            validatePageArgs(args, 1);
            return emptyConnection();
          }
          return resolvePage(args, {
            arity: 1,
            key: ([id]) => id!,
            cursorOf: (r: { id: string }) => [r.id],
            read: async (q) =>
              (await guard(() => ctx.services.credit.requestPage(n.id, scope, q))).map((r) => ({
                ...r,
                scale: n.unit.scale,
              })),
            count: () => guard(() => ctx.services.credit.requestCount(n.id, scope)),
          });
        },
      },
      RequestConnection,
    ),
    obligations: t.connection(
      {
        type: ObligationRef,
        description:
          'Obligations by id: all for stewards; for a treasurer those its member owes or is owed. `openOnly` keeps those with something outstanding.',
        args: { memberId: t.arg.id(), currency: t.arg.string(), openOnly: t.arg.boolean() },
        resolve: async (n, args, ctx) => {
          const wanted = args.memberId ? (decodeCreditId(args.memberId, 'NetworkMember')?.id ?? '') : null;
          const scope = await memberScope(ctx, n.id, wanted);
          if (scope === false) {
            validatePageArgs(args, 1);
            return emptyConnection();
          }
          const filter = {
            bookId: n.id,
            memberId: scope,
            currency: args.currency ?? null,
            openOnly: args.openOnly ?? false,
          };
          return resolvePage(args, {
            arity: 1,
            key: ([id]) => id!,
            cursorOf: (o: { id: string }) => [o.id],
            read: (q) => guard(() => ctx.services.credit.obligationPage(filter, q)),
            count: () => guard(() => ctx.services.credit.obligationCount(filter)),
          });
        },
      },
      ObligationConnection,
    ),
    clearings: t.connection(
      {
        type: ClearingRef,
        description: 'Committed clearings, newest first (stewards; empty for others).',
        resolve: (n, args, ctx) => {
          if (!isStewardOf(ctx, n.id)) {
            validatePageArgs(args, 1);
            return emptyConnection();
          }
          return resolvePage(args, {
            arity: 1,
            key: ([id]) => id!,
            cursorOf: (c: { id: string }) => [c.id],
            read: (q) => guard(() => ctx.services.credit.clearingPage(n.id, q)),
            count: () => guard(() => ctx.services.credit.clearingCount(n.id)),
          });
        },
      },
      ClearingConnection,
    ),
    balanceProof: t.field({
      type: ProofRef,
      description:
        "The zero-sum invariant as of an instant (default now): every balance of the network's unit, summed.",
      args: { asOf: t.arg({ type: 'DateTime' }) },
      resolve: async (n, args, ctx) =>
        (await guard(() => ctx.services.credit.balanceProof(n.id, args.asOf ?? new Date())))!,
    }),
    statistics: t.field({
      type: StatisticsRef,
      description: `Payments per month, velocity, balances by band, clearing savings (months YYYY-MM, at most 36).`,
      args: { from: t.arg.string({ required: true }), to: t.arg.string({ required: true }) },
      resolve: async (n, args, ctx) => {
        const month = /^\d{4}-(0[1-9]|1[0-2])$/;
        if (!month.test(args.from) || !month.test(args.to) || args.from > args.to)
          throw badInput('from and to are months YYYY-MM, from not after to');
        return (await guard(() => ctx.services.credit.statistics(n.id, args.from, args.to)))!;
      },
    }),
  }),
});

const PreviewPayload = builder
  .objectRef<{ preview: ClearingFigures | null; userErrors: LedgerError[] }>('PreviewClearingPayload')
  .implement({
    fields: (t) => ({
      preview: t.field({ type: PreviewRef, nullable: true, resolve: (p) => p.preview }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.queryFields((t) => ({
  creditNetworks: t.connection(
    {
      type: NetworkRef,
      description:
        'Networks the caller may read: all for admins, those it stewards, those its co-ops are members of.',
      authScopes: { authenticated: true },
      resolve: async (_r, args, ctx) => {
        const p = ctx.principal;
        const onlyIds = isAdmin(p)
          ? null
          : (p?.grants ?? []).filter((g) => g.role === 'NETWORK_STEWARD').map((g) => g.scope);
        const coopIds = (p?.grants ?? []).filter((g) => g.role === 'TREASURER').map((g) => g.scope);
        const scope = { onlyIds, coopIds };
        return resolvePage(args, {
          arity: 1,
          key: ([id]) => id!,
          cursorOf: (n: NetworkRecord) => [n.id],
          read: (q) => guard(() => ctx.services.credit.networkPage(scope, q)),
          count: () => guard(() => ctx.services.credit.networkCount(scope)),
        });
      },
    },
    NetworkConnection,
  ),
  creditNetwork: t.field({
    type: NetworkRef,
    nullable: true,
    description: 'A network by its CreditNetwork (or Book) id; null when the caller may not read it.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const id = decodeNetworkId(args.id);
      if (!(await mayReadNetwork(ctx, id))) return null;
      return (await guard(() => ctx.services.credit.getNetworks([id])))[0] ?? null;
    },
  }),
  paymentRequest: t.field({
    type: RequestRef,
    nullable: true,
    description: "A payment request; for the network's stewards and the treasurers of its payer and payee.",
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const key = decodeCreditId(args.id, 'PaymentRequest');
      if (!key) return null;
      const [request] = await guard(() => ctx.services.credit.getRequests([key]));
      if (!request) return null;
      const ok =
        (await mayReadMember(ctx, key.bookId, request.payerId)) ||
        (await mayReadMember(ctx, key.bookId, request.payeeId));
      if (!ok) return null;
      const [network] = await guard(() => ctx.services.credit.getNetworks([key.bookId]));
      return { ...request, scale: network!.unit.scale };
    },
  }),
  previewClearing: t.field({
    type: PreviewPayload,
    description: "The largest clearing of a currency's open obligations (stewards); nothing is changed.",
    authScopes: { authenticated: true },
    args: {
      networkId: t.arg.id({ required: true }),
      currency: t.arg.string({ required: true }),
      mode: t.arg({ type: ClearingModeEnum, defaultValue: 'SETOFF' }),
    },
    resolve: async (_r, args, ctx) => {
      const result = await guard(() =>
        ctx.services.credit.previewClearing(
          { bookId: decodeNetworkId(args.networkId), currency: args.currency, mode: args.mode ?? 'SETOFF' },
          ctx.principal!,
        ),
      );
      return result instanceof LedgerError
        ? { preview: null, userErrors: userErrorsOf(result) }
        : { preview: result, userErrors: [] };
    },
  }),
}));
