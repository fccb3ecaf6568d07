/**
 * Open data (issue 15): a release's protected cells as CSV or JSON with a data dictionary. Only
 * what the release stores goes out (cells with contributors, hidden cells with their reason;
 * structural zeros are left out and said to be zero), in cell order, with nothing that depends on
 * when or by whom it was asked, so two exports of one release are byte for byte the same.
 */
import { createHash } from 'node:crypto';
import { SUPPRESSION_REASONS } from '../core/disclosure-rules.js';
import { csvText, LedgerError, type Principal } from '../core/index.js';
import { decodeCells } from './cube.js';
import type { ReportingDeps } from './deps.js';
import { MEASURES } from './measures.js';
import { cellAt, codesOf, type LoadedRelease, releaseFor } from './query.js';

export type ExportFormat = 'CSV' | 'JSON';

export interface ExportResult {
  releaseId: string;
  format: ExportFormat;
  contentType: string;
  content: string;
  sha256: string;
}

const COLUMNS = [
  ['release_id', 'The release these figures belong to'],
  ['city', 'The city'],
  ['neighbourhood', 'Neighbourhood of the co-ops, or TOTAL for all of them'],
  ['sector', 'NAICS sector (first two digits), or TOTAL'],
  ['kind', 'Kind of co-op (WORKER, CONSUMER, ...), or TOTAL'],
  ['measure', 'What is counted (see measures)'],
  ['period', 'YYYY-MM (month), YYYY-Qn (quarter) or YYYY (year)'],
  [
    'value',
    'The figure; empty when suppressed or NO_DATA. Money in the release currency with its decimal places',
  ],
  ['status', 'PUBLISHED (a figure), SUPPRESSED (withheld, see reason) or NO_DATA (see statuses)'],
  ['suppressed', 'true when the figure is withheld to protect a co-op or a person'],
  ['reason', `Why withheld: ${SUPPRESSION_REASONS.join(', ')}`],
] as const;

export function dataDictionary(release: LoadedRelease) {
  return {
    release: {
      id: release.row.id,
      city: release.row.city,
      seq: release.row.seq,
      currency: release.row.currency,
      firstMonth: release.row.firstMonth,
      throughMonth: release.row.throughMonth,
      policy: release.row.policy,
    },
    columns: COLUMNS.map(([name, description]) => ({ name, description })),
    measures: MEASURES.map((m) => ({
      code: m.code,
      description: m.description,
      temporal: m.temporal,
      periods: m.grain === 'YEAR' ? 'years' : 'months, quarters, years',
      unit: m.money ? release.row.currency : 'count',
    })),
    reasons: {
      THRESHOLD: `fewer than ${(release.row.policy as { minContributors: number }).minContributors} contributing co-ops`,
      DOMINANCE: 'a few co-ops make up most of the figure',
      P_PERCENT: 'one co-op could estimate another too closely',
      COMPLEMENTARY: 'withheld so that another withheld figure cannot be worked out',
    },
    statuses: {
      PUBLISHED: 'a figure',
      SUPPRESSED: 'withheld to protect a co-op or a person; the reason says why',
      NO_DATA:
        'no co-op of this neighbourhood, sector and kind shared data in any month of the period (before their consent or founding): no figure, not a zero and not withheld; its COOPS cells of those months are 0',
    },
    notes: [
      'Rows not listed are zero (no co-op contributes), or NO_DATA when the COOPS figure of the same neighbourhood, sector and kind is 0 in every month of the period (COOPS, FOUNDED and CLOSED are always figures).',
      'Months once released are not revised: later corrections appear only in months not yet released.',
      'Co-ops count from the first month beginning after they consented to share data.',
    ],
  };
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) || /^[=+\-@\t]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The columns of COLUMNS named freely (the city, a neighbourhood): written with csvText. */
const TEXT_COLUMNS = new Set([1, 2]);

export async function exportRelease(
  deps: ReportingDeps,
  input: { city: string; releaseId: string | null; format: ExportFormat },
  actor: Principal | null,
): Promise<ExportResult | LedgerError> {
  const release = await releaseFor(deps, input.city, input.releaseId, actor);
  if (release instanceof LedgerError) return release;
  const rows: string[][] = [];
  const cells = [...decodeCells(release.row.cells)].sort((a, b) => a.cell - b.cell);
  for (const { cell } of cells) {
    const c = cellAt(release, cell, codesOf(release, cell));
    rows.push([
      release.row.id,
      release.row.city,
      c.neighbourhood,
      c.sector,
      c.kind,
      c.measure,
      c.period,
      c.value ?? '',
      c.status,
      String(c.suppressed),
      c.reason ?? '',
    ]);
  }
  let content: string;
  let contentType: string;
  if (input.format === 'CSV') {
    contentType = 'text/csv; charset=utf-8';
    const line = (r: string[]) => r.map((v, i) => (TEXT_COLUMNS.has(i) ? csvText(v) : csvField(v))).join(',');
    content = `${[COLUMNS.map(([n]) => n).join(','), ...rows.map(line)].join('\r\n')}\r\n`;
  } else {
    contentType = 'application/json';
    content = `${JSON.stringify({
      dictionary: dataDictionary(release),
      cells: rows.map((r) => ({
        neighbourhood: r[2],
        sector: r[3],
        kind: r[4],
        measure: r[5],
        period: r[6],
        value: r[7] === '' ? null : r[7],
        status: r[8],
        suppressed: r[9] === 'true',
        reason: r[10] === '' ? null : r[10],
      })),
    })}\n`;
  }
  return {
    releaseId: release.row.id,
    format: input.format,
    contentType,
    content,
    sha256: createHash('sha256').update(content).digest('hex'),
  };
}
