/** Small rules the patronage use cases share: answers, keys, dates. */
import { LedgerError, validateDate, validateIdempotencyKey } from '../core/index.js';
import { PATRONAGE_KEY_LENGTH_MAX } from './records.js';

export const unknownRun = (field = 'runId') =>
  new LedgerError('UNKNOWN_PATRONAGE_RUN', 'no such patronage allocation run', field);

export const reusedKey = () =>
  new LedgerError(
    'IDEMPOTENCY_KEY_REUSED',
    'this idempotencyKey was already used with a different request',
    'idempotencyKey',
  );

export const noPolicy = () =>
  new LedgerError(
    'NO_PATRONAGE_POLICY',
    'the co-op has no patronage policy yet: set one with setPatronagePolicy',
    'coopId',
  );

/**
 * Several problems of one request: it is the first (a LedgerError, so callers that handle one
 * handle this), and `all` lists every one; the API answers them all in `userErrors`.
 */
export class Problems extends LedgerError {
  readonly all: readonly LedgerError[];

  constructor(problems: readonly LedgerError[]) {
    const first = problems[0]!;
    super(first.code, first.message, first.field);
    this.all = problems;
  }
}

export function rejected(problems: LedgerError[]): LedgerError {
  return problems.length === 1 ? problems[0]! : new Problems(problems);
}

/** A key for a request whose entries' keys add a suffix: 1 to 100 printable ASCII characters. */
export function checkRunKey(key: string): LedgerError | null {
  const error = validateIdempotencyKey(key);
  if (error) return error;
  return key.length > PATRONAGE_KEY_LENGTH_MAX
    ? new LedgerError(
        'INVALID_IDEMPOTENCY_KEY',
        `idempotencyKey must be 1 to ${PATRONAGE_KEY_LENGTH_MAX} characters here`,
        'idempotencyKey',
      )
    : null;
}

/** A date that is not after today. */
export function pastDate(date: string, field: string, today: string): LedgerError | null {
  return (
    validateDate(date, field) ??
    (date > today ? new LedgerError('INVALID_DATE', `${field} is in the future`, field) : null)
  );
}

/**
 * A rejection of one of the use case's own entries told in the caller's terms: the account of the
 * line at fault named (`names`: account id -> what it is to the caller, e.g. "member 7's internal
 * capital account"), since the entry's `lines[i]` is no field of the caller's request.
 */
export function rejectedEntry(
  failed: { error: LedgerError; index: number },
  entries: readonly { lines: readonly { accountId: string }[] }[],
  names: ReadonlyMap<string, string>,
): LedgerError {
  const { error, index } = failed;
  const line = /^lines\[(\d+)\]/.exec(error.field ?? '');
  const accountId = line ? entries[index]?.lines[Number(line[1])]?.accountId : undefined;
  const name = accountId === undefined ? undefined : names.get(accountId);
  return name === undefined ? error : new LedgerError(error.code, `${name}: ${error.message}`, null);
}
