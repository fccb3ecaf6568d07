/**
 * What the posting engine decides for one op, apart from the database: the checks that need
 * nothing from it (precheck) and the decision against the locked, in-memory state of a flush
 * (decide). Pure apart from minting an entry id.
 */
import {
  type AccountState,
  type AccountTotals,
  applyLines,
  type Decimal,
  type EntryKind,
  invariant,
  LedgerError,
  type MetadataEntry,
  type Movement,
  movementForKind,
  resolveLines,
  reversalLines,
  type Side,
  validateEffectiveAt,
  validateEntryShape,
  validateExpiresAt,
  validateIdempotencyKey,
  validateMemo,
  validateMetadata,
  ZERO,
} from '../core/index.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { entryHash } from './chain-hash.js';
import { isEntryOp, type PostOp } from './ops.js';
import type { AccountRow, DayTotal, EntryLinks, EntryRecord, NewEntry } from './store.js';

export const key = (bookId: string, id: string) => `${bookId}/${id}`;

export function pickTotals(t: AccountTotals): AccountTotals {
  return {
    postedDebits: t.postedDebits,
    postedCredits: t.postedCredits,
    pendingDebits: t.pendingDebits,
    pendingCredits: t.pendingCredits,
  };
}

export function toRecord(entry: NewEntry): EntryRecord {
  return { ...entry, lines: entry.lines.map(({ effectiveAt: _e, ...line }) => line) };
}

/** Posted movement per account and UTC day, for the balance-as-of snapshots. */
export function dayTotals(entries: NewEntry[]): DayTotal[] {
  const totals = new Map<string, DayTotal>();
  for (const entry of entries) {
    for (const line of entry.lines) {
      if (line.phase !== 'POSTED') continue;
      const day = line.effectiveAt.toISOString().slice(0, 10);
      const k = `${entry.bookId}/${line.accountId}/${day}`;
      const t = totals.get(k) ?? {
        bookId: entry.bookId,
        accountId: line.accountId,
        day,
        debits: ZERO,
        credits: ZERO,
      };
      if (line.side === 'DEBIT') t.debits = t.debits.plus(line.amount);
      else t.credits = t.credits.plus(line.amount);
      totals.set(k, t);
    }
  }
  return [...totals.values()];
}

/**
 * Checks that need nothing from the database nor the clock: the same input always gets the same
 * answer here, so these refusals are not remembered under the key (see decide for the others).
 */
export function precheck(op: PostOp): LedgerError | null {
  const error = (() => {
    if (!isUuid(op.bookId)) return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
    if (isEntryOp(op)) return validateEntryShape(op.entry);
    const metadata = validateMetadata(op.metadata);
    return (
      validateIdempotencyKey(op.idempotencyKey) ??
      validateMemo(op.memo) ??
      (metadata instanceof LedgerError ? metadata : null) ??
      (isUuid(op.targetId)
        ? null
        : new LedgerError('UNKNOWN_ENTRY', 'no such journal entry in this book', 'entryId'))
    );
  })();
  return error;
}

export interface DecideContext {
  now: Date;
  book: { maxBackdateDays: number };
  head: { seq: bigint; hash: string };
  accounts: Map<string, AccountRow>;
  totalsOf: (accountKey: string) => AccountTotals;
  targets: Map<string, EntryRecord>;
  links: Map<string, EntryLinks>;
  isTargetUsed: (targetKey: string) => boolean;
}

export interface Decided {
  entry: NewEntry;
  totals: Map<string, AccountTotals>;
  targetKey: string | null;
}

/**
 * Decides one op against the current working state (the locked accounts, the book's chain head,
 * the clock); pure apart from minting an id. Its refusals are remembered under the op's key.
 */
