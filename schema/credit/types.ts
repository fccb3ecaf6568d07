/**
 * Mutual credit's object types (issue 14). Amounts are Decimals at the network unit's scale (or,
 * for obligations and clearing, the currency's). Who reads what: a network's stewards (and admins)
 * everything; the treasurer of a member co-op the network's totals, the member list (names), and
 * of members only its own: balance, limit, history, requests, obligations. Other members' balances
 * and limits answer null to it; another tenant gets nothing (the network answers null).
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { canWriteBook, type Decimal } from '../../server/core/index.js';
import type { EntryRecord } from '../../server/credit/index.js';
import {
  asTransaction,
  type BalanceProof,
  type ClearingFigures,
  type ClearingLine,
  type ClearingRecord,
  type CreditPolicyRecord,
  type LimitChangeRecord,
  type MemberRecord,
  type NetworkRecord,
  type NetworkStatistics,
  type ObligationRecord,
  type PaymentRequestRecord,
} from '../../server/credit/index.js';
import { builder } from '../builder.js';
import { connectionType, resolvePage } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { guard } from '../errors.js';
import { scopedId } from '../ids.js';
import { EntryKindEnum, UnitRef } from '../refs.js';

export const networkGlobalId = (bookId: string) => encodeGlobalID('CreditNetwork', bookId);
export const memberGlobalId = (bookId: string, id: string) =>
  encodeGlobalID('NetworkMember', scopedId(bookId, id));
export const requestGlobalId = (bookId: string, id: string) =>
  encodeGlobalID('PaymentRequest', scopedId(bookId, id));
export const obligationGlobalId = (bookId: string, id: string) =>
  encodeGlobalID('Obligation', scopedId(bookId, id));
export const clearingGlobalId = (bookId: string, id: string) =>
  encodeGlobalID('Clearing', scopedId(bookId, id));

const own = new WeakMap<GraphQLContext, Promise<Set<string>>>();

/** `<book>/<member>` of the memberships the caller's TREASURER grants act for (one query per request). */
export function ownMembers(ctx: GraphQLContext): Promise<Set<string>> {
  let found = own.get(ctx);
  if (!found) {
    found = guard(() => ctx.services.credit.membersActedFor(ctx.principal)).then(
      (rows) => new Set(rows.map((m) => `${m.bookId}/${m.id}`)),
    );
    own.set(ctx, found);
  }
  return found;
}

export const isStewardOf = (ctx: GraphQLContext, bookId: string) => canWriteBook(ctx.principal, bookId);

export async function mayReadNetwork(ctx: GraphQLContext, bookId: string): Promise<boolean> {
  if (isStewardOf(ctx, bookId)) return true;
  return [...(await ownMembers(ctx))].some((k) => k.startsWith(`${bookId}/`));
}

export async function mayReadMember(ctx: GraphQLContext, bookId: string, memberId: string): Promise<boolean> {
  return isStewardOf(ctx, bookId) || (await ownMembers(ctx)).has(`${bookId}/${memberId}`);
}

const dec = (d: Decimal | null, scale: number) => (d === null ? null : d.toFixed(scale));

export const LimitModeEnum = builder.enumType('CreditLimitMode', {
  description: "POLICY: the limit follows the network's policy (and grows by it). MANUAL: set by a steward.",
  values: ['POLICY', 'MANUAL'] as const,
});
export const LimitSourceEnum = builder.enumType('CreditLimitSource', {
  description: 'JOIN: set on joining. STEWARD: set by a steward. POLICY: grown by the dynamic policy.',
  values: ['JOIN', 'STEWARD', 'POLICY'] as const,
});
export const RequestStatusEnum = builder.enumType('PaymentRequestStatus', {
  description:
    'OPEN: waiting for the payer. PAID: accepted and paid. HELD: accepted through a hold, waiting for the payee to complete it. ' +
    'COMPLETED / RELEASED: a hold paid / released. DECLINED by the payer, CANCELLED by the payee. EXPIRED: open (or held) past its expiry.',
  values: ['OPEN', 'PAID', 'HELD', 'COMPLETED', 'RELEASED', 'DECLINED', 'CANCELLED', 'EXPIRED'] as const,
});
export const ClearingModeEnum = builder.enumType('ClearingMode', {
  description:
    "SETOFF: obligations cancelled around cycles only; no member's net position changes. SETOFF_AND_LIQUIDITY: then members " +
    'pay part of what remains in the network unit within their limits (for a unit pegged 1:1 to the currency), shown apart.',
  values: ['SETOFF', 'SETOFF_AND_LIQUIDITY'] as const,
});

