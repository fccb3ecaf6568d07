/**
 * Read checks of the co-op types, on top of the principal's (schema/access.ts says who reads what):
 * a party or membership the caller may not read answers null, like an unknown one, and a member's
 * account is shown only to whoever may read that account.
 */
import type { MembershipRecord } from '../../server/coops/index.js';
import { canReadAccount, type MemberAccountRole } from '../../server/core/index.js';
import { canReadParty } from '../access.js';
import type { GraphQLContext } from '../context.js';
import { guard } from '../errors.js';
import { scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import { coopLoaders } from './loaders.js';

/** Whether the caller may read this membership: a reader of the book, or the person it belongs to. */
export function canReadMembership(ctx: GraphQLContext, m: MembershipRecord): Promise<boolean> {
  return canReadParty(ctx, m.bookId, m.partyId);
}

export async function readableOrNull<T>(
  record: T | null,
  check: (r: T) => Promise<boolean>,
): Promise<T | null> {
  return record !== null && (await check(record)) ? record : null;
}

export async function loadMembership(ctx: GraphQLContext, bookId: string, id: string) {
  const m = await guard(() => coopLoaders(ctx).membership.load(scopedId(bookId, id)));
  return readableOrNull(m, (r) => canReadMembership(ctx, r));
}

export async function loadParty(ctx: GraphQLContext, bookId: string, id: string) {
  const p = await guard(() => coopLoaders(ctx).party.load(scopedId(bookId, id)));
  return readableOrNull(p, (r) => canReadParty(ctx, r.bookId, r.id));
}

/** A membership's account as an Account object, when the caller may read that account; else null. */
export function memberAccount(ctx: GraphQLContext, m: MembershipRecord, role: MemberAccountRole) {
  const id = m.accounts[role];
  return canReadAccount(ctx.principal, m.bookId, id)
    ? loaders(ctx).account.load(scopedId(m.bookId, id))
    : null;
}
