/**
 * Walking forward-only cursor connections: ask for a page, hand out its nodes, ask for the next page
 * `after` the previous `pageInfo.endCursor`, stop when `hasNextPage` is false.
 */

/** The part of any connection the walker reads. Selections with `edges { node }` or `nodes` both fit. */
export interface ConnectionPage<TNode> {
  readonly edges?: ReadonlyArray<{ readonly node: TNode }> | null;
  readonly nodes?: ReadonlyArray<TNode> | null;
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor?: string | null };
}

/** Fetches one page; `after` is undefined for the first page. */
export type PageFetcher<TNode> = (after: string | undefined) => Promise<ConnectionPage<TNode>>;

export interface PaginateOptions {
  /** Stop after this many pages even if there are more (a guard for exploratory scripts). */
  readonly maxPages?: number;
}

/** Largest page the server serves; the iterators ask for full pages unless told otherwise. */
export const MAX_PAGE_SIZE = 100;

/**
 * Yields every node of a connection, fetching pages lazily: breaking out of a `for await` loop stops
 * the fetching. Throws if the server says there is a next page but gives no new cursor (which would
 * otherwise loop forever).
 *
 * @example
 * for await (const account of paginate((after) => client.accounts({ bookId, first: 100, after }))) { ... }
 */
export async function* paginate<TNode>(
  fetchPage: PageFetcher<TNode>,
  options: PaginateOptions = {},
): AsyncGenerator<TNode, void, undefined> {
  let after: string | undefined;
  for (let page = 1; options.maxPages === undefined || page <= options.maxPages; page++) {
    const connection = await fetchPage(after);
    if (connection.edges) {
      for (const edge of connection.edges) yield edge.node;
    } else if (connection.nodes) {
      yield* connection.nodes;
    }
    const { hasNextPage, endCursor } = connection.pageInfo;
    if (!hasNextPage) return;
    if (endCursor === null || endCursor === undefined || endCursor === after) {
      throw new Error(
        `Pagination stalled: hasNextPage is true but endCursor is ${JSON.stringify(endCursor)} after page ${page}.`,
      );
    }
    after = endCursor;
  }
}
