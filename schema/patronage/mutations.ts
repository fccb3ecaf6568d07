/**
 * Mutations of patronage. Each takes one `input` and answers a payload with `userErrors` (nothing
 * changed when there are any). Money-moving ones (commit, reverse, cash payout, redemption) and
 * the record imports take an `idempotencyKey`: the same key and input answer the first result
 * (`replayed: true`), another input IDEMPOTENCY_KEY_REUSED. A caller who may not write the co-op
 * gets the answer of an unknown co-op or run.
 */
import { LedgerError } from '../../server/core/index.js';
import {
  PATRONAGE_KEY_LENGTH_MAX,
  PATRONAGE_RECORDS_MAX,
  type PayoutResult,
  type RecordBatchResult,
  type RunResult,
} from '../../server/patronage/index.js';
import { builder } from '../builder.js';
import { actorOf, type GraphQLContext } from '../context.js';
import { guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { decodeCoopId, decodeScopedId } from '../ids.js';
import { decodePatronageId } from './queries.js';
import {
  ConsentRef,
  DepartingRuleEnum,
  LossRuleEnum,
  MeasureKindEnum,
  NoticeTypeEnum,
  PayMethodEnum,
  PayoutRef,
  PolicyRef,
  RowErrorRef,
  RunRef,
} from './types.js';

const runKeyDoc = `1 to ${PATRONAGE_KEY_LENGTH_MAX} printable ASCII characters, unique per co-op: the same key and input answer the first result again.`;

// ---------- policy ----------

const UnitInput = builder.inputType('PatronageUnitInput', {
  fields: (t) => ({
    code: t.string({ required: true, description: 'e.g. HOUR, USD, KG.' }),
    scale: t.int({ required: true, description: 'Decimal places, 0 to 6.' }),
  }),
});

const MeasureInput = builder.inputType('PatronageMeasureInput', {
  fields: (t) => ({
    code: t.string({ required: true, description: 'A-Z, 0-9 and _, e.g. HOURS.' }),
    kind: t.field({ type: MeasureKindEnum, required: true }),
    unit: t.field({
      type: UnitInput,
      required: true,
      description: 'A measure keeps its unit in every later version.',
    }),
    weight: t.field({
      type: 'Decimal',
      required: true,
      description:
        "The measure's weight (e.g. 0.5 and 0.5 for half hours, half wages); 0 records without counting.",
    }),
  }),
});

const ClassMultiplierInput = builder.inputType('PatronageClassMultiplierInput', {
  fields: (t) => ({
    classCode: t.string({ required: true }),
    multiplier: t.field({
      type: 'Decimal',
      required: true,
      description: "Multiplies the class's members' patronage (above 0, up to 1000).",
    }),
  }),
});

const SetPolicyInput = builder.inputType('SetPatronagePolicyInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    measures: t.field({ type: [MeasureInput], required: true }),
    classMultipliers: t.field({ type: [ClassMultiplierInput] }),
    reservePercent: t.field({
      type: 'Decimal',
      required: true,
      description: 'Share of a surplus to the collective reserve (0 to 100).',
    }),
    communityPercent: t.field({ type: 'Decimal', description: 'Share to the community fund; default 0.' }),
    cashPercent: t.field({
      type: 'Decimal',
      description:
        'Share of each allocation paid in cash, rounded up to the cent; default 20, at least 20 for QUALIFIED.',
    }),
    noticeType: t.field({ type: NoticeTypeEnum, description: 'Default QUALIFIED.' }),
    consentByBylaw: t.boolean({
      description: 'Members consent through the bylaws; default true. Otherwise by setPatronageConsent.',
    }),
    revolvingYears: t.int({
      required: true,
      description: 'Years after its fiscal year ends that a retained allocation revolves (0 to 50).',
    }),
    minimumAllocation: t.field({
      type: 'Decimal',
      description: 'Allocations below this go to the reserve; default 0.',
    }),
    minimumCheque: t.field({
      type: 'Decimal',
      description: 'Cash below this stays payable until it adds up; default 0.',
    }),
    lossRule: t.field({ type: LossRuleEnum, description: 'Default RESERVE_FIRST.' }),
    departingRule: t.field({ type: DepartingRuleEnum, description: 'Default PAY_AT_ONCE.' }),
    idempotencyKey: t.string({
      description: 'Optional: the same key and input answer the same version again.',
    }),
  }),
});

