/**
 * Mutations of mutual credit. Each takes one `input` and answers a payload with `userErrors`
 * (nothing changed when there are any). Money-moving ones (payInNetwork, accepting and completing
 * requests, commitClearing) and the records of obligations take a required `idempotencyKey`: the
 * same key and input answer the first result (`replayed: true`), another input
 * IDEMPOTENCY_KEY_REUSED. A caller who may not act answers as for an unknown network, member or
 * request.
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { LedgerError } from '../../server/core/index.js';
import type { EntryRecord } from '../../server/credit/index.js';
import {
  type ClearingRecord,
  CREDIT_KEY_LENGTH_MAX,
  type LimitChangeRecord,
  type MemberRecord,
  type NetworkRecord,
  OBLIGATIONS_PER_REQUEST_MAX,
  type PaymentRequestRecord,
  type RecordObligationsResult,
} from '../../server/credit/index.js';
import { builder } from '../builder.js';
import { actorOf, type GraphQLContext } from '../context.js';
import { guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { decodeCoopId, scopedId } from '../ids.js';
import { decodeCreditId, decodeNetworkId, visibleMembers } from './queries.js';
import {
  ClearingModeEnum,
  ClearingRef,
  LimitChangeRef,
  type Member,
  MemberRef,
  NetworkRef,
  PolicyRef,
  RequestRef,
} from './types.js';

const keyDoc = `1 to ${CREDIT_KEY_LENGTH_MAX} printable ASCII characters, unique per network: the same key and input answer the first result.`;

const UnitInput = builder.inputType('CreditUnitInput', {
  fields: (t) => ({
    code: t.string({ required: true, description: 'e.g. SRD, EUR, HOUR.' }),
    scale: t.int({ required: true, description: 'Decimal places, 0 to 18.' }),
  }),
});

const DynamicInput = builder.inputType('CreditDynamicLimitInput', {
  fields: (t) => ({
    salesPercent: t.string({
      required: true,
      description: 'Percent of sales added to the default limit (above 0, up to 1000, at most 4 decimals).',
    }),
    windowDays: t.int({ required: true, description: 'Days of sales counted, 1 to 366.' }),
    cap: t.field({ type: 'Decimal', required: true, description: 'The most a dynamic limit gives.' }),
  }),
});

const PolicyInput = builder.inputType('CreditPolicyInput', {
  fields: (t) => ({
    defaultLimit: t.field({ type: 'Decimal', required: true, description: "A new member's limit; above 0." }),
    defaultUpperBound: t.field({
      type: 'Decimal',
      description: "A new member's upper bound; none when absent.",
    }),
    softLimitPercent: t.int({ description: 'Warn below this percent of the limit (1 to 100); default 80.' }),
    dynamic: t.field({ type: DynamicInput, description: 'A limit that grows with sales up to a cap.' }),
  }),
});

const entryId = (e: EntryRecord | null) =>
  e ? encodeGlobalID('JournalEntry', scopedId(e.bookId, e.id)) : null;

type Errors = { userErrors: LedgerError[] };
const errorsOf = (e: LedgerError) => ({ userErrors: userErrorsOf(e) });

async function scaleOf(ctx: GraphQLContext, bookId: string): Promise<number> {
  return (await guard(() => ctx.services.credit.getNetworks([bookId])))[0]?.unit.scale ?? 0;
}

async function visible(ctx: GraphQLContext, m: MemberRecord, scale: number) {
  return (await visibleMembers(ctx, [m], scale))[0]!;
}

// ---------- payloads ----------

const NetworkPayload = builder
  .objectRef<{ network: NetworkRecord | null; replayed: boolean } & Errors>('CreditNetworkPayload')
  .implement({
    fields: (t) => ({
      network: t.field({ type: NetworkRef, nullable: true, resolve: (p) => p.network }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const PolicyPayload = builder
  // biome-ignore lint/suspicious/noExplicitAny: a CreditPolicyRecord with its scale
  .objectRef<{ policy: any; replayed: boolean } & Errors>('SetCreditPolicyPayload')
  .implement({
    fields: (t) => ({
      policy: t.field({ type: PolicyRef, nullable: true, resolve: (p) => p.policy }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const MemberPayload = builder
  .objectRef<
    {
      member: Member | null;
      change: (LimitChangeRecord & { scale: number }) | null;
      replayed: boolean;
    } & Errors
  >('NetworkMemberPayload')
  .implement({
    fields: (t) => ({
      member: t.field({ type: MemberRef, nullable: true, resolve: (p) => p.member }),
      limitChange: t.field({ type: LimitChangeRef, nullable: true, resolve: (p) => p.change }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const ApplyPolicyPayload = builder
  .objectRef<{ changes: (LimitChangeRecord & { scale: number })[] } & Errors>('ApplyCreditPolicyPayload')
  .implement({
    fields: (t) => ({
      limitChanges: t.field({ type: [LimitChangeRef], resolve: (p) => p.changes }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const PaymentPayload = builder
  .objectRef<{ entry: EntryRecord | null; replayed: boolean; warning: string | null } & Errors>(
    'PayInNetworkPayload',
  )
  .implement({
    fields: (t) => ({
      entryId: t.id({
        nullable: true,
        description: "The payment's JournalEntry id.",
        resolve: (p) => entryId(p.entry),
      }),
      effectiveAt: t.field({
        type: 'DateTime',
        nullable: true,
        resolve: (p) => p.entry?.effectiveAt ?? null,
      }),
      replayed: t.exposeBoolean('replayed'),
      warning: t.string({
        nullable: true,
        description: "Set when the payment left the payer below the policy's soft limit.",
        resolve: (p) => p.warning,
      }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const RequestPayload = builder
  .objectRef<
    {
      request: (PaymentRequestRecord & { scale: number }) | null;
      entry: EntryRecord | null;
      replayed: boolean;
      warning: string | null;
    } & Errors
  >('PaymentRequestPayload')
  .implement({
    fields: (t) => ({
      request: t.field({ type: RequestRef, nullable: true, resolve: (p) => p.request }),
      entryId: t.id({
        nullable: true,
        description: 'The entry this step posted (the payment, the hold, its commit or void).',
        resolve: (p) => entryId(p.entry),
      }),
      replayed: t.exposeBoolean('replayed'),
      warning: t.string({ nullable: true, resolve: (p) => p.warning }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const RowErrorRef = builder
  .objectRef<RecordObligationsResult['rowErrors'][number]>('ObligationRowError')
  .implement({
    fields: (t) => ({
      row: t.exposeInt('row', { description: 'Index in `obligations`, or the CSV line (header = 1).' }),
      column: t.string({ nullable: true, resolve: (e) => e.column }),
      code: t.exposeString('code'),
      message: t.exposeString('message'),
    }),
  });

const ObligationsPayload = builder
  .objectRef<RecordObligationsResult & Errors>('RecordObligationsPayload')
  .implement({
    fields: (t) => ({
      recorded: t.exposeInt('recorded'),
      replayed: t.exposeBoolean('replayed'),
      rowErrors: t.field({ type: [RowErrorRef], resolve: (p) => p.rowErrors }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const ClearingPayload = builder
  .objectRef<{ clearing: ClearingRecord | null; replayed: boolean } & Errors>('CommitClearingPayload')
  .implement({
    fields: (t) => ({
      clearing: t.field({ type: ClearingRef, nullable: true, resolve: (p) => p.clearing }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

// ---------- inputs ----------

const CreateNetworkInput = builder.inputType('CreateCreditNetworkInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    unit: t.field({
      type: UnitInput,
      required: true,
      description: "The network's unit, e.g. { code: SRD, scale: 2 }.",
    }),
    pegCurrency: t.string({
      description: 'The currency the unit is pegged to, for reporting (and the liquidity mode).',
    }),
    pegRate: t.string({ description: 'One unit in pegCurrency, e.g. "1".' }),
    currencies: t.field({ type: [UnitInput], description: 'Currencies obligations may be recorded in.' }),
    policy: t.field({ type: PolicyInput, required: true }),
    idempotencyKey: t.string({ description: 'Optional: the same key and input answer the same network.' }),
  }),
});

const RequestAction = (name: string, extra: 'accept' | 'reason' | 'none') =>
  builder.inputType(name, {
    fields: (t) => ({
      requestId: t.id({ required: true }),
      idempotencyKey: t.string({ required: true, description: keyDoc }),
      ...(extra === 'accept'
        ? {
            hold: t.boolean({
              description:
                'Accept through a two-phase hold: the payment is reserved until the payee completes it.',
            }),
            holdExpiresAt: t.field({
              type: 'DateTime',
              description: 'When an uncompleted hold lapses; default 7 days.',
            }),
          }
        : {}),
      ...(extra === 'reason' ? { reason: t.string({ description: 'Why (up to 500 characters).' }) } : {}),
    }),
  });

const AcceptInput = RequestAction('AcceptPaymentRequestInput', 'accept');
const DeclineInput = RequestAction('DeclinePaymentRequestInput', 'reason');
const CancelInput = RequestAction('CancelPaymentRequestInput', 'reason');
const CompleteInput = RequestAction('CompletePaymentRequestInput', 'none');
const ReleaseInput = RequestAction('ReleasePaymentRequestInput', 'reason');

const ObligationInput = builder.inputType('ObligationInput', {
  fields: (t) => ({
    debtorId: t.id({ required: true, description: 'The member that owes (a NetworkMember id).' }),
    creditorId: t.id({ required: true }),
    currency: t.string({ required: true }),
    amount: t.field({ type: 'Decimal', required: true, description: "At the currency's scale; above 0." }),
    dueOn: t.field({ type: 'Date', required: true }),
    reference: t.string({
      required: true,
      description: "The invoice's reference: unique per creditor and currency.",
    }),
  }),
});

const memberKey = (id: string | number) => decodeCreditId(id, 'NetworkMember')?.id ?? '';

// ---------- mutations ----------

builder.mutationFields((t) => ({
  createCreditNetwork: t.field({
    type: NetworkPayload,
    description: 'A new network (admins). Give its stewards NETWORK_STEWARD grants on its id afterwards.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateNetworkInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const peg =
        input.pegCurrency || input.pegRate
          ? { currency: input.pegCurrency ?? '', rate: input.pegRate ?? '' }
          : null;
      const result = await guard(() =>
        ctx.services.credit.createNetwork(
          {
            name: input.name,
            unit: input.unit,
            peg,
            currencies: input.currencies ?? [],
            policy: input.policy,
            idempotencyKey: input.idempotencyKey ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { network: null, replayed: false, ...errorsOf(result) }
        : { ...result, userErrors: [] };
    },
  }),
  addNetworkCurrency: t.field({
    type: NetworkPayload,
    description: 'A currency obligations may be recorded in (stewards).',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('AddNetworkCurrencyInput', {
          fields: (f) => ({
            networkId: f.id({ required: true }),
            currency: f.field({ type: UnitInput, required: true }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.credit.addCurrency(decodeNetworkId(input.networkId), input.currency, actorOf(ctx)),
      );
      return result instanceof LedgerError
        ? { network: null, replayed: false, ...errorsOf(result) }
        : { network: result, replayed: false, userErrors: [] };
    },
  }),
  setCreditPolicy: t.field({
    type: PolicyPayload,
    description: "A new version of the network's credit-limit policy (stewards), with the reason.",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('SetCreditPolicyInput', {
          fields: (f) => ({
            networkId: f.id({ required: true }),
            policy: f.field({ type: PolicyInput, required: true }),
            reason: f.string({ required: true }),
            idempotencyKey: f.string(),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeNetworkId(input.networkId);
      const result = await guard(() =>
        ctx.services.credit.setPolicy(
          {
            bookId,
            policy: input.policy,
            reason: input.reason,
            idempotencyKey: input.idempotencyKey ?? null,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError) return { policy: null, replayed: false, ...errorsOf(result) };
      return {
        policy: { ...result.policy, scale: await scaleOf(ctx, bookId) },
        replayed: result.replayed,
        userErrors: [],
      };
    },
  }),
  joinCreditNetwork: t.field({
    type: MemberPayload,
    description:
      "A co-op joins the network (stewards): an account with the policy's default limit, or the one given.",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('JoinCreditNetworkInput', {
          fields: (f) => ({
            networkId: f.id({ required: true }),
            coopId: f.id({ required: true }),
            limit: f.field({ type: 'Decimal', description: "Default: the policy's default limit." }),
            upperBound: f.field({
              type: 'Decimal',
              description: "Default: the policy's default upper bound.",
            }),
            idempotencyKey: f.string(),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeNetworkId(input.networkId);
      const result = await guard(() =>
        ctx.services.credit.join(
          {
            bookId,
            coopId: decodeCoopId(input.coopId),
            limit: input.limit ?? null,
            upperBound: input.upperBound ?? null,
            idempotencyKey: input.idempotencyKey ?? null,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return { member: null, change: null, replayed: false, ...errorsOf(result) };
      return {
        member: await visible(ctx, result.member, await scaleOf(ctx, bookId)),
        change: null,
        replayed: result.replayed,
        userErrors: [],
      };
    },
  }),
  setCreditLimit: t.field({
    type: MemberPayload,
    description:
      "Sets a member's limit and upper bound (stewards), logged with the reason; `limit: null` returns it to the policy.",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('SetCreditLimitInput', {
          fields: (f) => ({
            memberId: f.id({ required: true }),
            limit: f.field({ type: 'Decimal', description: 'null: back to the policy.' }),
            upperBound: f.field({ type: 'Decimal', description: 'Absent: unchanged; null: none.' }),
            reason: f.string({ required: true }),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = decodeCreditId(input.memberId, 'NetworkMember') ?? { bookId: '', id: '' };
      const result = await guard(() =>
        ctx.services.credit.setLimit(
          {
            bookId: key.bookId,
            memberId: key.id,
            limit: input.limit ?? null,
            ...(input.upperBound === undefined ? {} : { upperBound: input.upperBound }),
            reason: input.reason,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return { member: null, change: null, replayed: false, ...errorsOf(result) };
      const scale = await scaleOf(ctx, key.bookId);
      return {
        member: await visible(ctx, result.member, scale),
        change: { ...result.change, scale },
        replayed: result.replayed,
        userErrors: [],
      };
    },
  }),
  applyCreditPolicy: t.field({
    type: ApplyPolicyPayload,
    description:
      'Grows the limits of members that follow the policy by its dynamic part (stewards); each change logged.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('ApplyCreditPolicyInput', {
          fields: (f) => ({ networkId: f.id({ required: true }) }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeNetworkId(input.networkId);
      const result = await guard(() => ctx.services.credit.applyPolicy(bookId, actorOf(ctx)));
      if (result instanceof LedgerError) return { changes: [], ...errorsOf(result) };
      const scale = await scaleOf(ctx, bookId);
      return { changes: result.map((c) => ({ ...c, scale })), userErrors: [] };
    },
  }),
  payInNetwork: t.field({
    type: PaymentPayload,
    description:
      "A payment from a member (the caller acts for it as its co-op's treasurer) to another, in the network unit: refused " +
      "with BALANCE_BOUND_EXCEEDED past the payer's limit or the payee's upper bound.",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('PayInNetworkInput', {
          fields: (f) => ({
            payerId: f.id({ required: true }),
            payeeId: f.id({ required: true }),
            amount: f.field({
              type: 'Decimal',
              required: true,
              description: "At the unit's scale; above 0.",
            }),
            memo: f.string(),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const payer = decodeCreditId(input.payerId, 'NetworkMember');
      const result = await guard(() =>
        ctx.services.credit.pay(
          {
            bookId: payer?.bookId ?? '',
            payerId: payer?.id ?? '',
            payeeId: memberKey(input.payeeId),
            amount: input.amount,
            memo: input.memo ?? null,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { entry: null, replayed: false, warning: null, ...errorsOf(result) }
        : { ...result, userErrors: [] };
    },
  }),
  createPaymentRequest: t.field({
    type: RequestPayload,
    description:
      'The payee (the caller acts for it) asks the payer for a payment; open until accepted, declined, cancelled or expired.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('CreatePaymentRequestInput', {
          fields: (f) => ({
            payeeId: f.id({ required: true }),
            payerId: f.id({ required: true }),
            amount: f.field({ type: 'Decimal', required: true }),
            memo: f.string(),
            expiresAt: f.field({ type: 'DateTime', description: 'Default 30 days from now; at most 366.' }),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const payee = decodeCreditId(input.payeeId, 'NetworkMember');
      const bookId = payee?.bookId ?? '';
      const result = await guard(() =>
        ctx.services.credit.createRequest(
          {
            bookId,
            payeeId: payee?.id ?? '',
            payerId: memberKey(input.payerId),
            amount: input.amount,
            memo: input.memo ?? null,
            expiresAt: input.expiresAt ?? null,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return { request: null, entry: null, replayed: false, warning: null, ...errorsOf(result) };
      return {
        request: { ...result.request, scale: await scaleOf(ctx, bookId) },
        entry: null,
        replayed: result.replayed,
        warning: null,
        userErrors: [],
      };
    },
  }),
  ...Object.fromEntries(
    (
      [
        [
          'acceptPaymentRequest',
          AcceptInput,
          'ACCEPT',
          'The payer accepts: pays now, or with `hold` reserves the payment until the payee completes it.',
        ],
        ['declinePaymentRequest', DeclineInput, 'DECLINE', 'The payer declines an open request.'],
        ['cancelPaymentRequest', CancelInput, 'CANCEL', 'The payee withdraws an open request.'],
        [
          'completePaymentRequest',
          CompleteInput,
          'COMPLETE',
          'The payee completes a held payment (it is posted).',
        ],
        [
          'releasePaymentRequest',
          ReleaseInput,
          'RELEASE',
          'The payee (or a steward) releases a hold; nothing is paid.',
        ],
      ] as const
    ).map(([name, inputType, action, description]) => [
      name,
      t.field({
        type: RequestPayload,
        description,
        authScopes: { authenticated: true },
        args: { input: t.arg({ type: inputType, required: true }) },
        resolve: async (_r, { input }, ctx) => {
          const key = decodeCreditId(input.requestId, 'PaymentRequest') ?? { bookId: '', id: '' };
          const i = input as { hold?: boolean | null; holdExpiresAt?: Date | null; reason?: string | null };
          const result = await guard(() =>
            ctx.services.credit.actOnRequest(
              action,
              {
                bookId: key.bookId,
                requestId: key.id,
                idempotencyKey: input.idempotencyKey,
                hold: i.hold ?? null,
                holdExpiresAt: i.holdExpiresAt ?? null,
                reason: i.reason ?? null,
              },
              actorOf(ctx),
            ),
          );
          if (result instanceof LedgerError)
            return { request: null, entry: null, replayed: false, warning: null, ...errorsOf(result) };
          return {
            ...result,
            request: { ...result.request, scale: await scaleOf(ctx, key.bookId) },
            userErrors: [],
          };
        },
      }),
    ]),
  ),
  recordObligations: t.field({
    type: ObligationsPayload,
    description: `Obligations between members (the debtor's treasurer, or a steward), 1 to ${OBLIGATIONS_PER_REQUEST_MAX}, all or nothing.`,
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('RecordObligationsInput', {
          fields: (f) => ({
            networkId: f.id({ required: true }),
            obligations: f.field({ type: [ObligationInput], required: true }),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.credit.recordObligations(
          {
            bookId: decodeNetworkId(input.networkId),
            obligations: input.obligations.map((o) => ({
              ...o,
              debtorId: memberKey(o.debtorId),
              creditorId: memberKey(o.creditorId),
            })),
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { recorded: 0, replayed: false, rowErrors: [], ...errorsOf(result) }
        : { ...result, userErrors: [] };
    },
  }),
  importObligationsCsv: t.field({
    type: ObligationsPayload,
    description:
      'Obligations from CSV: header debtor, creditor (member numbers), currency, amount, due_on, reference; all or nothing.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('ImportObligationsCsvInput', {
          fields: (f) => ({
            networkId: f.id({ required: true }),
            csv: f.string({ required: true }),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.credit.importObligationsCsv(
          { bookId: decodeNetworkId(input.networkId), csv: input.csv, idempotencyKey: input.idempotencyKey },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { recorded: 0, replayed: false, rowErrors: [], ...errorsOf(result) }
        : { ...result, userErrors: [] };
    },
  }),
  commitClearing: t.field({
    type: ClearingPayload,
    description:
      "Clears a currency's open obligations (stewards) as previewClearing shows, atomically: no member's net position changes.",
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('CommitClearingInput', {
          fields: (f) => ({
            networkId: f.id({ required: true }),
            currency: f.string({ required: true }),
            mode: f.field({ type: ClearingModeEnum, description: 'Default SETOFF.' }),
            snapshotHash: f.string({
              description: "A preview's snapshotHash: refused (CLEARING_STALE) if anything changed since.",
            }),
            idempotencyKey: f.string({ required: true, description: keyDoc }),
          }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.credit.commitClearing(
          {
            bookId: decodeNetworkId(input.networkId),
            currency: input.currency,
            mode: input.mode ?? 'SETOFF',
            snapshotHash: input.snapshotHash ?? null,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { clearing: null, replayed: false, ...errorsOf(result) }
        : { ...result, userErrors: [] };
    },
  }),
}));
