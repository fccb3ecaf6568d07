/**
 * Root queries of patronage. As elsewhere, a caller gets null (or an empty page) for what they may
 * not read, never an error that reveals another tenant's ids. Treasurers (and admins) read the
 * co-op's policy, previews, runs, records and tax forms; a member reads their own allocations and
 * notices; anyone else (an analyst, another co-op's member) nothing.
 */
import { decodeGlobalID } from '@pothos/plugin-relay';
import { type FieldNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';
import { canReadBook, LedgerError } from '../../server/core/index.js';
import type {
  AllocationLine,
  RunFigures,
  RunRecord,
  StoredPatronageRecord,
  TaxFormRow,
} from '../../server/patronage/index.js';
import { allocationFields } from '../../server/patronage/index.js';
import { memberGrantKeys } from '../access.js';
import { builder } from '../builder.js';
import { emptyConnection, resolvePage, validatePageArgs } from '../connection.js';
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
  RecordRef,
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

/**
 * Whether this previewPatronageAllocation reads a page after the first: its preview's allocations
 * are asked with a non-null `after` or `before` (literal or variable, through fragments too). Such
 * a page may be a slice of the preview its first page computed (server/patronage/preview-cache.ts).
 */
function readsLaterPage(info: GraphQLResolveInfo): boolean {
  const seen = new Set<string>();
  const given = (field: FieldNode) =>
    (field.arguments ?? []).some((a) => {
      if (a.name.value !== 'after' && a.name.value !== 'before') return false;
      if (a.value.kind === Kind.VARIABLE) {
        const v = info.variableValues[a.value.name.value];
        return v !== undefined && v !== null;
      }
      return a.value.kind !== Kind.NULL;
    });
  const fieldsOf = (set: SelectionSetNode | undefined): FieldNode[] =>
    (set?.selections ?? []).flatMap((s): FieldNode[] => {
      if (s.kind === Kind.FIELD) return [s];
      if (s.kind === Kind.INLINE_FRAGMENT) return fieldsOf(s.selectionSet);
      if (seen.has(s.name.value)) return [];
      seen.add(s.name.value);
      return fieldsOf(info.fragments[s.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((root) =>
    fieldsOf(root.selectionSet)
      .filter((f) => f.name.value === 'preview')
      .some((preview) =>
        fieldsOf(preview.selectionSet).some((f) => f.name.value === 'allocations' && given(f)),
      ),
  );
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

/** A cursor of the allocations' connections: a member number. */
const memberNumberKey = ([n]: string[]) => (/^\d{1,9}$/.test(n!) ? Number(n) : null);
/** A cursor of the runs' and records' connections: a UUID. */
const uuidKey = ([id]: string[]) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id!) ? id! : null;

builder.objectFields(PreviewRef, (t) => ({
  allocations: t.connection(
    {
      type: AllocationRef,
      description: 'Every member with patronage recorded in the year, by member number.',
      resolve: (p, args) => {
        const preview = p as unknown as { lines: AllocationLine[]; scale: number };
        // The preview holds every line (in member-number order): a page is a slice of them.
        return resolvePage(args, {
          arity: 1,
          key: memberNumberKey,
          cursorOf: (l: AllocationLine) => [String(l.memberNumber)],
          read: async (q) => {
            const within = preview.lines.filter(
              (l) =>
                (q.after === null || l.memberNumber > q.after) &&
                (q.before === null || l.memberNumber < q.before),
            );
            const rows = q.backward ? within.slice(-q.limit).reverse() : within.slice(0, q.limit);
            // Copied field by field: a computed line makes its Decimals when first read (getters).
            return rows.map((l) => ({ ...allocationFields(l), scale: preview.scale }));
          },
          count: async () => preview.lines.length,
        });
      },
    },
    AllocationConnection,
  ),
}));

builder.objectFields(RunRef, (t) => ({
  allocations: t.connection(
    {
      type: AllocationRef,
      description: "Every member's allocation in this run, by member number.",
      resolve: (r, args, ctx) =>
        resolvePage(args, {
          arity: 1,
          key: memberNumberKey,
          cursorOf: (l: AllocationLine) => [String(l.memberNumber)],
          read: async (q) =>
            (await guard(() => ctx.services.patronage.allocationPage(r.bookId, r.id, q))).map((l) => ({
              ...l,
              scale: r.currency.scale,
              runStatus: r.status,
            })),
          // A run's allocations are written once, with the run: its member count is their number.
          count: async () => r.memberCount,
        }),
    },
    AllocationConnection,
  ),
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
    resolve: async (_r, args, ctx, info) => {
      const result = await guard(() =>
        ctx.services.patronage.preview(
          {
            bookId: decodeCoopId(args.coopId),
            fiscalYear: args.fiscalYear,
            surplus: args.surplus ?? null,
            allocatedOn: args.allocatedOn ?? null,
          },
          ctx.principal!,
          readsLaterPage(info),
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
  patronageRuns: t.connection(
    {
      type: RunRef,
      description: "A co-op's runs, newest first (empty for a caller who is not one of its treasurers).",
      authScopes: { authenticated: true },
      args: { coopId: t.arg.id({ required: true }) },
      resolve: async (_r, args, ctx) => {
        const id = decodeCoopId(args.coopId);
        if (!canReadBook(ctx.principal, id)) {
          validatePageArgs(args, 1);
          return emptyConnection();
        }
        return resolvePage(args, {
          arity: 1,
          key: uuidKey,
          cursorOf: (r: RunRecord) => [r.id],
          read: async (q) =>
            (await guard(() => ctx.services.patronage.runPage(id, q))).map((r) => ({
              ...r,
              scale: r.currency.scale,
            })),
          count: () => guard(() => ctx.services.patronage.runCount(id)),
        });
      },
    },
    RunConnection,
  ),
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
  patronageRecords: t.connection(
    {
      type: RecordRef,
      description:
        "A co-op's patronage records (optionally one member's, or those touching [from, to]), in recording order; empty unless the caller is one of its treasurers.",
      authScopes: { authenticated: true },
      args: {
        coopId: t.arg.id({ required: true }),
        membershipId: t.arg.id(),
        from: t.arg({ type: 'Date' }),
        to: t.arg({ type: 'Date' }),
      },
      resolve: async (_r, args, ctx) => {
        const id = decodeCoopId(args.coopId);
        // A membership id that is not one of this co-op's names no record: an empty page.
        const membership =
          args.membershipId == null ? null : decodeScopedId(String(args.membershipId), 'Membership');
        const foreign = args.membershipId != null && (membership === null || membership.bookId !== id);
        if (!canReadBook(ctx.principal, id) || foreign) {
          validatePageArgs(args, 1);
          return emptyConnection();
        }
        const filter = { membershipId: membership?.id ?? null, from: args.from ?? null, to: args.to ?? null };
        return resolvePage(args, {
          arity: 1,
          key: uuidKey,
          cursorOf: (r: StoredPatronageRecord) => [r.id],
          read: (q) => guard(() => ctx.services.patronage.recordPage(id, filter, q)),
          count: () => guard(() => ctx.services.patronage.recordCount(id, filter)),
        });
      },
    },
    RecordConnection,
  ),
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
