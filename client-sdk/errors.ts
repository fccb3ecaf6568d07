/**
 * The one error type the SDK throws. Domain rejections are NOT errors: they come back as data in each
 * payload's `userErrors`. A LedgerClientError means the request as a whole failed: authentication,
 * throttling, an unavailable database, a masked internal fault, a network failure or a timeout.
 */

/** One entry of a GraphQL response's top-level `errors` list, as sent by the server. */
export interface LedgerGraphQLError {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
  readonly locations?: ReadonlyArray<{ readonly line: number; readonly column: number }>;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/**
 * `extensions.code` of the first top-level error that has one (codes the server sends include
 * UNAVAILABLE, THROTTLED, UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED,
 * PAYLOAD_TOO_LARGE, CSRF_PREVENTED, INTERNAL_SERVER_ERROR), or one the SDK sets itself:
 * - NETWORK_ERROR: no HTTP response (connection refused, reset, dropped);
 * - TIMEOUT: no complete response within `timeoutMs`;
 * - ABORTED: the caller's AbortSignal fired;
 * - HTTP_ERROR: a non-2xx response without GraphQL errors in its body;
 * - INVALID_RESPONSE: a 2xx response that is not a GraphQL result;
 * - GRAPHQL_ERROR: top-level errors without a code.
 */
export type LedgerClientErrorCode =
  | 'UNAVAILABLE'
  | 'THROTTLED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'INTERNAL_SERVER_ERROR'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'HTTP_ERROR'
  | 'INVALID_RESPONSE'
  | 'GRAPHQL_ERROR'
  // Any other code the server may add; keeps autocompletion for the known ones.
  | (string & {});

export interface LedgerClientErrorDetails {
  code: LedgerClientErrorCode;
  message: string;
  operationName: string | undefined;
  requestId: string | undefined;
  status: number | undefined;
  errors: readonly LedgerGraphQLError[];
  data: unknown;
  attempts: number;
  retryable: boolean;
  cause?: unknown;
}

export class LedgerClientError extends Error {
  override readonly name = 'LedgerClientError';
  /** See {@link LedgerClientErrorCode}. */
  readonly code: LedgerClientErrorCode;
  /** Name of the GraphQL operation that failed, e.g. `PostJournalEntry`. */
  readonly operationName: string | undefined;
  /**
   * The server's request id (its `x-request-id` response header, else `extensions.requestId`, else the
   * id the SDK sent): quote it when asking an operator to look at the server's logs.
   */
  readonly requestId: string | undefined;
  /** HTTP status of the last attempt; undefined when no response arrived. */
  readonly status: number | undefined;
  /** The top-level GraphQL errors of the last response, unchanged. */
  readonly errors: readonly LedgerGraphQLError[];
  /** Partial `data` of the last response, if the server sent any. */
  readonly data: unknown;
  /** How many HTTP requests were made, retries included. */
  readonly attempts: number;
  /**
   * Whether the failure is of a kind the SDK retries (network, timeout, 5xx, 429, UNAVAILABLE,
   * THROTTLED). True on a thrown error means the attempts ran out, or the operation was not safe to
   * retry (a mutation without an idempotencyKey).
   */
  readonly retryable: boolean;

  constructor(details: LedgerClientErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.operationName = details.operationName;
    this.requestId = details.requestId;
    this.status = details.status;
    this.errors = details.errors;
    this.data = details.data;
    this.attempts = details.attempts;
    this.retryable = details.retryable;
  }
}

export function isLedgerClientError(error: unknown): error is LedgerClientError {
  return error instanceof LedgerClientError;
}
