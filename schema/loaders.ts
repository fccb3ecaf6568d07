/**
 * Per-request batch loaders, so nested fields (an entry's lines' accounts, a page of entries'
 * links) cost one query per level rather than one per row.
 */
import DataLoader from 'dataloader';
import type { AccountRow, BookRecord, EntryLinks, EntryRecord } from '../server/ledger/index.js';
import type { GraphQLContext } from './context.js';
import { parseScopedId, scopedId } from './ids.js';

export interface Loaders {
  book: DataLoader<string, BookRecord | null>;
  account: DataLoader<string, AccountRow | null>;
  entry: DataLoader<string, EntryRecord | null>;
  entryLinks: DataLoader<string, EntryLinks>;
}

/**
 * A request's loaders, on its context: not in a WeakMap keyed by the context, whose value V8's
 * scavenger would promote to the old space, with the rows it holds, whenever the request was in
 * flight at a scavenge (see AppDeps.releaseContext in server/platform/http/app.ts).
 */
const LOADERS = Symbol('loaders');

function scopedKeys(keys: readonly string[]) {
  return keys.map(parseScopedId).filter((k): k is { bookId: string; id: string } => k !== null);
}

export function loaders(ctx: GraphQLContext): Loaders {
  const holder = ctx as GraphQLContext & { [LOADERS]?: Loaders };
  let l = holder[LOADERS];
  if (l) return l;
  const ledger = ctx.services.ledger;
  l = {
    book: new DataLoader(async (ids) => {
      const books = await ledger.getBooks([...ids]);
      const byId = new Map(books.map((b) => [b.id, b]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    account: new DataLoader(async (keys) => {
      const rows = await ledger.getAccounts(scopedKeys(keys));
      const byKey = new Map(rows.map((a) => [scopedId(a.bookId, a.id), a]));
      return keys.map((k) => byKey.get(k) ?? null);
    }),
    entry: new DataLoader(async (keys) => {
      const rows = await ledger.getEntries(scopedKeys(keys));
      const byKey = new Map(rows.map((e) => [scopedId(e.bookId, e.id), e]));
      return keys.map((k) => byKey.get(k) ?? null);
    }),
    entryLinks: new DataLoader(async (keys) => {
      const links = await ledger.getEntryLinks(scopedKeys(keys));
      return keys.map((k) => {
        const p = parseScopedId(k);
        return (
          (p && links.get(`${p.bookId}/${p.id}`)) || {
            reversedBy: null,
            resolvedBy: null,
            resolutionKind: null,
          }
        );
      });
    }),
  };
  Object.defineProperty(holder, LOADERS, { configurable: true, enumerable: false, value: l });
  return l;
}

/** Loads nodes for `node(id:)`: a failed or missing one answers null, never an error. */
export async function loadNodes<T>(
  loader: DataLoader<string, T | null>,
  ids: readonly string[],
): Promise<(T | null)[]> {
  const results = await loader.loadMany(ids);
  return results.map((r) => (r instanceof Error ? null : r));
}
