import { GraphQLError } from 'graphql';

/** The top-level error for "the database cannot be reached now": retry (with the same idempotency key). */
export const UNAVAILABLE_MESSAGE =
  'The ledger database is unavailable; retry later with the same idempotencyKey.';

/** UNAVAILABLE (HTTP 503), at the place of `at` when it is a field's error. */
export function unavailableError(at?: unknown): GraphQLError {
  const located = at instanceof GraphQLError ? at : undefined;
  return new GraphQLError(UNAVAILABLE_MESSAGE, {
    nodes: located?.nodes,
    source: located?.source,
    positions: located?.positions,
    path: located?.path,
    extensions: { code: 'UNAVAILABLE', http: { status: 503 } },
  });
}
