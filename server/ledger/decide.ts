/**
 * What the posting engine decides for one op, apart from the database: the checks that need
 * nothing from it (precheck) and the decision against the locked, in-memory state of a flush
 * (decide). Pure apart from minting an entry id.
 */
import {
  accountOnBothSides,
  applyLinesMinor,
  balanceViewMinor,
  Decimal,
  type EntryKind,
  firstBoundBreachMinor,
  formatMinor,
  invariant,
  LedgerError,
  type MetadataEntry,
  type MinorLine,
  type MinorMovement,
  type MinorTotals,
  type Movement,
  minorOfDecimal,
  movementForKind,
  oppositeSide,
  resolveLinesMinor,
  type Side,
  signedMinor,
  validateEffectiveAt,
  validateEntryShape,
  validateExpiresAt,
  validateIdempotencyKey,
  validateMemo,
  validateMetadata,
} from '../core/index.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { entryHash } from './chain-hash.js';
import { isEntryOp, type PostOp } from './ops.js';
import type { DayTotal, EntryLinks, EntryRecord, NewEntry, NewLine, PostingAccount } from './store.js';

export const key = (bookId: string, id: string) => `${bookId}/${id}`;

export function pickTotals(t: MinorTotals): MinorTotals {
  return {
    postedDebits: t.postedDebits,
    postedCredits: t.postedCredits,
    pendingDebits: t.pendingDebits,
    pendingCredits: t.pendingCredits,
  };
}

/**
 * A decided line: its amount in minor units, the Decimal of it (`amount`, the LineRecord's field)
 * made only if something reads it, such as a response that asks for the line's amount.
 */
export class PostedLine implements NewLine {
  private decimal: Decimal | undefined;
  /** The amount at its unit's scale (formatMinor): written once, read by the hash and the write. */
  readonly amountText: string;

  constructor(
    readonly lineNo: number,
    readonly accountId: string,
    readonly side: Side,
    readonly minor: bigint,
    readonly unitCode: string,
    readonly scale: number,
    readonly phase: 'POSTED' | 'PENDING',
    readonly effectiveAt: Date,
  ) {
    this.amountText = formatMinor(minor, scale);
  }

  get amount(): Decimal {
    // decimalOfMinor(minor, scale), from the text already written.
    this.decimal ??= new Decimal(this.amountText);
    return this.decimal;
  }
}

/**
 * A decided entry as the record its request is answered with: the entry itself (a NewEntry is an
 * EntryRecord whose lines also say when they count), not a copy of it and of each line.
 */
export function toRecord(entry: NewEntry): EntryRecord {
  return entry;
}

/** Posted movement per account and UTC day, for the balance-as-of snapshots. */
export function dayTotals(entries: NewEntry[]): DayTotal[] {
  // In order of first appearance (as the rows are written), found by book, then UTC day (its
  // number since the epoch: one toISOString per day, not per line), then account: no key string
  // per line.
  const out: DayTotal[] = [];
  const byBook = new Map<string, Map<number, Map<string, DayTotal>>>();
  const days = new Map<number, string>();
  // Indexed loops (no iterator result per element where this runs unoptimised).
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    let byDay = byBook.get(entry.bookId);
    if (byDay === undefined) {
      byDay = new Map();
      byBook.set(entry.bookId, byDay);
    }
    const lines = entry.lines;
    for (let j = 0; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.phase !== 'POSTED') continue;
      const dayNumber = Math.floor(line.effectiveAt.getTime() / 86_400_000);
      let byAccount = byDay.get(dayNumber);
      if (byAccount === undefined) {
        byAccount = new Map();
        byDay.set(dayNumber, byAccount);
      }
      let t = byAccount.get(line.accountId);
      if (t === undefined) {
        let day = days.get(dayNumber);
        if (day === undefined) {
          day = line.effectiveAt.toISOString().slice(0, 10);
          days.set(dayNumber, day);
        }
        t = {
          bookId: entry.bookId,
          accountId: line.accountId,
          day,
          debits: 0n,
          credits: 0n,
          scale: line.scale,
        };
        byAccount.set(line.accountId, t);
        out.push(t);
      }
      if (line.side === 'DEBIT') t.debits += line.minor;
      else t.credits += line.minor;
    }
  }
  return out;
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

/**
 * The instant an op's lines would count in posted balances, or null when it posts none (a pending
 * entry reserves, a void releases) or its target is unknown. Defaults: now for an entry; the
 * original's instant for a reversal; now for a commit, but not before its pending entry.
 */