const PegRef = builder.objectRef<{ currency: string; rate: Decimal }>('CreditPeg').implement({
  description: 'What one unit is worth in a currency, for reporting (and the liquidity mode at a rate of 1).',
  fields: (t) => ({
    currency: t.exposeString('currency'),
    rate: t.field({ type: 'Decimal', resolve: (p) => p.rate.toFixed() }),
  }),
});

type Policy = CreditPolicyRecord & { scale: number };

const DynamicRef = builder
  .objectRef<{ salesPercent: Decimal; windowDays: number; cap: Decimal; scale: number }>('CreditDynamicLimit')
  .implement({
    fields: (t) => ({
      salesPercent: t.field({ type: 'Decimal', resolve: (d) => d.salesPercent.toFixed() }),
      windowDays: t.exposeInt('windowDays'),
      cap: t.field({ type: 'Decimal', resolve: (d) => d.cap.toFixed(d.scale) }),
    }),
  });

export const PolicyRef = builder.objectRef<Policy>('CreditPolicy').implement({
  description: "A version of a network's credit-limit policy, with who set it, when and why.",
  fields: (t) => ({
    version: t.exposeInt('version'),
    defaultLimit: t.field({
      type: 'Decimal',
      description: "A new member's limit.",
      resolve: (p) => p.policy.defaultLimit.toFixed(p.scale),
    }),
    defaultUpperBound: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (p) => dec(p.policy.defaultUpperBound, p.scale),
    }),
    softLimitPercent: t.int({
      description: 'A payment that leaves the payer below this percent of its limit succeeds with a warning.',
      resolve: (p) => p.policy.softLimitPercent,
    }),
    dynamic: t.field({
      type: DynamicRef,
      nullable: true,
      description: 'The limit grows to the default plus salesPercent of the sales in windowDays, up to cap.',
      resolve: (p) => (p.policy.dynamic ? { ...p.policy.dynamic, scale: p.scale } : null),
    }),
    reason: t.exposeString('reason'),
    createdAt: t.field({ type: 'DateTime', resolve: (p) => p.createdAt }),
    createdBy: t.exposeString('createdBy'),
  }),
});

export type Member = MemberRecord & { scale: number; visible: boolean };

export const MemberRef = builder.objectRef<Member>('NetworkMember');
export const MemberConnection = connectionType('NetworkMember', MemberRef);
export const TransactionRef = builder.objectRef<{
  entry: EntryRecord;
  amount: Decimal;
  counterpartyId: string | null;
  scale: number;
}>('CreditTransaction');
export const TransactionConnection = connectionType('CreditTransaction', TransactionRef);
export const LimitChangeRef = builder.objectRef<LimitChangeRecord & { scale: number }>('CreditLimitChange');
export const LimitChangeConnection = connectionType('CreditLimitChange', LimitChangeRef);

