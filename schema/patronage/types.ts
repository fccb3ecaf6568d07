/**
 * The patronage domain's object types: the policy, runs (committed) and previews (computed, not
 * stored), each member's allocation, payouts, notices and tax forms. Money is a Decimal at the
 * co-op's currency scale; patronage quantities at their measure's unit scale.
 *
 * Who reads what: runs, previews, policies, payouts and tax forms are the co-op's treasurers' (and
 * admins'); a member reads their own allocations and notices (myPatronageAllocations,
 * patronageNotice), nothing of other members. Each type checks its tenant on the object itself.
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  DEPARTING_RULES,
  type Decimal,
  LOSS_RULES,
  NOTICE_TYPES,
  PATRONAGE_MEASURE_KINDS,
  type PatronagePolicy,
} from '../../server/core/index.js';
import type {
  AllocationLine,
  ConsentRecord,
  MeasureFigure,
  PaymentLine,
  PayoutRecord,
  PolicyRecord,
  RunFigures,
  RunMeasure,
  RunRecord,
  RunVerification,
  StoredPatronageRecord,
  TaxFormRow,
} from '../../server/patronage/index.js';
import { builder } from '../builder.js';
import { connectionType } from '../connection.js';
import { ErrorCodeEnum } from '../errors.js';
import { scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import { JournalEntryRef, UnitRef } from '../refs.js';

export const membershipGlobalId = (bookId: string, id: string) =>
  encodeGlobalID('Membership', scopedId(bookId, id));
export const runGlobalId = (bookId: string, id: string) =>
  encodeGlobalID('PatronageRun', scopedId(bookId, id));
export const payoutGlobalId = (bookId: string, id: string) =>
  encodeGlobalID('PatronagePayout', scopedId(bookId, id));
const coopGlobalId = (bookId: string) => encodeGlobalID('Coop', bookId);

export const MeasureKindEnum = builder.enumType('PatronageMeasureKind', {
  description:
    'What a measure counts: HOURS or WAGES (worker co-ops), PURCHASES or SALES (consumer and producer co-ops), or CUSTOM.',
  values: PATRONAGE_MEASURE_KINDS,
});
export const NoticeTypeEnum = builder.enumType('PatronageNoticeType', {
  description:
    'QUALIFIED: the retained part is income to the member when the notice is issued (Subchapter T: at least 20% in cash and ' +
    "the member's consent). NON_QUALIFIED: income when it is redeemed.",
  values: NOTICE_TYPES,
});
export const LossRuleEnum = builder.enumType('PatronageLossRule', {
  description:
    'How a loss year is charged. RESERVE_FIRST: to the collective reserve up to its balance, the rest to members by patronage. ' +
    'MEMBERS_BY_PATRONAGE: all to members by patronage. RESERVE_ONLY: all to the reserve (which may go below zero).',
  values: LOSS_RULES,
});
export const DepartingRuleEnum = builder.enumType('PatronageDepartingRule', {
  description:
    "A departing member's retained allocations. PAY_AT_ONCE: redeemed by the leaving entry with their capital (and a former " +
    "member's later allocations are paid all in cash). KEEP_UNTIL_REVOLVED: kept on their internal capital account until their year revolves.",
  values: DEPARTING_RULES,
});
export const ConsentEnum = builder.enumType('PatronageConsent', {
  description:
    "A member's consent to take qualified notices into income: BYLAW (the co-op's bylaws), WRITTEN, or NONE.",
  values: ['BYLAW', 'WRITTEN', 'NONE'] as const,
});
export const RunKindEnum = builder.enumType('PatronageRunKind', {
  description: 'SURPLUS: a surplus allocated. LOSS: a loss charged.',
  values: ['SURPLUS', 'LOSS'] as const,
});
export const RunStatusEnum = builder.enumType('PatronageRunStatus', {
  description: 'COMMITTED: posted. REVERSED: its entries were reversed; the fiscal year may be run again.',
  values: ['COMMITTED', 'REVERSED'] as const,
});
export const SurplusSourceEnum = builder.enumType('PatronageSurplusSource', {
  description:
    "BOOK: revenue less expenses of the co-op's book for the fiscal year. GIVEN: the surplus passed in.",
  values: ['BOOK', 'GIVEN'] as const,
});
export const PayMethodEnum = builder.enumType('PatronagePayMethod', {
  description: "Which of the co-op's money accounts pays: CASH (1000) or BANK (1010).",
  values: ['CASH', 'BANK'] as const,
});

const decimal = (d: Decimal, scale: number) => d.toFixed(scale);

type Policy = PatronagePolicy & { scale: number };

const PolicyMeasureRef = builder.objectRef<Policy['measures'][number]>('PatronagePolicyMeasure').implement({
  fields: (t) => ({
    code: t.exposeString('code'),
    kind: t.field({ type: MeasureKindEnum, resolve: (m) => m.kind }),
    unit: t.field({ type: UnitRef, resolve: (m) => m.unit }),
    weight: t.field({ type: 'Decimal', resolve: (m) => m.weight.toFixed() }),
  }),
});

const ClassMultiplierRef = builder
  .objectRef<Policy['classMultipliers'][number]>('PatronageClassMultiplier')
  .implement({
    fields: (t) => ({
      classCode: t.exposeString('classCode'),
      multiplier: t.field({ type: 'Decimal', resolve: (c) => c.multiplier.toFixed() }),
    }),
  });

export const PolicyRef = builder.objectRef<PolicyRecord & { scale: number }>('PatronagePolicy').implement({
  description:
    "A version of a co-op's patronage policy. Each change is a new version; a run records the version it used.",
  authScopes: (p) => ({ bookRead: p.bookId }),
  fields: (t) => ({
    coopId: t.id({ resolve: (p) => coopGlobalId(p.bookId) }),
    version: t.exposeInt('version'),
    measures: t.field({ type: [PolicyMeasureRef], resolve: (p) => p.policy.measures }),
    classMultipliers: t.field({ type: [ClassMultiplierRef], resolve: (p) => p.policy.classMultipliers }),
    reservePercent: t.field({ type: 'Decimal', resolve: (p) => p.policy.reservePercent.toFixed() }),
    communityPercent: t.field({ type: 'Decimal', resolve: (p) => p.policy.communityPercent.toFixed() }),
    cashPercent: t.field({
      type: 'Decimal',
      description: 'The share of each allocation paid in cash, rounded up to the cent.',
      resolve: (p) => p.policy.cashPercent.toFixed(),
    }),
    noticeType: t.field({ type: NoticeTypeEnum, resolve: (p) => p.policy.noticeType }),
    consentByBylaw: t.boolean({ resolve: (p) => p.policy.consentByBylaw }),
    revolvingYears: t.int({ resolve: (p) => p.policy.revolvingYears }),
    minimumAllocation: t.field({
      type: 'Decimal',
      resolve: (p) => decimal(p.policy.minimumAllocation, p.scale),
    }),
    minimumCheque: t.field({ type: 'Decimal', resolve: (p) => decimal(p.policy.minimumCheque, p.scale) }),
    lossRule: t.field({ type: LossRuleEnum, resolve: (p) => p.policy.lossRule }),
    departingRule: t.field({ type: DepartingRuleEnum, resolve: (p) => p.policy.departingRule }),
    createdAt: t.field({ type: 'DateTime', resolve: (p) => p.createdAt }),
    createdBy: t.string({ nullable: true, resolve: (p) => p.createdBy }),
  }),
});

const MeasureFigureRef = builder.objectRef<MeasureFigure>('PatronageMeasureFigure').implement({
  description: "A member's patronage in one measure for the fiscal year.",
  fields: (t) => ({
    measure: t.exposeString('measure'),
    unit: t.field({ type: UnitRef, resolve: (m) => m.unit }),
    counted: t.field({
      type: 'Decimal',
      description:
        'Counted: the days of each record within the year on which the member was ACTIVE (rounded to the unit for display; the cents use the exact value).',
      resolve: (m) => m.counted.toFixed(m.unit.scale),
    }),
    excluded: t.field({
      type: 'Decimal',
      description: 'Recorded for days in the year outside membership: reported, not counted.',
      resolve: (m) => m.excluded.toFixed(m.unit.scale),
    }),
  }),
});

type Line = AllocationLine & { scale: number; runId?: string; fiscalYear?: number; runStatus?: string };

export const AllocationRef = builder.objectRef<Line>('PatronageAllocation').implement({
  description:
    "A member's allocation (or loss charge) in a run or preview. cash + retained = allocation, to the cent.",
  authScopes: (a) => ({ $any: { bookRead: a.bookId, coopMember: a.bookId } }),
  fields: (t) => ({
    membershipId: t.id({ resolve: (a) => membershipGlobalId(a.bookId, a.membershipId) }),
    memberNumber: t.exposeInt('memberNumber'),
    classCode: t.exposeString('classCode'),
    runId: t.id({
      nullable: true,
      description: 'Null in a preview.',
      resolve: (a) => (a.runId ? runGlobalId(a.bookId, a.runId) : null),
    }),
    fiscalYear: t.int({ nullable: true, resolve: (a) => a.fiscalYear ?? null }),
    former: t.boolean({
      description:
        'The member had left when the run was computed (its commit), even if after the allocation date: paid all in cash under PAY_AT_ONCE.',
      resolve: (a) => a.former,
    }),
    patronage: t.field({ type: [MeasureFigureRef], resolve: (a) => a.patronage }),
    share: t.field({
      type: 'Decimal',
      description: "The member's share of the member pool, rounded to 10 decimals for display.",
      resolve: (a) => a.share,
    }),
    allocation: t.field({
      type: 'Decimal',
      description: 'Negative for a loss charge.',
      resolve: (a) => decimal(a.allocation, a.scale),
    }),
    cash: t.field({ type: 'Decimal', resolve: (a) => decimal(a.cash, a.scale) }),
    retained: t.field({ type: 'Decimal', resolve: (a) => decimal(a.retained, a.scale) }),
    belowMinimum: t.field({
      type: 'Decimal',
      description:
        "What the member would have had, were it not below the policy's minimum allocation (it went to the reserve).",
      resolve: (a) => decimal(a.belowMinimum, a.scale),
    }),
    qualified: t.boolean({ resolve: (a) => a.qualified }),
    consent: t.field({ type: ConsentEnum, resolve: (a) => a.consent }),
    cashPaid: t.field({ type: 'Decimal', resolve: (a) => decimal(a.cashPaid, a.scale) }),
    redeemed: t.field({ type: 'Decimal', resolve: (a) => decimal(a.redeemed, a.scale) }),
    writtenOff: t.field({
      type: 'Decimal',
      description: 'Retained part written off by a loss.',
      resolve: (a) => decimal(a.writtenOff, a.scale),
    }),
    outstanding: t.field({
      type: 'Decimal',
      description: 'Retained part still to be redeemed: retained - redeemed - writtenOff (zero for a loss).',
      resolve: (a) =>
        decimal(
          a.retained.gt(0) ? a.retained.minus(a.redeemed).minus(a.writtenOff) : a.retained.times(0),
          a.scale,
        ),
    }),
  }),
});

export const AllocationConnection = connectionType('PatronageAllocation', AllocationRef);

const RunMeasureRef = builder.objectRef<RunMeasure>('PatronageRunMeasure').implement({
  fields: (t) => ({
    code: t.exposeString('code'),
    kind: t.field({ type: MeasureKindEnum, resolve: (m) => m.kind }),
    unit: t.field({ type: UnitRef, resolve: (m) => m.unit }),
    weight: t.field({ type: 'Decimal', resolve: (m) => m.weight.toFixed() }),
    total: t.field({
      type: 'Decimal',
      description: 'Counted over all members, before class multipliers.',
      resolve: (m) => m.total.toFixed(m.unit.scale),
    }),
  }),
});

type Figures = Omit<RunFigures, 'lines'>;

export const PreviewRef = builder.objectRef<RunFigures & { scale: number }>('PatronagePreview');
export const RunRef = builder.objectRef<RunRecord & { scale: number }>('PatronageRun');

for (const [ref, name] of [
  [PreviewRef, 'preview'],
  [RunRef, 'run'],
] as const) {
  // biome-ignore lint/suspicious/noExplicitAny: the two refs share these fields over a common shape
  (ref as any).implement({
    description:
      name === 'preview'
        ? 'What a run would be, computed now and not stored. Commit it with commitPatronageAllocation.'
        : "A committed (or reversed) allocation run: its pools, entries and every member's allocation.",
    // biome-ignore lint/suspicious/noExplicitAny: as above
    authScopes: (f: any) => ({ bookRead: f.bookId }),
    // biome-ignore lint/suspicious/noExplicitAny: as above
    fields: (t: any) => ({
      coopId: t.id({ resolve: (f: Figures) => coopGlobalId(f.bookId) }),
      fiscalYear: t.int({ resolve: (f: Figures) => f.fiscalYear }),
      periodStart: t.field({ type: 'Date', resolve: (f: Figures) => f.periodStart }),
      periodEnd: t.field({ type: 'Date', resolve: (f: Figures) => f.periodEnd }),
      currency: t.field({ type: UnitRef, resolve: (f: Figures) => f.currency }),
      kind: t.field({ type: RunKindEnum, resolve: (f: Figures) => f.kind }),
      surplus: t.field({
        type: 'Decimal',
        description: 'Net surplus allocated (negative: a loss).',
        resolve: (f: Figures) => decimal(f.surplus, f.currency.scale),
      }),
      surplusSource: t.field({ type: SurplusSourceEnum, resolve: (f: Figures) => f.surplusSource }),
      reserve: t.field({
        type: 'Decimal',
        description:
          'To the collective reserve, allocations below the minimum included (negative: a loss charged to it).',
        resolve: (f: Figures) => decimal(f.reserve, f.currency.scale),
      }),
      community: t.field({
        type: 'Decimal',
        resolve: (f: Figures) => decimal(f.community, f.currency.scale),
      }),
      memberPool: t.field({
        type: 'Decimal',
        resolve: (f: Figures) => decimal(f.memberPool, f.currency.scale),
      }),
      belowMinimum: t.field({
        type: 'Decimal',
        resolve: (f: Figures) => decimal(f.belowMinimum, f.currency.scale),
      }),
      cashTotal: t.field({
        type: 'Decimal',
        resolve: (f: Figures) => decimal(f.cashTotal, f.currency.scale),
      }),
      retainedTotal: t.field({
        type: 'Decimal',
        resolve: (f: Figures) => decimal(f.retainedTotal, f.currency.scale),
      }),
      allocatedOn: t.field({ type: 'Date', resolve: (f: Figures) => f.allocatedOn }),
      policyVersion: t.int({ resolve: (f: Figures) => f.policyVersion }),
      noticeType: t.field({ type: NoticeTypeEnum, resolve: (f: Figures) => f.noticeType }),
      revolvingYears: t.int({ resolve: (f: Figures) => f.revolvingYears }),
      measures: t.field({ type: [RunMeasureRef], resolve: (f: Figures) => f.measures }),
      inputsHash: t.string({
        description:
          'SHA-256 of the canonical inputs (records, days of membership, policy, surplus): the same inputs always give the same cents.',
        resolve: (f: Figures) => f.inputsHash,
      }),
    }),
  });
}

builder.objectFields(RunRef, (t) => ({
  id: t.id({ resolve: (r) => runGlobalId(r.bookId, r.id) }),
  status: t.field({ type: RunStatusEnum, resolve: (r) => r.status }),
  memberCount: t.int({ description: 'Members with an allocation row.', resolve: (r) => r.memberCount }),
  idempotencyKey: t.exposeString('idempotencyKey'),
  createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
  createdBy: t.string({ nullable: true, resolve: (r) => r.createdBy }),
  reversedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.reversedAt }),
  entries: t.field({
    type: [JournalEntryRef],
    description: "The run's balanced entries in the co-op's book, in posting order.",
    resolve: async (r, _a, ctx) => {
      const ids = await ctx.services.patronage.runEntryIds(r.bookId, r.id);
      const found = await Promise.all(ids.map((id) => loaders(ctx).entry.load(scopedId(r.bookId, id))));
      return found.filter((e) => e !== null);
    },
  }),
}));

export const RunConnection = connectionType('PatronageRun', RunRef);

export const VerificationRef = builder
  .objectRef<RunVerification & { bookId: string }>('PatronageRunVerification')
  .implement({
    authScopes: (v) => ({ bookRead: v.bookId }),
    fields: (t) => ({
      runId: t.id({ resolve: (v) => runGlobalId(v.bookId, v.runId) }),
      inputsHashMatches: t.exposeBoolean('inputsHashMatches'),
      figuresMatch: t.exposeBoolean('figuresMatch', {
        description:
          "Recomputed from the stored inputs, every pool and every member's cents equal the stored ones.",
      }),
      recordsUnchanged: t.exposeBoolean('recordsUnchanged', {
        description:
          "Counting the year's records and days of membership again gives the stored inputs (false once they changed; the run stands as committed).",
      }),
      mismatches: t.exposeStringList('mismatches'),
    }),
  });

const PaymentLineRef = builder
  .objectRef<PaymentLine & { bookId: string; scale: number }>('PatronagePaymentLine')
  .implement({
    fields: (t) => ({
      membershipId: t.id({ resolve: (p) => membershipGlobalId(p.bookId, p.membershipId) }),
      memberNumber: t.exposeInt('memberNumber'),
      runId: t.id({ resolve: (p) => runGlobalId(p.bookId, p.runId) }),
      fiscalYear: t.exposeInt('fiscalYear'),
      amount: t.field({ type: 'Decimal', resolve: (p) => decimal(p.amount, p.scale) }),
    }),
  });

export const PayoutRef = builder.objectRef<PayoutRecord & { scale: number }>('PatronagePayout').implement({
  description: 'A cash payout of a run, or a revolving redemption of retained allocations.',
  authScopes: (p) => ({ bookRead: p.bookId }),
  fields: (t) => ({
    id: t.id({ resolve: (p) => payoutGlobalId(p.bookId, p.id) }),
    kind: t.string({ description: 'CASH or REDEMPTION.', resolve: (p) => p.kind }),
    runId: t.id({ nullable: true, resolve: (p) => (p.runId ? runGlobalId(p.bookId, p.runId) : null) }),
    paidOn: t.field({ type: 'Date', resolve: (p) => p.paidOn }),
    method: t.field({ type: PayMethodEnum, resolve: (p) => p.method }),
    total: t.field({ type: 'Decimal', resolve: (p) => decimal(p.total, p.scale) }),
    cap: t.field({
      type: 'Decimal',
      nullable: true,
      resolve: (p) => (p.cap ? decimal(p.cap, p.scale) : null),
    }),
    entryCount: t.exposeInt('entryCount'),
    payments: t.field({
      type: [PaymentLineRef],
      description: 'What was paid, per member and allocation, in member-number order.',
      resolve: (p) => p.payments.map((l) => ({ ...l, bookId: p.bookId, scale: p.scale })),
    }),
    carried: t.field({
      type: [PaymentLineRef],
      description:
        "Cash parts left payable (the member's total was below the minimum cheque); answered by the payout request only.",
      resolve: (p) => p.carried.map((l) => ({ ...l, bookId: p.bookId, scale: p.scale })),
    }),
  }),
});

export const NoticeRef = builder
  .objectRef<{
    bookId: string;
    runId: string;
    membershipId: string;
    fileName: string;
    html: string;
    pdf: Buffer;
  }>('PatronageNotice')
  .implement({
    description: "A member's written notice of allocation for a run.",
    authScopes: (n) => ({ $any: { bookRead: n.bookId, coopMember: n.bookId } }),
    fields: (t) => ({
      runId: t.id({ resolve: (n) => runGlobalId(n.bookId, n.runId) }),
      membershipId: t.id({ resolve: (n) => membershipGlobalId(n.bookId, n.membershipId) }),
      fileName: t.exposeString('fileName'),
      html: t.exposeString('html'),
      pdfBase64: t.string({
        description: 'The notice as a PDF file, base64-encoded.',
        resolve: (n) => n.pdf.toString('base64'),
      }),
    }),
  });

const TaxRowRef = builder.objectRef<TaxFormRow & { scale: number }>('Patronage1099Row').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    address: t.exposeString('address'),
    memberNumbers: t.exposeIntList('memberNumbers'),
    box1: t.field({
      type: 'Decimal',
      description: 'Patronage dividends: cash paid + qualified notices.',
      resolve: (r) => decimal(r.box1, r.scale),
    }),
    box5: t.field({
      type: 'Decimal',
      description: 'Redemptions of non-qualified notices.',
      resolve: (r) => decimal(r.box5, r.scale),
    }),
  }),
});

export const TaxFormsRef = builder
  .objectRef<{ bookId: string; taxYear: number; csv: string; rows: TaxFormRow[]; scale: number }>(
    'Patronage1099',
  )
  .implement({
    description: "A co-op's Form 1099-PATR data for a calendar year: only recipients paid $10 or more.",
    authScopes: (f) => ({ bookRead: f.bookId }),
    fields: (t) => ({
      taxYear: t.exposeInt('taxYear'),
      csv: t.exposeString('csv', {
        description: 'One line per recipient; the TIN column is left for the co-op to fill in.',
      }),
      rows: t.field({ type: [TaxRowRef], resolve: (f) => f.rows.map((r) => ({ ...r, scale: f.scale })) }),
    }),
  });

export const RecordRef = builder.objectRef<StoredPatronageRecord>('PatronageRecord').implement({
  authScopes: (r) => ({ bookRead: r.bookId }),
  fields: (t) => ({
    id: t.id({ resolve: (r) => encodeGlobalID('PatronageRecord', scopedId(r.bookId, r.id)) }),
    membershipId: t.id({ resolve: (r) => membershipGlobalId(r.bookId, r.membershipId) }),
    memberNumber: t.exposeInt('memberNumber'),
    measure: t.exposeString('measure'),
    periodStart: t.field({ type: 'Date', resolve: (r) => r.periodStart }),
    periodEnd: t.field({ type: 'Date', resolve: (r) => r.periodEnd }),
    quantity: t.field({ type: 'Decimal', resolve: (r) => r.quantity.toFixed() }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
  }),
});

export const RecordConnection = connectionType('PatronageRecord', RecordRef);

export const ConsentRef = builder.objectRef<ConsentRecord>('PatronageConsentRecord').implement({
  authScopes: (c) => ({ bookRead: c.bookId }),
  fields: (t) => ({
    membershipId: t.id({ resolve: (c) => membershipGlobalId(c.bookId, c.membershipId) }),
    consented: t.exposeBoolean('consented'),
    effectiveOn: t.field({ type: 'Date', resolve: (c) => c.effectiveOn }),
    recordedAt: t.field({ type: 'DateTime', resolve: (c) => c.recordedAt }),
    recordedBy: t.string({ nullable: true, resolve: (c) => c.recordedBy }),
  }),
});

export const RowErrorRef = builder
  .objectRef<{ row: number; column: string | null; code: string; message: string }>('PatronageRowError')
  .implement({
    description: 'A problem with one row of an imported file (row = line number, the header is line 1).',
    fields: (t) => ({
      row: t.exposeInt('row'),
      column: t.string({ nullable: true, resolve: (e) => e.column }),
      // biome-ignore lint/suspicious/noExplicitAny: the code is one of ERROR_CODES
      code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code as any }),
      message: t.exposeString('message'),
    }),
  });
