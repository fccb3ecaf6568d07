/**
 * The previews a service process computed last, so that a preview read page by page is computed
 * once (issue 13's follow-up: a 10,000-member co-op read 100 members a page was 100 requests each
 * recomputing the whole run, about 70 s).
 *
 * Only the pages after the first (a request whose allocations give `after` or `before`) read from
 * here; a first page is always computed anew and replaces the entry. So a preview is the co-op's
 * patronage as of its first page, every later page a slice of that one computation: what a reader
 * paging through it wants (pages of one preview, not of several). Nothing is trusted beyond that:
 * a preview posts nothing (commit recomputes under the book's lock), an entry lives PREVIEW_TTL_MS
 * at most, and a page that finds none (expired, evicted, or another instance behind a load
 * balancer) computes anew, its inputsHash telling a reader whether anything changed meanwhile.
 * Bounded: PREVIEW_CACHE_ENTRIES previews, the oldest dropped first (a 10,000-member preview is a
 * few MB of the service's heap).
 */
import { LedgerError } from '../core/index.js';
import type { RunFigures } from './records.js';

export const PREVIEW_TTL_MS = 60_000;
export const PREVIEW_CACHE_ENTRIES = 4;

export class PreviewCache {
  private readonly entries = new Map<string, { at: number; figures: Promise<RunFigures | LedgerError> }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** The preview computed for this key within the last PREVIEW_TTL_MS, or undefined. */
  get(key: string): Promise<RunFigures | LedgerError> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at > PREVIEW_TTL_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.figures;
  }

  /** Keeps a preview being computed (shared by pages asked meanwhile); a refusal or a fault is not kept. */
  set(key: string, figures: Promise<RunFigures | LedgerError>): void {
    this.entries.delete(key);
    this.entries.set(key, { at: this.now(), figures });
    while (this.entries.size > PREVIEW_CACHE_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const forget = () => {
      if (this.entries.get(key)?.figures === figures) this.entries.delete(key);
    };
    figures.then((f) => {
      if (f instanceof LedgerError) forget();
    }, forget);
  }
}