MemberRef.implement({
  description:
    "A member co-op of a network. Its balance, limit and history are for the network's stewards and the co-op's treasurers; " +
    'to other members they answer null (or an empty history).',
  fields: (t) => ({
    id: t.id({ resolve: (m) => memberGlobalId(m.bookId, m.id) }),
    number: t.exposeInt('number'),
    coopId: t.id({ description: "The co-op's Coop id.", resolve: (m) => encodeGlobalID('Coop', m.coopId) }),
    coopName: t.exposeString('coopName'),
    accountCode: t.exposeString('accountCode'),
    limit: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (m) => (m.visible ? m.limit.toFixed(m.scale) : null),
    }),
    upperBound: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (m) => (m.visible ? dec(m.upperBound, m.scale) : null),
    }),
    limitMode: t.field({
      type: LimitModeEnum,
      nullable: true,
      resolve: (m) => (m.visible ? m.limitMode : null),
    }),
    balance: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (m) => (m.visible ? m.balance.toFixed(m.scale) : null),
    }),
    available: t.field({
      type: 'Decimal',
      nullable: true,
      description: 'Balance less holds on it (what the limit is checked against).',
      resolve: (m) => (m.visible ? m.available.toFixed(m.scale) : null),
    }),
    joinedAt: t.field({ type: 'DateTime', resolve: (m) => m.joinedAt }),
    history: t.connection(
      {
        type: TransactionRef,
        description: "Entries on the member's account in (effectiveAt, seq) order; empty for other members.",
        resolve: async (m, args, ctx) => {
          const [row] = m.visible
            ? await guard(() => ctx.services.credit.memberRows([{ bookId: m.bookId, id: m.id }]))
            : [];
          const owners = row ? await guard(() => ctx.services.credit.accountOwners(m.bookId)) : new Map();
          return resolvePage(args, {
            arity: 2,
            key: ([ms, seq]) =>
              /^\d+$/.test(ms!) && /^\d+$/.test(seq!) ? { effectiveAtMs: ms!, seq: seq! } : null,
            cursorOf: (x: { entry: EntryRecord }) => [String(x.entry.effectiveAt.getTime()), x.entry.seq],
            read: async (q) =>
              row
                ? (await guard(() => ctx.services.credit.historyPage(row, q))).map((e) => ({
                    ...asTransaction(e, row, owners),
                    scale: m.scale,
                  }))
                : [],
            count: async () => (row ? guard(() => ctx.services.credit.historyCount(row)) : 0),
          });
        },
      },
      TransactionConnection,
    ),
    limitChanges: t.connection(
      {
        type: LimitChangeRef,
        description: "Every change of the member's limit, oldest first; empty for other members.",
        resolve: (m, args, ctx) =>
          resolvePage(args, {
            arity: 1,
            key: ([id]) => id!,
            cursorOf: (c: LimitChangeRecord) => [c.id],
            read: async (q) =>
              m.visible
                ? (await guard(() => ctx.services.credit.limitChangePage(m.bookId, m.id, q))).map((c) => ({
                    ...c,
                    scale: m.scale,
                  }))
                : [],
            count: async () =>
              m.visible ? guard(() => ctx.services.credit.limitChangeCount(m.bookId, m.id)) : 0,
          }),
      },
      LimitChangeConnection,
    ),
  }),
});

TransactionRef.implement({
  description: "An entry on a member's account, from the member's side.",
  fields: (t) => ({
    entryId: t.id({
      description: "The JournalEntry id (readable as such by the network's stewards).",
      resolve: (x) => encodeGlobalID('JournalEntry', scopedId(x.entry.bookId, x.entry.id)),
    }),
    kind: t.field({ type: EntryKindEnum, resolve: (x) => x.entry.kind }),
    creditKind: t.string({
      nullable: true,
      description: 'PAYMENT, HOLD, CLEARING or OBLIGATIONS (what the network posted it for).',
      resolve: (x) => x.entry.metadata['credit.kind'] ?? null,
    }),
    amount: t.field({
      type: 'Decimal',
      description: 'Received (positive) or paid (negative) by the member in this entry.',
      resolve: (x) => x.amount.toFixed(x.scale),
    }),
    counterpartyId: t.id({
      nullable: true,
      description: 'The other member of a payment; null for clearing entries.',
      resolve: (x) => (x.counterpartyId ? memberGlobalId(x.entry.bookId, x.counterpartyId) : null),
    }),
    memo: t.string({ resolve: (x) => x.entry.memo }),
    effectiveAt: t.field({ type: 'DateTime', resolve: (x) => x.entry.effectiveAt }),
    recordedAt: t.field({ type: 'DateTime', resolve: (x) => x.entry.recordedAt }),
  }),
});

