/**
 * Cursor connections as Relay clients expect them, built with the Pothos relay plugin's helpers
 * (`connectionObject`, `t.connection`, `resolveCursorConnection`): `edges { cursor node }`,
 * `nodes`, a full `pageInfo` (`hasNextPage`, `hasPreviousPage`, `startCursor`, `endCursor`) and
 * `totalCount`, with `first`/`after` forward and `last`/`before` backward.
 *
 * What the project adds to the plugin: `first` and `last` are 1 to 100 (the plugin would cap
 * silently and take 0), not both at once, and a cursor this connection did not hand out is
 * refused (BAD_USER_INPUT) rather than read; cursors stay the opaque keys of the list's order
 * (a base64url JSON array), so every page is a keyset read and cursors survive new rows.
 *
 * `hasPreviousPage` when paging forward (and `hasNextPage` when paging backward) follow the Relay
 * specification's allowance: true when the page starts after a cursor (ends before one), without a
 * query to prove that rows lie beyond it. `totalCount` is the size of the whole list with the
 * connection's filters (not of the page), read only when selected.
 */
import type { ObjectRef } from '@pothos/core';
import { resolveCursorConnection } from '@pothos/plugin-relay';
import { builder } from './builder.js';
import { badInput } from './errors.js';

export const PAGE_SIZE_MAX = 100;
export const PAGE_SIZE_DEFAULT = 50;
/** The description of every connection's `first` argument (the builder's relay options use it too). */
export const PAGE_DOC = `Page size, 1 to ${PAGE_SIZE_MAX}; default ${PAGE_SIZE_DEFAULT}.`;

/** A page of a list: what each domain's page reads take. */
export interface PageQuery<C> {
  after: C | null;
  before: C | null;
  /** Rows to read: the page size plus one, so the page knows whether more follow. */
  limit: number;
  /** Read from the end (`before`) down; the rows are put back in the list's order afterwards. */
  backward: boolean;
}

export interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  /** The size of the whole list (the builder's `Connection` shape), computed when selected. */
  totalCount: () => number | Promise<number>;
}

/** A connection type named `<name>Connection` with edges `<name>Edge` and `totalCount`. */
// biome-ignore lint/suspicious/noExplicitAny: Pothos refs are generic over the builder's types
export function connectionType<T>(name: string, node: ObjectRef<any, T>) {
  return builder.connectionObject(
    {
      type: node,
      name: `${name}Connection`,
      fields: (t) => ({
        totalCount: t.int({
          description:
            'How many nodes the whole list holds with these filters (not the page), whatever the cursors.',
          resolve: (c) => c.totalCount(),
        }),
      }),
    },
    { name: `${name}Edge` },
  );
}

export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function notOurs(which: 'after' | 'before') {
  return badInput(`\`${which}\` is not a cursor returned by this connection`);
}

/** The parts of a cursor of this connection (`arity` strings); BAD_USER_INPUT for any other. */
export function decodeCursor(
  cursor: string | null | undefined,
  arity: number,
  which: 'after' | 'before' = 'after',
): string[] | null {
  if (cursor === null || cursor === undefined) return null;
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === arity && parts.every((p) => typeof p === 'string'))
      return parts;
  } catch {
    // fall through
  }
  throw notOurs(which);
}

function checkSize(name: 'first' | 'last', n: number | null | undefined): void {
  if (n === null || n === undefined) return;
  if (!Number.isInteger(n) || n < 1 || n > PAGE_SIZE_MAX) {
    throw badInput(`\`${name}\` must be between 1 and ${PAGE_SIZE_MAX}`);
  }
}

/**
 * Checks a connection's arguments without reading anything (also for a list the caller may not
 * read, which answers an empty page: bad arguments are refused alike): sizes, not both `first`
 * and `last`, and with `arity`, that the cursors are shaped like this connection's.
 */
export function validatePageArgs(args: PageArgs, arity?: number): void {
  checkSize('first', args.first);
  checkSize('last', args.last);
  if (args.first != null && args.last != null) throw badInput('give `first` or `last`, not both');
  if (arity !== undefined) {
    decodeCursor(args.after, arity, 'after');
    decodeCursor(args.before, arity, 'before');
  }
}

/** A page with nothing on it: what a caller gets for a list it may not read. */
export function emptyConnection(): Connection<never> {
  return {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    totalCount: () => 0,
  };
}

export interface PageSpec<T, C> {
  /** How many strings a cursor of this connection holds. */
  arity: number;
  /** The key a cursor's parts name; null when they cannot be one of this list's keys. */
  key: (parts: string[]) => C | null;
  /** The parts of the cursor of a row (its key in the list's order). */
  cursorOf: (row: T) => string[];
  /** Reads a page of rows: in the list's order, or from the end down when `backward`. */
  read: (q: PageQuery<C>) => Promise<T[]>;
  /** The size of the whole list. */
  count: () => Promise<number>;
}

/**
 * One page of a connection from its arguments: checks them, reads the rows with the relay
 * plugin's `resolveCursorConnection` (which turns first/last/after/before into a read of
 * size + 1 rows and the page's flags), and attaches the list's size.
 */
export async function resolvePage<T, C>(args: PageArgs, spec: PageSpec<T, C>): Promise<Connection<T>> {
  validatePageArgs(args);
  const keyOf = (which: 'after' | 'before') => {
    const parts = decodeCursor(args[which], spec.arity, which);
    if (parts === null) return null;
    const key = spec.key(parts);
    if (key === null) throw notOurs(which);
    return key;
  };
  const after = keyOf('after');
  const before = keyOf('before');
  const page = await resolveCursorConnection<Promise<T[]>>(
    {
      args: {
        first: args.first ?? null,
        last: args.last ?? null,
        after: args.after ?? null,
        before: args.before ?? null,
      },
      defaultSize: PAGE_SIZE_DEFAULT,
      maxSize: PAGE_SIZE_MAX,
      toCursor: (row) => encodeCursor(spec.cursorOf(row as T)),
    },
    ({ limit, inverted }): Promise<T[]> => spec.read({ after, before, limit, backward: inverted }),
  );
  // `read` always answers rows, so the plugin always answers a page.
  const edges = page!.edges as { cursor: string; node: T }[];
  let total: Promise<number> | undefined;
  return {
    edges,
    pageInfo: {
      hasNextPage: page!.pageInfo.hasNextPage,
      hasPreviousPage: page!.pageInfo.hasPreviousPage,
      // The plugin answers the request's own cursor (or '') for an empty page: no edge, no cursor.
      startCursor: edges.length > 0 ? (edges[0]?.cursor ?? null) : null,
      endCursor: edges.length > 0 ? (edges.at(-1)?.cursor ?? null) : null,
    },
    totalCount: () => {
      total ??= spec.count();
      return total;
    },
  };
}

// ---------- a forward-only page, for lists not yet moved to resolvePage ----------

/** `first` of a forward-only list: 1 to 100, default 50. */
export function pageSize(first: number | null | undefined): number {
  const n = first ?? PAGE_SIZE_DEFAULT;
  checkSize('first', n);
  return n;
}

/**
 * Shapes `limit + 1` rows read after a cursor into a forward page. Lists that page this way offer
 * no backward paging; `count` gives their `totalCount` (without it, asking for it is refused).
 * Prefer `resolvePage`.
 */
export function toConnection<T>(
  rows: T[],
  limit: number,
  cursorOf: (row: T) => string[],
  more: { after?: string | null; count?: () => Promise<number> } = {},
): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: more.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount:
      more.count ??
      (() => {
        throw badInput('totalCount is not offered by this connection');
      }),
  };
}
