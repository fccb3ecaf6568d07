/**
 * Statement arithmetic (server/core/statements.ts): a hand-checked tree, comparison periods, and
 * properties on random charts: every account counted once in its section, a line is its own
 * balance plus its shown sub-accounts', folding keeps totals, a balanced book gives a balanced
 * balance sheet, and the trial balance's roll-up keeps its columns' sums.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_TYPES,
  type AccountType,
  balanceSheet,
  type Column,
  comparisonPeriod,
  type DebitCredit,
  Decimal,
  incomeStatement,
  rollUpTrialBalance,
  type StatementAccount,
  section,
  yearBefore,
  ZERO,
} from '../../server/core/index.js';

const D = (v: string | number) => new Decimal(v);
const acc = (
  id: string,
  type: AccountType,
  parentId: string | null = null,
  unitCode = 'USD',
): StatementAccount => ({
  id,
  code: id,
  name: id,
  type,
  unitCode,
  parentId,
});
const col = (entries: [string, string, string][]): Column =>
  new Map(entries.map(([id, d, c]) => [id, { debits: D(d), credits: D(c) }]));

describe('a hand-checked section', () => {
  // 1100 > 1100-01 (own 200.00), 1100-02 (own 50.00) > 1100-02-X (own 800.00); 1000 (own 400.00).
  // 9000 is an EXPENSE under 1100: not part of the asset section's tree.
  const accounts = [
    acc('1000', 'ASSET'),
    acc('1100', 'ASSET'),
    acc('1100-01', 'ASSET', '1100'),
    acc('1100-02', 'ASSET', '1100'),
    acc('1100-02-X', 'ASSET', '1100-02'),
    acc('9000', 'EXPENSE', '1100'),
    acc('9000-1', 'EXPENSE', '9000'),
  ];
  const now = col([
    ['1000', '400.00', '0'],
    ['1100-01', '1200.00', '1000.00'],
    ['1100-02', '50.00', '0'],
    ['1100-02-X', '800.00', '0'],
    ['9000-1', '7.00', '0'],
  ]);

  it('shows every account under its parent, amounts with everything below', () => {
    const s = section('ASSET', 'USD', accounts, [now], { depth: null, omitZero: false });
    expect(
      s.lines.map((l) => [
        l.accountId,
        l.depth,
        l.amounts[0]!.toFixed(2),
        l.ownAmounts[0]!.toFixed(2),
        l.folded,
      ]),
    ).toEqual([
      ['1000', 1, '400.00', '400.00', false],
      ['1100', 1, '1050.00', '0.00', false],
      ['1100-01', 2, '200.00', '200.00', false],
      ['1100-02', 2, '850.00', '50.00', false],
      ['1100-02-X', 3, '800.00', '800.00', false],
    ]);
    // 400.00 + 200.00 + 50.00 + 800.00
    expect(s.totals[0]!.toFixed(2)).toBe('1450.00');
  });

  it('folds at a depth and leaves out zero subtrees when asked', () => {
    const s = section('ASSET', 'USD', accounts, [now], { depth: 2, omitZero: false });
    expect(s.lines.map((l) => [l.accountId, l.amounts[0]!.toFixed(2), l.folded])).toEqual([
      ['1000', '400.00', false],
      ['1100', '1050.00', false],
      ['1100-01', '200.00', false],
      ['1100-02', '850.00', true],
    ]);
    const zeroA = col([['1100-02-X', '1', '1']]);
    const sparse = section('ASSET', 'USD', accounts, [zeroA], { depth: null, omitZero: true });
    expect(sparse.lines).toEqual([]);
  });

  it('puts a sub-account of another type at the top of its own section', () => {
    const s = section('EXPENSE', 'USD', accounts, [now], { depth: null, omitZero: false });
    expect(s.lines.map((l) => [l.accountId, l.depth, l.amounts[0]!.toFixed(2)])).toEqual([
      ['9000', 1, '7.00'],
      ['9000-1', 2, '7.00'],
    ]);
  });
});

describe('comparison periods', () => {
  it('whole months compare with as many months before, other spans with as many days', () => {
    expect(comparisonPeriod({ from: '2025-03-01', to: '2025-03-31' }, 'PREVIOUS_PERIOD')).toEqual({
      from: '2025-02-01',
      to: '2025-02-28',
    });
    expect(comparisonPeriod({ from: '2025-04-01', to: '2025-06-30' }, 'PREVIOUS_PERIOD')).toEqual({
      from: '2025-01-01',
      to: '2025-03-31',
    });
    expect(comparisonPeriod({ from: '2025-03-10', to: '2025-03-19' }, 'PREVIOUS_PERIOD')).toEqual({
      from: '2025-02-28',
      to: '2025-03-09',
    });
  });

  it('a year before keeps month ends', () => {
    expect(yearBefore('2025-02-28')).toBe('2024-02-29');
    expect(yearBefore('2024-02-29')).toBe('2023-02-28');
    expect(yearBefore('2025-06-15')).toBe('2024-06-15');
    expect(comparisonPeriod({ from: '2024-03-01', to: '2025-02-28' }, 'PREVIOUS_YEAR')).toEqual({
      from: '2023-03-01',
      to: '2024-02-29',
    });
  });
});

// ---------- properties ----------

interface RandomBook {
  accounts: StatementAccount[];
  /** Balanced two-line movements: [debit account index, credit account index, cents]. */
  moves: [number, number, number][];
}

