/**
 * The trial balance is summed and folded by PostgreSQL and written a chunk of lines at a time
 * (server/ledger/reports.ts, store-reads.ts). Here it is compared with the way it was computed
 * before (every account read into memory, summed and rolled up with decimal.js: the reference
 * below, with statements.ts' rollTrialBalance and statement-files.ts' trialBalanceCsv) on random
 * books: random trees of accounts in two units (made by SQL, with odd codes and names a CSV must
 * quote), random entries posted over the last days through the API, and stored totals nudged
 * by SQL. The csv must be the same bytes, and the pages (random sizes,
 * with and without `asOf` and `rollupDepth`) the same lines in the same order with the same
 * totals; a cursor of another roll-up depth is refused.
 */
import { describe, expect, it } from 'vitest';
import { Decimal, formatAmount, ZERO } from '../../server/core/index.js';
import type { BookRecord, TrialBalance, TrialBalanceLine } from '../../server/ledger/index.js';
import { numericAtScale } from '../../server/ledger/reports.js';
import { trialBalanceCsv } from '../../server/ledger/statement-files.js';
import { rollTrialBalance } from '../../server/ledger/statements.js';
import { type AccountRow, listAccounts } from '../../server/ledger/store.js';
import { postedTotalsAsOf } from '../../server/ledger/store-reads.js';
import { createBook, decodeGlobalId, newKey, rawGraphQL } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ config: { rateLimitPerSecond: 0 }, db: true });

/** The trial balance as computed before: every account in memory (the old computeTrialBalance). */
async function reference(book: BookRecord, asOf: Date | null): Promise<TrialBalance> {
  const pool = ctx.db as never;
  const accounts: AccountRow[] = [];
  for (let after: string | null = null; ; ) {
    const page = await listAccounts(pool, book.id, {
      afterCode: after,
      limit: 1000,
      includeClosed: true,
      type: null,
    });
    accounts.push(...page);
    if (page.length < 1000) break;
    after = page[page.length - 1]!.code;
  }
  const historical = asOf ? await postedTotalsAsOf(pool, book.id, null, asOf) : null;
  const lines: TrialBalanceLine[] = accounts.map((account) => {
    const t = historical
      ? (historical.get(account.id) ?? { debits: ZERO, credits: ZERO })
      : { debits: account.postedDebits, credits: account.postedCredits };
    const net = t.debits.minus(t.credits);
    return {
      account,
      debits: t.debits,
      credits: t.credits,
      debitBalance: net.isPositive() && !net.isZero() ? net : ZERO,
      creditBalance: net.isNegative() && !net.isZero() ? net.negated() : ZERO,
    };
  });
  const units = book.units.map((unit) => {
    let debit = ZERO;
    let credit = ZERO;
    for (const line of lines) {
      if (line.account.unit.code !== unit.code) continue;
      debit = debit.plus(line.debitBalance);
      credit = credit.plus(line.creditBalance);
    }
    return { unit, debitBalanceTotal: debit, creditBalanceTotal: credit, balanced: debit.equals(credit) };
  });
  return { bookId: book.id, asOf, lines, units, balanced: units.every((u) => u.balanced) };
}

