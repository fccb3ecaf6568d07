/**
 * Canonical content of entries and requests. The hash chain and idempotency both hash these
 * strings; the hashing itself (SHA-256) is done by the caller so this module stays free of I/O
 * and platform imports. Field order is fixed and amounts are written by `chainAmount` (at their
 * unit's scale when that is exact), so the same entry always yields the same text whatever the
 * source (memory or database), and a different stored value always yields a different text.
 */
import type { Side } from './accounts.js';
import type { EntryKind } from './entries.js';
import type { Decimal } from './money.js';

/** The hash that precedes a book's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainLine {
  accountId: string;
  side: Side;
  /** Written by `chainAmount`. */
  amount: string;
  unitCode: string;
}

export interface ChainEntry {
  bookId: string;
  id: string;
  seq: string;
  kind: EntryKind;
  idempotencyKey: string;
  effectiveAt: Date;
  recordedAt: Date;
  memo: string;
  metadata: Record<string, string>;
  reversesId: string | null;
  pendingId: string | null;
  expiresAt: Date | null;
  postedBy: string | null;
  lines: ChainLine[];
}

/**
 * The text an amount is hashed as: its exact value. Written at the unit's scale when that is
 * exact, which every amount the ledger accepts is (so chains hashed before this rule keep
 * verifying), and in full otherwise: a stored amount changed below its unit's scale (10.004 in a
 * unit of scale 2) no longer hashes like the amount that was posted. The two forms never collide:
 * the full form is used only with more than `scale` decimals, the other has exactly `scale`.
 */
export function chainAmount(value: Decimal, scale: number): string {
  return value.decimalPlaces() <= scale ? value.toFixed(scale) : value.toFixed();
}

function sortedMetadata(metadata: Record<string, string>): [string, string][] {
  return Object.keys(metadata)
    .sort()
    .map((key) => [key, metadata[key]!]);
}

/** Canonical JSON of an entry's content, excluding its own hash and the previous hash. */
export function canonicalEntry(entry: ChainEntry): string {
  return JSON.stringify([
    'entry/v1',
    entry.bookId,
    entry.id,
    entry.seq,
    entry.kind,
    entry.idempotencyKey,
    entry.effectiveAt.toISOString(),
    entry.recordedAt.toISOString(),
    entry.memo,
    sortedMetadata(entry.metadata),
    entry.reversesId,
    entry.pendingId,
    entry.expiresAt ? entry.expiresAt.toISOString() : null,
    entry.postedBy,
    entry.lines.map((l) => [l.accountId, l.side, l.amount, l.unitCode]),
  ]);
}

/** The text hashed for a chain link: previous hash, newline, canonical content. */
export function chainLinkText(prevHash: string, entry: ChainEntry): string {
  return `${prevHash}\n${canonicalEntry(entry)}`;
}

/**
 * Canonical JSON of a request, for idempotency. Arrays keep their order (line order is part of
 * the entry); object keys are sorted; keys whose value is null or undefined are dropped, so
 * "absent" and "null" agree.
 */
export function canonicalRequest(operation: string, input: unknown): string {
  return JSON.stringify([operation, normalise(input)]);
}

function normalise(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'object') {
    // Absent and null keys are dropped so they agree; Object.fromEntries keeps a "__proto__" key
    // as an ordinary property where assignment would not.
    const entries: [string, unknown][] = [];
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || v === null) continue;
      entries.push([key, normalise(v)]);
    }
    return Object.fromEntries(entries);
  }
  return value;
}