const bookArb: fc.Arbitrary<RandomBook> = fc
  .array(
    fc.record({
      type: fc.constantFrom(...ACCOUNT_TYPES),
      parent: fc.nat(),
      hasParent: fc.boolean(),
      unit: fc.constantFrom('USD', 'EUR'),
    }),
    {
      minLength: 2,
      maxLength: 25,
    },
  )
  .chain((specs) => {
    const accounts = specs.map((s, i) => {
      // A parent is an earlier account of the same unit (the ledger's rule), of any type.
      const candidates = specs.slice(0, i).flatMap((p, j) => (p.unit === s.unit ? [j] : []));
      const parent =
        s.hasParent && candidates.length > 0
          ? `a${String(candidates[s.parent % candidates.length]).padStart(2, '0')}`
          : null;
      return acc(`a${String(i).padStart(2, '0')}`, s.type, parent, s.unit);
    });
    const sameUnitPairs = accounts.flatMap((a, i) =>
      accounts.flatMap((b, j) => (i !== j && a.unitCode === b.unitCode ? [[i, j] as [number, number]] : [])),
    );
    if (sameUnitPairs.length === 0) return fc.constant({ accounts, moves: [] });
    return fc
      .array(fc.tuple(fc.constantFrom(...sameUnitPairs), fc.integer({ min: 1, max: 10_000_000 })), {
        maxLength: 40,
      })
      .map((ms) => ({
        accounts,
        moves: ms.map(([[d, c], cents]) => [d, c, cents] as [number, number, number]),
      }));
  });

function columnOf(book: RandomBook, moves = book.moves): Map<string, DebitCredit> {
  const out = new Map<string, DebitCredit>();
  const add = (id: string, side: 'debits' | 'credits', v: Decimal) => {
    const t = out.get(id) ?? { debits: ZERO, credits: ZERO };
    out.set(id, { ...t, [side]: t[side].plus(v) });
  };
  for (const [d, c, cents] of moves) {
    const v = D(cents).div(100);
    add(book.accounts[d]!.id, 'debits', v);
    add(book.accounts[c]!.id, 'credits', v);
  }
  return out;
}

describe('properties on random charts and movements', () => {
  it('every account is counted once; a line is its own balance plus its shown sub-accounts', () => {
    fc.assert(
      fc.property(bookArb, fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }), (book, depth) => {
        const columns = [columnOf(book), columnOf(book, book.moves.slice(0, book.moves.length >> 1))];
        for (const unit of ['USD', 'EUR'])
          for (const type of ACCOUNT_TYPES) {
            const full = section(type, unit, book.accounts, columns, { depth: null, omitZero: false });
            const folded = section(type, unit, book.accounts, columns, { depth, omitZero: false });
            const members = book.accounts.filter((a) => a.type === type && a.unitCode === unit);
            expect(full.lines.map((l) => l.accountId).sort()).toEqual(members.map((a) => a.id).sort());
            for (const i of [0, 1]) expect(folded.totals[i]!.equals(full.totals[i]!)).toBe(true);
            // A line shown with its children: amount = own + the children's amounts.
            for (const [k, line] of full.lines.entries()) {
              const kids = [];
              for (let j = k + 1; j < full.lines.length && full.lines[j]!.depth > line.depth; j++)
                if (full.lines[j]!.depth === line.depth + 1) kids.push(full.lines[j]!);
              for (const i of [0, 1])
                expect(
                  kids.reduce((s, c) => s.plus(c.amounts[i]!), line.ownAmounts[i]!).equals(line.amounts[i]!),
                ).toBe(true);
            }
            if (depth !== null) expect(folded.lines.every((l) => l.depth <= depth)).toBe(true);
            // Top-level lines add up to the total.
            const top = folded.lines
              .filter((l) => l.depth === 1)
              .reduce((s, l) => s.plus(l.amounts[0]!), ZERO);
            expect(top.equals(folded.totals[0]!)).toBe(true);
          }
      }),
      { numRuns: 200 },
    );
  });

  it('a balanced book gives a balanced balance sheet, whose result is the income statement result', () => {
    fc.assert(
      fc.property(bookArb, fc.nat(), (book, cut) => {
        const period = book.moves.slice(cut % (book.moves.length + 1));
        const sheet = balanceSheet(
          book.accounts,
          ['USD', 'EUR'],
          [columnOf(book)],
          [columnOf(book, period)],
          {
            depth: 1,
            omitZero: true,
          },
        );
        const income = incomeStatement(book.accounts, ['USD', 'EUR'], [columnOf(book, period)], {
          depth: null,
          omitZero: false,
        });
        for (const [i, u] of sheet.entries()) {
          expect(u.balanced).toEqual([true]);
          expect(u.periodResults[0]!.equals(income[i]!.results[0]!)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("the trial balance's roll-up keeps every column's sum and each folded row is its subtree", () => {
    fc.assert(
      fc.property(bookArb, fc.integer({ min: 1, max: 4 }), (book, depth) => {
        const totals = columnOf(book);
        const rows = book.accounts.map((a) => ({
          accountId: a.id,
          parentId: a.parentId,
          debits: totals.get(a.id)?.debits ?? ZERO,
          credits: totals.get(a.id)?.credits ?? ZERO,
        }));
        const rolled = rollUpTrialBalance(rows, depth);
        const sum = (rs: { debits: Decimal; credits: Decimal }[]) =>
          rs.reduce((s, r) => ({ d: s.d.plus(r.debits), c: s.c.plus(r.credits) }), { d: ZERO, c: ZERO });
        const all = sum(rows);
        const shown = sum(rolled);
        expect(shown.d.equals(all.d) && shown.c.equals(all.c)).toBe(true);
        expect(rolled.every((r) => r.depth <= depth)).toBe(true);
        const full = rollUpTrialBalance(rows, null);
        expect(full.map((r) => r.accountId)).toEqual(rows.map((r) => r.accountId));
      }),
      { numRuns: 200 },
    );
  });
});
