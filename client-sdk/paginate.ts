/**
 * Walking cursor connections, forward or backward.
 *
 * Forward (the default): ask for a page, hand out its nodes, ask for the next page `after` the
 * previous `pageInfo.endCursor`, stop when `hasNextPage` is false. Backward: ask for the last page,
 * hand out its nodes from the last to the first, ask for the page `before` the previous
 * `pageInfo.startCursor`, stop when `hasPreviousPage` is false; the nodes come out in the reverse of
 * the list's order (for journal entries: newest first).
 */

/** The part of any connection the walker reads. Selections with `edges { node }` or `nodes` both fit. */
export interface ConnectionPage<TNode> {
  readonly edges?: ReadonlyArray<{ readonly node: TNode }> | null;
  readonly nodes?: ReadonlyArray<TNode> | null;
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly endCursor?: string | null;
    /** Needed to walk backward. */
    readonly hasPreviousPage?: boolean;
    /** Needed to walk backward. */
    readonly startCursor?: string | null;
  };
}

/**
 * Fetches one page; `cursor` is undefined for the first page, else the `after` cursor of a forward
 * walk or the `before` cursor of a backward one.
 */
export type PageFetcher<TNode> = (cursor: string | undefined) => Promise<ConnectionPage<TNode>>;

export interface PaginateOptions {
  /** Stop after this many pages even if there are more (a guard for exploratory scripts). */
  readonly maxPages?: number;
  /** Walk from the end of the list to its start (`last`/`before`); nodes come out last first. */
  readonly backward?: boolean;
}

/** Largest page the server serves; the iterators ask for full pages unless told otherwise. */
export const MAX_PAGE_SIZE = 100;

function nodesOf<TNode>(connection: ConnectionPage<TNode>): readonly TNode[] {
  if (connection.edges) return connection.edges.map((edge) => edge.node);
  return connection.nodes ?? [];
}

/**
 * Yields every node of a connection, fetching pages lazily: breaking out of a `for await` loop stops
 * the fetching. Throws if the server says there is another page but gives no new cursor (which would
 * otherwise loop forever).
 *
 * @example
 * for await (const account of paginate((after) => client.accounts({ bookId, first: 100, after }))) { ... }
 * for await (const entry of paginate((before) => client.journalEntries({ bookId, last: 100, before }), { backward: true })) { ... }
 */
export async function* paginate<TNode>(
  fetchPage: PageFetcher<TNode>,
  options: PaginateOptions = {},
): AsyncGenerator<TNode, void, undefined> {
  const backward = options.backward === true;
  let cursor: string | undefined;
  for (let page = 1; options.maxPages === undefined || page <= options.maxPages; page++) {
    const connection = await fetchPage(cursor);
    const nodes = nodesOf(connection);
    if (backward) {
      for (let i = nodes.length - 1; i >= 0; i--) yield nodes[i]!;
    } else {
      yield* nodes;
    }
    const { pageInfo } = connection;
    const more = backward ? pageInfo.hasPreviousPage === true : pageInfo.hasNextPage;
    const next = backward ? pageInfo.startCursor : pageInfo.endCursor;
    if (!more) return;
    if (next === null || next === undefined || next === cursor) {
      const [flag, name] = backward ? ['hasPreviousPage', 'startCursor'] : ['hasNextPage', 'endCursor'];
      throw new Error(
        `Pagination stalled: ${flag} is true but ${name} is ${JSON.stringify(next)} after page ${page}.`,
      );
    }
    cursor = next;
  }
}
