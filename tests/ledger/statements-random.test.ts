/**
 * Statements against the trial balance on random books (issue 17), through HTTP, the SDK and
 * PostgreSQL: random charts (parents of any type in the same unit, two units), random balanced
 * entries over two years, then random periods. Every figure of the income statement and the
 * balance sheet is recomputed from trial balances (the trial balance at the end of a day, less the
 * one at the end of the day before the period): each account's own amount, each line's roll-up,
 * section totals, results, and the trial balance's own roll-up against its full version.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerClient, TrialBalanceQuery } from '../../client-sdk/index.js';
import { createBook, decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

const TYPES = ['ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE'] as const;
type Type = (typeof TYPES)[number];
const UNITS = [
  { code: 'USD', scale: 2 },
  { code: 'KG', scale: 3 },
];

const ctx = useLedgerServer({ config: { rateLimitPerSecond: 0 } });

const dayOf = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
const endOf = (day: string) => `${day}T23:59:59.999Z`;
const before = (day: string) =>
  dayOf((Date.parse(`${day}T00:00:00Z`) - Date.UTC(2024, 0, 1)) / 86_400_000 - 1);

interface Spec {
  accounts: { type: Type; unit: number; parent: number | null }[];
  entries: { day: number; debit: number; credit: number; amount: number }[];
  periods: { from: number; length: number }[];
}

const specArb: fc.Arbitrary<Spec> = fc
  .array(
    fc.record({
      type: fc.constantFrom(...TYPES),
      unit: fc.integer({ min: 0, max: 1 }),
      parent: fc.option(fc.nat()),
    }),
    {
      minLength: 4,
      maxLength: 14,
    },
  )
  .chain((raw) => {
    const accounts = raw.map((a, i) => {
      const candidates = raw.slice(0, i).flatMap((p, j) => (p.unit === a.unit ? [j] : []));
      return {
        type: a.type,
        unit: a.unit,
        parent: a.parent !== null && candidates.length > 0 ? candidates[a.parent % candidates.length]! : null,
      };
    });
    const pairs = accounts.flatMap((a, i) =>
      accounts.flatMap((b, j) => (i !== j && a.unit === b.unit ? [[i, j]] : [])),
    );
    return fc.record({
      accounts: fc.constant(accounts),
      entries:
        pairs.length === 0
          ? fc.constant([])
          : fc
              .array(
                fc.record({
                  day: fc.integer({ min: 0, max: 700 }),
                  pair: fc.constantFrom(...pairs),
                  amount: fc.integer({ min: 1, max: 5_000_000 }),
                }),
                { minLength: 1, maxLength: 40 },
              )
              .map((es) =>
                es.map((e) => ({ day: e.day, debit: e.pair[0]!, credit: e.pair[1]!, amount: e.amount })),
              ),
      periods: fc.array(
        fc.record({ from: fc.integer({ min: 0, max: 700 }), length: fc.integer({ min: 1, max: 200 }) }),
        {
          minLength: 2,
          maxLength: 3,
        },
      ),
    });
  });

type TbLine = NonNullable<TrialBalanceQuery['trialBalance']>['lines'][number];

const normal = (type: string, l: { debits: string; credits: string } | undefined) => {
  if (!l) return new Decimal(0);
  const net = new Decimal(l.debits).minus(l.credits);
  return type === 'ASSET' || type === 'EXPENSE' ? net : net.negated();
};

async function trialBalance(client: LedgerClient, bookId: string, day: string): Promise<Map<string, TbLine>> {
  const tb = (await client.trialBalance({ bookId, asOf: endOf(day) }))!;
  expect(tb.balanced).toBe(true);
  return new Map(tb.lines.map((l) => [l.account.id, l]));
}

describe('statements reconcile with the trial balance on random books', () => {
  it('every figure of random periods', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const book = await createBook(ctx.ledger, { units: UNITS, maxBackdateDays: 36_600 });
        const issued = await issueToken(ctx.ledger, {
          grants: [{ role: 'TREASURER', scope: decodeGlobalId(book.id).bookId }],
        });
        const client = ledgerClient(ctx.server.url, { token: issued.token });
        const ids: string[] = [];
        const parents = new Map<string, string | null>();
        for (const [i, a] of spec.accounts.entries()) {
          const created = await client.createAccount({
            bookId: book.id,
            code: `A${String(i).padStart(2, '0')}`,
            name: `Account ${i}`,
            type: a.type,
            unit: UNITS[a.unit]!.code,
            parentId: a.parent === null ? null : ids[a.parent]!,
          });
          expect(created.userErrors).toEqual([]);
          ids.push(created.account!.id);
          parents.set(created.account!.id, a.parent === null ? null : ids[a.parent]!);
        }
        if (spec.entries.length > 0) {
          const posted = await client.postJournalEntries({
            bookId: book.id,
            mode: 'ATOMIC',
            entries: spec.entries.map((e) => {
              const unit = UNITS[spec.accounts[e.debit]!.unit]!;
              const amount = new Decimal(e.amount).div(10 ** unit.scale).toFixed(unit.scale);
              return {
                idempotencyKey: newKey('rnd'),
                effectiveAt: `${dayOf(e.day)}T00:00:00.000Z`,
                // By code half the time: the statements must not care.
                lines:
                  e.amount % 2 === 0
                    ? [
                        {
                          accountCode: `A${String(e.debit).padStart(2, '0')}`,
                          side: 'DEBIT' as const,
                          amount,
                          unit: unit.code,
                        },
                        {
                          accountCode: `A${String(e.credit).padStart(2, '0')}`,
                          side: 'CREDIT' as const,
                          amount,
                          unit: unit.code,
                        },
                      ]
                    : [
                        { accountId: ids[e.debit]!, side: 'DEBIT' as const, amount, unit: unit.code },
                        { accountId: ids[e.credit]!, side: 'CREDIT' as const, amount, unit: unit.code },
                      ],
              };
            }),
          });
          expect(posted.postedCount).toBe(spec.entries.length);
        }
        const typeOf = new Map(spec.accounts.map((a, i) => [ids[i]!, a.type]));
        const unitOf = new Map(spec.accounts.map((a, i) => [ids[i]!, UNITS[a.unit]!]));
        // Periods that start and end on days with entries (the edges are where an off-by-one day
        // would show), and random ones.
        const days = spec.entries.map((e) => e.day).sort((a, b) => a - b);
        const periods = spec.periods.map((p, i) => {
          if (i === 0 || days.length === 0) return { from: p.from, to: p.from + p.length - 1 };
          const a = days[p.from % days.length]!;
          const b = days[(p.from + p.length) % days.length]!;
          return { from: Math.min(a, b), to: Math.max(a, b) };
        });
        for (const p of periods) {
          const from = dayOf(p.from);
          const to = dayOf(p.to);
          const [atEnd, beforeStart] = await Promise.all([
            trialBalance(client, book.id, to),
            trialBalance(client, book.id, before(from)),
          ]);
          const own = (id: string, column: 'period' | 'balance') => {
            const t = typeOf.get(id)!;
            const end = normal(t, atEnd.get(id));
            return column === 'balance' ? end : end.minus(normal(t, beforeStart.get(id)));
          };
          const check = (
            section: {
              type: string;
              total: string;
              lines: { account: { id: string }; amount: string; ownAmount: string; depth: number }[];
            },
            unitCode: string,
            column: 'period' | 'balance',
          ) => {
            const members = ids.filter(
              (id) => typeOf.get(id) === section.type && unitOf.get(id)!.code === unitCode,
            );
            expect(section.lines.map((l) => l.account.id).sort()).toEqual([...members].sort());
            let total = new Decimal(0);
            for (const line of section.lines) {
              expect(new Decimal(line.ownAmount).equals(own(line.account.id, column))).toBe(true);
              // The roll-up: own amounts of the account and every same-type account below it.
              const subtree = members.filter((m) => {
                for (let p: string | null = m; p !== null; p = parents.get(p) ?? null)
                  if (p === line.account.id) return true;
                return false;
              });
              // Accounts reached through a parent of another type are their own section's roots.
              const sameTypePath = (m: string) => {
                for (let p = parents.get(m) ?? null; p !== null; p = parents.get(p) ?? null) {
                  if (typeOf.get(p) === section.type) return p;
                }
                return null;
              };
              const below = subtree.filter((m) => {
                let cur: string | null = m;
                while (cur !== null && cur !== line.account.id) cur = sameTypePath(cur);
                return cur === line.account.id;
              });
              const expected = below.reduce((s, m) => s.plus(own(m, column)), new Decimal(0));
              expect(new Decimal(line.amount).equals(expected)).toBe(true);
              total = total.plus(own(line.account.id, column));
            }
            expect(new Decimal(section.total).equals(total)).toBe(true);
            return total;
          };

          const income = (await client.incomeStatement({ bookId: book.id, from, to }))!;
          for (const u of income.units) {
            const revenue = check(u.revenue, u.unit.code, 'period');
            const expenses = check(u.expenses, u.unit.code, 'period');
            expect(new Decimal(u.result).equals(revenue.minus(expenses))).toBe(true);
          }
          const sheet = (await client.balanceSheet({ bookId: book.id, asOf: to, periodStart: from }))!;
          for (const u of sheet.units) {
            const assets = check(u.assets, u.unit.code, 'balance');
            const liabilities = check(u.liabilities, u.unit.code, 'balance');
            const equity = check(u.equity, u.unit.code, 'balance');
            const result = (column: 'period' | 'balance') =>
              ids
                .filter((id) => unitOf.get(id)!.code === u.unit.code)
                .reduce((s, id) => {
                  const t = typeOf.get(id);
                  return t === 'REVENUE'
                    ? s.plus(own(id, column))
                    : t === 'EXPENSE'
                      ? s.minus(own(id, column))
                      : s;
                }, new Decimal(0));
            expect(new Decimal(u.resultOfPeriod).equals(result('period'))).toBe(true);
            expect(new Decimal(u.earlierResults).equals(result('balance').minus(result('period')))).toBe(
              true,
            );
            expect(
              new Decimal(u.totalLiabilitiesAndEquity).equals(
                liabilities.plus(equity).plus(result('balance')),
              ),
            ).toBe(true);
            expect(new Decimal(u.totalLiabilitiesAndEquity).equals(assets)).toBe(true);
            expect(u.balanced).toBe(true);
          }
          // The trial balance rolled up to depth 1: each line is its whole subtree (any type).
          const rolled = (await client.rolledTrialBalance({
            bookId: book.id,
            asOf: endOf(to),
            rollupDepth: 1,
          }))!;
          for (const line of rolled.lines) {
            expect(line.account.parent).toBeNull();
            const subtree = ids.filter((m) => {
              for (let p: string | null = m; p !== null; p = parents.get(p) ?? null)
                if (p === line.account.id) return true;
              return false;
            });
            const debits = subtree.reduce((s, m) => s.plus(atEnd.get(m)?.debits ?? 0), new Decimal(0));
            const credits = subtree.reduce((s, m) => s.plus(atEnd.get(m)?.credits ?? 0), new Decimal(0));
            expect([
              new Decimal(line.debits).equals(debits),
              new Decimal(line.credits).equals(credits),
            ]).toEqual([true, true]);
          }
          expect(rolled.units.every((u) => u.balanced)).toBe(true);
        }
      }),
      { numRuns: 6, seed: 17_2026 },
    );
  });
});
