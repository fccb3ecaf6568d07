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
import { ReadTurn } from '../../server/ledger/index.js';
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

const notOurCursor = () => badInput('after: not a cursor of these lines (same book, asOf and roll-up depth)');

/** The account id a cursor names, or null when it is not one of ours. */
function cursorAccountId(after: string): string | null {
  const decoded = Buffer.from(after, 'base64url').toString('utf8');
  return decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : null;
}

function positionAfter<T>(lines: readonly T[], accountIdOf: (l: T) => string, after: string): number {
  const id = cursorAccountId(after);
  const index = id === null ? -1 : lines.findIndex((l) => accountIdOf(l) === id);
  if (index < 0) throw notOurCursor();
  return index + 1;
}

function checkFirst(first: number | null | undefined): void {
  if (first !== null && first !== undefined && !(first >= 1 && first <= LINES_PER_REQUEST))
    throw badInput(`first must be 1 to ${LINES_PER_REQUEST}`);
}

/** Counts a page's lines against the request's LINES_PER_REQUEST. */
function spend(ctx: GraphQLContext, count: number, advice: string): void {
  const total = (spent.get(ctx) ?? 0) + count;
  if (total > LINES_PER_REQUEST) throw tooManyLines(total, advice);
  spent.set(ctx, total);
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
  checkFirst(first);
  const start = after === null || after === undefined ? 0 : positionAfter(lines, accountIdOf, after);
  const remaining = lines.length - start;
  if ((first === null || first === undefined) && remaining > LINES_PER_REQUEST)
    throw tooManyLines(remaining, advice);
  const page = lines.slice(start, start + (first ?? remaining));
  spend(ctx, page.length, advice);
  return page;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lines read a page at a time from the database (the trial balance's): see TrialBalanceView.page. */
export type LinePageSource<T> = (
  afterAccountId: string | null,
  limit: number,
  check: (found: boolean, remaining: number, count: number) => void,
) => Promise<T[]>;

/**
 * pageLines for lines read from the database a page at a time: the same arguments, answers and
 * refusals, checked before the page's accounts are read.
 */
export function pageLinesFrom<T>(
  ctx: GraphQLContext,
  source: LinePageSource<T>,
  args: { first?: number | null; after?: string | null },
  advice: string,
): Promise<T[]> {
  const { first, after } = args;
  checkFirst(first);
  let afterId: string | null = null;
  if (after !== null && after !== undefined) {
    afterId = cursorAccountId(after);
    if (afterId === null || !UUID.test(afterId)) throw notOurCursor();
  }
  return source(afterId, first ?? LINES_PER_REQUEST, (found, remaining, count) => {
    if (!found) throw notOurCursor();
    if ((first === null || first === undefined) && remaining > LINES_PER_REQUEST)
      throw tooManyLines(remaining, advice);
    spend(ctx, count, advice);
  });
}

const turns = new WeakMap<object, ReadTurn>();

/**
 * The request's turn at trial balance reads (server/ledger/reports.ts). Over HTTP it is held until
 * the answer is written (its response closes): a csv's text is in the heap until then. A request
 * without a response to watch (an in-process call) gives its turn back when its reads are done.
 */
export function readTurn(ctx: GraphQLContext): ReadTurn {
  let turn = turns.get(ctx);
  if (turn) return turn;
  const res = (ctx as { res?: { once?: unknown; writableFinished?: boolean; destroyed?: boolean } }).res;
  const watched =
    res !== undefined && typeof res.once === 'function' && !res.writableFinished && !res.destroyed;
  turn = new ReadTurn(watched);
  if (watched) {
    const end = turn;
    (res as { once(event: 'close', listener: () => void): void }).once('close', () => end.end());
  }
  turns.set(ctx, turn);
  return turn;
}
