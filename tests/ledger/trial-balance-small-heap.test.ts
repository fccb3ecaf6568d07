/**
 * Regression: one treasurer's trial balance of a book with 15,000 accounts took the whole service
 * down (V8 "Reached heap limit", SIGABRT, every tenant with it): the service runs with
 * --max-old-space-size=128 (npm start), and graphql-js executing 15,000 lines of ten fields held
 * about 7 KB of heap a line. Here the service is spawned with that heap (under tsx, which idles
 * higher than the built service) and asked the trial balance of such a book as the SDK's fragment
 * used to ask it: it answers (TOO_MANY_LINES, with the way to page) and stays up, and the lines
 * then come in pages; eight such trial balances asked at once are all answered. The accounts are
 * inserted by SQL.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, createBook, decodeGlobalId, ledgerClient, rawGraphQL } from '../helpers/ledger.js';
import { type ServerProcess, spawnServerProcess } from '../helpers/server.js';

const ACCOUNTS = 15_000;

let service: ServerProcess;
let db: pg.Client;
let bookId: string;

beforeAll(async () => {
  service = await spawnServerProcess({ env: { NODE_OPTIONS: '--max-old-space-size=128' } });
  db = await connectPg();
  bookId = (await createBook(ledgerClient(service.url), { name: 'fifteen thousand accounts' })).id;
  await db.query(
    `insert into account (book_id, id, code, name, type, unit_code, created_at)
     select $1, gen_random_uuid(), 'A' || lpad(g::text, 6, '0'), 'Account number ' || g, 'ASSET', 'USD', now()
       from generate_series(1, $2::int) g`,
    [decodeGlobalId(bookId).id, ACCOUNTS],
  );
}, 120_000);

afterAll(async () => {
  await db?.end();
  await service?.stop();
});

const LINES = 'account { id code name type } debits credits debitBalance creditBalance depth rolledUp';

describe('the trial balance of a 15,000-account book under a 128 MB heap', () => {
  it('answers and the service stays up', { timeout: 180_000 }, async () => {
    const whole = await rawGraphQL(
      service.url,
      `query($b: ID!) { trialBalance(bookId: $b) { balanced lines { ${LINES} } units { debitBalanceTotal } } }`,
      { b: bookId },
    ).catch(async (error: unknown) => {
      const exit = await Promise.race([
        service.exited,
        new Promise((r) => setTimeout(() => r('running'), 1000)),
      ]);
      throw new Error(
        `the service did not answer (${error}; exit ${JSON.stringify(exit)}); its last output:\n${service.output().slice(-1500)}`,
      );
    });
    expect(whole.status).toBe(200);
    const body = whole.body;
    expect(body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_LINES');

    let count = 0;
    let after: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const page = await rawGraphQL(
        service.url,
        `query($b: ID!, $first: Int, $after: String) { trialBalance(bookId: $b) { lineCount lines(first: $first, after: $after) { cursor ${LINES} } } }`,
        { b: bookId, first: 2000, after },
      );
      expect(page.body.errors).toBeUndefined();
      const tb = (page.body.data as { trialBalance: { lineCount: number; lines: { cursor: string }[] } })
        .trialBalance;
      expect(tb.lineCount).toBe(ACCOUNTS);
      if (tb.lines.length === 0) break;
      count += tb.lines.length;
      after = tb.lines[tb.lines.length - 1]!.cursor;
    }
    expect(count).toBe(ACCOUNTS);
    const csv = await rawGraphQL(service.url, 'query($b: ID!) { trialBalance(bookId: $b) { csv } }', {
      b: bookId,
    });
    expect(
      (csv.body.data as { trialBalance: { csv: string } }).trialBalance.csv.trim().split('\n'),
    ).toHaveLength(ACCOUNTS + 2);

    // Eight treasurers at once: each request computes the whole trial balance (about 20 MB at its
    // peak for this book); eight computed together ran the heap out even at one line a page.
    const together = await Promise.all(
      Array.from({ length: 8 }, () =>
        rawGraphQL(
          service.url,
          'query($b: ID!) { trialBalance(bookId: $b) { lineCount lines(first: 1) { cursor } } }',
          { b: bookId },
        ).catch((error: unknown) => ({ failed: String(error) })),
      ),
    );
    for (const answer of together)
      expect(answer, service.output().slice(-1500)).toMatchObject({
        status: 200,
        body: { data: { trialBalance: { lineCount: ACCOUNTS } } },
      });

    const alive = await rawGraphQL(service.url, '{ __typename }');
    expect(alive.body.data).toEqual({ __typename: 'Query' });
    expect(
      await Promise.race([service.exited, new Promise((r) => setTimeout(() => r('running'), 200))]),
    ).toBe('running');
  });
});
