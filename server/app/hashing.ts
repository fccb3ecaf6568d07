import { createHash } from 'node:crypto';
import type { EntryRecord } from '../db/ledger-store.js';
import { type ChainEntry, canonicalRequest, chainLinkText, formatAmount } from '../ledger/index.js';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function requestHash(operation: string, input: unknown): string {
  return sha256(canonicalRequest(operation, input));
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
      amount: formatAmount(l.amount, l.scale),
      unitCode: l.unitCode,
    })),
  };
}

export function entryHash(
  prevHash: string,
  entry: Omit<EntryRecord, 'requestHash' | 'prevHash' | 'hash'>,
): string {
  return sha256(chainLinkText(prevHash, chainEntryOf(entry)));
}
