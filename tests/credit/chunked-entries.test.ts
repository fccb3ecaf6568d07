/**
 * chunkedEntries (server/credit/rules.ts), pure: how a batch's per-member movements become
 * balanced entries the ledger takes. Every entry balances, has at most 99 lines and no line above
 * what a line may carry (18 integer digits), and every account moves by exactly its movement.
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../server/core/index.js';
import { chunkedEntries } from '../../server/credit/rules.js';

const MAX = new Decimal('999999999999999999.99');

function check(movements: { accountId: string; side: 'DEBIT' | 'CREDIT'; amount: Decimal }[]) {
  const entries = chunkedEntries(movements, 'clearing', { code: 'EUR', scale: 2 }, (i) => `k:${i}`, 'm', []);
  const moved = new Map<string, Decimal>();
  for (const e of entries) {
    expect(e.lines.length).toBeGreaterThanOrEqual(2);
    expect(e.lines.length).toBeLessThanOrEqual(99);
    let net = new Decimal(0);
    for (const l of e.lines) {
      const amount = new Decimal(l.amount);
      expect(amount.gt(0) && amount.lte(MAX)).toBe(true);
      expect(l.amount).toMatch(/^[0-9]{1,18}\.[0-9]{2}$/);
      const signed = l.side === 'DEBIT' ? amount : amount.neg();
      net = net.plus(signed);
      moved.set(l.accountId, (moved.get(l.accountId) ?? new Decimal(0)).plus(signed));
    }
    expect(net.toFixed(2)).toBe('0.00');
  }
  for (const m of movements)
    expect(moved.get(m.accountId)!.toFixed(2)).toBe(
      (m.side === 'DEBIT' ? m.amount : m.amount.neg()).toFixed(2),
    );
  expect((moved.get('clearing') ?? new Decimal(0)).toFixed(2)).toBe('0.00');
  return entries;
}

describe('chunkedEntries', () => {
  it('a few movements of ordinary size: one entry, lines as given, no clearing line', () => {
    const entries = check([
      { accountId: 'a', side: 'DEBIT', amount: new Decimal('10.00') },
      { accountId: 'b', side: 'CREDIT', amount: new Decimal('4.00') },
      { accountId: 'c', side: 'CREDIT', amount: new Decimal('6.00') },
    ]);
    expect(entries.map((e) => e.lines.map((l) => [l.accountId, l.side, l.amount]))).toEqual([
      [
        ['a', 'DEBIT', '10.00'],
        ['b', 'CREDIT', '4.00'],
        ['c', 'CREDIT', '6.00'],
      ],
    ]);
  });

  it('250 movements, all debits listed first: taken by turns, entries of 98 lines that need no clearing line', () => {
    const movements = Array.from({ length: 250 }, (_, i) => ({
      accountId: `m${i}`,
      side: i < 125 ? ('DEBIT' as const) : ('CREDIT' as const),
      amount: new Decimal('2.00'),
    }));
    const entries = check(movements);
    expect(entries.map((e) => e.lines.length)).toEqual([98, 98, 54]);
    expect(entries.flatMap((e) => e.lines).filter((l) => l.accountId === 'clearing')).toEqual([]);
  });

  it('a large batch of the largest amounts sends at most one line a chunk through the clearing account', () => {
    // Three members owed and owing 34 x 999999999999999999.99 each: 204 lines of the largest amount,
    // receivables listed before payables. Taken in that order, the first entry alone would move
    // 98 of them (9.8 x 10^19) through the clearing account, whose running totals never go down.
    const max = '999999999999999999.99';
    const total = new Decimal(max).times(34);
    const movements = [
      ...['ra', 'rb', 'rc'].map((accountId) => ({ accountId, side: 'DEBIT' as const, amount: total })),
      ...['pa', 'pb', 'pc'].map((accountId) => ({ accountId, side: 'CREDIT' as const, amount: total })),
    ];
    const entries = check(movements);
    const through = entries.flatMap((e) => e.lines).filter((l) => l.accountId === 'clearing');
    expect(through.length).toBeLessThanOrEqual(entries.length);
    for (const l of through) expect(new Decimal(l.amount).lte(max)).toBe(true);
  });

  it('movements larger than one line carries are split, and so is a large clearing line', () => {
    // Two members move 2.5 x 10^18 each way, then 120 small ones: a chunk's net past one line.
    const movements = [
      { accountId: 'a', side: 'DEBIT' as const, amount: new Decimal('2500000000000000000.00') },
      { accountId: 'b', side: 'CREDIT' as const, amount: new Decimal('2500000000000000000.00') },
      ...Array.from({ length: 120 }, (_, i) => ({
        accountId: `s${i}`,
        side: i % 2 === 0 ? ('DEBIT' as const) : ('CREDIT' as const),
        amount: new Decimal('1.00'),
      })),
    ];
    const entries = check(movements);
    expect(entries[0]!.lines.filter((l) => l.accountId === 'a').map((l) => l.amount)).toEqual([
      '999999999999999999.99',
      '999999999999999999.99',
      '500000000000000000.02',
    ]);
  });

  it('many huge debits before their credits: each chunk closes while its clearing lines still fit', () => {
    const movements = [
      ...Array.from({ length: 70 }, (_, i) => ({
        accountId: `d${i}`,
        side: 'DEBIT' as const,
        amount: new Decimal('999999999999999999.99'),
      })),
      ...Array.from({ length: 70 }, (_, i) => ({
        accountId: `c${i}`,
        side: 'CREDIT' as const,
        amount: new Decimal('999999999999999999.99'),
      })),
    ];
    check(movements);
  });
});
