/**
 * City reporting (issue 15): the city's latest protected release, read with the SDK's `cityReport`
 * and nothing else. Every figure shown here is a cell of the release exactly as the API answers it:
 * nothing is added up or derived in the browser (that could make a figure protection never saw),
 * and a suppressed cell is drawn hatched with its reason, never as a zero.
 *
 * Panels: co-ops and worker-owners over time, jobs, patronage by year, co-ops and worker-owners by
 * neighbourhood and by sector at the release's last month, and mutual-credit volume by month.
 */
import { type LedgerClient, settle } from '@solidarity-ledger/sdk';
import { bars, figuresTable, lines, panel } from './charts.js';
import type { Cell } from './data.js';
import { sectorLabel } from './sectors.js';

type Query = Parameters<LedgerClient['cityReport']>[0];
type Answer = Awaited<ReturnType<LedgerClient['cityReport']>>;
export type ReportCell = Answer['cells'][number];
export type Release = NonNullable<Answer['release']>;

/** The release a dashboard reads, and a reader of its cells (pinned to that release). */
export interface Report {
  release: Release;
  cells(query: Omit<Query, 'city' | 'releaseId'>): Promise<ReportCell[]>;
}

/** Why there is no report to show. */
export interface NoReport {
  problem: string;
}

/** The city's latest release, or why there is none (no release yet, not an analyst, ...). */
export async function loadReport(ledger: LedgerClient, city: string): Promise<Report | NoReport> {
  const first = await settle(ledger.cityReport({ city, measures: ['COOPS'], granularity: 'YEAR' }));
  if (first.rejected) {
    const error = first.userErrors[0]!;
    return { problem: `${error.code}: ${error.message}` };
  }
  if (!first.ok) return { problem: `the ledger answered ${first.error.code} (${first.error.message})` };
  if (!first.value.release) return { problem: 'no release' };
  const release = first.value.release;
  return {
    release,
    async cells(query) {
      const answer = await ledger.cityReport({ ...query, city, releaseId: release.id });
      if (answer.userErrors.length > 0) {
        const e = answer.userErrors[0]!;
        throw new Error(`cityReport refused ${query.measures.join(', ')}: ${e.code}: ${e.message}`);
      }
      return answer.cells;
    },
  };
}

/** A release cell as a chart cell: the API's figure, or its suppression and reason. */
export function toCell(cell: ReportCell, label: string, series?: string): Cell {
  return {
    label,
    value: cell.value === null || cell.value === undefined ? null : Number(cell.value),
    suppressed: cell.suppressed ? (cell.reason ?? 'SUPPRESSED') : null,
    ...(series === undefined ? {} : { series }),
  };
}

/** `YYYY-MM` plus months. */
export function addMonths(month: string, months: number): string {
  const d = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 + months, 1));
  return d.toISOString().slice(0, 7);
}

/** The later of two `YYYY-MM` months. */
function laterMonth(a: string, b: string): string {
  return [a, b].sort()[1]!;
}

const MEASURE_NAMES: Record<string, string> = {
  COOPS: 'co-ops',
  WORKER_OWNERS: 'worker-owners',
  WORKERS_NOT_MEMBERS: 'workers who are not members',
  JOBS: 'jobs',
  PATRONAGE_ALLOCATED: 'allocated',
  PATRONAGE_PAID_IN_CASH: 'paid in cash',
  CREDIT_VOLUME: 'volume',
};

function details(summary: string, content: Element): HTMLDetailsElement {
  const element = document.createElement('details');
  const title = document.createElement('summary');
  title.textContent = summary;
  element.append(title, content);
  return element;
}

/** Cells of one measure per series, over the periods of a query, in period order. */
function series(cells: ReportCell[], measures: string[]): Cell[] {
  return measures.flatMap((measure) =>
    cells
      .filter((c) => c.measure === measure)
      .sort((a, b) => a.period.localeCompare(b.period))
      .map((c) => toCell(c, c.period, MEASURE_NAMES[measure] ?? measure)),
  );
}

/** A line chart per series (their scales differ), one figures table for all. */
function linesPanel(
  container: HTMLElement,
  id: string,
  title: string,
  subtitle: string,
  cells: Cell[],
  header: string,
  separate: boolean,
): void {
  const p = panel(container, { id, title, subtitle });
  const names = [...new Set(cells.map((c) => c.series))];
  if (separate) {
    for (const name of names) {
      const chart = lines(
        cells.filter((c) => c.series === name),
        name === undefined ? {} : { yLabel: name },
      );
      chart.setAttribute('data-series', name ?? '');
      p.chart.append(chart);
    }
  } else {
    p.chart.append(lines(cells));
  }
  p.body.append(details('Figures', figuresTable(cells, [header, 'figure'])));
}

/**
 * Draws the reporting panels into `container`; returns the release shown (or null, with a panel
 * saying why there is none).
 */
