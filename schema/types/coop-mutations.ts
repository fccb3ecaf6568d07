/**
 * Mutations of co-ops and their members (issue 5). Same conventions as mutations.ts: one `input`,
 * a payload with `userErrors`; money-moving mutations take an `idempotencyKey` (same key and input:
 * the original answer with `replayed: true`; different input: IDEMPOTENCY_KEY_REUSED). A caller
 * who may not write the co-op gets the answer of an unknown one (UNKNOWN_COOP, UNKNOWN_MEMBERSHIP,
 * ...), so nothing reveals another tenant's ids. Creating a co-op is for admins; everything else
 * for the co-op's treasurers (and admins). Those checks are CoopService's (after scope-auth here):
 * resolvers decode ids and call one use case with the caller.
 */

import type {
  CoopProfileInput,
  CoopRecord,
  ImportResult,
  MemberClassRecord,
  MembershipRecord,
  MembershipResult,
  PartyRecord,
  RowError,
} from '../../server/coops/index.js';
import { IMPORT_KEY_LENGTH_MAX, IMPORT_ROWS_MAX } from '../../server/coops/index.js';
import { LedgerError } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { actorOf, type GraphQLContext } from '../context.js';
import { coopLoaders } from '../coop-loaders.js';
import { ErrorCodeEnum, guard, UserErrorRef } from '../errors.js';
import { decodeCoopId, decodeScopedId, scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import { JournalEntryRef } from '../refs.js';
import {
  CoopKindEnum,
  CoopRef,
  MemberClassRef,
  MembershipRef,
  MembershipStateEnum,
  PartyKindEnum,
  PartyRef,
  PaymentMethodEnum,
  RedemptionRuleEnum,
} from './coop.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type InputFields = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;

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

const CoopPayloadRef = (name: string) =>
  builder.objectRef<{ coop: CoopRecord | null; userErrors: LedgerError[] }>(name).implement({
    fields: (t) => ({
      coop: t.field({ type: CoopRef, nullable: true, resolve: (p) => p.coop }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
const CreateCoopPayload = CoopPayloadRef('CreateCoopPayload');
const UpdateCoopPayload = CoopPayloadRef('UpdateCoopPayload');

const CreateMemberClassPayload = builder
  .objectRef<{ memberClass: MemberClassRecord | null; userErrors: LedgerError[] }>('CreateMemberClassPayload')
  .implement({
    fields: (t) => ({
      memberClass: t.field({ type: MemberClassRef, nullable: true, resolve: (p) => p.memberClass }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const RegisterPartyPayload = builder
  .objectRef<{ party: PartyRecord | null; userErrors: LedgerError[] }>('RegisterPartyPayload')
  .implement({
    fields: (t) => ({
      party: t.field({ type: PartyRef, nullable: true, resolve: (p) => p.party }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

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
  if (result instanceof LedgerError) return rejectedMembership(result);
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

function rejectedMembership(error: LedgerError): MembershipPayloadValue {
  return { membership: null, entryId: null, replayed: false, userErrors: [error] };
}

// ---------- inputs ----------

const profileFields = (t: InputFields) => ({
  neighbourhood: t.string({ description: 'Up to 100 characters.' }),
  latitude: t.string({
    description: 'Decimal degrees -90 to 90, up to 6 places, e.g. "45.5017"; give with longitude.',
  }),
  longitude: t.string({ description: 'Decimal degrees -180 to 180, up to 6 places.' }),
  fiscalYearStart: t.string({
    description: 'First day of the fiscal year, "MM-DD" (not 02-29); default 01-01.',
  }),
  redemptionRule: t.field({ type: RedemptionRuleEnum, description: 'Default REPAY_NOW.' }),
  dataSharingConsent: t.boolean({
    description:
      "Whether the co-op's figures may count in city aggregates; the date it is given is recorded. Default false.",
  }),
  publicListing: t.boolean({
    description: 'Whether to list the co-op in the public directory. Default false.',
  }),
  description: t.string({ description: 'Up to 2000 characters; public when the co-op is listed.' }),
  website: t.string({ description: "An http(s) URL of at most 500 characters, or ''." }),
});

const CoopUnitInput = builder.inputType('CoopCurrencyInput', {
  description: "The co-op's base currency: an ISO 4217 code and its decimal places.",
  fields: (t) => ({
    code: t.string({ required: true, description: 'e.g. USD, EUR, CAD.' }),
    scale: t.int({ required: true, description: 'Decimal places, 0 to 18 (2 for most currencies).' }),
  }),
});

const CreateCoopInput = builder.inputType('CreateCoopInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: '1 to 200 characters.' }),
    kind: t.field({ type: CoopKindEnum, required: true }),
    naicsCode: t.string({ required: true, description: 'Sector: a NAICS code of 2 to 6 digits.' }),
    city: t.string({ required: true, description: '1 to 100 characters.' }),
    foundedOn: t.field({ type: 'Date', required: true, description: 'Not in the future.' }),
    legalForm: t.string({
      required: true,
      description: '1 to 100 characters, e.g. "worker cooperative corporation".',
    }),
    baseCurrency: t.field({ type: CoopUnitInput, required: true }),
    maxBackdateDays: t.int({
      description:
        "How far in the past the book's entries may be effective; default 3660 (ten years), at most 36600.",
    }),
    ...profileFields(t),
  }),
});

const UpdateCoopInput = builder.inputType('UpdateCoopInput', {
  description: 'Fields to change; those left out (or null) keep their value.',
  fields: (t) => ({
    coopId: t.id({ required: true }),
    name: t.string(),
    kind: t.field({ type: CoopKindEnum }),
    naicsCode: t.string(),
    city: t.string(),
    foundedOn: t.field({ type: 'Date' }),
    legalForm: t.string(),
    ...profileFields(t),
  }),
});

const CreateMemberClassInput = builder.inputType('CreateMemberClassInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    code: t.string({ required: true, description: 'Unique in the co-op: 1-40 of A-Z, a-z, 0-9, _ and -.' }),
    name: t.string({ required: true }),
    buyIn: t.field({
      type: 'Decimal',
      required: true,
      description: "The share subscription on joining, in the co-op's base currency (zero allowed).",
    }),
    instalmentCount: t.int({ description: 'Instalments the buy-in is paid in, 1 to 240; default 1.' }),
    instalmentIntervalMonths: t.int({ description: 'Months between instalments, 1 to 24; default 1.' }),
    voting: t.boolean({ required: true, description: 'Whether ACTIVE members of this class vote.' }),
    transferable: t.boolean({ description: 'Whether shares may be transferred; default false.' }),
  }),
});

const RegisterPartyInput = builder.inputType('RegisterPartyInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    kind: t.field({ type: PartyKindEnum, description: 'Default PERSON.' }),
    name: t.string({ required: true, description: '1 to 200 characters.' }),
    email: t.string({ description: 'Up to 254 characters, name@host.' }),
    phone: t.string({ description: 'Up to 50 characters.' }),
    address: t.string({ description: 'Up to 500 characters.' }),
    organizationCoopId: t.id({
      description:
        'For an ORGANIZATION that is itself a co-op on this ledger (a federation member): its Coop id.',
    }),
    externalRef: t.string({
      description: "The co-op's own reference, unique in the co-op, 1 to 100 characters.",
    }),
  }),
});

const keyField = (t: InputFields) =>
  t.string({
    required: true,
    description: '1-128 printable ASCII characters (at most 100 for joinCoop), unique per co-op.',
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

// ---------- the CSV import ----------

const ImportKindEnum = builder.enumType('CoopImportKind', {
  description:
    'MEMBERS: a register of people and their memberships. PAYMENTS: buy-in payments of existing members.',
  values: ['MEMBERS', 'PAYMENTS'] as const,
});

const ImportMembersCsvInput = builder.inputType('ImportMembersCsvInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    kind: t.field({ type: ImportKindEnum, required: true }),
    csv: t.string({
      required: true,
      description:
        `The file as text, a header line first (column names in any order, case-insensitive), at most ${IMPORT_ROWS_MAX} rows. ` +
        'MEMBERS: name, class (a member class code), applied_on (YYYY-MM-DD) required; kind (person | organization), ' +
        'email, phone, address, external_ref, status (applicant | candidate | active), status_on optional. ' +
        'PAYMENTS: member (member number or external_ref), paid_on, amount required; method (cash | bank, default bank), ' +
        'reference (the memo) optional.',
    }),
    idempotencyKey: t.string({
      required: true,
      description: `Names this import (1 to ${IMPORT_KEY_LENGTH_MAX} characters): the same key and file answer the first import again (replayed); another file is IDEMPOTENCY_KEY_REUSED.`,
    }),
  }),
});

const ImportRowErrorRef = builder.objectRef<RowError>('ImportRowError').implement({
  description: 'A problem with one row of an imported file.',
  fields: (t) => ({
    row: t.exposeInt('row', { description: 'Line number in the file; the header is line 1.' }),
    column: t.string({
      nullable: true,
      description: 'The column at fault, when it is one.',
      resolve: (e) => e.column,
    }),
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

type ImportPayloadValue = ImportResult & { userErrors: LedgerError[] };

const ImportMembersCsvPayload = builder.objectRef<ImportPayloadValue>('ImportMembersCsvPayload').implement({
  description:
    'The outcome of an import. All or nothing: with any rowErrors, `imported` is false and nothing was changed.',
  fields: (t) => ({
    imported: t.exposeBoolean('imported', { description: 'True when the whole file landed.' }),
    replayed: t.exposeBoolean('replayed', {
      description: 'True when this repeats an earlier import with the same idempotencyKey and file.',
    }),
    rows: t.exposeInt('rows', { description: 'Data rows in the file (the header not counted).' }),
    membershipsCreated: t.exposeInt('membershipsCreated'),
    paymentsPosted: t.exposeInt('paymentsPosted'),
    rowErrors: t.field({
      type: [ImportRowErrorRef],
      description: 'Every bad row, in file order.',
      resolve: (p) => p.rowErrors,
    }),
    userErrors: t.field({
      type: [UserErrorRef],
      description: 'Errors of the request as a whole (unknown co-op, a reused key, ...).',
      resolve: (p) => p.userErrors,
    }),
  }),
});

function rejectedImport(error: LedgerError): ImportPayloadValue {
  return {
    imported: false,
    replayed: false,
    rows: 0,
    membershipsCreated: 0,
    paymentsPosted: 0,
    rowErrors: [],
    userErrors: [error],
  };
}

/** Drops nulls so the service sees only the fields that change. */
function profileOf(input: Record<string, unknown>): CoopProfileInput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (v !== null && v !== undefined && k !== 'coopId') out[k] = v;
  return out as CoopProfileInput;
}

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
  createCoop: t.field({
    type: CreateCoopPayload,
    description:
      "Creates a co-op: its book (same id), its base currency and the default chart of accounts. Admins only; the co-op's " +
      'treasurers then get a TREASURER token on it.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateCoopInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.coops.createCoop(
          {
            ...profileOf(input),
            name: input.name,
            kind: input.kind,
            naicsCode: input.naicsCode,
            city: input.city,
            foundedOn: input.foundedOn,
            legalForm: input.legalForm,
            baseCurrency: input.baseCurrency,
            maxBackdateDays: input.maxBackdateDays ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { coop: null, userErrors: [result] }
        : { coop: result, userErrors: [] };
    },
  }),
  updateCoop: t.field({
    type: UpdateCoopPayload,
    description:
      "Changes a co-op's profile, redemption rule, data-sharing consent or directory listing. Its treasurers and admins.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: UpdateCoopInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const id = decodeCoopId(input.coopId);
      const result = await guard(() => ctx.services.coops.updateCoop(id, profileOf(input), actorOf(ctx)));
      return result instanceof LedgerError
        ? { coop: null, userErrors: [result] }
        : { coop: result, userErrors: [] };
    },
  }),
  createMemberClass: t.field({
    type: CreateMemberClassPayload,
    description: 'Adds a member class to a co-op (at most 50).',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateMemberClassInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.coops.createMemberClass(
          {
            bookId: decodeCoopId(input.coopId),
            code: input.code,
            name: input.name,
            buyIn: input.buyIn,
            instalmentCount: input.instalmentCount ?? null,
            instalmentIntervalMonths: input.instalmentIntervalMonths ?? null,
            voting: input.voting,
            transferable: input.transferable ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { memberClass: null, userErrors: [result] }
        : { memberClass: result, userErrors: [] };
    },
  }),
  registerParty: t.field({
    type: RegisterPartyPayload,
    description: "Registers a person or organisation in a co-op's register (before they join).",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RegisterPartyInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.coops.registerParty(
          {
            bookId: decodeCoopId(input.coopId),
            kind: input.kind ?? null,
            name: input.name,
            email: input.email ?? null,
            phone: input.phone ?? null,
            address: input.address ?? null,
            // '' when it is not a Coop id: the service answers UNKNOWN_COOP for it.
            organizationCoopId:
              input.organizationCoopId === null || input.organizationCoopId === undefined
                ? null
                : decodeCoopId(input.organizationCoopId),
            externalRef: input.externalRef ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { party: null, userErrors: [result] }
        : { party: result, userErrors: [] };
    },
  }),
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
      if (result instanceof LedgerError && result.field === 'classId') {
        return rejectedMembership(new LedgerError(result.code, result.message, 'memberClassId'));
      }
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
  importMembersCsv: t.field({
    type: ImportMembersCsvPayload,
    description:
      'Imports members (MEMBERS) or buy-in payments (PAYMENTS) from a CSV file, all or nothing: a file with a bad row ' +
      'changes nothing and names every bad row.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ImportMembersCsvInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.coops.importCsv(
          {
            bookId: decodeCoopId(input.coopId),
            kind: input.kind,
            csv: input.csv,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError) return rejectedImport(result);
      return { ...result, userErrors: [] };
    },
  }),
}));
