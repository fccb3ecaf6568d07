/**
 * Mutations of city reporting (issue 15): a treasurer's profile report (idempotent), and
 * publishing a city's next release (a CITY_ANALYST of the city or an ADMIN; it refreshes the
 * rollup, protects, audits and stores, or refuses with RELEASE_NOT_PROTECTED and keeps nothing;
 * one at a time per city, RELEASE_IN_PROGRESS; THROTTLED when the service's queue is full).
 * Data-sharing consent is the co-op's own `dataSharingConsent` (updateCoop), dated when given.
 */
import { GraphQLError } from 'graphql';
import { LedgerError } from '../../server/core/index.js';
import { type ProfileRow, type ReleaseRow, ReleasesBusyError } from '../../server/reporting/index.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { decodeCoopId } from '../ids.js';
import { ProfileRef, ReleaseRef } from './types.js';

const CountInput = builder.inputType('ReportedCountInput', {
  fields: (t) => ({
    category: t.string({ required: true }),
    count: t.int({ required: true }),
  }),
});

const ProfileInput = builder.inputType('ReportCoopProfileInput', {
  description:
    'What the co-op reports as of a day. Breakdowns are optional and self-reported: worker-owners not given in a breakdown count as UNDISCLOSED. Gender categories: WOMEN, MEN, NON_BINARY, UNDISCLOSED. Race/ethnicity: ASIAN, BLACK, HISPANIC_LATINO, INDIGENOUS, MIDDLE_EASTERN_NORTH_AFRICAN, PACIFIC_ISLANDER, WHITE, MULTIRACIAL, OTHER, UNDISCLOSED.',
  fields: (t) => ({
    coopId: t.id({ required: true }),
    asOf: t.field({ type: 'Date', required: true }),
    workersNotMembers: t.int({ required: true }),
    workerOwners: t.int({ required: true }),
    byGender: t.field({ type: [CountInput] }),
    byRace: t.field({ type: [CountInput] }),
    jobsCreatedAtFounding: t.int({ description: 'Jobs created when the co-op was founded or converted.' }),
    closedOn: t.field({
      type: 'Date',
      description:
        'The day the co-op closed (dissolved, wound up, ceased trading), on or before asOf: it counts in CLOSED that month and no longer in COOPS.',
    }),
    cityContractsAwarded: t.int({ description: 'City contracts awarded, counted in the month of asOf.' }),
    cityContractsValue: t.field({ type: 'Decimal', description: "Their value in the co-op's currency." }),
    reportingGroup: t.string({
      description: 'The owner or federation whose co-ops count as one contributor in city reports.',
    }),
    idempotencyKey: t.string({ required: true }),
  }),
});

const ProfilePayload = builder
  .objectRef<{ report: ProfileRow | null; replayed: boolean; userErrors: LedgerError[] }>(
    'ReportCoopProfilePayload',
  )
  .implement({
    fields: (t) => ({
      report: t.field({ type: ProfileRef, nullable: true, resolve: (p) => p.report }),
      replayed: t.exposeBoolean('replayed'),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const PolicyInput = builder.inputType('DisclosurePolicyInput', {
  fields: (t) => ({
    minContributors: t.int(),
    dominanceN: t.int(),
    dominanceK: t.int(),
    pPercent: t.int(),
    safetyPercent: t.int(),
  }),
});

const PublishInput = builder.inputType('PublishCityReportInput', {
  fields: (t) => ({
    city: t.string({ required: true }),
    currency: t.string({
      required: true,
      description: 'Money cells count co-ops keeping their books in it.',
    }),
    throughMonth: t.string({
      description: 'YYYY-MM, a complete month after the previous release’s; default last month.',
    }),
    policy: t.field({ type: PolicyInput, description: 'Default: 3 co-ops, (2, 85%) dominance, p = 10%.' }),
  }),
});

const PublishPayload = builder
  .objectRef<{ release: ReleaseRow | null; userErrors: LedgerError[] }>('PublishCityReportPayload')
  .implement({
    fields: (t) => ({
      release: t.field({ type: ReleaseRef, nullable: true, resolve: (p) => p.release }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationFields((t) => ({
  reportCoopProfile: t.field({
    type: ProfilePayload,
    description: "The co-op's treasurer reports worker, worker-owner, contract and job figures as of a day.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ProfileInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.reporting.reportProfile(
          {
            coopId: decodeCoopId(input.coopId),
            asOf: input.asOf,
            workersNotMembers: input.workersNotMembers,
            workerOwners: input.workerOwners,
            byGender: input.byGender ?? null,
            byRace: input.byRace ?? null,
            jobsCreatedAtFounding: input.jobsCreatedAtFounding ?? null,
            closedOn: input.closedOn ?? null,
            cityContractsAwarded: input.cityContractsAwarded ?? null,
            cityContractsValue: input.cityContractsValue ?? null,
            reportingGroup: input.reportingGroup ?? null,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return { report: null, replayed: false, userErrors: userErrorsOf(result) };
      return { report: result.report, replayed: result.replayed, userErrors: [] };
    },
  }),
  publishCityReport: t.field({
    type: PublishPayload,
    description:
      "Publishes a city's next release: refreshes the rollup, freezes the new months, protects the whole table with earlier releases' cells kept as they were, audits every withheld cell by linear programming, and stores it. A CITY_ANALYST of the city or an ADMIN. One release of a city is computed at a time: a publish while another of the same city is computed (by any instance of the service) is refused with RELEASE_IN_PROGRESS (the release, once stored, is listed by cityReportReleases). Each instance computes a bounded number of releases at once, the others wait their turn; when too many wait, the request fails with the top-level error THROTTLED (HTTP 503, Retry-After in seconds).",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: PublishInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const policy = input.policy
        ? Object.fromEntries(Object.entries(input.policy).filter(([, v]) => v !== null && v !== undefined))
        : null;
      const result = await guard(() =>
        ctx.services.reporting.createRelease(
          { city: input.city, currency: input.currency, throughMonth: input.throughMonth ?? null, policy },
          actorOf(ctx),
        ),
      ).catch((error: unknown) => {
        // Every release worker of the service busy and its queue full: throttling, a top-level
        // error, answered as the HTTP layer's full queue of large requests is (503, Retry-After).
        if (error instanceof ReleasesBusyError)
          throw new GraphQLError(error.message, {
            extensions: {
              code: 'THROTTLED',
              http: { status: 503, headers: { 'retry-after': String(error.retryAfterSeconds) } },
            },
          });
        throw error;
      });
      if (result instanceof LedgerError) return { release: null, userErrors: userErrorsOf(result) };
      return { release: result, userErrors: [] };
    },
  }),
}));
