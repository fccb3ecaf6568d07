/**
 * When the SDK may send a request again, and how long it waits first.
 *
 * A request is repeated only when repeating it cannot do anything twice:
 * - queries (reads);
 * - mutations whose variables carry an idempotencyKey (`input.idempotencyKey`, or for
 *   postJournalEntries every `input.entries[i].idempotencyKey`): the server answers a repeat with the
 *   original result and `replayed: true`. The very same variables are sent on every attempt.
 * Mutations without a key (createBook, createAccount, closeAccount) are sent once.
 *
 * And only after failures that say nothing was decided or that the server asks to come back later:
 * no response (network error, timeout), HTTP 5xx or 429, or a top-level GraphQL error whose
 * `extensions.code` is UNAVAILABLE or THROTTLED.
 *
 * The loop is p-retry's (`withRetries`); the delay before each retry is ours (`backoffDelayMs`),
 * because p-retry's own backoff cannot wait for the server's Retry-After, loses its jitter once the
 * delay reaches its cap (every client then comes back at the same moment), and draws from
 * Math.random, where the bank test needs a seeded generator to replay a run.
 */
import pRetry, { AbortError } from 'p-retry';

export type OperationKind = 'query' | 'mutation' | 'subscription';

/** Top-level error codes that mean "nothing happened, try again later". */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set(['UNAVAILABLE', 'THROTTLED']);

export interface RetryPolicy {
  /** Retries after the first attempt (so `retries + 1` attempts at most). */
  readonly retries: number;
  /** Backoff before the first retry; doubles each retry (before jitter). */
  readonly baseDelayMs: number;
  /** Upper bound of one backoff, Retry-After included. */
  readonly maxDelayMs: number;
}

/**
 * Five retries wait about 3 to 6 s in all with the default delays: enough to ride out a service
 * restart (about 1.5 s, measured by the bank test) or a PostgreSQL restart.
 */
export const DEFAULT_RETRIES = 5;
export const DEFAULT_RETRY_BASE_DELAY_MS = 200;
export const DEFAULT_RETRY_MAX_DELAY_MS = 10_000;

/** Whether an operation of this kind with these variables may be sent more than once. */
export function isSafeToRetry(kind: OperationKind, variables: unknown): boolean {
  if (kind === 'query') return true;
  if (kind === 'mutation') return carriesIdempotencyKey(variables);
  return false;
}

/**
 * True when the mutation's variables make it idempotent: `idempotencyKey` on the variables or on
 * `input`, or an `input.entries` list (postJournalEntries) whose every entry has one.
 */
export function carriesIdempotencyKey(variables: unknown): boolean {
  if (!isRecord(variables)) return false;
  if (isKey(variables.idempotencyKey)) return true;
  const input = variables.input;
  if (!isRecord(input)) return false;
  if (isKey(input.idempotencyKey)) return true;
  const entries = input.entries;
  return (
    Array.isArray(entries) &&
    entries.length > 0 &&
    entries.every((entry) => isRecord(entry) && isKey(entry.idempotencyKey))
  );
}

/**
 * Delay before retry number `retry` (1 for the first retry): exponential with "equal jitter" (half
 * fixed, half random) so that clients failing together do not come back together, and never less
 * than what the server asked for with Retry-After; both bounded by `maxDelayMs`.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  const floor = retryAfterMs === undefined ? 0 : Math.min(policy.maxDelayMs, retryAfterMs);
  return Math.round(Math.max(jittered, floor));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What an attempt throws when it failed: the caller's error, and whether another attempt may follow. */
export class AttemptFailure<E extends Error> extends Error {
  constructor(
    readonly error: E,
    /** A transient kind of failure: nothing was decided, or the server asks to come back later. */
    readonly retryable: boolean,
    /** The server's Retry-After, if it sent one. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(error.message);
  }
}

export interface RetryLoop<E extends Error> {
  policy: RetryPolicy;
  /** False for an operation that must be sent once (see isSafeToRetry). */
  safeToRetry: boolean;
  /** The caller's signal: ends a backoff at once (each attempt should watch it too). */
  signal?: AbortSignal;
  /** Called before each retry's backoff with the attempt that failed (1 for the first). */
  onRetry?: (attempt: number, delayMs: number, error: E) => void;
  /** The error to throw when `signal` ends a backoff, after `attempts` attempts. */
  aborted: (reason: unknown, attempts: number) => E;
}

/**
 * Calls `attempt` (with its number, from 1) until it answers, throws anything other than a
 * retryable AttemptFailure, or `policy.retries` retries are spent; then throws the last failure's
 * error. Between attempts it waits `backoffDelayMs`.
 *
 * The caller's signal is not given to p-retry: p-retry would reject with the abort reason even when
 * the attempt under way had just answered (a posted entry reported as aborted). The attempt watches
 * the signal itself, and the backoff below ends on it.
 */
export async function withRetries<T, E extends Error>(
  attempt: (attemptNumber: number) => Promise<T>,
  loop: RetryLoop<E>,
): Promise<T> {
  // What ends the loop early (a failure not to retry, an abort during a backoff), thrown as it is.
  let stop: { thrown: unknown } | undefined;
  try {
    return await pRetry(
      async (attemptNumber) => {
        try {
          return await attempt(attemptNumber);
        } catch (thrown) {
          if (thrown instanceof AttemptFailure && thrown.retryable) throw thrown;
          stop = { thrown: thrown instanceof AttemptFailure ? thrown.error : thrown };
          throw new AbortError('not retried');
        }
      },
      {
        retries: loop.safeToRetry ? loop.policy.retries : 0,
        // No delay of p-retry's own: ours is waited in onFailedAttempt, before the next attempt.
        minTimeout: 0,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft <= 0) return; // no attempt follows
          const failure = error as AttemptFailure<E>;
          const delayMs = backoffDelayMs(loop.policy, attemptNumber, failure.retryAfterMs);
          loop.onRetry?.(attemptNumber, delayMs, failure.error);
          try {
            await sleep(delayMs, loop.signal);
          } catch (reason) {
            stop = { thrown: loop.aborted(reason, attemptNumber) };
            throw reason;
          }
        },
      },
    );
  } catch (thrown) {
    if (stop) throw stop.thrown;
    // The retries are spent: the caller gets the last attempt's error.
    if (thrown instanceof AttemptFailure) throw thrown.error;
    throw thrown;
  }
}

function isKey(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
