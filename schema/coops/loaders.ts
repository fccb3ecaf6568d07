/** Per-request batch loaders of co-op objects (schema/loaders.ts has the ledger's, which every domain uses). */
import DataLoader from 'dataloader';
import type {
  CoopRecord,
  MemberBalances,
  MemberClassRecord,
  MembershipRecord,
  PartyRecord,
} from '../../server/coops/index.js';
import type { Unit } from '../../server/core/index.js';
import type { GraphQLContext } from '../context.js';
import { type BookScopedId, parseScopedId, scopedId } from '../ids.js';

export interface CoopLoaders {
  coop: DataLoader<string, CoopRecord | null>;
  memberClass: DataLoader<string, MemberClassRecord | null>;
  party: DataLoader<string, PartyRecord | null>;
  membership: DataLoader<string, MembershipRecord | null>;
  /** A membership's balances, by `<book>:<membership>`. */
  balances: DataLoader<MembershipRecord, MemberBalances, string>;
}

const cache = new WeakMap<GraphQLContext, CoopLoaders>();

function scopedKeys(keys: readonly string[]): BookScopedId[] {
  return keys.map(parseScopedId).filter((k): k is BookScopedId => k !== null);
}

function byScopedKey<T extends { bookId: string; id: string }>(
  keys: readonly string[],
  rows: T[],
): (T | null)[] {
  const map = new Map(rows.map((r) => [scopedId(r.bookId, r.id), r]));
  return keys.map((k) => map.get(k) ?? null);
}

export function coopLoaders(ctx: GraphQLContext): CoopLoaders {
  let l = cache.get(ctx);
  if (l) return l;
  const coops = ctx.services.coops;
  l = {
    coop: new DataLoader(async (ids) => {
      const rows = await coops.getCoops([...ids]);
      const map = new Map(rows.map((c) => [c.id, c]));
      return ids.map((id) => map.get(id) ?? null);
    }),
    memberClass: new DataLoader(async (keys) =>
      byScopedKey(keys, await coops.getMemberClasses(scopedKeys(keys))),
    ),
    party: new DataLoader(async (keys) => byScopedKey(keys, await coops.getParties(scopedKeys(keys)))),
    membership: new DataLoader(async (keys) =>
      byScopedKey(keys, await coops.getMemberships(scopedKeys(keys))),
    ),
    balances: new DataLoader((memberships) => coops.balancesOf(memberships), {
      cacheKeyFn: (m) => scopedId(m.bookId, m.id),
    }),
  };
  cache.set(ctx, l);
  return l;
}

export async function classOf(ctx: GraphQLContext, m: MembershipRecord): Promise<MemberClassRecord> {
  return (await coopLoaders(ctx).memberClass.load(scopedId(m.bookId, m.classId)))!;
}

export async function unitOf(ctx: GraphQLContext, m: MembershipRecord): Promise<Unit> {
  return (await classOf(ctx, m)).unit;
}