export function postingInstant(op: PostOp, target: EntryRecord | undefined, now: Date): Date | null {
  if (isEntryOp(op)) return op.kind === 'STANDARD' ? (op.entry.effectiveAt ?? now) : null;
  if (op.kind === 'VOID' || !target) return null;
  if (op.kind === 'REVERSAL') return op.effectiveAt ?? target.effectiveAt;
  return op.effectiveAt ?? (target.effectiveAt.getTime() > now.getTime() ? target.effectiveAt : now);
}

/** The accounts an op's lines name (an entry's own, or its target's). */
export function accountsOf(op: PostOp, target: EntryRecord | undefined): string[] {
  if (isEntryOp(op)) return op.entry.lines.map((l) => l.accountId);
  return target ? target.lines.map((l) => l.accountId) : [];
}

export interface DecideContext {
  now: Date;
  book: { maxBackdateDays: number };
  head: { seq: bigint; hash: string };
  /** An account of the flush by book and id (read, and locked unless optimistic). */
  accountOf: (bookId: string, accountId: string) => PostingAccount | undefined;
  /** The account's totals as the flush's earlier decisions left them (the account itself if none). */
  totalsOf: (account: PostingAccount) => MinorTotals;
  targets: Map<string, EntryRecord>;
  links: Map<string, EntryLinks>;
  isTargetUsed: (targetKey: string) => boolean;
  /**
   * Posted movements of an account (by key) with an instant after `atMs`, in balance order: those
   * in the database and those of entries decided earlier in this flush. Empty when there are none,
   * which is the common case (an entry dated now on an account with no later line).
   */
  laterMovements: (accountKey: string, atMs: number) => MinorMovement[];
}

export interface Decided {
  entry: NewEntry;
  /** The entry's seq (entry.seq as a bigint). */
  seq: bigint;
  /** New totals of the accounts the entry moves, by account (the objects accountOf gives). */
  totals: Map<PostingAccount, MinorTotals>;
  targetKey: string | null;
}

/** decide's account view, cleared per op. */
const VIEW = new Map<string, PostingAccount>();
/** The rows (as accountOf gives them) behind VIEW's accounts, cleared per op. */
const VIEW_ROWS = new Map<string, PostingAccount>();

/** Adds an account of `bookId` to VIEW (and its row to VIEW_ROWS), as the flush left it. */
function addView(ctx: DecideContext, bookId: string, accountId: string): void {
  const row = ctx.accountOf(bookId, accountId);
  if (!row) return;
  // An account this flush has not moved yet is its row as read: no copy.
  const totals = ctx.totalsOf(row);
  VIEW.set(accountId, totals === row ? row : { ...row, ...pickTotals(totals) });
  VIEW_ROWS.set(accountId, row);
}

/** accountOnBothSides of a two-line entry (most entries), without its map. */
function twoLinesOnBothSides(lines: readonly MinorLine[]): LedgerError | null {
  const [a, b] = lines as [MinorLine, MinorLine];
  return a.accountId === b.accountId && a.side !== b.side
    ? new LedgerError(
        'INVALID_INPUT',
        'an account is on both sides of this entry: post its net amount on one side',
        'lines[1].accountId',
      )
    : null;
}

/**
 * Decides one op against the current working state (the locked accounts, the book's chain head,
 * the clock); pure apart from minting an id. Its refusals are remembered under the op's key.
 */
