/**
 * A trial balance (and a statement section) with more lines than one request answers
 * (LINES_PER_REQUEST): asked whole it is refused with TOO_MANY_LINES, never answered by holding
 * the service's heap; paged with `first` and `after` it gives every line exactly once, in code
 * order, and the lines add up to the unit totals; `csv` still holds every line.
 *
 * The book's 2,300 accounts are inserted by SQL (creating them through the API would take a
 * minute on the test machine), with stored posted totals that balance (account 2k-1 debited and
 * account 2k credited k.01); one entry posted through the API moves two of them further.
 */

import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LedgerClient, TRIAL_BALANCE_PAGE_MAX } from '../../client-sdk/index.js';
import { LINES_PER_REQUEST } from '../../schema/ledger/line-pages.js';
import { builtArgs } from '../helpers/build.js';
import { createBook, decodeGlobalId, expectClientError, newKey, rawGraphQL } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ACCOUNTS = 2300;

const ctx = useLedgerServer({ config: { rateLimitPerSecond: 0 }, db: true });

let bookId: string;

const toMinor = (s: string) => BigInt(s.replace('.', ''));

beforeAll(async () => {
  bookId = (await createBook(ctx.ledger, { name: 'many accounts' })).id;
  await ctx.db.query(
    `insert into account (book_id, id, code, name, type, unit_code, created_at, posted_debits, posted_credits)
     select $1, gen_random_uuid(), 'A' || lpad(g::text, 5, '0'), 'Account ' || g, 'ASSET', 'USD', now(),
            case when g % 2 = 1 then (g + 1) / 2 + 0.01 else 0 end,
            case when g % 2 = 0 then g / 2 + 0.01 else 0 end
       from generate_series(1, $2::int) g`,
    [decodeGlobalId(bookId).id, ACCOUNTS],
  );
  // As autovacuum would soon: see trial-balance-small-heap.test.ts.
  await ctx.db.query('analyze account');
  const posted = await ctx.ledger.postJournalEntry({
    bookId,
    idempotencyKey: newKey('tb-pages'),
    lines: [
      { accountCode: 'A00007', side: 'DEBIT', amount: '5.00', unit: 'USD' },
      { accountCode: 'A02299', side: 'CREDIT', amount: '5.00', unit: 'USD' },
    ],
  });
  expect(posted.userErrors).toEqual([]);
}, 120_000);

