/**
 * Types of city reporting (issue 15): a release (one protected table of a city), its cells, the
 * treasurer's profile reports.
 */
import type { ProfileRow, ReleaseRow, ReleaseSummary, SliceCell } from '../../server/reporting/index.js';
import { builder } from '../builder.js';

export const SuppressionReasonEnum = builder.enumType('SuppressionReason', {
  description:
    'Why a cell is withheld: THRESHOLD (too few co-ops), DOMINANCE (one or two co-ops make up most of it), P_PERCENT (a co-op could estimate another too closely), COMPLEMENTARY (withheld so another withheld cell cannot be worked out).',
  values: ['THRESHOLD', 'DOMINANCE', 'P_PERCENT', 'COMPLEMENTARY'] as const,
});

export const CellStatusEnum = builder.enumType('CityReportCellStatus', {
  description: 'What a cell of a release holds.',
  values: {
    PUBLISHED: { description: 'A figure.' },
    SUPPRESSED: { description: 'Withheld to protect a co-op or a person: value null, with a reason.' },
    NO_DATA: {
      description:
        'No co-op of this neighbourhood, sector and kind shared data in any month of the period (before their data-sharing consent or founding; the COOPS cells of those months say 0): value null, not suppressed, not a zero.',
    },
  } as const,
});

export const ReportDimensionEnum = builder.enumType('ReportDimension', {
  values: ['NEIGHBOURHOOD', 'SECTOR', 'KIND'] as const,
});

export const ReportGranularityEnum = builder.enumType('ReportGranularity', {
  description: 'Months, complete quarters or complete years.',
  values: ['MONTH', 'QUARTER', 'YEAR'] as const,
});

export const ReportFormatEnum = builder.enumType('ReportExportFormat', { values: ['CSV', 'JSON'] as const });

interface Policy {
  minContributors: number;
  dominanceN: number;
  dominanceK: number;
  pPercent: number;
  safetyPercent: number;
}

const PolicyRef = builder.objectRef<Policy>('DisclosurePolicy').implement({
  description: 'The primary disclosure rules a release was protected by.',
  fields: (t) => ({
    minContributors: t.exposeInt('minContributors', {
      description: 'A cell needs at least this many contributing co-ops.',
    }),
    dominanceN: t.exposeInt('dominanceN'),
    dominanceK: t.exposeInt('dominanceK', {
      description: 'The n largest may give at most k percent of a cell.',
    }),
    pPercent: t.exposeInt('pPercent'),
    safetyPercent: t.exposeInt('safetyPercent'),
  }),
});

export const ReleaseRef = builder.objectRef<ReleaseRow>('CityReportRelease').implement({
  description:
    "One protected table of a city's solidarity economy: every neighbourhood x sector x kind x measure x period cell with all margins, protected once and audited. Every reporting answer is cells of one release.",
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'The release identifier (two exports of one release are identical).',
    }),
    city: t.exposeString('city'),
    seq: t.exposeInt('seq', { description: 'The release number within the city, from 1.' }),
    currency: t.exposeString('currency', { description: 'The currency of money cells.' }),
    firstMonth: t.exposeString('firstMonth'),
    throughMonth: t.exposeString('throughMonth', { description: 'The last month covered (YYYY-MM).' }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
    policy: t.field({ type: PolicyRef, resolve: (r) => r.policy as Policy }),
    neighbourhoods: t.stringList({
      resolve: (r) => (r.dimensions as { neighbourhoods: string[] }).neighbourhoods,
    }),
    sectors: t.stringList({
      description: 'NAICS sectors (two digits).',
      resolve: (r) => (r.dimensions as { sectors: string[] }).sectors,
    }),
    kinds: t.stringList({ resolve: (r) => (r.dimensions as { kinds: string[] }).kinds }),
    contributors: t.int({
      description: 'Co-ops whose figures the release holds.',
      resolve: (r) => (r.summary as ReleaseSummary).contributors,
    }),
    primarySuppressed: t.int({ resolve: (r) => (r.summary as ReleaseSummary).primary }),
    complementarySuppressed: t.int({ resolve: (r) => (r.summary as ReleaseSummary).complementary }),
    auditedCells: t.int({
      description:
        'Withheld sensitive cells whose interval the LP audit checked. With auditSkipped, all of them: every certificate is verified exactly, the LP audit is an independent second check within a time budget.',
      resolve: (r) => (r.summary as ReleaseSummary).auditedCells,
    }),
    auditSkipped: t.int({
      description:
        'Withheld sensitive cells the LP audit did not reach within its time budget (5 minutes): their certificates were verified exactly, the independent LP check was not run on them. 0 when every cell was audited.',
      resolve: (r) => (r.summary as ReleaseSummary).auditSkipped ?? 0,
    }),
  }),
});

export const ReportCellRef = builder.objectRef<SliceCell>('CityReportCell').implement({
  description:
    'One cell of a release. A withheld cell has value null, suppressed true and a reason; never a zero. A cell with no consenting co-op in its period has value null and status NO_DATA.',
  fields: (t) => ({
    neighbourhood: t.exposeString('neighbourhood', { description: 'A neighbourhood or TOTAL.' }),
    sector: t.exposeString('sector', { description: 'A NAICS sector or TOTAL.' }),
    kind: t.exposeString('kind', { description: 'A kind of co-op or TOTAL.' }),
    measure: t.exposeString('measure'),
    period: t.exposeString('period', { description: 'YYYY-MM, YYYY-Qn or YYYY.' }),
    value: t.string({
      nullable: true,
      description:
        'A decimal string: money with the currency scale, people and co-ops whole. Null when withheld or NO_DATA.',
      resolve: (c) => c.value,
    }),
    status: t.field({ type: CellStatusEnum, resolve: (c) => c.status }),
    suppressed: t.exposeBoolean('suppressed'),
    reason: t.field({ type: SuppressionReasonEnum, nullable: true, resolve: (c) => c.reason }),
  }),
});

const CountRef = builder.objectRef<{ category: string; count: number }>('ReportedCount').implement({
  fields: (t) => ({ category: t.exposeString('category'), count: t.exposeInt('count') }),
});

export const ProfileRef = builder.objectRef<ProfileRow>('CoopReportingProfile').implement({
  description:
    "A co-op's dated report of what the city counts and the ledger does not know (entered by its treasurer).",
  fields: (t) => ({
    id: t.exposeID('id'),
    asOf: t.field({ type: 'Date', resolve: (p) => p.asOf }),
    workersNotMembers: t.exposeInt('workersNotMembers'),
    workerOwners: t.exposeInt('workerOwners'),
    byGender: t.field({
      type: [CountRef],
      resolve: (p) => Object.entries(p.gender).map(([category, count]) => ({ category, count })),
    }),
    byRace: t.field({
      type: [CountRef],
      resolve: (p) => Object.entries(p.race).map(([category, count]) => ({ category, count })),
    }),
    jobsCreatedAtFounding: t.int({ nullable: true, resolve: (p) => p.jobsCreatedAtFounding }),
    closedOn: t.field({ type: 'Date', nullable: true, resolve: (p) => p.closedOn }),
    cityContractsAwarded: t.int({ resolve: (p) => p.cityContractsCount }),
    cityContractsValue: t.field({ type: 'Decimal', resolve: (p) => p.cityContractsValue }),
    reportingGroup: t.string({ nullable: true, resolve: (p) => p.reportingGroup }),
    recordedAt: t.field({ type: 'DateTime', resolve: (p) => p.recordedAt }),
  }),
});
