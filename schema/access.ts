/**
 * Who may read a co-op's members (issue 5: personal data is visible only to the co-op's
 * treasurers and the person). Pure checks on the principal, plus one lookup per request for the
 * person behind a MEMBER token.
 *
 * - A reader of the book (ADMIN, or TREASURER / NETWORK_STEWARD of the co-op's book) reads
 *   everything of the co-op.
 * - A person acting with MEMBER grants (`<book>:<account>`, each naming one of their membership's
 *   accounts) reads the party those accounts belong to (their own person or organisation record)
 *   and that party's memberships; of the co-op itself only its member classes and its public
 *   profile, never the Coop object, other members, or the voting roll.
 * - Anyone else (a city analyst, a member of another co-op) reads none of it.
 *
 * Shared rather than in schema/coops/ because the builder's auth scopes (`partyRead`,
 * `coopMember`) and `node(id:)` filter are declared once for every domain and call these; a shared
 * file never imports a domain folder. The co-op types' own read helpers are schema/coops/access.ts.
 */
import { canReadBook, type Principal } from '../server/core/index.js';
import type { GraphQLContext } from './context.js';
import { scopedId } from './ids.js';

/** The `<book>:<account>` keys of the principal's MEMBER grants. */
export function memberGrantKeys(p: Principal | null): { bookId: string; id: string }[] {
  const out: { bookId: string; id: string }[] = [];
  for (const g of p?.grants ?? []) {
    if (g.role !== 'MEMBER') continue;
    const [bookId, id] = g.scope.split(':');
    if (bookId && id) out.push({ bookId, id });
  }
  return out;
}

/** True when the principal holds a MEMBER grant on some account of this book. */
export function isMemberOfBook(p: Principal | null, bookId: string): boolean {
  return memberGrantKeys(p).some((k) => k.bookId === bookId);
}

const ownParties = new WeakMap<GraphQLContext, Promise<Set<string>>>();

/** `<book>:<party>` of the parties the principal's MEMBER grants belong to (one query per request). */
export function ownPartyKeys(ctx: GraphQLContext): Promise<Set<string>> {
  let found = ownParties.get(ctx);
  if (!found) {
    const keys = memberGrantKeys(ctx.principal);
    found =
      keys.length === 0
        ? Promise.resolve(new Set<string>())
        : ctx.services.coops.partyIdsOfAccounts(keys).then((ids) => new Set(ids));
    ownParties.set(ctx, found);
  }
  return found;
}

/** May the caller read this party (and its memberships)? `key` is `<book>:<party>`. */
export async function canReadParty(ctx: GraphQLContext, bookId: string, partyId: string): Promise<boolean> {
  if (canReadBook(ctx.principal, bookId)) return true;
  if (!isMemberOfBook(ctx.principal, bookId)) return false;
  return (await ownPartyKeys(ctx)).has(scopedId(bookId, partyId));
}
