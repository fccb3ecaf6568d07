/**
 * Small rules the mutual-credit use cases share: answers, keys, who acts for whom, and the
 * balanced entries a batch of member movements becomes.
 *
 * Who acts for a member co-op: its membership row links the co-op's book; a principal holding a
 * TREASURER grant on that book (or an admin) acts for the co-op's network account: pays from it,
 * requests and accepts payments, records what the co-op owes. Stewards (NETWORK_STEWARD on the
 * network's book, or admins) manage the network: members, limits, policy, clearing; they read
 * everything of it but never pay for a member.
 */
import {
  AMOUNT_INTEGER_DIGITS_MAX,
  Decimal,
  type EntryInput,
  isAdmin,
  LedgerError,
  type LineInput,
  type MetadataEntry,
  type Principal,
  validateIdempotencyKey,
  ZERO,
} from '../core/index.js';
import { rejection } from '../ledger/index.js';
import { CREDIT_KEY_LENGTH_MAX } from './records.js';

export const unknownNetwork = (field = 'networkId') =>
  new LedgerError('UNKNOWN_NETWORK', 'no such network', field);
export const unknownMember = (field: string) =>
  new LedgerError('UNKNOWN_NETWORK_MEMBER', 'no such member of this network', field);
export const unknownRequest = () =>
  new LedgerError('UNKNOWN_PAYMENT_REQUEST', 'no such payment request', 'requestId');
export const reusedKey = () =>
  new LedgerError(
    'IDEMPOTENCY_KEY_REUSED',
    'this idempotencyKey was already used with a different request',
    'idempotencyKey',
  );

/**
 * Stewards of the network (and admins): a NETWORK_STEWARD grant on the network's book. A TREASURER
 * grant on it is no steward's (issueApiToken refuses such a grant; one stored before that refusal
 * must not set limits or run clearing either).
 */
export function isSteward(actor: Principal | null, bookId: string): boolean {
  if (actor === null || bookId === '') return false;
  return isAdmin(actor) || actor.grants.some((g) => g.role === 'NETWORK_STEWARD' && g.scope === bookId);
}

/** Co-op books the principal is a treasurer of. */
export function treasuryOf(actor: Principal | null): string[] {
  return (actor?.grants ?? []).filter((g) => g.role === 'TREASURER').map((g) => g.scope);
}

/** Whether the principal acts for this member co-op (its treasurer, or an admin). */
export function actsFor(actor: Principal | null, member: { coopBookId: string }): boolean {
  return isAdmin(actor) || treasuryOf(actor).includes(member.coopBookId);
}

/**
 * Several problems of one request: it is the first (a LedgerError, so callers that handle one
 * handle this), and `all` lists every one; the API answers them all in `userErrors`.
 */
export class Problems extends LedgerError {
  readonly all: readonly LedgerError[];

  constructor(problems: readonly LedgerError[]) {
    const first = problems[0]!;
    super(first.code, first.message, first.field);
    this.all = problems;
  }
}

export function rejected(problems: LedgerError[]): LedgerError {
  return problems.length === 1 ? problems[0]! : new Problems(problems);
}

/** A key whose entries' keys add a suffix: 1 to 100 printable ASCII characters. */
export function checkKey(key: string, field = 'idempotencyKey'): LedgerError | null {
  const error = validateIdempotencyKey(key, field);
  if (error) return error;
  return key.length > CREDIT_KEY_LENGTH_MAX
    ? new LedgerError(
        'INVALID_IDEMPOTENCY_KEY',
        `idempotencyKey must be 1 to ${CREDIT_KEY_LENGTH_MAX} characters here`,
        field,
      )
    : null;
}

/** A required free text (a reason, a reference) of 1 to `max` characters. */
export function checkText(text: string, field: string, max: number): LedgerError | null {
  return text.trim().length === 0 || text.length > max
    ? new LedgerError('INVALID_INPUT', `${field} must be 1 to ${max} characters`, field)
    : null;
}

/**
 * Why the ledger refused an all-or-nothing group of a use case's entries: the entry it refused,
 * not a neighbour it answered BATCH_ITEM_FAILED, about `field` of the caller's input (the entries
 * are the use case's own, so their lines name nothing the caller sent; null: no one field). Null
 * when all posted.
 */
export function groupRefusal(
  results: readonly ({ ok: true } | { ok: false; error: LedgerError })[],
  field: string | null,
): LedgerError | null {
  const refused = rejection(results)?.error ?? null;
  return refused === null || refused.code === 'BATCH_ITEM_FAILED'
    ? refused
    : new LedgerError(refused.code, refused.message, field);
}

/** Lines of one entry at most, less the clearing account's balancing line. */
const LINES_PER_ENTRY = 98;

type Movement = { accountId: string; side: 'DEBIT' | 'CREDIT'; amount: Decimal };