LimitChangeRef.implement({
  description: "A change of a member's credit limit or upper bound: who, when and why.",
  fields: (t) => ({
    id: t.id({ resolve: (c) => encodeGlobalID('CreditLimitChange', scopedId(c.bookId, c.id)) }),
    memberId: t.id({ resolve: (c) => memberGlobalId(c.bookId, c.memberId) }),
    limitBefore: t.field({ type: 'Decimal', nullable: true, resolve: (c) => dec(c.limitBefore, c.scale) }),
    limitAfter: t.field({ type: 'Decimal', resolve: (c) => c.limitAfter.toFixed(c.scale) }),
    upperBoundBefore: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (c) => dec(c.upperBefore, c.scale),
    }),
    upperBoundAfter: t.field({ type: 'Decimal', nullable: true, resolve: (c) => dec(c.upperAfter, c.scale) }),
    source: t.field({ type: LimitSourceEnum, resolve: (c) => c.source }),
    reason: t.exposeString('reason'),
    changedAt: t.field({ type: 'DateTime', resolve: (c) => c.changedAt }),
    changedBy: t.exposeString('changedBy'),
  }),
});

export const RequestRef = builder
  .objectRef<PaymentRequestRecord & { scale: number }>('PaymentRequest')
  .implement({
    description: 'A payee asking a payer for a payment in the network unit.',
    fields: (t) => ({
      id: t.id({ resolve: (r) => requestGlobalId(r.bookId, r.id) }),
      payerId: t.id({ resolve: (r) => memberGlobalId(r.bookId, r.payerId) }),
      payeeId: t.id({ resolve: (r) => memberGlobalId(r.bookId, r.payeeId) }),
      amount: t.field({ type: 'Decimal', resolve: (r) => r.amount.toFixed(r.scale) }),
      memo: t.exposeString('memo'),
      status: t.field({ type: RequestStatusEnum, resolve: (r) => r.status }),
      expiresAt: t.field({ type: 'DateTime', resolve: (r) => r.expiresAt }),
      holdExpiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.holdExpiresAt }),
      createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
      decidedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.decidedAt }),
      decisionReason: t.string({ nullable: true, resolve: (r) => r.decisionReason }),
      resolvedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.resolvedAt }),
    }),
  });
export const RequestConnection = connectionType('PaymentRequest', RequestRef);

export const ObligationRef = builder.objectRef<ObligationRecord>('Obligation').implement({
  description: 'What one member owes another outside the network unit (an invoice in a currency).',
  fields: (t) => ({
    id: t.id({ resolve: (o) => obligationGlobalId(o.bookId, o.id) }),
    debtorId: t.id({ resolve: (o) => memberGlobalId(o.bookId, o.debtorId) }),
    creditorId: t.id({ resolve: (o) => memberGlobalId(o.bookId, o.creditorId) }),
    currency: t.field({ type: UnitRef, resolve: (o) => o.currency }),
    amount: t.field({ type: 'Decimal', resolve: (o) => o.amount.toFixed(o.currency.scale) }),
    outstanding: t.field({ type: 'Decimal', resolve: (o) => o.outstanding.toFixed(o.currency.scale) }),
    dueOn: t.field({ type: 'Date', resolve: (o) => o.dueOn }),
    reference: t.exposeString('reference'),
    recordedAt: t.field({ type: 'DateTime', resolve: (o) => o.recordedAt }),
    recordedBy: t.exposeString('recordedBy'),
  }),
});
export const ObligationConnection = connectionType('Obligation', ObligationRef);

type Figures = Omit<ClearingFigures, 'lines' | 'members'>;

