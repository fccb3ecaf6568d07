/**
 * City reporting (issue 15): worker-owners and co-ops over time, jobs, patronage by year, and
 * breakdowns by neighbourhood and sector, each a slice of the city's protected table, where a
 * suppressed cell comes with its reason instead of a figure.
 *
 * This version of the SDK has no reporting methods yet (the service does not serve city reporting
 * yet): the panel says so instead of showing figures computed some other way, since the office
 * must only ever see protected cells.
 */
import type { LedgerClient } from '@solidarity-ledger/sdk';
import { panel } from './charts.js';

export async function renderReporting(
  _ledger: LedgerClient,
  city: string,
  container: HTMLElement,
): Promise<void> {
  const notice = panel(container, {
    id: 'reporting',
    title: 'Worker-owners, jobs and patronage',
    subtitle: `City reporting is not served by this version of the ledger, so ${city}'s protected aggregates (worker-owners and jobs over time, patronage by year, breakdowns with suppressed cells) cannot be shown.`,
  });
  notice.chart.closest('section')?.classList.add('notice');
}