const SetPolicyPayload = builder
  .objectRef<{ policy: unknown; replayed: boolean; userErrors: LedgerError[] }>('SetPatronagePolicyPayload')
  .implement({
    fields: (t) => ({
      // biome-ignore lint/suspicious/noExplicitAny: a PolicyRecord with its scale
      policy: t.field({ type: PolicyRef, nullable: true, resolve: (p) => p.policy as any }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const ConsentInput = builder.inputType('SetPatronageConsentInput', {
  fields: (t) => ({
    membershipId: t.id({ required: true }),
    consented: t.boolean({ required: true, description: 'false records a withdrawn consent.' }),
    effectiveOn: t.field({ type: 'Date', required: true }),
  }),
});

const ConsentPayload = builder
  .objectRef<{ consent: unknown; userErrors: LedgerError[] }>('SetPatronageConsentPayload')
  .implement({
    fields: (t) => ({
      // biome-ignore lint/suspicious/noExplicitAny: a ConsentRecord
      consent: t.field({ type: ConsentRef, nullable: true, resolve: (p) => p.consent as any }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

// ---------- records ----------

const RecordInput = builder.inputType('PatronageRecordInput', {
  fields: (t) => ({
    membershipId: t.id({ required: true }),
    measure: t.string({ required: true }),
    periodStart: t.field({ type: 'Date', required: true }),
    periodEnd: t.field({
      type: 'Date',
      required: true,
      description: 'Inclusive; at most 366 days after periodStart.',
    }),
    quantity: t.field({
      type: 'Decimal',
      required: true,
      description: "At the measure's unit scale; not negative.",
    }),
  }),
});

const RecordPatronageInput = builder.inputType('RecordPatronageInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    records: t.field({
      type: [RecordInput],
      required: true,
      description: `1 to ${PATRONAGE_RECORDS_MAX} records, all or nothing.`,
    }),
    idempotencyKey: t.string({ required: true }),
  }),
});

const RecordPatronagePayload = builder
  .objectRef<RecordBatchResult & { userErrors: LedgerError[] }>('RecordPatronagePayload')
  .implement({
    fields: (t) => ({
      recorded: t.exposeInt('recorded', { description: 'Records stored (0 with any userErrors).' }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({
        type: [UserErrorRef],
        description: 'Every problem, each naming its record (`records[3].quantity`).',
        resolve: (p) => p.userErrors,
      }),
    }),
  });

const ImportPatronageCsvInput = builder.inputType('ImportPatronageCsvInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    csv: t.string({
      required: true,
      description: `Header line first (any order, case-insensitive): member (number or external_ref), measure, period_start, period_end, quantity. At most ${PATRONAGE_RECORDS_MAX} rows.`,
    }),
    idempotencyKey: t.string({ required: true }),
  }),
});

const ImportPatronageCsvPayload = builder
  .objectRef<RecordBatchResult & { userErrors: LedgerError[] }>('ImportPatronageCsvPayload')
  .implement({
    fields: (t) => ({
      imported: t.boolean({ resolve: (p) => p.userErrors.length === 0 && p.rowErrors.length === 0 }),
      recorded: t.exposeInt('recorded'),
      replayed: t.exposeBoolean('replayed'),
      rowErrors: t.field({
        type: [RowErrorRef],
        description: 'Every bad row, in file order.',
        resolve: (p) => p.rowErrors,
      }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

// ---------- runs and payouts ----------

const CommitInput = builder.inputType('CommitPatronageAllocationInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    fiscalYear: t.int({
      required: true,
      description: 'The fiscal year, named by the calendar year it begins in.',
    }),
    surplus: t.field({
      type: 'Decimal',
      description: "The net surplus (negative: a loss); default the book's revenue less expenses.",
    }),
    allocatedOn: t.field({
      type: 'Date',
      description: 'The notices and entries date: after the year ends, not in the future; default today.',
    }),
    idempotencyKey: t.string({ required: true, description: runKeyDoc }),
  }),
});

const ReverseInput = builder.inputType('ReversePatronageAllocationInput', {
  fields: (t) => ({
    runId: t.id({ required: true }),
    idempotencyKey: t.string({ required: true, description: runKeyDoc }),
  }),
});

const RunPayload = (name: string) =>
  builder.objectRef<{ run: unknown; replayed: boolean; userErrors: LedgerError[] }>(name).implement({
    fields: (t) => ({
      // biome-ignore lint/suspicious/noExplicitAny: a RunRecord with its scale
      run: t.field({ type: RunRef, nullable: true, resolve: (p) => p.run as any }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const CommitPayload = RunPayload('CommitPatronageAllocationPayload');
const ReversePayload = RunPayload('ReversePatronageAllocationPayload');

const PayCashInput = builder.inputType('PayPatronageCashInput', {
  fields: (t) => ({
    runId: t.id({ required: true }),
    paidOn: t.field({ type: 'Date', required: true }),
    method: t.field({ type: PayMethodEnum, required: true }),
    idempotencyKey: t.string({ required: true, description: runKeyDoc }),
  }),
});

const RedeemInput = builder.inputType('RedeemRetainedPatronageInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    asOf: t.field({
      type: 'Date',
      required: true,
      description: 'Pays allocations revolved by this date; the entries are dated on it.',
    }),
    cap: t.field({
      type: 'Decimal',
      description: 'At most this much in all; default everything that has revolved.',
    }),
    method: t.field({ type: PayMethodEnum, required: true }),
    idempotencyKey: t.string({ required: true, description: runKeyDoc }),
  }),
});

const PayoutPayload = (name: string) =>
  builder.objectRef<{ payout: unknown; replayed: boolean; userErrors: LedgerError[] }>(name).implement({
    fields: (t) => ({
      // biome-ignore lint/suspicious/noExplicitAny: a PayoutRecord with its scale
      payout: t.field({ type: PayoutRef, nullable: true, resolve: (p) => p.payout as any }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const PayCashPayload = PayoutPayload('PayPatronageCashPayload');
const RedeemPayload = PayoutPayload('RedeemRetainedPatronagePayload');

const runPayload = (r: RunResult | LedgerError) =>
  r instanceof LedgerError
    ? { run: null, replayed: false, userErrors: userErrorsOf(r) }
    : { run: { ...r.run, scale: r.run.currency.scale }, replayed: r.replayed, userErrors: [] };

async function payoutPayload(ctx: GraphQLContext, bookId: string, r: PayoutResult | LedgerError) {
  if (r instanceof LedgerError) return { payout: null, replayed: false, userErrors: userErrorsOf(r) };
  const scale = (await ctx.services.patronage.currency(bookId))?.scale ?? 2;
  return { payout: { ...r.payout, scale }, replayed: r.replayed, userErrors: [] };
}

builder.mutationFields((t) => ({
  setPatronagePolicy: t.field({
    type: SetPolicyPayload,
    description:
      "Sets the co-op's patronage policy as a new version (runs record the version they used). The first one also creates the accounts patronage posts to (2300, 2350, 3900).",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: SetPolicyInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeCoopId(input.coopId);
      const result = await guard(() =>
        ctx.services.patronage.setPolicy(
          {
            ...input,
            bookId,
            measures: input.measures.map((m) => ({ ...m, unit: { code: m.unit.code, scale: m.unit.scale } })),
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return { policy: null, replayed: false, userErrors: userErrorsOf(result) };
      const scale = (await ctx.services.patronage.currency(bookId))?.scale ?? 2;
      return { policy: { ...result, scale }, replayed: result.replayed, userErrors: [] };
    },
  }),
  setPatronageConsent: t.field({
    type: ConsentPayload,
    description:
      "Records a member's written consent to take qualified notices into income (or its withdrawal).",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ConsentInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const key = decodeScopedId(String(input.membershipId), 'Membership') ?? { bookId: '', id: '' };
      const result = await guard(() =>
        ctx.services.patronage.setConsent(
          {
            bookId: key.bookId,
            membershipId: key.id,
            consented: input.consented,
            effectiveOn: input.effectiveOn,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { consent: null, userErrors: userErrorsOf(result) }
        : { consent: result, userErrors: [] };
    },
  }),
  recordPatronage: t.field({
    type: RecordPatronagePayload,
    description: "Records members' patronage (hours, wages, purchases, ...) for periods, all or nothing.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RecordPatronageInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeCoopId(input.coopId);
      const result = await guard(() =>
        ctx.services.patronage.recordPatronage(
          {
            bookId,
            idempotencyKey: input.idempotencyKey,
            records: input.records.map((r) => {
              const key = decodeScopedId(String(r.membershipId), 'Membership');
              return { ...r, membershipId: key && key.bookId === bookId ? key.id : '' };
            }),
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return { recorded: 0, replayed: false, rowErrors: [], userErrors: userErrorsOf(result) };
      return {
        ...result,
        userErrors: result.rowErrors.map(
          (e) =>
            // biome-ignore lint/suspicious/noExplicitAny: the code is one of ERROR_CODES
            new LedgerError(e.code as any, e.message, `records[${e.row}]${e.column ? `.${e.column}` : ''}`),
        ),
      };
    },
  }),
  importPatronageCsv: t.field({
    type: ImportPatronageCsvPayload,
    description:
      'Imports patronage records from a CSV file, all or nothing: a file with a bad row records nothing and names every bad row.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ImportPatronageCsvInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.patronage.importCsv(
          { bookId: decodeCoopId(input.coopId), csv: input.csv, idempotencyKey: input.idempotencyKey },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return { recorded: 0, replayed: false, rowErrors: [], userErrors: userErrorsOf(result) };
      return { ...result, userErrors: [] };
    },
  }),
  commitPatronageAllocation: t.field({
    type: CommitPayload,
    description:
      "Allocates the fiscal year's surplus (or charges its loss) and posts it as balanced entries in the co-op's book, storing the run with its inputs, their hash and its policy version.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CommitInput, required: true }) },
    resolve: async (_r, { input }, ctx) =>
      runPayload(
        await guard(() =>
          ctx.services.patronage.commit(
            {
              bookId: decodeCoopId(input.coopId),
              fiscalYear: input.fiscalYear,
              surplus: input.surplus ?? null,
              allocatedOn: input.allocatedOn ?? null,
              idempotencyKey: input.idempotencyKey,
            },
            actorOf(ctx),
          ),
        ),
      ),
  }),
  reversePatronageAllocation: t.field({
    type: ReversePayload,
    description:
      'Reverses a committed run as a whole (a linked reversing entry for each of its entries); its fiscal year may then be run again. Refused once anything was paid or redeemed against it.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ReverseInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const key = decodePatronageId(input.runId, 'PatronageRun') ?? { bookId: '', id: '' };
      return runPayload(
        await guard(() =>
          ctx.services.patronage.reverse(
            { bookId: key.bookId, runId: key.id, idempotencyKey: input.idempotencyKey },
            actorOf(ctx),
          ),
        ),
      );
    },
  }),
  payPatronageCash: t.field({
    type: PayCashPayload,
    description:
      "Pays a run's cash parts (with members' earlier unpaid ones) from cash or bank, clearing patronage payable; once per run. A member whose total is below the minimum cheque is carried to the next payout.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: PayCashInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const key = decodePatronageId(input.runId, 'PatronageRun') ?? { bookId: '', id: '' };
      return payoutPayload(
        ctx,
        key.bookId,
        await guard(() =>
          ctx.services.patronage.payCash(
            {
              bookId: key.bookId,
              runId: key.id,
              paidOn: input.paidOn,
              method: input.method,
              idempotencyKey: input.idempotencyKey,
            },
            actorOf(ctx),
          ),
        ),
      );
    },
  }),
  redeemRetainedPatronage: t.field({
    type: RedeemPayload,
    description:
      'Pays retained allocations older than their revolving period, oldest fiscal year first, up to `cap` (the last year reached paid pro rata).',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: RedeemInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeCoopId(input.coopId);
      return payoutPayload(
        ctx,
        bookId,
        await guard(() =>
          ctx.services.patronage.redeem(
            {
              bookId,
              asOf: input.asOf,
              cap: input.cap ?? null,
              method: input.method,
              idempotencyKey: input.idempotencyKey,
            },
            actorOf(ctx),
          ),
        ),
      );
    },
  }),
}));
