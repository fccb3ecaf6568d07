/**
 * The city dashboard: which city comes from the page's URL (?city=...) or DASHBOARD_CITY; the
 * service is /graphql on this origin (the dev server or `vite preview` proxies it to the ledger and
 * adds the token, see vite.config.ts). Everything is read with @solidarity-ledger/sdk.
 */
import { createLedgerClient, LedgerClientError } from '@solidarity-ledger/sdk';
import { bars, figuresTable, lines, panel } from './charts.js';
import { type Cell, coopsOverTime, countBy, type Directory, loadCredit, loadDirectory } from './data.js';
import { drawMap, KIND_COLORS } from './map.js';
import { renderReporting } from './reporting.js';
import { sectorOf } from './sectors.js';
import './style.css';

const params = new URLSearchParams(location.search);
const city = params.get('city') ?? (import.meta.env.VITE_DASHBOARD_CITY as string);
const ledger = createLedgerClient({ url: new URL('/graphql', location.href).href, retries: 2 });
const panels = document.getElementById('panels')!;
const status = document.getElementById('status')!;
document.getElementById('city')!.textContent = city;
document.title = `Solidarity economy of ${city}`;

function kpis(items: [string, string][]): void {
  const row = document.createElement('div');
  row.className = 'kpis';
  for (const [label, value] of items) {
    const kpi = document.createElement('div');
    kpi.className = 'kpi';
    kpi.dataset.kpi = label;
    kpi.innerHTML = `<strong></strong><span></span>`;
    kpi.querySelector('strong')!.textContent = value;
    kpi.querySelector('span')!.textContent = label;
    row.append(kpi);
  }
  panels.before(row);
}

async function main(): Promise<void> {
  const directory = await loadDirectory(ledger, city);
  const located = directory.coops.filter((c) => c.latitude !== null);
  kpis([
    ['listed co-ops', String(directory.coops.length)],
    ['on the map', String(located.length)],
    ['neighbourhoods', String(new Set(directory.coops.map((c) => c.neighbourhood)).size)],
    ['sectors', String(new Set(directory.coops.map((c) => sectorOf(c.naicsCode))).size)],
  ]);

  // City reporting's protected release: over time, jobs, patronage, breakdowns, mutual credit.
  const release = await renderReporting(ledger, city, panels);
  if (release) {
    kpis([
      ['release', `${release.seq} · ${release.throughMonth}`],
      ['contributing co-ops', String(release.contributors)],
    ]);
  } else {
    directoryPanels(directory);
  }

  // The map, from the public directory.
  const mapPanel = panel(panels, {
    id: 'map',
    title: 'Map of co-ops',
    subtitle: `${located.length} of ${directory.coops.length} listed co-ops give coordinates (public directory); no map tiles are loaded.`,
  });
  const canvas = document.createElement('div');
  canvas.id = 'map-canvas';
  mapPanel.chart.append(canvas);
  const legend = document.createElement('div');
  legend.className = 'legend';
  for (const kind of [...new Set(located.map((c) => c.kind))].sort()) {
    const item = document.createElement('span');
    item.style.setProperty('--c', KIND_COLORS[kind] ?? KIND_COLORS.OTHER!);
    item.textContent = kind.toLowerCase().replace('_', ' ');
    legend.append(item);
  }
  mapPanel.body.append(legend);
  drawMap(canvas, directory.coops, sectorOf);

  if (!release) await networkCredit(directory);

  status.textContent = `${directory.coops.length} listed co-ops in ${city}; loaded ${new Date().toLocaleTimeString()}.`;
  document.body.dataset.ready = 'true';
}

/**
 * Without a release the token may read: the public directory's own breakdowns (one co-op per
 * listing, public figures), said to be the directory's.
 */
function directoryPanels(directory: Directory): void {
  const growth = coopsOverTime(directory);
  const growthCells: Cell[] = growth.map((g) => ({
    label: String(g.year),
    value: g.total,
    suppressed: null,
    series: 'listed co-ops',
  }));
  const over = panel(panels, {
    id: 'coops-over-time',
    title: 'Co-ops over time',
    subtitle: 'Listed co-ops of the city by the year they were founded, cumulative (public directory).',
  });
  over.chart.append(lines(growthCells, { yLabel: 'co-ops' }));
  over.body.append(details('Figures', figuresTable(growthCells, ['year', 'co-ops'])));

  const byHood = countBy(directory, (c) => c.neighbourhood || '(not given)');
  const hood = panel(panels, {
    id: 'coops-by-neighbourhood',
    title: 'Co-ops by neighbourhood',
    subtitle: 'Listed co-ops (public directory).',
  });
  hood.chart.append(bars(byHood, { horizontal: true }));
  hood.body.append(details('Figures', figuresTable(byHood, ['neighbourhood', 'co-ops'])));

  const bySector = countBy(directory, (c) => sectorOf(c.naicsCode));
  const sector = panel(panels, {
    id: 'coops-by-sector',
    title: 'Co-ops by sector',
    subtitle: 'Listed co-ops by NAICS sector (public directory).',
  });
  sector.chart.append(bars(bySector, { horizontal: true, color: '#6a8f3b' }));
  sector.body.append(details('Figures', figuresTable(bySector, ['sector', 'co-ops'])));
}

/** Without a release: the mutual-credit networks of the city this token may read, their own totals. */
async function networkCredit(directory: Directory): Promise<void> {
  const credit = await loadCredit(ledger, directory);
  const creditPanel = panel(panels, {
    id: 'credit-volume',
    title: 'Mutual-credit volume by month',
    subtitle:
      'error' in credit
        ? `Not readable with this token (${credit.error}).`
        : credit.length === 0
          ? 'No mutual-credit network of this city is readable with this token.'
          : `Payments between member co-ops, ${credit.map((c) => `${c.network} (${c.unit})`).join(', ')} (the networks' own totals).`,
  });
  creditPanel.chart.closest('section')!.dataset.source = 'networks';
  if (!('error' in credit)) {
    const cells: Cell[] = credit.flatMap((view) =>
      view.months.map((m) => ({
        label: m.month,
        value: Number(m.volume),
        suppressed: null,
        ...(credit.length > 1 ? { series: view.network } : {}),
      })),
    );
    if (cells.length > 0) {
      creditPanel.chart.append(bars(cells, { color: '#8f3b6e' }));
      creditPanel.body.append(details('Figures', figuresTable(cells, ['month', 'volume'])));
    }
  }
}

function details(summary: string, content: Element): HTMLDetailsElement {
  const element = document.createElement('details');
  const title = document.createElement('summary');
  title.textContent = summary;
  element.append(title, content);
  return element;
}

main().catch((error: unknown) => {
  status.className = 'error';
  status.textContent =
    error instanceof LedgerClientError
      ? `The ledger answered ${error.code} (request ${error.requestId}): ${error.message}`
      : `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
  document.body.dataset.ready = 'error';
});
