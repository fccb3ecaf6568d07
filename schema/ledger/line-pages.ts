/**
 * Bounded lists of report lines (the trial balance's, a statement section's). A book may hold tens
 * of thousands of accounts, and graphql-js executing a line's ten fields holds about 7 KB of heap
 * until the answer is written: 15,000 lines in one answer took the service past its 128 MB heap
 * and down for every tenant. So one request answers at most LINES_PER_REQUEST lines in all (every
 * aliased trial balance and statement section together); a list with more is paged by `first`
 * and `after` (the cursor of the last line received), folded with a roll-up depth, or read whole
 * as `csv`, which is built without per-field execution.
 */
import { GraphQLError } from 'graphql';
import type { GraphQLContext } from '../context.js';
import { badInput } from '../errors.js';

/**
 * Lines one request may answer. Measured on the built service at --max-old-space-size=128 (2 shared
 * cores, load 7-9), a book of 15,000 accounts: four concurrent requests of 2,000 lines each answered
 * (peak RSS 229 MB) and the service stayed up. Eight concurrent trial balances of that book still
 * run it out of heap even at one line a page: each request computes the whole trial balance
 * (about 20 MB at its peak), which this limit does not bound.
 */
export const LINES_PER_REQUEST = 2000;

const spent = new WeakMap<object, number>();

export const pageArgsDoc = {
  first: `The first this many lines (1 to ${LINES_PER_REQUEST}) after \`after\`; omit for all of them, which is refused (TOO_MANY_LINES) when they are more than ${LINES_PER_REQUEST}.`,
  after: 'The `cursor` of the last line of the previous page; omit to start at the first line.',
};

const CURSOR_PREFIX = 'line:';

/** An opaque cursor naming a line by its account (unique among a list's lines). */
export const lineCursor = (accountId: string) =>
  Buffer.from(CURSOR_PREFIX + accountId, 'utf8').toString('base64url');

function positionAfter<T>(lines: readonly T[], accountIdOf: (l: T) => string, after: string): number {
  const decoded = Buffer.from(after, 'base64url').toString('utf8');
  const id = decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : null;
  const index = id === null ? -1 : lines.findIndex((l) => accountIdOf(l) === id);
  if (index < 0) throw badInput('after: not a cursor of these lines (same book, asOf and roll-up depth)');
  return index + 1;
}

export function tooManyLines(count: number, advice: string): GraphQLError {
  return new GraphQLError(
    `${count} lines are more than one request answers (${LINES_PER_REQUEST} in all); ${advice}`,
    { extensions: { code: 'TOO_MANY_LINES', lineCount: count, limit: LINES_PER_REQUEST } },
  );
}

/**
 * The lines a request asked for (`first` after `after`, or all of them), counted against the
 * request's LINES_PER_REQUEST; more is TOO_MANY_LINES, a bad `first` or cursor BAD_USER_INPUT.
 */
export function pageLines<T>(
  ctx: GraphQLContext,
  lines: readonly T[],
  accountIdOf: (l: T) => string,
  args: { first?: number | null; after?: string | null },
  advice: string,
): T[] {
  const { first, after } = args;
  if (first !== null && first !== undefined && !(first >= 1 && first <= LINES_PER_REQUEST))
    throw badInput(`first must be 1 to ${LINES_PER_REQUEST}`);
  const start = after === null || after === undefined ? 0 : positionAfter(lines, accountIdOf, after);
  const remaining = lines.length - start;
  if ((first === null || first === undefined) && remaining > LINES_PER_REQUEST)
    throw tooManyLines(remaining, advice);
  const page = lines.slice(start, start + (first ?? remaining));
  const total = (spent.get(ctx) ?? 0) + page.length;
  if (total > LINES_PER_REQUEST) throw tooManyLines(total, advice);
  spent.set(ctx, total);
  return page;
}
