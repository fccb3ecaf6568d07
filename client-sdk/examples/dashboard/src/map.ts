/**
 * The map of the city's listed co-ops with coordinates, drawn by Leaflet with no tile layer: the
 * page works with the network blocked except the service (no tiles, fonts or scripts from
 * elsewhere). What stands in for the base map is drawn from the data itself: a light hull around
 * each neighbourhood's co-ops and its name, a scale, and one circle per co-op coloured by kind.
 */
import type { DirectoryEntry } from '@solidarity-ledger/sdk';
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';

export const KIND_COLORS: Record<string, string> = {
  WORKER: '#3b6e8f',
  CONSUMER: '#c26d2b',
  HOUSING: '#6a8f3b',
  PRODUCER: '#8f3b6e',
  MULTI_STAKEHOLDER: '#b59b2a',
  PLATFORM: '#4b4b9f',
  CREDIT_UNION: '#2a8f8a',
  OTHER: '#777777',
};

type Point = [number, number];

/** The convex hull of points (Andrew's monotone chain), for a neighbourhood's outline. */
function hull(points: Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length < 3) return sorted;
  const cross = (o: Point, a: Point, b: Point) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0)
      lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (const p of [...sorted].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0)
      upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

export function drawMap(
  element: HTMLElement,
  coops: readonly DirectoryEntry[],
  sectorLabel: (naics: string) => string,
) {
  const located = coops.filter((c) => c.latitude !== null && c.longitude !== null);
  const map = L.map(element, {
    attributionControl: false,
    zoomSnap: 0.25,
    // SVG, so every co-op is an element a test (or a screen reader) can find.
    preferCanvas: false,
  });
  L.control.scale({ imperial: false }).addTo(map);
  if (located.length === 0) {
    map.setView([0, 0], 2);
    return { map, markers: 0 };
  }
  const byHood = new Map<string, Point[]>();
  for (const coop of located) {
    const point: Point = [Number(coop.latitude), Number(coop.longitude)];
    const hood = coop.neighbourhood || '(no neighbourhood)';
    byHood.set(hood, [...(byHood.get(hood) ?? []), point]);
  }
  for (const [hood, points] of byHood) {
    const outline = hull(points);
    if (outline.length >= 3) {
      L.polygon(outline, {
        color: '#9aa5ad',
        weight: 1,
        fillColor: '#dfe6ea',
        fillOpacity: 0.5,
        interactive: false,
      }).addTo(map);
    }
    const centre: Point = [
      points.reduce((s, p) => s + p[0], 0) / points.length,
      points.reduce((s, p) => s + p[1], 0) / points.length,
    ];
    L.tooltip({ permanent: true, direction: 'center', className: 'hood-label' })
      .setLatLng(centre)
      .setContent(hood)
      .addTo(map);
  }
  for (const coop of located) {
    L.circleMarker([Number(coop.latitude), Number(coop.longitude)], {
      radius: 7,
      color: '#ffffff',
      weight: 1.5,
      fillColor: KIND_COLORS[coop.kind] ?? KIND_COLORS.OTHER,
      fillOpacity: 0.9,
      className: 'coop-marker',
    })
      .bindTooltip(
        `<strong>${escapeHtml(coop.name)}</strong><br>${coop.kind.toLowerCase().replace('_', ' ')} · ${escapeHtml(
          sectorLabel(coop.naicsCode),
        )}<br>${escapeHtml(coop.neighbourhood)}`,
      )
      .addTo(map);
  }
  map.fitBounds(L.latLngBounds(located.map((c) => [Number(c.latitude), Number(c.longitude)] as Point)), {
    padding: [24, 24],
  });
  return { map, markers: located.length };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