export async function renderReporting(
  ledger: LedgerClient,
  city: string,
  container: HTMLElement,
): Promise<Release | null> {
  const report = await loadReport(ledger, city);
  if ('problem' in report) {
    const notice = panel(container, {
      id: 'reporting',
      title: 'City reporting',
      subtitle: `No protected release of ${city} can be read with this token (${report.problem}). Worker-owners, jobs, patronage and the breakdowns come only from a release; a CITY_ANALYST of ${city} (or an admin) publishes one with publishCityReport.`,
    });
    notice.chart.closest('section')?.classList.add('notice');
    return null;
  }
  const { release } = report;
  const through = release.throughMonth;
  const since = laterMonth(addMonths(through, -23), release.firstMonth);
  const about = `Release ${release.seq} of ${city} (through ${through}, ${release.contributors} contributing co-ops).`;

  // Over time: months of the last two years of the release.
  const monthly = await report.cells({
    measures: ['COOPS', 'WORKER_OWNERS', 'JOBS', 'WORKERS_NOT_MEMBERS'],
    granularity: 'MONTH',
    from: since,
    to: through,
  });
  linesPanel(
    container,
    'report-growth',
    'Co-ops and worker-owners over time',
    `Co-ops sharing data and their worker-owners at each month's end. ${about}`,
    series(monthly, ['COOPS', 'WORKER_OWNERS']),
    'month',
    true,
  );
  linesPanel(
    container,
    'report-jobs',
    'Jobs',
    `Jobs at each month's end: worker-owners and workers who are not members, as the treasurers report them. ${about}`,
    series(monthly, ['JOBS', 'WORKER_OWNERS', 'WORKERS_NOT_MEMBERS']),
    'month',
    false,
  );

  // Patronage by year (complete years of the release).
  const yearly = await report.cells({
    measures: ['PATRONAGE_ALLOCATED', 'PATRONAGE_PAID_IN_CASH'],
    granularity: 'YEAR',
  });
  const patronage = series(yearly, ['PATRONAGE_ALLOCATED', 'PATRONAGE_PAID_IN_CASH'])
    .sort((a, b) => a.label.localeCompare(b.label))
    .map(({ series: name, ...c }) => ({ ...c, label: `${c.label} ${name}` }));
  const pat = panel(container, {
    id: 'report-patronage',
    title: 'Patronage by year',
    subtitle: `Patronage allocated to members and paid to them in cash, ${release.currency}, by complete year. ${about}`,
  });
  if (patronage.length > 0) {
    pat.chart.append(bars(patronage, { color: '#b5772d' }));
    pat.body.append(details('Figures', figuresTable(patronage, ['year', release.currency])));
  } else {
    pat.chart.textContent = 'The release has no complete year yet.';
  }

  // Breakdowns at the release's last month, with the city's total.
  for (const [dimension, id, title, name] of [
    ['NEIGHBOURHOOD', 'coops-by-neighbourhood', 'By neighbourhood', 'neighbourhood'],
    ['SECTOR', 'coops-by-sector', 'By sector', 'sector'],
  ] as const) {
    const cells = await report.cells({
      measures: ['COOPS', 'WORKER_OWNERS'],
      groupBy: [dimension],
      granularity: 'MONTH',
      from: through,
      to: through,
    });
    const code = (c: ReportCell) => (dimension === 'NEIGHBOURHOOD' ? c.neighbourhood : c.sector);
    const label = (c: ReportCell) =>
      code(c) === 'TOTAL' ? `All of ${city}` : dimension === 'SECTOR' ? sectorLabel(code(c)) : code(c);
    const p = panel(container, {
      id,
      title: `Co-ops and worker-owners ${title.toLowerCase()}`,
      subtitle: `At the end of ${through}; hatched cells are withheld to protect single co-ops, with the reason. ${about}`,
    });
    for (const measure of ['COOPS', 'WORKER_OWNERS']) {
      const part = cells
        .filter((c) => c.measure === measure && code(c) !== 'TOTAL')
        .map((c) => toCell(c, label(c), MEASURE_NAMES[measure]));
      const chart = bars(part, { horizontal: true, color: measure === 'COOPS' ? '#3b6e8f' : '#6a8f3b' });
      chart.setAttribute('data-series', MEASURE_NAMES[measure]!);
      const caption = document.createElement('h3');
      caption.textContent = MEASURE_NAMES[measure]!;
      p.chart.append(caption, chart);
    }
    const table = cells
      .sort((a, b) => (code(a) === 'TOTAL' ? 1 : 0) - (code(b) === 'TOTAL' ? 1 : 0))
      .map((c) => toCell(c, label(c), MEASURE_NAMES[c.measure]));
    p.body.append(details('Figures', figuresTable(table, [name, 'figure'])));
  }

  // Mutual credit: what the contributing co-ops paid in their networks, by month (last 12).
  const credit = await report.cells({
    measures: ['CREDIT_VOLUME'],
    granularity: 'MONTH',
    from: laterMonth(addMonths(through, -11), release.firstMonth),
    to: through,
  });
  const volume = credit.sort((a, b) => a.period.localeCompare(b.period)).map((c) => toCell(c, c.period));
  const cp = panel(container, {
    id: 'credit-volume',
    title: 'Mutual-credit volume by month',
    subtitle: `Payments the contributing co-ops made through mutual-credit networks, ${release.currency}. ${about}`,
  });
  cp.chart.closest('section')!.dataset.source = 'release';
  cp.chart.append(bars(volume, { color: '#8f3b6e' }));
  cp.body.append(details('Figures', figuresTable(volume, ['month', release.currency])));
  return release;
}
