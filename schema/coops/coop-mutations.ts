/**
 * Mutations of co-ops and their members (issue 5). Same conventions as the ledger's mutations.ts:
 * one `input`, a payload with `userErrors`; money-moving mutations take an `idempotencyKey` (same
 * key and input: the original answer with `replayed: true`; different input:
 * IDEMPOTENCY_KEY_REUSED). A caller who may not write the co-op gets the answer of an unknown one
 * (UNKNOWN_COOP, UNKNOWN_MEMBERSHIP, ...), so nothing reveals another tenant's ids. Creating a
 * co-op is for admins; everything else for the co-op's treasurers (and admins). Those checks are
 * CoopService's (after scope-auth here): resolvers decode ids and call one use case with the caller.
 *
 * This file: creating and changing a co-op, its member classes and its register of parties.
 * Memberships and their money are membership-mutations.ts; CSV imports import-mutations.ts.
 */
import type {
  CoopProfileInput,
  CoopRecord,
  MemberClassRecord,
  PartyRecord,
} from '../../server/coops/index.js';
import { LedgerError } from '../../server/core/index.js';
import { builder, type InputFields } from '../builder.js';
import { actorOf } from '../context.js';
import { guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { decodeCoopId } from '../ids.js';
import {
  CoopKindEnum,
  CoopRef,
  MemberClassRef,
  PartyKindEnum,
  PartyRef,
  RedemptionRuleEnum,
} from './refs.js';

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

const REPLAYED_DOC =
  'True when this answer repeats an earlier request with the same idempotencyKey; nothing new was created.';

const CreateMemberClassPayload = builder
  .objectRef<{ memberClass: MemberClassRecord | null; replayed: boolean; userErrors: LedgerError[] }>(
    'CreateMemberClassPayload',
  )
  .implement({
    fields: (t) => ({
      memberClass: t.field({ type: MemberClassRef, nullable: true, resolve: (p) => p.memberClass }),
      replayed: t.boolean({ description: REPLAYED_DOC, resolve: (p) => p.replayed }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const RegisterPartyPayload = builder
  .objectRef<{ party: PartyRecord | null; replayed: boolean; userErrors: LedgerError[] }>(
    'RegisterPartyPayload',
  )
  .implement({
    fields: (t) => ({
      party: t.field({ type: PartyRef, nullable: true, resolve: (p) => p.party }),
      replayed: t.boolean({ description: REPLAYED_DOC, resolve: (p) => p.replayed }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

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
    dataSharingConsentOn: t.field({
      type: 'Date',
      description:
        'The day data-sharing consent was given, when it predates this record (a signed form): with dataSharingConsent: true only, not before foundedOn, not in the future. Default: now. City reporting counts the co-op from the first month after it.',
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

/**
 * The register's writes take an optional key (a schema addition that breaks no client): with one,
 * a retry is safe (the SDK then retries these calls too); without one the call is sent once.
 */
const optionalKeyField = (t: InputFields, what: string) =>
  t.string({
    description:
      `Optional, 1-128 printable ASCII characters, unique per co-op: the same key and input answer the first ${what} ` +
      'again (`replayed: true`) and create nothing; the same key with other input is IDEMPOTENCY_KEY_REUSED. ' +
      'Without a key every call creates anew.',
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
    idempotencyKey: optionalKeyField(t, 'class'),
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
        'For an ORGANIZATION that is itself a co-op on this ledger (a federation member): its Coop id. It must be a ' +
        'co-op the caller may see (listed in the public directory, or one the caller reads); any other id is UNKNOWN_COOP.',
    }),
    externalRef: t.string({
      description: "The co-op's own reference, unique in the co-op, 1 to 100 characters.",
    }),
    idempotencyKey: optionalKeyField(t, 'party'),
  }),
});

/** Drops nulls so the service sees only the fields that change. */
function profileOf(input: Record<string, unknown>): CoopProfileInput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (v !== null && v !== undefined && k !== 'coopId') out[k] = v;
  return out as CoopProfileInput;
}

// ---------- mutations ----------

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
            dataSharingConsentOn: input.dataSharingConsentOn ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { coop: null, userErrors: userErrorsOf(result) }
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
        ? { coop: null, userErrors: userErrorsOf(result) }
        : { coop: result, userErrors: [] };
    },
  }),
  createMemberClass: t.field({
    type: CreateMemberClassPayload,
    description:
      'Adds a member class to a co-op (at most 50). With an idempotencyKey, a repeat answers the first class. ' +
      'Every problem of the input is reported at once.',
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
            idempotencyKey: input.idempotencyKey ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { memberClass: null, replayed: false, userErrors: userErrorsOf(result) }
        : { memberClass: result, replayed: result.replayed, userErrors: [] };
    },
  }),
  registerParty: t.field({
    type: RegisterPartyPayload,
    description:
      "Registers a person or organisation in a co-op's register (before they join). With an idempotencyKey, a repeat " +
      'answers the first party. Every problem of the input is reported at once.',
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
            idempotencyKey: input.idempotencyKey ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { party: null, replayed: false, userErrors: userErrorsOf(result) }
        : { party: result, replayed: result.replayed, userErrors: [] };
    },
  }),
}));