const ClearingLineRef = builder
  .objectRef<ClearingLine & { bookId: string; scale: number }>('ClearingLine')
  .implement({
    description:
      'What a clearing cancels of one obligation: by set-off, and by network payments (liquidity mode).',
    fields: (t) => ({
      obligationId: t.id({ resolve: (l) => obligationGlobalId(l.bookId, l.obligationId) }),
      debtorId: t.id({ resolve: (l) => memberGlobalId(l.bookId, l.debtorId) }),
      creditorId: t.id({ resolve: (l) => memberGlobalId(l.bookId, l.creditorId) }),
      dueOn: t.field({ type: 'Date', resolve: (l) => l.dueOn }),
      reference: t.exposeString('reference'),
      outstanding: t.field({
        type: 'Decimal',
        description: 'Before the clearing.',
        resolve: (l) => l.outstanding.toFixed(l.scale),
      }),
      setoff: t.field({ type: 'Decimal', resolve: (l) => l.setoff.toFixed(l.scale) }),
      liquidity: t.field({ type: 'Decimal', resolve: (l) => l.liquidity.toFixed(l.scale) }),
    }),
  });
export const ClearingLineConnection = connectionType('ClearingLine', ClearingLineRef);

const PositionRef = builder
  .objectRef<ClearingFigures['members'][number] & { bookId: string; scale: number }>('ClearingPosition')
  .implement({
    description: "A member's net position (owed to it less owed by it) before and after a clearing.",
    fields: (t) => ({
      memberId: t.id({ resolve: (m) => memberGlobalId(m.bookId, m.memberId) }),
      positionBefore: t.field({ type: 'Decimal', resolve: (m) => m.positionBefore.toFixed(m.scale) }),
      positionAfter: t.field({ type: 'Decimal', resolve: (m) => m.positionAfter.toFixed(m.scale) }),
      networkPayment: t.field({
        type: 'Decimal',
        description: 'Paid in the network unit by the liquidity mode (negative: received).',
        resolve: (m) => m.networkPayment.toFixed(m.scale),
      }),
    }),
  });

function share(f: Figures, part: Decimal): string {
  return f.outstandingBefore.isZero()
    ? '0'
    : part.div(f.outstandingBefore).times(100).toDecimalPlaces(2).toFixed(2);
}

export const PreviewRef = builder.objectRef<ClearingFigures>('ClearingPreview').implement({
  description: 'The largest clearing possible now, computed exactly; nothing is changed.',
  fields: (t) => ({
    currency: t.field({ type: UnitRef, resolve: (f) => f.currency }),
    mode: t.field({ type: ClearingModeEnum, resolve: (f) => f.mode }),
    obligationsConsidered: t.exposeInt('obligationsConsidered'),
    outstandingBefore: t.field({
      type: 'Decimal',
      resolve: (f) => f.outstandingBefore.toFixed(f.currency.scale),
    }),
    setoffTotal: t.field({ type: 'Decimal', resolve: (f) => f.setoffTotal.toFixed(f.currency.scale) }),
    setoffPercent: t.field({
      type: 'Decimal',
      description: 'Set-off as a percent of what was outstanding.',
      resolve: (f) => share(f, f.setoffTotal),
    }),
    liquidityTotal: t.field({ type: 'Decimal', resolve: (f) => f.liquidityTotal.toFixed(f.currency.scale) }),
    liquidityPercent: t.field({ type: 'Decimal', resolve: (f) => share(f, f.liquidityTotal) }),
    liquidityUsed: t.field({
      type: 'Decimal',
      description: 'Network units the liquidity mode moves (each settles a chain of obligations).',
      resolve: (f) => f.liquidityUsed.toFixed(f.currency.scale),
    }),
    outstandingAfter: t.field({
      type: 'Decimal',
      resolve: (f) => f.outstandingAfter.toFixed(f.currency.scale),
    }),
    netInternalDebtBefore: t.field({
      type: 'Decimal',
      description: "Sum of the net creditors' positions: what no set-off can remove.",
      resolve: (f) => f.netInternalDebtBefore.toFixed(f.currency.scale),
    }),
    netInternalDebtAfter: t.field({
      type: 'Decimal',
      resolve: (f) => f.netInternalDebtAfter.toFixed(f.currency.scale),
    }),
    snapshotHash: t.exposeString('snapshotHash', {
      description: 'Give it to commitClearing to commit exactly this plan (refused if anything changed).',
    }),
    lines: t.connection(
      {
        type: ClearingLineRef,
        description: 'Obligations with something cleared, by obligation id.',
        resolve: (f, args) =>
          resolvePage(args, {
            arity: 1,
            key: ([id]) => id!,
            cursorOf: (l: { obligationId: string }) => [l.obligationId],
            read: async (q) =>
              (await f.lines.page(q)).map((l) => ({ ...l, bookId: f.bookId, scale: f.currency.scale })),
            count: async () => f.lines.count,
          }),
      },
      ClearingLineConnection,
    ),
    members: t.field({
      type: [PositionRef],
      description: 'Every member with obligations in the currency.',
      resolve: (f) => f.members.map((m) => ({ ...m, bookId: f.bookId, scale: f.currency.scale })),
    }),
  }),
});

