/**
 * The previews a service process computed last, so that a preview read page by page is computed
 * once (issue 13's follow-up: a 10,000-member co-op read 100 members a page was 100 requests each
 * recomputing the whole run, about 60 s).
 *
 * Only the pages after the first (a request whose allocations give `after` or `before`) read from
 * here; a first page is always computed anew and replaces the entry. So a preview is the co-op's
 * patronage as of its first page, every later page a slice of that one computation: what a reader
 * paging through it wants (pages of one preview, not of several). Nothing is trusted beyond that:
 * a preview posts nothing (commit recomputes under the book's lock), an entry lives PREVIEW_TTL_MS
 * at most, and a page that finds none (expired, evicted, or another instance behind a load
 * balancer) computes anew, its inputsHash telling a reader whether anything changed meanwhile.
 *
 * Bounded by members' lines, not entries: a 10,000-member preview holds tens of MB of the service's
 * 128 MB heap. Measured: five such previews kept (four held) and then a commit and its
 * verification ran the service out of heap. The newest preview is always kept; older ones are
 * dropped, oldest first, while the lines held exceed PREVIEW_CACHE_LINES_MAX.
 */
import { LedgerError } from '../core/index.js';
import type { RunFigures } from './records.js';

export const PREVIEW_TTL_MS = 60_000;
export const PREVIEW_CACHE_LINES_MAX = 10_000;

interface Entry {
  at: number;
  figures: Promise<RunFigures | LedgerError>;
  /** Members' lines once computed (0 until then). */
  lines: number;
}

export class PreviewCache {
  private readonly entries = new Map<string, Entry>();

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
    const entry: Entry = { at: this.now(), figures, lines: 0 };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    figures.then((f) => {
      if (f instanceof LedgerError) return forget();
      entry.lines = f.lines.length;
      this.trim();
    }, forget);
  }

  private trim(): void {
    const now = this.now();
    for (const [key, e] of this.entries) if (now - e.at > PREVIEW_TTL_MS) this.entries.delete(key);
    let held = 0;
    for (const e of this.entries.values()) held += e.lines;
    // Map order is insertion order: the oldest first; the newest is never dropped.
    for (const [key, e] of this.entries) {
      if (held <= PREVIEW_CACHE_LINES_MAX || this.entries.size === 1) break;
      this.entries.delete(key);
      held -= e.lines;
    }
  }
}
