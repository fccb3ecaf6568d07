/**
 * Mutations of memberships and their money: joining, changes of state (leaving redeems capital),
 * buy-in payments, redemption repayments and share transfers. Each takes an `idempotencyKey` and
 * answers with the membership and the entry it posted; conventions as in coop-mutations.ts.
 */
import type { MembershipRecord, MembershipResult } from '../../server/coops/index.js';
import { LedgerError } from '../../server/core/index.js';
import { builder, type InputFields } from '../builder.js';
import { actorOf, type GraphQLContext } from '../context.js';
import { guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { decodeCoopId, decodeScopedId, scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import { JournalEntryRef } from '../refs.js';
import { coopLoaders } from './loaders.js';
import { MembershipRef, MembershipStateEnum, PaymentMethodEnum } from './refs.js';

/** A membership's (book, id); ('', '') when the id is not one (unknown to the service). */
function membershipKey(globalId: string | number) {
  return decodeScopedId(String(globalId), 'Membership') ?? { bookId: '', id: '' };
}

/** The raw id of a book-scoped global id when it is of `bookId`; '' (unknown to the service) otherwise. */
function idInBook(
  globalId: string | number,
  typename: 'MemberClass' | 'Party' | 'Membership',
  bookId: string,
): string {
  const key = decodeScopedId(String(globalId), typename);
  return key && key.bookId === bookId ? key.id : '';
}

// ---------- payloads ----------

interface MembershipPayloadValue {
  membership: MembershipRecord | null;
  entryId: string | null;
  replayed: boolean;
  userErrors: LedgerError[];
}

function membershipPayload(name: string, membershipDoc: string) {
  return builder.objectRef<MembershipPayloadValue>(name).implement({
    fields: (t) => ({
      membership: t.field({
        type: MembershipRef,
        nullable: true,
        description: membershipDoc,
        resolve: (p) => p.membership,
      }),
      entry: t.field({
        type: JournalEntryRef,
        nullable: true,
        description:
          'The balanced entry this posted in the co-op’s book; null when it posted none (or on a rejection).',
        resolve: (p, _a, ctx) =>
          p.entryId && p.membership
            ? loaders(ctx).entry.load(scopedId(p.membership.bookId, p.entryId))
            : null,
      }),
      replayed: t.boolean({
        description:
          'True when this answer repeats an earlier request with the same idempotencyKey; nothing new was done.',
        resolve: (p) => p.replayed,
      }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}

const JoinCoopPayload = membershipPayload('JoinCoopPayload', 'The new membership (APPLICANT).');
const ChangeMembershipStatePayload = membershipPayload(
  'ChangeMembershipStatePayload',
  'The membership in its new state.',
);
const PayInstalmentPayload = membershipPayload('PayInstalmentPayload', 'The membership after the payment.');
const RepayRedemptionPayload = membershipPayload(
  'RepayRedemptionPayload',
  'The former membership after the repayment.',
);
const TransferSharesPayload = membershipPayload(
  'TransferSharesPayload',
  'The selling membership (fromMembershipId) after the transfer.',
);

function toMembershipPayload(
  result: MembershipResult | LedgerError,
  ctx: GraphQLContext,
): MembershipPayloadValue {
  if (result instanceof LedgerError) return rejectedMembership(...userErrorsOf(result));
  coopLoaders(ctx).membership.prime(
    scopedId(result.membership.bookId, result.membership.id),
    result.membership,
  );
  return {
    membership: result.membership,
    entryId: result.entryId,
    replayed: result.replayed,
    userErrors: [],
  };
}

function rejectedMembership(...errors: LedgerError[]): MembershipPayloadValue {
  return { membership: null, entryId: null, replayed: false, userErrors: errors };
}

// ---------- inputs ----------

const keyField = (t: InputFields) =>
  t.string({
    required: true,
    description:
      '1-128 printable ASCII characters (at most 100 for joinCoop), unique per co-op; not beginning with "csv!" ' +
      '(the keys of CSV import rows, INVALID_IDEMPOTENCY_KEY).',
  });

const JoinCoopInput = builder.inputType('JoinCoopInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    partyId: t.id({ required: true, description: 'A Party of this co-op without an open membership.' }),
    memberClassId: t.id({ required: true }),
    appliedOn: t.field({ type: 'Date', required: true, description: 'Not in the future.' }),
    idempotencyKey: keyField(t),
    note: t.string({ description: 'Up to 1000 characters, recorded with the APPLICANT event.' }),
  }),
});

const ChangeMembershipStateInput = builder.inputType('ChangeMembershipStateInput', {
  fields: (t) => ({
    membershipId: t.id({ required: true }),
    toState: t.field({ type: MembershipStateEnum, required: true }),
    effectiveOn: t.field({
      type: 'Date',
      required: true,
      description: "Not in the future, not before the membership's last change.",
    }),
    idempotencyKey: keyField(t),
    note: t.string({ description: 'Up to 1000 characters.' }),
    method: t.field({
      type: PaymentMethodEnum,
      description: 'How a REPAY_NOW redemption on leaving is paid out; default BANK.',
    }),
  }),
});

const paymentFields = (t: InputFields, amountDoc: string, dateDoc: string) => ({
  membershipId: t.id({ required: true }),
  amount: t.field({ type: 'Decimal', required: true, description: amountDoc }),
  paidOn: t.field({ type: 'Date', required: true, description: dateDoc }),
  method: t.field({ type: PaymentMethodEnum, required: true }),
  idempotencyKey: keyField(t),
  memo: t.string({ description: 'Up to 1000 characters; a default memo names the member.' }),
});

const PayInstalmentInput = builder.inputType('PayInstalmentInput', {
  fields: (t) =>
    paymentFields(
      t,
      'Positive, in the base currency, at most the subscription still outstanding (PAYMENT_EXCEEDS_OUTSTANDING).',
      "The day it was paid (the entry's effective date).",
    ),
});

const RepayRedemptionInput = builder.inputType('RepayRedemptionInput', {
  fields: (t) =>
    paymentFields(
      t,
      'Positive, at most the redemption still held for the former member.',
      'The day it was repaid.',
    ),
});

const TransferSharesInput = builder.inputType('TransferSharesInput', {
  fields: (t) => ({
    fromMembershipId: t.id({ required: true }),
    toMembershipId: t.id({ required: true, description: 'Another membership of the same co-op.' }),
    amount: t.field({
      type: 'Decimal',
      required: true,
      description: "Paid-up share capital to move; at most the seller's (INSUFFICIENT_SHARES).",
    }),
    effectiveOn: t.field({ type: 'Date', required: true }),
    idempotencyKey: keyField(t),
    memo: t.string(),
  }),
});

// ---------- mutations ----------

/** payInstalment and repayRedemption: the same input, one use case each. */
async function payment(
  ctx: GraphQLContext,
  input: {
    membershipId: string | number;
    amount: string;
    paidOn: string;
    method: 'CASH' | 'BANK';
    idempotencyKey: string;
    memo?: string | null;
  },
  useCase: 'payInstalment' | 'repayRedemption',
) {
  const key = membershipKey(input.membershipId);
  const result = await guard(() =>
    ctx.services.coops[useCase](
      {
        bookId: key.bookId,
        membershipId: key.id,
        amount: input.amount,
        paidOn: input.paidOn,
        method: input.method,
        idempotencyKey: input.idempotencyKey,
        memo: input.memo ?? null,
      },
      actorOf(ctx),
    ),
  );
  return toMembershipPayload(result, ctx);
}

builder.mutationFields((t) => ({
  joinCoop: t.field({
    type: JoinCoopPayload,
    description:
      'A party joins the co-op as an APPLICANT of a class, subscribing to its buy-in: posts Dr subscription receivable / ' +
      'Cr subscribed capital unpaid (none for a zero buy-in) and opens the member’s accounts.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: JoinCoopInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const id = decodeCoopId(input.coopId);
      const result = await guard(() =>
        ctx.services.coops.join(
          {
            bookId: id,
            partyId: idInBook(input.partyId, 'Party', id),
            classId: idInBook(input.memberClassId, 'MemberClass', id),
            appliedOn: input.appliedOn,
            idempotencyKey: input.idempotencyKey,
            note: input.note ?? null,
          },
          actorOf(ctx),
        ),
      );
      // The use case names the class `classId`; the input calls it `memberClassId`.
      if (result instanceof LedgerError)
        return rejectedMembership(
          ...userErrorsOf(result).map((e) =>
            e.field === 'classId' ? new LedgerError(e.code, e.message, 'memberClassId') : e,
          ),
        );
      return toMembershipPayload(result, ctx);
    },
  }),
  changeMembershipState: t.field({
    type: ChangeMembershipStatePayload,
    description:
      'Moves a membership to another state (ILLEGAL_TRANSITION when the state machine does not allow it). Leaving ' +
      "(WITHDRAWN, TERMINATED) cancels the unpaid subscription and redeems the member's capital by the co-op's rule, in one entry.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ChangeMembershipStateInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const key = membershipKey(input.membershipId);
      const result = await guard(() =>
        ctx.services.coops.changeState(
          {
            bookId: key.bookId,
            membershipId: key.id,
            toState: input.toState,
            effectiveOn: input.effectiveOn,
            idempotencyKey: input.idempotencyKey,
            note: input.note ?? null,
            method: input.method ?? null,
          },
          actorOf(ctx),
        ),
      );
      return toMembershipPayload(result, ctx);
    },
  }),
  payInstalment: t.field({
    type: PayInstalmentPayload,
    description:
      "Records a buy-in payment: Dr cash or bank / Cr the member's share capital, and the receivable goes down by as much.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: PayInstalmentInput, required: true }) },
    resolve: (_r, { input }, ctx) => payment(ctx, input, 'payInstalment'),
  }),
  repayRedemption: t.field({
    type: RepayRedemptionPayload,
    description:
      'Pays out (part of) the capital held for a former member under the HOLD rule: Dr redemption payable / Cr cash or bank.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RepayRedemptionInput, required: true }) },
    resolve: (_r, { input }, ctx) => payment(ctx, input, 'repayRedemption'),
  }),
  transferShares: t.field({
    type: TransferSharesPayload,
    description:
      'Moves paid-up share capital between two members of the co-op, where both classes allow it (NOT_TRANSFERABLE otherwise).',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: TransferSharesInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const from = membershipKey(input.fromMembershipId);
      const result = await guard(() =>
        ctx.services.coops.transferShares(
          {
            bookId: from.bookId,
            fromMembershipId: from.id,
            toMembershipId: idInBook(input.toMembershipId, 'Membership', from.bookId),
            amount: input.amount,
            effectiveOn: input.effectiveOn,
            idempotencyKey: input.idempotencyKey,
            memo: input.memo ?? null,
          },
          actorOf(ctx),
        ),
      );
      return toMembershipPayload(result, ctx);
    },
  }),
}));
