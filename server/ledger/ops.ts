/** What the posting engine is asked to do (ops) and what it answers (results). */
import type { EntryInput, LedgerError, MetadataEntry } from '../core/index.js';
import type { EntryRecord } from './store.js';

interface OpBase {
  bookId: string;
  postedBy: string | null;
  /** SHA-256 of the canonical request: same key + same hash = replay, different hash = reuse error. */
  requestHash: string;
}

/** Posts new lines: a standard entry or a pending (two-phase) one. */
export interface EntryOp extends OpBase {
  kind: 'STANDARD' | 'PENDING';
  entry: EntryInput;
  expiresAt: Date | null;
}

/** Acts on an existing entry: reverses it, or commits or voids a pending one. */
export interface RefOp extends OpBase {
  kind: 'REVERSAL' | 'COMMIT' | 'VOID';
  targetId: string;
  idempotencyKey: string;
  effectiveAt: Date | null;
  memo: string | null;
  metadata: MetadataEntry[] | null;
}

export type PostOp = EntryOp | RefOp;

export function isEntryOp(op: PostOp): op is EntryOp {
  return op.kind === 'STANDARD' || op.kind === 'PENDING';
}

export type OpResult =
  | { ok: true; entry: EntryRecord; replayed: boolean }
  | { ok: false; error: LedgerError };
