/**
 * Bounds hold at every instant, not only now. An entry dated in the past (a backdated entry, a
 * reversal dated at its original, a commit dated at its pending entry) moves an account's posted
 * balance at its own instant and at every later one, so it is checked against the balance after
 * each later movement too. Pure: the caller supplies the movements.
 *
 * Order of movements: by effective instant, then by entry number (seq). A new entry has the highest
 * seq of its book, so at its own instant it comes after every movement already there: the
 * movements that follow it are exactly those with a later instant.
 */
import type { Decimal } from './money.js';

/** One entry's net movement of an account's posted balance, in the account's normal direction. */
export interface BalanceMovement {
  /** Effective instant, milliseconds since the epoch. */
  atMs: number;
  /** The entry's number in its book: orders movements of the same instant. */
  seq: bigint;
  delta: Decimal;
}

export interface BoundBreach {
  /** The instant at which the balance would first be outside the bound. */
  atMs: number;
  /** The balance it would have then. */
  balance: Decimal;
  bound: 'lower' | 'upper';
  limit: Decimal;
}

/** Sorts movements into balance order: instant, then entry number. */
export function compareMovements(a: BalanceMovement, b: BalanceMovement): number {
  if (a.atMs !== b.atMs) return a.atMs - b.atMs;
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}

/**
 * Where posting `delta` at `atMs` would first take the account's posted balance outside a bound,
 * or null when it never would. `current` is the posted balance after every movement so far;
 * `later` holds every movement with an instant after `atMs`, in balance order. The balance right
 * after the new entry is `current - sum(later) + delta`, and after each later movement it moves by
 * that movement.
 *
 * As for current balances (crossesBound), only a movement toward a bound can break it: a negative
 * delta is checked against the lower bound (it lowers every balance from `atMs` on), a positive one
 * against the upper bound. So an account already outside a bound at some instant (a bound tightened
 * later) may still move back toward it.
 */
export function firstBoundBreach(
  bounds: { lowerBound: Decimal | null; upperBound: Decimal | null },
  current: Decimal,
  later: readonly BalanceMovement[],
  atMs: number,
  delta: Decimal,
): BoundBreach | null {
  const limit = delta.isNegative() ? bounds.lowerBound : delta.isPositive() ? bounds.upperBound : null;
  if (limit === null || delta.isZero()) return null;
  const lower = delta.isNegative();
  const outside = (balance: Decimal) => (lower ? balance.lessThan(limit) : balance.greaterThan(limit));
  let balance = later.reduce((sum, m) => sum.minus(m.delta), current).plus(delta);
  if (outside(balance)) return { atMs, balance, bound: lower ? 'lower' : 'upper', limit };
  for (const m of later) {
    balance = balance.plus(m.delta);
    if (outside(balance)) return { atMs: m.atMs, balance, bound: lower ? 'lower' : 'upper', limit };
  }
  return null;
}
