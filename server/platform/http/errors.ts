import type { Response } from 'express';
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

/**
 * An error answered outside GraphQL execution, shaped like GraphQL's (`{"errors":[{message,
 * extensions:{code,...}}]}`, the body every GraphQL client already reads). The code is also kept
 * for the access log line (`outcome`).
 */
export function sendError(
  res: Response,
  status: number,
  code: string,
  { message, ...extensions }: { message: string } & Record<string, unknown>,
): void {
  res.locals.outcome = code;
  res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
}

/** 503 UNAVAILABLE for a request that needed the database while it is down: retry in a second. */
export function sendUnavailable(res: Response): void {
  res.set('retry-after', '1');
  sendError(res, 503, 'UNAVAILABLE', { message: UNAVAILABLE_MESSAGE });
}
