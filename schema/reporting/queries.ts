/**
 * Root queries of city reporting (issue 15). `cityReport` answers cells of one release (the latest,
 * or one named) chosen by filters, groupings and a time window; `cityReportReleases` lists a city's
 * releases; `cityReportExport` gives a release as open data. Only a CITY_ANALYST of the city (or an
 * ADMIN) gets anything: anyone else gets NO_RELEASE, as for a city with no release.
 * `coopReportingProfiles` is the co-op's own reports, for its treasurer.
 */
import { LedgerError } from '../../server/core/index.js';
import {
  CELL_JSON_FIELDS,
  type CellJsonField,
  QUERY_CELLS_MAX,
  QUERY_CODES_MAX,
  type SliceCell,
  type SliceResult,
} from '../../server/reporting/index.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { guard, UserErrorRef, userErrorsOf } from '../errors.js';
import { decodeCoopId } from '../ids.js';
import { acceptsRawJson, holdRawJson, plainItemSelection, rawJsonBuffer } from '../raw-json.js';
import {
  ProfileRef,
  ReleaseRef,
  ReportCellRef,
  ReportDimensionEnum,
  ReportFormatEnum,
  ReportGranularityEnum,
} from './types.js';

const CityReportInput = builder.inputType('CityReportInput', {
  description: `Which cells of a release to read. A dimension filtered or grouped gives its codes; one neither filtered nor grouped is at TOTAL. Nothing is added up: every answer is cells of the protected table. At most ${QUERY_CELLS_MAX} cells, ${QUERY_CODES_MAX} codes per list.`,
  fields: (t) => ({
    city: t.string({ required: true }),
    releaseId: t.id({ description: "Default: the city's latest release." }),
    measures: t.stringList({
      required: true,
      description: 'Measure codes (see the export’s data dictionary).',
    }),
    neighbourhoods: t.stringList({ description: 'Only these neighbourhoods (TOTAL allowed).' }),
    sectors: t.stringList(),
    kinds: t.stringList(),
    groupBy: t.field({ type: [ReportDimensionEnum], defaultValue: [] }),
    granularity: t.field({ type: ReportGranularityEnum, defaultValue: 'MONTH' }),
    from: t.string({
      description: 'First month of the window, YYYY-MM (periods starting before it are left out).',
    }),
    to: t.string({
      description: 'Last month of the window, YYYY-MM (periods ending after it are left out).',
    }),
    margins: t.boolean({
      defaultValue: true,
      description: 'With a grouped dimension, include its TOTAL too.',
    }),
  }),
});

/** The cell fields cellsJson writes (the others, __typename, are constants). */
const CELL_FIELDS: ReadonlySet<string> = new Set(CELL_JSON_FIELDS);
const cellJsonFields = new WeakMap<readonly unknown[], readonly CellJsonField[] | null>();

const CityReportResult = builder
  .objectRef<{
    release: import('../../server/reporting/index.js').ReleaseRow | null;
    slice: SliceResult | null;
    userErrors: LedgerError[];
  }>('CityReportResult')
  .implement({
    fields: (t) => ({
      release: t.field({ type: ReleaseRef, nullable: true, resolve: (r) => r.release }),
      cells: t.field({
        type: [ReportCellRef],
        // On the lean route, a plain selection of the cells (the SDK's) is written as JSON straight
        // from the release (server/reporting/query.ts cellsJson): hundreds of cells a answer, each
        // field resolved, then stringified, was most of a request's CPU (issue 15).
        resolve: (r, _args, ctx, info) => {
          if (!r.slice) return [];
          // Off the lean route (yoga's path) the cells resolve as usual: no JSON written to be dropped.
          if (!acceptsRawJson(ctx)) return r.slice.cells;
          const selected = plainItemSelection(info);
          let fields = selected && cellJsonFields.get(selected);
          if (selected && fields === undefined) {
            const typename = JSON.stringify(ReportCellRef.name);
            fields = selected.every((f) => CELL_FIELDS.has(f.name) || f.name === '__typename')
              ? selected.map((f) =>
                  f.name === '__typename'
                    ? { key: f.key, constant: typename }
                    : { key: f.key, field: f.name as keyof SliceCell },
                )
              : null;
            cellJsonFields.set(selected, fields);
          }
          const alloc = (size: number) => rawJsonBuffer(ctx, size);
          if (fields && holdRawJson(ctx, info.path, r.slice.cellsJson(fields, alloc))) return [];
          return r.slice.cells;
        },
      }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (r) => r.userErrors }),
    }),
  });

