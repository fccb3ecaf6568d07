/**
 * Charts with Observable Plot (SVG). Every chart comes with a table of the same figures below it
 * (for screen readers, copying, and the browser test), and every mark carries a title with its
 * figure. A suppressed cell is drawn as a hatched bar reaching the chart's top with its reason
 * written on it, and its table row says "suppressed (reason)": never a zero.
 */
import * as Plot from '@observablehq/plot';
import type { Cell } from './data.js';

const HATCH_ID = 'suppressed-hatch';
const SUPPRESSED_FILL = `url(#${HATCH_ID})`;
const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** What a cell shows: its figure, or that it is suppressed and why. */
export function cellText(cell: Cell): string {
  if (cell.suppressed !== null) return `suppressed (${cell.suppressed})`;
  // NO_DATA (no co-op shared data in the period): no figure, never drawn as a zero.
  if (cell.value === null) return 'no data';
  return numberFormat.format(cell.value);
}

/** A mark that only adds the hatch pattern's definition to the chart's SVG. */
function hatchDefinition(): () => SVGElement {
  return () => {
    const ns = 'http://www.w3.org/2000/svg';
    const defs = document.createElementNS(ns, 'defs');
    const pattern = document.createElementNS(ns, 'pattern');
    pattern.setAttribute('id', HATCH_ID);
    pattern.setAttribute('patternUnits', 'userSpaceOnUse');
    pattern.setAttribute('width', '8');
    pattern.setAttribute('height', '8');
    pattern.setAttribute('patternTransform', 'rotate(45)');
    const background = document.createElementNS(ns, 'rect');
    background.setAttribute('width', '8');
    background.setAttribute('height', '8');
    background.setAttribute('fill', '#f3f0ea');
    const line = document.createElementNS(ns, 'line');
    line.setAttribute('x1', '0');
    line.setAttribute('y1', '0');
    line.setAttribute('x2', '0');
    line.setAttribute('y2', '8');
    line.setAttribute('stroke', '#8a7f72');
    line.setAttribute('stroke-width', '3');
    pattern.append(background, line);
    defs.append(pattern);
    return defs;
  };
}

export interface PanelOptions {
  id: string;
  title: string;
  subtitle?: string;
}

/** A titled panel with a chart area and a figures table; returns both parts. */
export function panel(
  container: HTMLElement,
  options: PanelOptions,
): { chart: HTMLElement; body: HTMLElement } {
  const section = document.createElement('section');
  section.className = 'panel';
  section.id = options.id;
  const heading = document.createElement('h2');
  heading.textContent = options.title;
  section.append(heading);
  if (options.subtitle) {
    const subtitle = document.createElement('p');
    subtitle.className = 'subtitle';
    subtitle.textContent = options.subtitle;
    section.append(subtitle);
  }
  const chart = document.createElement('div');
  chart.className = 'chart';
  const body = document.createElement('div');
  body.className = 'body';
  section.append(chart, body);
  container.append(section);
  return { chart, body };
}

/** A table of cells: label, figure (or "suppressed (reason)"), with data attributes for tools. */
export function figuresTable(cells: readonly Cell[], headers: [string, string]): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'figures';
  const head = table.createTHead().insertRow();
  for (const text of headers) {
    const th = document.createElement('th');
    th.textContent = text;
    head.append(th);
  }
  const body = table.createTBody();
  for (const cell of cells) {
    const row = body.insertRow();
    row.dataset.label = cell.label;
    if (cell.series !== undefined) row.dataset.series = cell.series;
    if (cell.suppressed !== null) {
      row.dataset.suppressed = cell.suppressed;
      row.className = 'suppressed';
    } else if (cell.value === null) {
      row.dataset.noData = 'true';
      row.className = 'no-data';
    } else {
      row.dataset.value = String(cell.value);
    }
    row.insertCell().textContent = cell.series === undefined ? cell.label : `${cell.label} · ${cell.series}`;
    row.insertCell().textContent = cellText(cell);
  }
  return table;
}

/**
 * Bars of cells (horizontal when the labels are long): published cells filled, suppressed cells
 * hatched up to the largest figure with their reason.
 */
