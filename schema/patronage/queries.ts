/**
 * Root queries of patronage. As elsewhere, a caller gets null (or an empty page) for what they may
 * not read, never an error that reveals another tenant's ids. Treasurers (and admins) read the
 * co-op's policy, previews, runs, records and tax forms; a member reads their own allocations and
 * notices; anyone else (an analyst, another co-op's member) nothing.
 */
import { decodeGlobalID } from '@pothos/plugin-relay';
import { canReadBook, LedgerError } from '../../server/core/index.js';
import type { AllocationLine, RunFigures, TaxFormRow } from '../../server/patronage/index.js';
import { memberGrantKeys } from '../access.js';
import { builder } from '../builder.js';
import { decodeCursor, emptyConnection, PAGE_DOC, pageSize, toConnection } from '../connection.js';
import type { GraphQLContext } from '../context.js';
import { guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { decodeCoopId, decodeScopedId, parseScopedId, scopedId } from '../ids.js';
import {
  AllocationConnection,
  AllocationRef,
  NoticeRef,
  PolicyRef,
  PreviewRef,
  RecordConnection,
  RunConnection,
  RunRef,
  TaxFormsRef,
  VerificationRef,
} from './types.js';

/** A book-scoped id of this patronage type (`PatronageRun:<book>:<id>`), or null. */
export function decodePatronageId(globalId: string | number, typename: string) {
  try {
    const decoded = decodeGlobalID(String(globalId));
    return decoded.typename === typename ? parseScopedId(decoded.id) : null;
  } catch {
    return null;
  }
}

async function scaleOf(ctx: GraphQLContext, bookId: string): Promise<number | null> {
  return (await guard(() => ctx.services.patronage.currency(bookId)))?.scale ?? null;
}

/** Whether the caller is the member of this membership (a MEMBER grant on one of its accounts). */
async function isOwnMembership(ctx: GraphQLContext, bookId: string, membershipId: string): Promise<boolean> {
  const keys = memberGrantKeys(ctx.principal).filter((k) => k.bookId === bookId);
  if (keys.length === 0) return false;
  const own = await guard(() => ctx.services.coops.membershipIdsOfAccounts(keys));
  return own.includes(scopedId(bookId, membershipId));
}

const PreviewPayload = builder
  .objectRef<{ preview: (RunFigures & { scale: number }) | null; userErrors: LedgerError[] }>(
    'PreviewPatronageAllocationPayload',
  )
  .implement({
    fields: (t) => ({
      preview: t.field({ type: PreviewRef, nullable: true, resolve: (p) => p.preview }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const TaxFormsPayload = builder
  .objectRef<{
    forms: { bookId: string; taxYear: number; csv: string; rows: TaxFormRow[]; scale: number } | null;
    userErrors: LedgerError[];
  }>('PatronageTaxFormsPayload')
  .implement({
    fields: (t) => ({
      forms: t.field({ type: TaxFormsRef, nullable: true, resolve: (p) => p.forms }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

/** A page of allocation lines by member number (`after` is a member number cursor). */
function linesPage<T extends AllocationLine>(
  lines: T[],
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const limit = pageSize(first);
  const cursor = decodeCursor(after, 1);
  const from = cursor ? Number(cursor[0]) : null;
  const rows = lines.filter((l) => from === null || l.memberNumber > from).slice(0, limit + 1);
  return toConnection(rows, limit, (l) => [String(l.memberNumber)]);
}

builder.objectFields(PreviewRef, (t) => ({
  allocations: t.field({
    type: AllocationConnection,
    description: 'Every member with patronage recorded in the year, by member number.',
    args: { first: t.arg.int({ description: PAGE_DOC }), after: t.arg.string() },
    resolve: (p, args) => {
      const preview = p as unknown as { lines: AllocationLine[]; scale: number };
      return linesPage(
        preview.lines.map((l) => ({ ...l, scale: preview.scale })),
        args.first,
        args.after,
      );
    },
  }),
}));

builder.objectFields(RunRef, (t) => ({
  allocations: t.field({
    type: AllocationConnection,
    description: "Every member's allocation in this run, by member number.",
    args: { first: t.arg.int({ description: PAGE_DOC }), after: t.arg.string() },
    resolve: async (r, args, ctx) => {
      const limit = pageSize(args.first);
      const after = decodeCursor(args.after, 1);
      const rows = await guard(() =>
        ctx.services.patronage.allocations(r.bookId, r.id, after ? Number(after[0]) : null, limit + 1),
      );
      return toConnection(
        rows.map((l) => ({ ...l, scale: r.currency.scale, runStatus: r.status })),
        limit,
        (l) => [String(l.memberNumber)],
      );
    },
  }),
}));

builder.queryFields((t) => ({
  patronagePolicy: t.field({
    type: PolicyRef,
    nullable: true,
    description:
      "A co-op's patronage policy: the latest version, or `version`; null when there is none or the caller is not one of its treasurers.",
    authScopes: { authenticated: true },
    args: { coopId: t.arg.id({ required: true }), version: t.arg.int() },
    resolve: async (_r, args, ctx) => {
      const id = decodeCoopId(args.coopId);
      if (!canReadBook(ctx.principal, id)) return null;
      const policy = await guard(() => ctx.services.patronage.getPolicy(id, args.version ?? null));
      const scale = await scaleOf(ctx, id);
      return policy && scale !== null ? { ...policy, scale } : null;
    },
  }),
  patronagePolicies: t.field({
    type: [PolicyRef],
    description:
      "Every version of a co-op's patronage policy, oldest first (empty for a caller who is not a treasurer).",
    authScopes: { authenticated: true },
    args: { coopId: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const id = decodeCoopId(args.coopId);
      if (!canReadBook(ctx.principal, id)) return [];
      const scale = await scaleOf(ctx, id);
      if (scale === null) return [];
      return (await guard(() => ctx.services.patronage.policyHistory(id))).map((p) => ({ ...p, scale }));
    },
  }),
  previewPatronageAllocation: t.field({
    type: PreviewPayload,
    description:
      "What allocating the fiscal year would give, computed now, nothing posted: the net surplus (from the co-op's book, " +
      "revenue less expenses, unless `surplus` is given), the reserve, community and member pools, and each member's " +
      'patronage, share, allocation and cash and retained parts. For the co-op’s treasurers.',
    authScopes: { authenticated: true },
    args: {
      coopId: t.arg.id({ required: true }),
      fiscalYear: t.arg.int({ required: true }),
      surplus: t.arg({
        type: 'Decimal',
        description: 'The net surplus to allocate (negative for a loss) instead of the book’s.',
      }),
      allocatedOn: t.arg({ type: 'Date', description: 'The allocation (notice) date; default today.' }),
    },
    resolve: async (_r, args, ctx) => {
      const result = await guard(() =>
        ctx.services.patronage.preview(
          {
            bookId: decodeCoopId(args.coopId),
            fiscalYear: args.fiscalYear,
            surplus: args.surplus ?? null,
            allocatedOn: args.allocatedOn ?? null,
          },
          ctx.principal!,
        ),
      );
      if (result instanceof LedgerError) return { preview: null, userErrors: userErrorsOf(result) };
      return { preview: { ...result, scale: result.currency.scale }, userErrors: [] };
    },
  }),
  patronageRun: t.field({
    type: RunRef,
    nullable: true,
    description: "A run by id; null unless the caller is one of the co-op's treasurers.",
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const key = decodePatronageId(args.id, 'PatronageRun');
      if (!key || !canReadBook(ctx.principal, key.bookId)) return null;
      const [run] = await guard(() => ctx.services.patronage.getRuns([key]));
      return run ? { ...run, scale: run.currency.scale } : null;
    },
  }),
  patronageRuns: t.field({
    type: RunConnection,
    description: "A co-op's runs, newest first (empty for a caller who is not one of its treasurers).",
    authScopes: { authenticated: true },
    args: {
      coopId: t.arg.id({ required: true }),
      first: t.arg.int({ description: PAGE_DOC }),
      after: t.arg.string(),
    },
    resolve: async (_r, args, ctx) => {
      const id = decodeCoopId(args.coopId);
      const limit = pageSize(args.first);
      const after = decodeCursor(args.after, 1);
      if (!canReadBook(ctx.principal, id)) return emptyConnection();
      const rows = await guard(() => ctx.services.patronage.listRuns(id, after?.[0] ?? null, limit + 1));
      return toConnection(
        rows.map((r) => ({ ...r, scale: r.currency.scale })),
        limit,
        (r) => [r.id],
      );
    },
  }),
  verifyPatronageRun: t.field({
    type: VerificationRef,
    nullable: true,
    description:
      "Recomputes a run from its stored inputs and compares the hash and every cent; null unless the caller is one of the co-op's treasurers.",
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const key = decodePatronageId(args.id, 'PatronageRun');
      if (!key || !canReadBook(ctx.principal, key.bookId)) return null;
      const v = await guard(() => ctx.services.patronage.verify(key.bookId, key.id));
      return v ? { ...v, bookId: key.bookId } : null;
    },
  }),
  patronageRecords: t.field({
    type: RecordConnection,
    description:
      "A co-op's patronage records (optionally one member's, or those touching [from, to]), in recording order; empty unless the caller is one of its treasurers.",
    authScopes: { authenticated: true },
    args: {
      coopId: t.arg.id({ required: true }),
      membershipId: t.arg.id(),
      from: t.arg({ type: 'Date' }),
      to: t.arg({ type: 'Date' }),
      first: t.arg.int({ description: PAGE_DOC }),
      after: t.arg.string(),
    },
    resolve: async (_r, args, ctx) => {
      const id = decodeCoopId(args.coopId);
      const limit = pageSize(args.first);
      const after = decodeCursor(args.after, 1);
      if (!canReadBook(ctx.principal, id)) return emptyConnection();
      let membershipId: string | null = null;
      if (args.membershipId != null) {
        const key = decodeScopedId(String(args.membershipId), 'Membership');
        if (!key || key.bookId !== id) return emptyConnection();
        membershipId = key.id;
      }
      const rows = await guard(() =>
        ctx.services.patronage.listRecords(id, {
          membershipId,
          from: args.from ?? null,
          to: args.to ?? null,
          afterId: after?.[0] ?? null,
          limit: limit + 1,
        }),
      );
      return toConnection(rows, limit, (r) => [r.id]);
    },
  }),
  myPatronageAllocations: t.field({
    type: [AllocationRef],
    description:
      "The caller's own allocations in committed runs, newest fiscal year first: those of the memberships whose accounts the token's MEMBER grants name (empty for other tokens).",
    authScopes: { authenticated: true },
    resolve: async (_r, _a, ctx) => {
      const keys = memberGrantKeys(ctx.principal);
      if (keys.length === 0) return [];
      const own = await guard(() => ctx.services.coops.membershipIdsOfAccounts(keys));
      const memberships = own.map((k) => {
        const [bookId, membershipId] = k.split(':') as [string, string];
        return { bookId, membershipId };
      });
      const lines = await guard(() => ctx.services.patronage.memberAllocations(memberships));
      const runs = await guard(() =>
        ctx.services.patronage.getRuns(
          [...new Set(lines.map((l) => scopedId(l.bookId, l.runId)))].map((k) => parseScopedId(k)!),
        ),
      );
      const live = new Map(runs.filter((r) => r.status === 'COMMITTED').map((r) => [r.id, r.currency.scale]));
      return lines.filter((l) => live.has(l.runId)).map((l) => ({ ...l, scale: live.get(l.runId)! }));
    },
  }),
  patronageNotice: t.field({
    type: NoticeRef,
    nullable: true,
    description:
      "A member's written notice of allocation for a run, as HTML and PDF; null unless the caller is one of the co-op's treasurers or that member.",
    authScopes: { authenticated: true },
    args: { runId: t.arg.id({ required: true }), membershipId: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const run = decodePatronageId(args.runId, 'PatronageRun');
      const m = decodeScopedId(String(args.membershipId), 'Membership');
      if (!run || !m || run.bookId !== m.bookId) return null;
      if (!canReadBook(ctx.principal, run.bookId) && !(await isOwnMembership(ctx, m.bookId, m.id)))
        return null;
      const notice = await guard(() => ctx.services.patronage.notice(run.bookId, run.id, m.id));
      return notice ? { ...notice, bookId: run.bookId } : null;
    },
  }),
  patronageTaxForms: t.field({
    type: TaxFormsPayload,
    description:
      "A co-op's Form 1099-PATR data for a calendar year as CSV (box 1: cash paid + qualified notices issued; box 5: " +
      'redemptions of non-qualified notices), only recipients paid $10 or more. For the co-op’s treasurers.',
    authScopes: { authenticated: true },
    args: { coopId: t.arg.id({ required: true }), taxYear: t.arg.int({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const id = decodeCoopId(args.coopId);
      const unknown = new LedgerError('UNKNOWN_COOP', 'no such co-op', 'coopId');
      if (!canReadBook(ctx.principal, id)) return { forms: null, userErrors: [unknown] };
      const result = await guard(() => ctx.services.patronage.taxForms(id, args.taxYear));
      if (result instanceof LedgerError) return { forms: null, userErrors: [result] };
      const scale = (await scaleOf(ctx, id)) ?? 2;
      return {
        forms: { bookId: id, taxYear: args.taxYear, csv: result.csv, rows: result.rows, scale },
        userErrors: [],
      };
    },
  }),
}));