export const ClearingRef = builder.objectRef<ClearingRecord>('Clearing').implement({
  description: 'A committed clearing.',
  fields: (t) => ({
    id: t.id({ resolve: (c) => clearingGlobalId(c.bookId, c.id) }),
    currency: t.field({ type: UnitRef, resolve: (c) => c.currency }),
    mode: t.field({ type: ClearingModeEnum, resolve: (c) => c.mode }),
    obligationsConsidered: t.exposeInt('obligationsConsidered'),
    outstandingBefore: t.field({
      type: 'Decimal',
      resolve: (c) => c.outstandingBefore.toFixed(c.currency.scale),
    }),
    setoffTotal: t.field({ type: 'Decimal', resolve: (c) => c.setoffTotal.toFixed(c.currency.scale) }),
    liquidityTotal: t.field({ type: 'Decimal', resolve: (c) => c.liquidityTotal.toFixed(c.currency.scale) }),
    liquidityUsed: t.field({ type: 'Decimal', resolve: (c) => c.liquidityUsed.toFixed(c.currency.scale) }),
    outstandingAfter: t.field({
      type: 'Decimal',
      resolve: (c) => c.outstandingAfter.toFixed(c.currency.scale),
    }),
    netInternalDebtBefore: t.field({
      type: 'Decimal',
      resolve: (c) => c.netInternalDebtBefore.toFixed(c.currency.scale),
    }),
    netInternalDebtAfter: t.field({
      type: 'Decimal',
      resolve: (c) => c.netInternalDebtAfter.toFixed(c.currency.scale),
    }),
    snapshotHash: t.exposeString('snapshotHash'),
    entryCount: t.exposeInt('entryCount'),
    committedAt: t.field({ type: 'DateTime', resolve: (c) => c.committedAt }),
    committedBy: t.exposeString('committedBy'),
    lines: t.connection(
      {
        type: ClearingLineRef,
        description: 'What this clearing cancelled of each obligation, by obligation id.',
        resolve: (c, args, ctx) =>
          resolvePage(args, {
            arity: 1,
            key: ([id]) => id!,
            cursorOf: (l: { obligationId: string }) => [l.obligationId],
            read: async (q) => {
              const rows = await guard(() => ctx.services.credit.clearingLinePage(c.bookId, c.id, q));
              const obligations = await guard(() =>
                ctx.services.credit.getObligations(
                  c.bookId,
                  rows.map((r) => r.obligationId),
                ),
              );
              return rows.map((r) => {
                const o = obligations.find((x) => x.id === r.obligationId)!;
                return {
                  ...r,
                  bookId: c.bookId,
                  scale: c.currency.scale,
                  debtorId: o.debtorId,
                  creditorId: o.creditorId,
                  dueOn: o.dueOn,
                  reference: o.reference,
                  outstanding: o.amount,
                };
              });
            },
            count: () => guard(() => ctx.services.credit.clearingLineCount(c.bookId, c.id)),
          }),
      },
      ClearingLineConnection,
    ),
  }),
});
export const ClearingConnection = connectionType('Clearing', ClearingRef);