describe('a trial balance with more lines than one request answers', () => {
  it('is refused whole with TOO_MANY_LINES, and the refusal says how to read it', async () => {
    expect(ACCOUNTS).toBeGreaterThan(LINES_PER_REQUEST);
    const whole = await rawGraphQL(
      ctx.server.url,
      'query($b: ID!) { trialBalance(bookId: $b) { lines { account { code } debitBalance } } }',
      { b: bookId },
    );
    expect(whole.status).toBe(200);
    expect(whole.body.errors?.[0]?.extensions).toMatchObject({
      code: 'TOO_MANY_LINES',
      lineCount: ACCOUNTS,
      limit: LINES_PER_REQUEST,
    });
    expect(whole.body.errors?.[0]?.message).toMatch(/first and after.*rollupDepth.*csv/);
    // The SDK's fragment reads every line too: it throws with the same code.
    const error = await expectClientError(ctx.ledger.trialBalance({ bookId }));
    expect(error.code).toBe('TOO_MANY_LINES');
    // Aliases share one request's allowance: two pages of the limit are refused together.
    const aliased = await rawGraphQL(
      ctx.server.url,
      `query($b: ID!, $n: Int) { a: trialBalance(bookId: $b) { lines(first: $n) { cursor } }
                               b: trialBalance(bookId: $b) { lines(first: $n) { cursor } } }`,
      { b: bookId, n: LINES_PER_REQUEST },
    );
    expect(aliased.body.errors?.map((e) => e.extensions?.code)).toContain('TOO_MANY_LINES');
  });

  it('pages every line exactly once, in code order, adding up to the unit totals', async () => {
    const seen: string[] = [];
    let debit = 0n;
    let credit = 0n;
    let after: string | null = null;
    let units: { debitBalanceTotal: string; creditBalanceTotal: string; balanced: boolean }[] = [];
    for (let pages = 0; pages < 10; pages++) {
      const page: NonNullable<Awaited<ReturnType<LedgerClient['trialBalancePage']>>> =
        (await ctx.ledger.trialBalancePage({
          bookId,
          first: 1000,
          after,
        }))!;
      expect(page.lineCount).toBe(ACCOUNTS);
      if (page.lines.length === 0) break;
      for (const l of page.lines) {
        seen.push(l.account.code);
        debit += toMinor(l.debitBalance);
        credit += toMinor(l.creditBalance);
      }
      units = page.units;
      after = page.lines[page.lines.length - 1]!.cursor;
    }
    expect(seen.length).toBe(ACCOUNTS);
    expect(new Set(seen).size).toBe(ACCOUNTS);
    expect(seen).toEqual([...seen].sort());
    expect(units).toHaveLength(1);
    expect(units[0]!.balanced).toBe(true);
    expect(debit).toBe(toMinor(units[0]!.debitBalanceTotal));
    expect(credit).toBe(toMinor(units[0]!.creditBalanceTotal));
    expect(debit).toBe(credit);
    // The entry posted through the API is in the pages.
    expect(debit).toBeGreaterThan(0n);

    // The SDK reads them all in pages; the CSV holds every line and the total.
    const all = (await ctx.ledger.trialBalanceAllLines({ bookId }))!;
    expect(all.lines.map((l) => l.account.code)).toEqual(seen);
    const csv = (await ctx.ledger.trialBalanceCsv({ bookId }))!;
    const rows = csv.trim().split('\n');
    expect(rows).toHaveLength(1 + ACCOUNTS + 1);
    expect(rows[rows.length - 1]).toBe(
      `USD,,Total,,,,,${units[0]!.debitBalanceTotal},${units[0]!.creditBalanceTotal}`,
    );
  });

  it('is written whole by the statements CLI, as text (paged) and as CSV', { timeout: 120_000 }, async () => {
    const cli = (format: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [...builtArgs('scripts/statements.ts'), 'trial', '--book', bookId, '--format', format],
          { env: { ...process.env, LEDGER_URL: ctx.server.url, LEDGER_TOKEN: ctx.server.adminToken } },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
          stdout += d;
        });
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const [text, csv] = await Promise.all([cli('text'), cli('csv')]);
    expect(text.code, text.stderr).toBe(0);
    // A title, a blank line and the column headers, then a row per account and the unit's total.
    const [title, blank, header, ...rows] = text.stdout.trim().split('\n');
    expect(title).toMatch(/^Trial balance as of /);
    expect(blank).toBe('');
    expect(header).toMatch(/^Account +Debit +Credit$/);
    expect(rows).toHaveLength(ACCOUNTS + 1);
    expect(new Set(rows.slice(0, -1).map((r) => r.split(' ')[0])).size).toBe(ACCOUNTS);
    expect(rows[ACCOUNTS]).toMatch(/^Total USD/);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.trim().split('\n')).toHaveLength(ACCOUNTS + 2);
  });

  it('refuses a page size out of range and a cursor it did not hand out', async () => {
    for (const first of [0, LINES_PER_REQUEST + 1]) {
      const error = await expectClientError(ctx.ledger.trialBalancePage({ bookId, first }));
      expect(error.code).toBe('BAD_USER_INPUT');
    }
    const foreign = await expectClientError(
      ctx.ledger.trialBalancePage({ bookId, first: 10, after: 'bm9wZQ' }),
    );
    expect(foreign.code).toBe('BAD_USER_INPUT');
    expect(TRIAL_BALANCE_PAGE_MAX).toBe(LINES_PER_REQUEST);
  });

  it("bounds a balance sheet's sections the same way", async () => {
    const query = `query($b: ID!, $asOf: Date!, $first: Int, $after: String) {
      balanceSheet(bookId: $b, asOf: $asOf) {
        units { assets { lineCount total lines(first: $first, after: $after) { cursor account { code } amount } } }
      }
    }`;
    const asOf = new Date().toISOString().slice(0, 10);
    const whole = await rawGraphQL(ctx.server.url, query, { b: bookId, asOf });
    expect(whole.body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_LINES');
    const codes: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const page = await rawGraphQL(ctx.server.url, query, { b: bookId, asOf, first: 2000, after });
      expect(page.body.errors).toBeUndefined();
      const assets = (
        page.body.data as {
          balanceSheet: {
            units: {
              assets: { lineCount: number; lines: { cursor: string; account: { code: string } }[] };
            }[];
          };
        }
      ).balanceSheet.units[0]!.assets;
      expect(assets.lineCount).toBe(ACCOUNTS);
      if (assets.lines.length === 0) break;
      codes.push(...assets.lines.map((l) => l.account.code));
      after = assets.lines[assets.lines.length - 1]!.cursor;
    }
    expect(codes.length).toBe(ACCOUNTS);
    expect(new Set(codes).size).toBe(ACCOUNTS);
  });
});
