/**
 * Errors as typed results. Every SDK method throws a LedgerClientError when the request failed
 * (network, timeout, authentication, throttling, a masked fault) and answers domain rejections as
 * data (`userErrors` with stable codes). `settle` turns both into one value to switch on:
 *
 *   const outcome = await settle(ledger.postJournalEntry(input));
 *   if (outcome.ok) use(outcome.value.entry);
 *   else if (outcome.rejected) for (const e of outcome.userErrors) show(e.code, e.field, e.message);
 *   else retryLater(outcome.error.code, outcome.error.requestId);
 *
 * Anything other than a LedgerClientError (a bug in the caller's code) is thrown as it is.
 */
import { LedgerClientError } from './errors.js';

/** The `userErrors` of a mutation's payload, when the result has them. */
type UserErrorsOf<T> = T extends { readonly userErrors: infer U } ? U : never;

export type Outcome<T> =
  /** The call answered and, for a payload with `userErrors`, they are empty. */
  | { readonly ok: true; readonly rejected: false; readonly value: T }
  /** A domain rejection: nothing was changed; `userErrors` is not empty. */
  | {
      readonly ok: false;
      readonly rejected: true;
      readonly value: T;
      readonly userErrors: UserErrorsOf<T>;
    }
  /** The request failed: see `error.code`, `error.retryable`, `error.requestId`. */
  | { readonly ok: false; readonly rejected: false; readonly error: LedgerClientError };

/** Awaits an SDK call and returns its outcome as a value instead of throwing a LedgerClientError. */
export async function settle<T>(call: Promise<T>): Promise<Outcome<T>> {
  let value: T;
  try {
    value = await call;
  } catch (error) {
    if (error instanceof LedgerClientError) return { ok: false, rejected: false, error };
    throw error;
  }
  const userErrors = (value as { userErrors?: unknown } | null)?.userErrors;
  if (Array.isArray(userErrors) && userErrors.length > 0) {
    return { ok: false, rejected: true, value, userErrors: userErrors as UserErrorsOf<T> };
  }
  return { ok: true, rejected: false, value };
}