export const ProofRef = builder.objectRef<BalanceProof>('CreditBalanceProof').implement({
  description:
    "The network's balances as of an instant, from the ledger's journal: their sum is zero (holds) and what members hold equals what members owe.",
  fields: (t) => ({
    asOf: t.field({ type: 'DateTime', resolve: (p) => p.asOf }),
    unit: t.field({ type: UnitRef, resolve: (p) => p.unit }),
    accounts: t.exposeInt('accounts'),
    sum: t.field({ type: 'Decimal', resolve: (p) => p.sum.toFixed(p.unit.scale) }),
    positive: t.field({ type: 'Decimal', resolve: (p) => p.positive.toFixed(p.unit.scale) }),
    negative: t.field({ type: 'Decimal', resolve: (p) => p.negative.toFixed(p.unit.scale) }),
    holds: t.exposeBoolean('holds'),
  }),
});

const MonthRef = builder
  .objectRef<NetworkStatistics['months'][number] & { scale: number }>('CreditMonthStatistics')
  .implement({
    fields: (t) => ({
      month: t.exposeString('month', { description: 'YYYY-MM (UTC).' }),
      payments: t.exposeInt('payments'),
      volume: t.field({ type: 'Decimal', resolve: (m) => m.volume.toFixed(m.scale) }),
      activeAccounts: t.exposeInt('activeAccounts'),
      velocity: t.field({
        type: 'Decimal',
        nullable: true,
        description: "The month's volume over the sum of positive balances at its end (6 decimals).",
        resolve: (m) => m.velocity?.toFixed(6) ?? null,
      }),
      positiveBalancesAtEnd: t.field({
        type: 'Decimal',
        resolve: (m) => m.positiveBalancesAtEnd.toFixed(m.scale),
      }),
    }),
  });

const BandRef = builder.objectRef<{ band: string; count: number }>('CreditBalanceBand').implement({
  description:
    'How many members hold a balance ABOVE_ZERO, at ZERO, USING_CREDIT, NEAR_LIMIT (below the soft limit) or AT_OR_BEYOND_LIMIT.',
  fields: (t) => ({ band: t.exposeString('band'), count: t.exposeInt('count') }),
});

const ClearingTotalRef = builder
  .objectRef<{ currency: string; count: number; setoff: Decimal; liquidity: Decimal }>('CreditClearingTotal')
  .implement({
    description: 'What clearing saved in one currency: obligations cancelled without money.',
    fields: (t) => ({
      currency: t.exposeString('currency'),
      clearings: t.exposeInt('count'),
      setoff: t.field({ type: 'Decimal', resolve: (c) => c.setoff.toFixed() }),
      liquidity: t.field({ type: 'Decimal', resolve: (c) => c.liquidity.toFixed() }),
    }),
  });

export const StatisticsRef = builder.objectRef<NetworkStatistics>('CreditNetworkStatistics').implement({
  description: "A network's statistics; every total is a sum of the journal's entries.",
  fields: (t) => ({
    from: t.exposeString('from'),
    to: t.exposeString('to'),
    months: t.field({
      type: [MonthRef],
      resolve: (s) => s.months.map((m) => ({ ...m, scale: s.unit.scale })),
    }),
    paymentsTotal: t.exposeInt('paymentsTotal'),
    volumeTotal: t.field({ type: 'Decimal', resolve: (s) => s.volumeTotal.toFixed(s.unit.scale) }),
    members: t.exposeInt('members'),
    balances: t.field({ type: [BandRef], resolve: (s) => s.balances }),
    positiveBalances: t.field({ type: 'Decimal', resolve: (s) => s.positiveBalances.toFixed(s.unit.scale) }),
    negativeBalances: t.field({ type: 'Decimal', resolve: (s) => s.negativeBalances.toFixed(s.unit.scale) }),
    clearings: t.field({ type: [ClearingTotalRef], resolve: (s) => s.clearings }),
  }),
});

export const NetworkRef = builder.objectRef<NetworkRecord>('CreditNetwork');
export const NetworkConnection = connectionType('CreditNetwork', NetworkRef);

export { PegRef };
