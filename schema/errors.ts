/** Domain rejections as data: every payload carries `userErrors` with a stable code. */
import { GraphQLError } from 'graphql';
import { ERROR_CODES, ForbiddenError, LedgerError } from '../server/core/index.js';
import { isConnectionError, UnavailableError } from '../server/platform/errors.js';
import { UNAVAILABLE_MESSAGE, unavailableError } from '../server/platform/http/errors.js';
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

export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    rethrowServiceError(error);
  }
}

/**
 * Every problem a rejection carries, for `userErrors`: a use case that finds several problems in
 * one request answers the first as a LedgerError whose `all` lists every one (the co-ops domain's
 * InputProblems), so callers that handle one LedgerError keep working.
 */
export function userErrorsOf(error: LedgerError): LedgerError[] {
  const all = (error as { all?: unknown }).all;
  return Array.isArray(all) && all.length > 0 ? (all as LedgerError[]) : [error];
}

export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

export { LedgerError, UNAVAILABLE_MESSAGE, unavailableError };