/** A small deterministic generator (mulberry32), so a failing seed can be replayed. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

const NAMES = [
  'Cash',
  'Dues, members',
  'The "big" fund',
  '=SUM(A1)',
  '-minus',
  '@home',
  'Line\nbreak',
  'Café ☕',
];
const CODE_CHARS = 'AaBbZz019-_.';

async function randomBook(seed: number) {
  const r = random(seed);
  const bookId = (
    await createBook(ctx.ledger, {
      name: `lean ${seed}`,
      units: [
        { code: 'USD', scale: 2 },
        { code: 'HRS', scale: 0 },
      ],
      maxBackdateDays: 30,
    })
  ).id;
  const id = decodeGlobalId(bookId).id;
  const count = 20 + r.int(180);
  const accounts: { id: string; code: string; unit: string }[] = [];
  const codes = new Set<string>();
  for (let i = 0; i < count; i++) {
    let code = '';
    while (code === '' || codes.has(code)) {
      code = Array.from({ length: 1 + r.int(6) }, () => r.pick([...CODE_CHARS])).join('');
    }
    codes.add(code);
    // A parent among the accounts made before (same book), or none.
    const parent = accounts.length > 0 && r.next() < 0.7 ? r.pick(accounts) : null;
    const unit = parent && r.next() < 0.8 ? parent.unit : r.pick(['USD', 'HRS']);
    const { rows } = await ctx.db.query(
      `insert into account (book_id, id, code, name, type, unit_code, parent_id, created_at)
       values ($1, gen_random_uuid(), $2, $3, $4, $5, $6, now()) returning id`,
      [
        id,
        code,
        `${r.pick(NAMES)} ${i}`,
        r.pick(['ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE']),
        unit,
        parent?.id ?? null,
      ],
    );
    accounts.push({ id: rows[0].id, code, unit });
  }
  const now = Date.now();
  for (let e = 0; e < 12; e++) {
    const unit = r.pick(['USD', 'HRS']);
    const of = accounts.filter((a) => a.unit === unit);
    if (of.length < 2) continue;
    const a = r.pick(of);
    const b = r.pick(of.filter((x) => x !== a));
    const amount =
      unit === 'USD' ? `${r.int(100000)}.${String(r.int(100)).padStart(2, '0')}` : String(1 + r.int(50));
    if (Number(amount) === 0) continue;
    const posted = await ctx.ledger.postJournalEntry({
      bookId,
      idempotencyKey: newKey('lean'),
      effectiveAt: new Date(now - r.int(10 * 86_400_000)).toISOString() as never,
      lines: [
        { accountCode: a.code, side: 'DEBIT', amount, unit },
        { accountCode: b.code, side: 'CREDIT', amount, unit },
      ],
    });
    expect(posted.userErrors).toEqual([]);
  }
  // Stored totals nudged, so that "now" differs from the lines (the database refuses a total finer
  // than its unit).
  await ctx.db.query(
    `update account set posted_debits = posted_debits
       + case when unit_code = 'USD' then (abs(hashtext(code)) % 1000) / 100.0 else abs(hashtext(code)) % 7 end
      where book_id = $1 and abs(hashtext(code)) % 3 = 0`,
    [id],
  );
  const book = (await ctx.server.services.ledger.getBooks([id]))[0]!;
  return { r, bookId, book, now };
}

const LINE_FIELDS = 'cursor account { id code } debits credits debitBalance creditBalance depth rolledUp';

describe('the trial balance computed by PostgreSQL', () => {
  it('writes NUMERIC text at a scale exactly as decimal.js does', () => {
    const r = random(7);
    const samples = [
      '0',
      '0.000000000000000000',
      '-0.001',
      '-5.10',
      '12',
      '12.5',
      '100.005',
      '-0.50',
      '7.999',
      '0.5',
    ];
    for (let i = 0; i < 2000; i++) {
      const whole = `${r.next() < 0.2 ? '-' : ''}${r.int(10) === 0 ? '0' : String(r.int(10 ** (1 + r.int(12))))}`;
      const places = r.int(20);
      samples.push(
        places === 0
          ? whole
          : `${whole}.${Array.from({ length: places }, () => (r.next() < 0.6 ? '0' : String(r.int(10)))).join('')}`,
      );
    }
    for (const text of samples)
      for (const scale of [0, 2, 3, 6])
        expect(numericAtScale(text, scale), `${text} at ${scale}`).toBe(
          formatAmount(new Decimal(text), scale),
        );
  });

  it('gives the same csv bytes, lines, order and totals as the in-memory computation', {
    timeout: 120_000,
  }, async () => {
    for (const seed of [1, 2, 3]) {
      const { r, bookId, book, now } = await randomBook(seed);
      for (const asOf of [null, new Date(now - r.int(10 * 86_400_000)), new Date(now + 60_000)]) {
        const old = await reference(book, asOf);
        for (const depth of [null, 1, 2]) {
          const expected = rollTrialBalance(old, depth);
          const what = `seed ${seed}, asOf ${asOf?.toISOString()}, depth ${depth}`;
          const vars = { b: bookId, asOf: asOf?.toISOString() ?? null, d: depth };
          const csv = await rawGraphQL(
            ctx.server.url,
            'query($b: ID!, $asOf: DateTime, $d: Int) { trialBalance(bookId: $b, asOf: $asOf, rollupDepth: $d) { csv } }',
            vars,
          );
          expect(csv.body.errors, what).toBeUndefined();
          expect((csv.body.data as { trialBalance: { csv: string } }).trialBalance.csv, what).toBe(
            trialBalanceCsv(expected),
          );

          const seen: Record<string, unknown>[] = [];
          let after: string | null = null;
          for (;;) {
            const page = await rawGraphQL(
              ctx.server.url,
              `query($b: ID!, $asOf: DateTime, $d: Int, $first: Int, $after: String) {
                trialBalance(bookId: $b, asOf: $asOf, rollupDepth: $d) {
                  lineCount balanced rollupDepth units { unit { code } debitBalanceTotal creditBalanceTotal balanced }
                  lines(first: $first, after: $after) { ${LINE_FIELDS} } } }`,
              { ...vars, first: 1 + r.int(120), after },
            );
            expect(page.body.errors, what).toBeUndefined();
            const tb = (
              page.body.data as { trialBalance: Record<string, unknown> & { lines: { cursor: string }[] } }
            ).trialBalance;
            expect(tb.lineCount, what).toBe(expected.lines.length);
            expect(tb.balanced, what).toBe(expected.balanced);
            expect(tb.rollupDepth).toBe(depth);
            expect(tb.units, what).toEqual(
              expected.units.map((u) => ({
                unit: { code: u.unit.code },
                debitBalanceTotal: formatAmount(u.debitBalanceTotal, u.unit.scale),
                creditBalanceTotal: formatAmount(u.creditBalanceTotal, u.unit.scale),
                balanced: u.balanced,
              })),
            );
            if (tb.lines.length === 0) break;
            seen.push(...tb.lines);
            after = tb.lines[tb.lines.length - 1]!.cursor;
          }
          expect(seen, what).toEqual(
            expected.lines.map((l) => {
              const s = l.account.unit.scale;
              return {
                cursor: Buffer.from(`line:${l.account.id}`).toString('base64url'),
                account: { id: expect.any(String), code: l.account.code },
                debits: formatAmount(l.debits, s),
                credits: formatAmount(l.credits, s),
                debitBalance: formatAmount(l.debitBalance, s),
                creditBalance: formatAmount(l.creditBalance, s),
                depth: l.depth,
                rolledUp: l.rolledUp,
              };
            }),
          );
          // A cursor of a line folded away at depth 1 is refused there.
          const deep = rollTrialBalance(old, null).lines.find((l) => l.depth > 1);
          if (depth === 1 && deep) {
            const refused = await rawGraphQL(
              ctx.server.url,
              'query($b: ID!, $d: Int, $after: String) { trialBalance(bookId: $b, rollupDepth: $d) { lines(first: 5, after: $after) { cursor } } }',
              { b: bookId, d: 1, after: Buffer.from(`line:${deep.account.id}`).toString('base64url') },
            );
            expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
          }
        }
      }
    }
  });
});