export function decide(op: PostOp, ctx: DecideContext): Decided | LedgerError {
  const { now } = ctx;
  let lines: MinorLine[];
  let effectiveAt: Date;
  let targetKey: string | null = null;
  let movement: Movement;
  let memo: string;
  let metadataInput: MetadataEntry[] | null;
  let idempotencyKey: string;
  let expiresAt: Date | null = null;

  // Account states of this book as they stand now (locked row + earlier ops of this flush), in
  // one map reused by every op (decide is synchronous and keeps nothing of it).
  const view = VIEW;
  view.clear();
  VIEW_ROWS.clear();

  if (isEntryOp(op)) {
    const entryLines = op.entry.lines;
    for (let i = 0; i < entryLines.length; i++) addView(ctx, op.bookId, entryLines[i]!.accountId);
    const resolved = resolveLinesMinor(op.entry.lines, view);
    if (resolved instanceof LedgerError) return resolved;
    const bothSides = resolved.length === 2 ? twoLinesOnBothSides(resolved) : accountOnBothSides(resolved);
    if (bothSides) return bothSides;
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
    for (const line of target.lines) addView(ctx, op.bookId, line.accountId);
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
      lines = minorLines(target.lines, true);
      effectiveAt = postingInstant(op, target, now)!;
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
      lines = minorLines(target.lines, false);
      effectiveAt = op.kind === 'COMMIT' ? postingInstant(op, target, now)! : (op.effectiveAt ?? now);
      movement = op.kind === 'COMMIT' ? 'COMMIT' : 'RELEASE';
    }
    // A reversal undoes its original from some instant on, a commit posts what was reserved: neither
    // can count before the entry it acts on.
    if (op.kind !== 'VOID' && effectiveAt.getTime() < target.effectiveAt.getTime()) {
      return new LedgerError(
        'INVALID_EFFECTIVE_AT',
        `${op.kind === 'REVERSAL' ? 'a reversal' : 'a commit'} cannot be dated before the entry it ${
          op.kind === 'REVERSAL' ? 'reverses' : 'commits'
        } (${target.effectiveAt.toISOString()})`,
        'effectiveAt',
      );
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

  const applied = applyLinesMinor(view, lines, movement);
  if (applied instanceof LedgerError) return applied;
  if (movement === 'POST' || movement === 'COMMIT') {
    const breach = historicalBreach(op.bookId, view, lines, effectiveAt, ctx);
    if (breach) return breach;
  }
  const metadata = validateMetadata(metadataInput);
  invariant(!(metadata instanceof LedgerError), 'metadata was validated in precheck');

  const kind: EntryKind = op.kind;
  const phase = kind === 'PENDING' ? 'PENDING' : 'POSTED';
  const storedLines = kind === 'VOID' ? [] : lines;
  const seq = (ctx.head.seq + 1n).toString();
  const body: NewEntry = {
    requestHash: op.requestHash,
    prevHash: ctx.head.hash,
    hash: '',
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
    lines: storedLines.map(
      (l, n) => new PostedLine(n + 1, l.accountId, l.side, l.minor, l.unitCode, l.scale, phase, effectiveAt),
    ),
  };
  // The entry itself, its hash set once computed from its content (no copy of the body).
  const entry: NewEntry = body;
  entry.hash = entryHash(ctx.head.hash, body);
  const totals = new Map<PostingAccount, MinorTotals>();
  applied.forEach((t, accountId) => {
    totals.set(VIEW_ROWS.get(accountId)!, t);
  });
  return { entry, seq: ctx.head.seq + 1n, totals, targetKey };
}

/**
 * Bounds at every instant: an entry dated before some of an account's movements must keep the
 * posted balance within bounds after each of them too (firstBoundBreach). Accounts without bounds,
 * or without later movements (the common case), cost one map lookup.
 */
function historicalBreach(
  bookId: string,
  view: Map<string, PostingAccount>,
  lines: readonly MinorLine[],
  effectiveAt: Date,
  ctx: DecideContext,
): LedgerError | null {
  // No bounded account among the lines (the common case): nothing to look up, no map.
  let bounded = false;
  for (let i = 0; i < lines.length && !bounded; i++) {
    const account = view.get(lines[i]!.accountId)!;
    bounded = account.lowerBound !== null || account.upperBound !== null;
  }
  if (!bounded) return null;
  const deltas = new Map<string, { delta: bigint; index: number }>();
  for (const [index, line] of lines.entries()) {
    const account = view.get(line.accountId)!;
    if (account.lowerBound === null && account.upperBound === null) continue;
    const d = deltas.get(line.accountId) ?? { delta: 0n, index };
    d.delta += signedMinor(account.type, line.side, line.minor);
    deltas.set(line.accountId, d);
  }
  for (const [accountId, { delta, index }] of deltas) {
    const later = ctx.laterMovements(key(bookId, accountId), effectiveAt.getTime());
    if (later.length === 0) continue; // nothing after it: the check of the current balance covers it
    const account = view.get(accountId)!;
    const current = balanceViewMinor(account.type, account).posted;
    const breach = firstBoundBreachMinor(account, current, later, effectiveAt.getTime(), delta);
    if (breach) {
      const scale = account.unit.scale;
      return new LedgerError(
        'BALANCE_BOUND_EXCEEDED',
        `the entry would take the account ${breach.bound === 'lower' ? 'below its lower' : 'above its upper'} bound on ${new Date(
          breach.atMs,
        ).toISOString()}: its balance would be ${formatMinor(breach.balance, scale)} against a bound of ${formatMinor(
          breach.limit,
          scale,
        )} (bounds hold at every instant, also before later entries)`,
        `lines[${index}].accountId`,
      );
    }
  }
  return null;
}

/**
 * The lines of an entry read from the database (a reversal's or a commit's target) in minor
 * units; `reverse` puts each on the other side (a reversal's lines).
 */
function minorLines(lines: EntryRecord['lines'], reverse: boolean): MinorLine[] {
  return lines.map((l) => ({
    accountId: l.accountId,
    side: reverse ? oppositeSide(l.side) : l.side,
    minor: minorOfDecimal(l.amount, l.scale),
    unitCode: l.unitCode,
    scale: l.scale,
  }));
}