const ExportResult = builder
  .objectRef<{
    releaseId: string | null;
    contentType: string | null;
    content: string | null;
    sha256: string | null;
    userErrors: LedgerError[];
  }>('CityReportExport')
  .implement({
    fields: (t) => ({
      releaseId: t.id({ nullable: true, resolve: (r) => r.releaseId }),
      contentType: t.string({ nullable: true, resolve: (r) => r.contentType }),
      content: t.string({
        nullable: true,
        description:
          'The CSV or JSON text (JSON holds the data dictionary; the CSV columns are described there).',
        resolve: (r) => r.content,
      }),
      sha256: t.string({ nullable: true, resolve: (r) => r.sha256 }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (r) => r.userErrors }),
    }),
  });

builder.queryFields((t) => ({
  cityReport: t.field({
    type: CityReportResult,
    description: "Cells of a city's protected release for its analysts.",
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CityReportInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.reporting.slice(
          {
            city: input.city,
            releaseId: input.releaseId == null ? null : String(input.releaseId),
            measures: input.measures,
            neighbourhoods: input.neighbourhoods ?? null,
            sectors: input.sectors ?? null,
            kinds: input.kinds ?? null,
            groupBy: input.groupBy ?? [],
            granularity: input.granularity ?? 'MONTH',
            from: input.from ?? null,
            to: input.to ?? null,
            margins: input.margins ?? true,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return { release: null, slice: null, userErrors: userErrorsOf(result) };
      return { release: result.release, slice: result, userErrors: [] };
    },
  }),
  cityReportReleases: t.field({
    type: [ReleaseRef],
    description: "A city's releases, latest first (empty for anyone but its analysts and admins).",
    authScopes: { authenticated: true },
    args: { city: t.arg.string({ required: true }), first: t.arg.int({ defaultValue: 20 }) },
    resolve: (_r, args, ctx) =>
      guard(() => ctx.services.reporting.listReleases(args.city, actorOf(ctx), args.first ?? 20)),
  }),
  cityReportExport: t.field({
    type: ExportResult,
    description:
      'A release as open data: CSV, or JSON with its data dictionary. The same release gives the same bytes.',
    authScopes: { authenticated: true },
    args: {
      city: t.arg.string({ required: true }),
      releaseId: t.arg.id(),
      format: t.arg({ type: ReportFormatEnum, required: true }),
    },
    resolve: async (_r, args, ctx) => {
      const result = await guard(() =>
        ctx.services.reporting.exportRelease(
          {
            city: args.city,
            releaseId: args.releaseId == null ? null : String(args.releaseId),
            format: args.format,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError)
        return {
          releaseId: null,
          contentType: null,
          content: null,
          sha256: null,
          userErrors: userErrorsOf(result),
        };
      return { ...result, userErrors: [] };
    },
  }),
  coopReportingProfiles: t.field({
    type: [ProfileRef],
    description:
      "The co-op's own profile reports, latest first (its treasurers and admins; empty for anyone else).",
    authScopes: { authenticated: true },
    args: { coopId: t.arg.id({ required: true }), first: t.arg.int({ defaultValue: 20 }) },
    resolve: (_r, args, ctx) =>
      guard(() =>
        ctx.services.reporting.listProfiles(decodeCoopId(args.coopId), actorOf(ctx), args.first ?? 20),
      ),
  }),
}));
