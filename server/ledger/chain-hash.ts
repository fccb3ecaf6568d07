/** The hash of one link of a book's chain, from an entry as stored (the rules are in server/core/chain.ts). */
import { type ChainEntry, chainAmount, formatMinor, writeChainLinkTo } from '../core/index.js';
import { hashScratch, sha256Written } from '../platform/hashing.js';
import type { EntryRecord } from './store.js';

/**
 * A line's amount as hashed: chainAmount of its Decimal, or, for a line the posting engine decided
 * (amount in minor units, never more places than its scale), the same text written from `minor`
 * (its amountText, written once when it was decided).
 */
function lineAmount(line: EntryRecord['lines'][number] & { minor?: bigint; amountText?: string }): string {
  if (line.amountText !== undefined) return line.amountText;
  return line.minor !== undefined
    ? formatMinor(line.minor, line.scale)
    : chainAmount(line.amount, line.scale);
}

export function chainEntryOf(entry: Omit<EntryRecord, 'requestHash' | 'prevHash' | 'hash'>): ChainEntry {
  return {
    bookId: entry.bookId,
    id: entry.id,
    seq: entry.seq,
    kind: entry.kind,
    idempotencyKey: entry.idempotencyKey,
    effectiveAt: entry.effectiveAt,
    recordedAt: entry.recordedAt,
    memo: entry.memo,
    metadata: entry.metadata,
    reversesId: entry.reversesId,
    pendingId: entry.pendingId,
    expiresAt: entry.expiresAt,
    postedBy: entry.postedBy,
    lines: entry.lines.map((l) => ({
      accountId: l.accountId,
      side: l.side,
      amount: lineAmount(l),
      unitCode: l.unitCode,
    })),
  };
}

export function entryHash(
  prevHash: string,
  entry: Omit<EntryRecord, 'requestHash' | 'prevHash' | 'hash'>,
): string {
  // sha256(chainLinkText(prevHash, chainEntryOf(entry))), its text written as bytes straight from
  // the entry (no copy of it, no string).
  const sink = hashScratch();
  writeChainLinkTo(sink, prevHash, entry, entry.lines, lineAmount);
  return sha256Written(sink);
}
