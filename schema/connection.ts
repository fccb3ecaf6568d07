/**
 * Forward cursor connections (`first` 1..100, `after`), built by hand so the schema offers only
 * what is supported: stable ordering, opaque cursors, no backward paging.
 */
import type { ObjectRef } from '@pothos/core';
import { builder } from './builder.js';
import { badInput } from './errors.js';

export const PAGE_SIZE_MAX = 100;
export const PAGE_SIZE_DEFAULT = 50;
/** The description of every connection's `first` argument. */
export const PAGE_DOC = `Page size, 1 to ${PAGE_SIZE_MAX}; default ${PAGE_SIZE_DEFAULT}.`;

export const PageInfoRef = builder
  .objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo')
  .implement({
    fields: (t) => ({
      hasNextPage: t.exposeBoolean('hasNextPage'),
      endCursor: t.string({ nullable: true, resolve: (p) => p.endCursor }),
    }),
  });

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

// biome-ignore lint/suspicious/noExplicitAny: Pothos refs are generic over the builder's types
export function connectionType<T>(name: string, node: ObjectRef<any, T>) {
  const edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      // biome-ignore lint/suspicious/noExplicitAny: generic node type
      node: t.field({ type: node, resolve: (e) => e.node as any }),
    }),
  });
  return builder.objectRef<Connection<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [edge], resolve: (c) => c.edges }),
      // biome-ignore lint/suspicious/noExplicitAny: generic node type
      nodes: t.field({ type: [node], resolve: (c) => c.edges.map((e) => e.node) as any }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
    }),
  });
}

export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, arity: number): string[] | null {
  if (cursor === null || cursor === undefined) return null;
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === arity && parts.every((p) => typeof p === 'string'))
      return parts;
  } catch {
    // fall through
  }
  throw badInput('`after` is not a cursor returned by this connection');
}

export function pageSize(first: number | null | undefined): number {
  const n = first ?? PAGE_SIZE_DEFAULT;
  if (!Number.isInteger(n) || n < 1 || n > PAGE_SIZE_MAX) {
    throw badInput(`\`first\` must be between 1 and ${PAGE_SIZE_MAX}`);
  }
  return n;
}

/** A page with nothing on it: what a caller gets for a book it may not read. */
export function emptyConnection(): Connection<never> {
  return { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
}

/** Shapes `limit + 1` fetched rows into a page. */
export function toConnection<T>(rows: T[], limit: number, cursorOf: (row: T) => string[]): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
}
