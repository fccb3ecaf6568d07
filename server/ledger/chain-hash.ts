/** The hash of one link of a book's chain, from an entry as stored (the rules are in server/core/chain.ts). */
import { chainAmount, writeChainLinkTo } from '../core/index.js';
import { hashScratch, sha256Written } from '../platform/hashing.js';
import type { EntryRecord } from './store.js';

/**
 * A line's amount as hashed: chainAmount of its Decimal, or, for a line the posting engine decided,
 * its amountText (formatMinor of its minor units, written once when it was decided: the same text).
 */
function lineAmount(line: EntryRecord['lines'][number] & { amountText?: string }): string {
  return line.amountText ?? chainAmount(line.amount, line.scale);
}

export function entryHash(
  prevHash: string,
  entry: Omit<EntryRecord, 'requestHash' | 'prevHash' | 'hash'>,
): string {
  // sha256(chainLinkText(prevHash, entry with each line's amount as lineAmount writes it)), the
  // text written as bytes straight from the entry (no copy of it, no string).
  const sink = hashScratch();
  writeChainLinkTo(sink, prevHash, entry, entry.lines, lineAmount);
  return sha256Written(sink);
}
