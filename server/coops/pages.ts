/**
 * Pages of the co-ops domain's connections for the API: co-ops, the public directory, a co-op's
 * memberships and its parties, read forward or backward between cursors, and the size of each
 * list. Access is the caller's concern (the API answers an empty page for what it may not read).
 */
import type { CoopKind, MembershipState } from '../core/index.js';
import { isUuid } from '../platform/ids.js';
import type { CoopDeps } from './deps.js';
import type { CoopRecord, MembershipRecord, PartyRecord } from './records.js';
import type { PageQuery } from './store.js';

export type { PageQuery };

const uuidCursors = (q: PageQuery<string>) =>
  (q.after === null || isUuid(q.after)) && (q.before === null || isUuid(q.before));

export function coopPage(
  deps: CoopDeps,
  q: PageQuery<string>,
  onlyIds: string[] | null,
): Promise<CoopRecord[]> {
  if (!uuidCursors(q)) return Promise.resolve([]);
  return deps.store.pageCoops(q, onlyIds === null ? null : onlyIds.filter(isUuid));
}

export function coopCount(deps: CoopDeps, onlyIds: string[] | null): Promise<number> {
  return deps.store.countCoops(onlyIds === null ? null : onlyIds.filter(isUuid));
}

export type DirectoryFilter = { city?: string | null; kind?: CoopKind | null };

export function directoryPage(
  deps: CoopDeps,
  q: PageQuery<{ name: string; id: string }>,
  filter: DirectoryFilter,
): Promise<CoopRecord[]> {
  const ok = (c: { id: string } | null) => c === null || isUuid(c.id);
  if (!ok(q.after) || !ok(q.before)) return Promise.resolve([]);
  return deps.store.pageDirectory(q, filter);
}

export function directoryCount(deps: CoopDeps, filter: DirectoryFilter): Promise<number> {
  return deps.store.countDirectory(filter);
}

export function membershipPage(
  deps: CoopDeps,
  bookId: string,
  q: PageQuery<number>,
  state: MembershipState | null,
): Promise<MembershipRecord[]> {
  if (!isUuid(bookId)) return Promise.resolve([]);
  return deps.store.pageMemberships(bookId, q, state);
}

export async function membershipCount(
  deps: CoopDeps,
  bookId: string,
  state: MembershipState | null,
): Promise<number> {
  return isUuid(bookId) ? deps.store.countMemberships(bookId, state) : 0;
}

export function partyPage(deps: CoopDeps, bookId: string, q: PageQuery<string>): Promise<PartyRecord[]> {
  if (!isUuid(bookId) || !uuidCursors(q)) return Promise.resolve([]);
  return deps.store.pageParties(bookId, q);
}

export async function partyCount(deps: CoopDeps, bookId: string): Promise<number> {
  return isUuid(bookId) ? deps.store.countParties(bookId) : 0;
}
