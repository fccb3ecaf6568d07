/** Domain rejections as data: every payload carries `userErrors` with a stable code. */
import { GraphQLError } from 'graphql';
import { ForbiddenError, isConnectionError, UnavailableError } from '../server/app/index.js';
import { ERROR_CODES, LedgerError } from '../server/ledger/index.js';
import { builder } from './builder.js';
import { forbiddenError } from './context.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description:
    'Stable codes of domain rejections. New codes may be added; existing ones never change meaning.',
  values: ERROR_CODES,
});

export const UserErrorRef = builder.objectRef<LedgerError>('UserError').implement({
  description: 'Why a request was rejected. Nothing was changed.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
    field: t.string({
      nullable: true,
      description: 'Path of the offending input field, e.g. `lines[1].amount` or `entries[3].lines`.',
      resolve: (e) => e.field,
    }),
  }),
});

/**
 * Failures of the service itself, and a use case's refusal of its caller, become top-level errors
 * with a stable code, not userErrors.
 */
export function rethrowServiceError(error: unknown): never {
  // Scope-auth refuses such callers first; a use case refusing one answers the same way.
  if (error instanceof ForbiddenError) throw forbiddenError();
  if (error instanceof UnavailableError || isConnectionError(error)) throw unavailableError();
  throw error;
}

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

export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    rethrowServiceError(error);
  }
}

export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export { LedgerError };