export function decide(op: PostOp, ctx: DecideContext): Decided | LedgerError {
  const { now } = ctx;
  let lines: { accountId: string; side: Side; amount: Decimal; unitCode: string; scale: number }[];
  let effectiveAt: Date;
  let targetKey: string | null = null;
  let movement: Movement;
  let memo: string;
  let metadataInput: MetadataEntry[] | null;
  let idempotencyKey: string;
  let expiresAt: Date | null = null;

  // Account states of this book as they stand now (locked row + earlier ops of this flush).
  const view = new Map<string, AccountState>();
  const addView = (accountId: string) => {
    const k = key(op.bookId, accountId);
    const row = ctx.accounts.get(k);
    if (row) view.set(accountId, { ...row, ...pickTotals(ctx.totalsOf(k)) });
  };

  if (isEntryOp(op)) {
    for (const line of op.entry.lines) addView(line.accountId);
    const resolved = resolveLines(op.entry.lines, view);
    if (resolved instanceof LedgerError) return resolved;
    lines = resolved;
    effectiveAt = op.entry.effectiveAt ?? now;
    const dateError = validateEffectiveAt(effectiveAt, now, ctx.book.maxBackdateDays);
    if (dateError) return dateError;
    // Against the clock, so decided here with the locks held and remembered like any refusal.
    const expiryError = op.kind === 'PENDING' ? validateExpiresAt(op.expiresAt, now) : null;
    if (expiryError) return expiryError;
    movement = movementForKind(op.kind)!;
    memo = op.entry.memo ?? '';
    metadataInput = op.entry.metadata;
    idempotencyKey = op.entry.idempotencyKey;
    expiresAt = op.kind === 'PENDING' ? op.expiresAt : null;
  } else {
    targetKey = key(op.bookId, op.targetId);
    const target = ctx.targets.get(targetKey);
    if (!target) return new LedgerError('UNKNOWN_ENTRY', 'no such journal entry in this book', 'entryId');
    const link = ctx.links.get(targetKey)!;
    for (const line of target.lines) addView(line.accountId);
    if (op.kind === 'REVERSAL') {
      if (target.kind === 'PENDING' || target.kind === 'VOID') {
        return new LedgerError(
          'NOT_REVERSIBLE',
          target.kind === 'PENDING'
            ? 'a pending entry is voided, not reversed'
            : 'a void moves no money and cannot be reversed',
          'entryId',
        );
      }
      if (link.reversedBy || ctx.isTargetUsed(targetKey)) {
        return new LedgerError('ALREADY_REVERSED', 'this entry has already been reversed', 'entryId');
      }
      lines = reversalLines(target.lines);
      effectiveAt = op.effectiveAt ?? target.effectiveAt;
      movement = 'POST';
    } else {
      if (target.kind !== 'PENDING')
        return new LedgerError('NOT_PENDING', 'this entry is not a pending entry', 'entryId');
      // Expiry is answered before resolution: once the sweep has voided an expired entry, a commit
      // still hears PENDING_EXPIRED, whether or not the sweep ran first. (In the same flush no
      // commit of an expired entry can succeed, so an earlier resolution there was a void.)
      const expired = target.expiresAt !== null && target.expiresAt.getTime() <= now.getTime();
      if (op.kind === 'COMMIT' && expired && link.resolutionKind !== 'COMMIT') {
        return new LedgerError(
          'PENDING_EXPIRED',
          'this pending entry expired and can no longer be posted',
          'entryId',
        );
      }
      if (link.resolvedBy || ctx.isTargetUsed(targetKey)) {
        return new LedgerError(
          'PENDING_ALREADY_RESOLVED',
          'this pending entry has already been posted or voided',
          'entryId',
        );
      }
      lines = target.lines;
      effectiveAt = op.effectiveAt ?? now;
      movement = op.kind === 'COMMIT' ? 'COMMIT' : 'RELEASE';
    }
    const dateError = validateEffectiveAt(effectiveAt, now, ctx.book.maxBackdateDays);
    if (dateError) {
      return op.effectiveAt
        ? dateError
        : new LedgerError(
            'INVALID_EFFECTIVE_AT',
            `${dateError.message}; the default (the original entry's effectiveAt) is outside the window, so give effectiveAt`,
            'effectiveAt',
          );
    }
    // Moving money into or out of a closed account is refused; releasing a reservation is not.
    if (movement !== 'RELEASE') {
      for (const line of lines) {
        if (view.get(line.accountId)?.closed) {
          return new LedgerError('ACCOUNT_CLOSED', 'an account of this entry has been closed', 'entryId');
        }
      }
    }
    memo = op.memo ?? '';
    metadataInput = op.metadata;
    idempotencyKey = op.idempotencyKey;
  }

  const applied = applyLines(view, lines, movement);
  if (applied instanceof LedgerError) return applied;
  const metadata = validateMetadata(metadataInput);
  invariant(!(metadata instanceof LedgerError), 'metadata was validated in precheck');

  const kind: EntryKind = op.kind;
  const phase = kind === 'PENDING' ? 'PENDING' : 'POSTED';
  const storedLines = kind === 'VOID' ? [] : lines;
  const seq = (ctx.head.seq + 1n).toString();
  const body = {
    bookId: op.bookId,
    id: uuidv7(now.getTime()),
    seq,
    kind,
    idempotencyKey,
    effectiveAt,
    recordedAt: now,
    memo,
    metadata,
    reversesId: kind === 'REVERSAL' && !isEntryOp(op) ? op.targetId : null,
    pendingId: (kind === 'COMMIT' || kind === 'VOID') && !isEntryOp(op) ? op.targetId : null,
    expiresAt,
    postedBy: op.postedBy,
    lines: storedLines.map((l, n) => ({
      lineNo: n + 1,
      accountId: l.accountId,
      side: l.side,
      amount: l.amount,
      unitCode: l.unitCode,
      scale: l.scale,
      phase: phase as 'POSTED' | 'PENDING',
      effectiveAt,
    })),
  };
  const hash = entryHash(ctx.head.hash, body);
  const totals = new Map<string, AccountTotals>();
  for (const [accountId, t] of applied) totals.set(key(op.bookId, accountId), t);
  return {
    entry: { ...body, requestHash: op.requestHash, prevHash: ctx.head.hash, hash },
    totals,
    targetKey,
  };
}