export function bars(
  cells: readonly Cell[],
  options: { horizontal?: boolean; color?: string } = {},
): Element {
  const published = cells.filter((c) => c.suppressed === null && c.value !== null);
  const suppressed = cells.filter((c) => c.suppressed !== null);
  const top = Math.max(1, ...published.map((c) => c.value ?? 0));
  const labels = cells.map((c) => c.label);
  const withheld = suppressed.map((c) => ({ ...c, value: top }));
  const title = (c: Cell) => `${c.label}: ${cellText(c)}`;
  const color = options.color ?? '#3b6e8f';
  if (options.horizontal) {
    return Plot.plot({
      marginLeft: 160,
      height: 28 * cells.length + 40,
      width: 560,
      x: { grid: true, label: null },
      y: { domain: labels, label: null },
      marks: [
        hatchDefinition(),
        Plot.barX(published, { x: 'value', y: 'label', fill: color, title }),
        Plot.barX(withheld, { x: 'value', y: 'label', fill: SUPPRESSED_FILL, stroke: '#8a7f72', title }),
        Plot.text(withheld, {
          x: 'value',
          y: 'label',
          text: (c: Cell) => `suppressed: ${c.suppressed}`,
          textAnchor: 'end',
          dx: -4,
          fill: '#3d352c',
        }),
        Plot.ruleX([0]),
      ],
    });
  }
  return Plot.plot({
    height: 260,
    width: 560,
    marginBottom: 50,
    x: { domain: labels, label: null, tickRotate: -30 },
    // SI-prefixed ticks (1.2M): a city's money totals in full digits did not fit the left margin.
    y: { grid: true, label: null, tickFormat: '~s' },
    marks: [
      hatchDefinition(),
      Plot.barY(published, { x: 'label', y: 'value', fill: color, title }),
      Plot.barY(withheld, { x: 'label', y: 'value', fill: SUPPRESSED_FILL, stroke: '#8a7f72', title }),
      Plot.text(withheld, {
        x: 'label',
        y: 'value',
        text: (c: Cell) => `${c.suppressed}`,
        rotate: -90,
        textAnchor: 'end',
        dy: 2,
        dx: -6,
        fill: '#3d352c',
      }),
      Plot.ruleY([0]),
    ],
  });
}

/**
 * Lines over time, one per series; suppressed points are left out of the line (a gap, not a
 * zero) and marked with a hatched square on the axis with their reason written above it.
 */
export function lines(cells: readonly Cell[], options: { yLabel?: string } = {}): Element {
  const published = cells.filter((c) => c.suppressed === null && c.value !== null);
  const suppressed = cells.filter((c) => c.suppressed !== null);
  const bottom = 0;
  const title = (c: Cell) => `${c.label}${c.series ? ` · ${c.series}` : ''}: ${cellText(c)}`;
  // Years and months are times: a time axis keeps its ticks readable however many points there are.
  const years = cells.every((c) => /^\d{4}$/.test(c.label));
  const at = (c: Cell) =>
    years ? new Date(Date.UTC(Number(c.label), 0, 1)) : new Date(`${c.label.slice(0, 7)}-01T00:00:00Z`);
  const timeAxis = years || cells.every((c) => /^\d{4}-\d{2}/.test(c.label));
  const x = timeAxis ? at : 'label';
  return Plot.plot({
    height: 260,
    width: 560,
    marginBottom: 40,
    x: timeAxis
      ? { label: null, type: 'utc' }
      : { label: null, type: 'point', domain: [...new Set(cells.map((c) => c.label))] },
    y: {
      grid: true,
      label: options.yLabel ?? null,
      zero: true,
      tickFormat: '~s',
      // Only zeros (or nothing published): a scale from 0 to 0 has no ticks to format.
      ...(published.some((c) => (c.value ?? 0) !== 0) ? {} : { domain: [0, 1] }),
    },
    color: { legend: new Set(cells.map((c) => c.series)).size > 1 },
    marks: [
      hatchDefinition(),
      Plot.lineY(cells, {
        x,
        y: (c: Cell) => (c.suppressed === null ? c.value : Number.NaN),
        stroke: (c: Cell) => c.series ?? 'value',
        strokeWidth: 2,
      }),
      Plot.dot(published, {
        x,
        y: 'value',
        fill: (c: Cell) => c.series ?? 'value',
        r: 3,
        title,
      }),
      Plot.dot(suppressed, {
        x,
        y: () => bottom,
        symbol: 'square',
        r: 7,
        fill: SUPPRESSED_FILL,
        stroke: '#8a7f72',
        title,
      }),
      Plot.text(suppressed, {
        x,
        y: () => bottom,
        text: (c: Cell) => c.suppressed,
        rotate: -90,
        textAnchor: 'start',
        dx: -10,
        fontSize: 9,
        fill: '#3d352c',
      }),
      Plot.ruleY([0]),
    ],
  });
}