/**
 * The largest amount one line may carry at this scale (AMOUNT_INTEGER_DIGITS_MAX integer digits,
 * all nines). A member's movement sums its obligations (or its set-offs), each of which may hold
 * up to that much, so a movement can be larger than one line allows: it is split.
 */
function lineAmountMax(scale: number): Decimal {
  return new Decimal(10).pow(AMOUNT_INTEGER_DIGITS_MAX).minus(new Decimal(10).pow(-scale));
}

/** A movement as lines of at most `max` each, the remainder last. */
function split(m: Movement, max: Decimal): Movement[] {
  if (m.amount.lte(max)) return [m];
  const out: Movement[] = [];
  let left = m.amount;
  while (left.gt(max)) {
    out.push({ ...m, amount: max });
    left = left.minus(max);
  }
  out.push({ ...m, amount: left });
  return out;
}

/**
 * Balanced movements reordered so that their running net stays within one line's amount: a
 * credit next while the net is above zero, else a debit (each side in its given order). Whatever
 * is left always has the side the net needs, since the movements sum to zero.
 */
function byTurns(lines: Movement[]): Movement[] {
  const debits = lines.filter((m) => m.side === 'DEBIT');
  const credits = lines.filter((m) => m.side === 'CREDIT');
  const out: Movement[] = [];
  let d = 0;
  let c = 0;
  let net = ZERO;
  while (d < debits.length || c < credits.length) {
    const credit = c < credits.length && (d >= debits.length || net.gt(0));
    const m = credit ? credits[c++]! : debits[d++]!;
    net = credit ? net.minus(m.amount) : net.plus(m.amount);
    out.push(m);
  }
  return out;
}

/**
 * Movements of many accounts (each a side and an amount) as balanced entries of at most 99 lines:
 * each chunk is balanced by the clearing account (one line, or several when the chunk's net is
 * more than a line may carry), whose balance is back at zero after the last entry (the movements
 * balance as a whole). One entry when they fit in one. A movement larger than a line may carry is
 * posted as several lines on its account and side (a split).
 */
export function chunkedEntries(
  movements: Movement[],
  clearingAccountId: string,
  unit: { code: string; scale: number },
  keyOf: (index: number) => string,
  memo: string,
  metadata: MetadataEntry[],
): EntryInput[] {
  const max = lineAmountMax(unit.scale);
  const lines = movements.filter((m) => m.amount.gt(0)).flatMap((m) => split(m, max));
  const signed = (m: Movement) => (m.side === 'DEBIT' ? m.amount : m.amount.neg());
  const total = lines.reduce((s, m) => s.plus(signed(m)), ZERO);
  if (!total.isZero()) throw new Error(`movements do not balance: ${total.toFixed()}`);
  const entries: EntryInput[] = [];
  const fits = lines.length <= LINES_PER_ENTRY + 1;
  // Chunks take debits and credits by turns so that each nets to little: what crosses the
  // clearing account adds to its running totals for good (the ledger holds them below 10^20), and
  // all receivables then all payables of a large batch sent nearly the whole batch through it.
  const ordered = fits ? lines : byTurns(lines);
  /** Lines the clearing account needs to balance a chunk whose lines net to `net`. */
  const balancing = (net: Decimal) => {
    if (net.isZero()) return 0;
    const size = net.abs();
    // One line in all but the largest cases: no division per line of a 6,400-line clearing.
    return size.lte(max) ? 1 : size.div(max).ceil().toNumber();
  };
  const flush = (chunk: Movement[], net: Decimal) => {
    const out: LineInput[] = chunk.map((m) => ({
      accountId: m.accountId,
      side: m.side,
      amount: m.amount.toFixed(unit.scale),
      unit: unit.code,
    }));
    if (!net.isZero())
      for (const piece of split(
        { accountId: clearingAccountId, side: net.gt(0) ? 'CREDIT' : 'DEBIT', amount: net.abs() },
        max,
      ))
        out.push({
          accountId: piece.accountId,
          side: piece.side,
          amount: piece.amount.toFixed(unit.scale),
          unit: unit.code,
        });
    entries.push({ idempotencyKey: keyOf(entries.length), effectiveAt: null, memo, metadata, lines: out });
  };
  let chunk: Movement[] = [];
  let net = ZERO;
  for (const line of ordered) {
    let next = net.plus(signed(line));
    // Each line moves the net by at most `max`, so a chunk of one line always fits.
    if (
      chunk.length > 0 &&
      (chunk.length + 1 > (fits ? LINES_PER_ENTRY + 1 : LINES_PER_ENTRY) ||
        chunk.length + 1 + balancing(next) > LINES_PER_ENTRY + 1)
    ) {
      flush(chunk, net);
      chunk = [];
      next = signed(line);
    }
    chunk.push(line);
    net = next;
  }
  if (chunk.length > 0) flush(chunk, net);
  return entries;
}
