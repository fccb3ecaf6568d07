/**
 * Everything the dashboard shows, read through @solidarity-ledger/sdk and nothing else:
 * - the public directory of the city (no token needed): co-ops, kinds, sectors, neighbourhoods,
 *   founding dates, coordinates;
 * - the mutual-credit networks the token may read, whose members are co-ops of the city: payments
 *   and volume per month (a network's own totals, not any member's);
 * - city reporting's protected aggregates, when the service serves them: see `reporting.ts`.
 *
 * A figure is a `Cell`: a value, or a suppressed cell with its reason (never a zero).
 */
import { type DirectoryEntry, type LedgerClient, settle } from '@solidarity-ledger/sdk';

export interface Cell {
  label: string;
  /** The figure as the API gave it (a count, or a Decimal string), or null when suppressed or NO_DATA. */
  value: number | null;
  /** Why the cell is withheld (the API's reason code), or null when published. */
  suppressed: string | null;
  /** Extra grouping (e.g. the series of a line chart). */
  series?: string;
}

export interface Directory {
  city: string;
  coops: DirectoryEntry[];
}

export async function loadDirectory(ledger: LedgerClient, city: string): Promise<Directory> {
  const coops: DirectoryEntry[] = [];
  for await (const coop of ledger.iterateCoopDirectory({ city })) coops.push(coop);
  return { city, coops };
}

/** Listed co-ops by year founded, and the running count (the directory's view of growth). */
export function coopsOverTime(directory: Directory): { year: number; founded: number; total: number }[] {
  const byYear = new Map<number, number>();
  for (const coop of directory.coops) {
    const year = Number(coop.foundedOn.slice(0, 4));
    byYear.set(year, (byYear.get(year) ?? 0) + 1);
  }
  const years = [...byYear.keys()].sort((a, b) => a - b);
  if (years.length === 0) return [];
  const out: { year: number; founded: number; total: number }[] = [];
  let total = 0;
  for (let year = years[0]!; year <= years[years.length - 1]!; year++) {
    const founded = byYear.get(year) ?? 0;
    total += founded;
    out.push({ year, founded, total });
  }
  return out;
}

/** Listed co-ops counted by a property (public figures: the directory lists them one by one). */
export function countBy(directory: Directory, key: (coop: DirectoryEntry) => string): Cell[] {
  const counts = new Map<string, number>();
  for (const coop of directory.coops) counts.set(key(coop), (counts.get(key(coop)) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([label, value]) => ({ label, value, suppressed: null }));
}

export interface CreditMonth {
  month: string;
  payments: number;
  volume: string;
}

export interface CreditView {
  network: string;
  unit: string;
  months: CreditMonth[];
}

/**
 * The mutual-credit networks this token may read that count co-ops of the city among their
 * members, with payments and volume per month over the last `months` months.
 */
export async function loadCredit(
  ledger: LedgerClient,
  directory: Directory,
  months = 12,
): Promise<CreditView[] | { error: string }> {
  const networks = await settle(ledger.creditNetworks({ first: 20 }));
  if (!networks.ok) return { error: networks.rejected ? 'refused' : networks.error.code };
  const cityCoops = new Set(directory.coops.map((c) => c.id));
  const now = new Date();
  const to = now.toISOString().slice(0, 7);
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (months - 1), 1));
  const from = start.toISOString().slice(0, 7);
  const views: CreditView[] = [];
  for (const edge of networks.value.edges) {
    const network = edge.node;
    const members = await ledger.creditNetwork({ id: network.id, first: 100 });
    const inCity = (members?.members.edges ?? []).some((m) => cityCoops.has(m.node.coopId));
    if (!inCity) continue;
    const stats = await ledger.networkStatistics({ networkId: network.id, from, to });
    views.push({
      network: network.name,
      unit: network.unit.code,
      months: (stats?.statistics.months ?? []).map((m) => ({
        month: m.month,
        payments: m.payments,
        volume: m.volume,
      })),
    });
  }
  return views;
}
