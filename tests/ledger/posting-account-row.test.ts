/**
 * The posting engine's compare-and-set sends back the text PostgreSQL sent for an account's totals
 * and bounds (PostingAccountRow.readText) instead of writing them again from minor units. That text
 * may only stand for the value it was read as: asked about any other value, or kept on a copy of
 * the account made with other totals (the isolated path's `{ ...account, ...totals }`), it must not
 * be used.
 */
import { describe, expect, it } from 'vitest';
import { PostingAccountRow } from '../../server/ledger/store.js';

const row = () =>
  new PostingAccountRow({
    book_id: 'b',
    id: 'a',
    type: 'ASSET',
    unit_code: 'USD',
    scale: 2,
    lower_bound: '-100',
    upper_bound: null,
    closed: false,
    posted_debits: '12.5',
    posted_credits: '0',
    pending_debits: '3.25',
    pending_credits: '7',
  });

describe('PostingAccountRow', () => {
  it('reads totals and bounds in minor units', () => {
    const a = row();
    expect([a.postedDebits, a.postedCredits, a.pendingDebits, a.pendingCredits]).toEqual([
      1250n,
      0n,
      325n,
      700n,
    ]);
    expect([a.lowerBound, a.upperBound, a.closed]).toEqual([-10000n, null, false]);
    expect(a.unit).toEqual({ code: 'USD', scale: 2 });
  });

  it('gives the text as read only for the value read', () => {
    const a = row();
    expect(a.readText('postedDebits', 1250n)).toBe('12.5');
    expect(a.readText('postedCredits', 0n)).toBe('0');
    expect(a.readText('pendingDebits', 325n)).toBe('3.25');
    expect(a.readText('pendingCredits', 700n)).toBe('7');
    expect(a.readText('lowerBound', -10000n)).toBe('-100');
    expect(a.readText('upperBound', null)).toBe(null);
    expect(a.readText('postedDebits', 1251n)).toBe(null);
    expect(a.readText('pendingCredits', 0n)).toBe(null);
    expect(a.readText('lowerBound', null)).toBe(null);
  });

  it('leaves its text behind on a copy', () => {
    const copy = { ...row(), postedDebits: 99n };
    expect(copy).not.toBeInstanceOf(PostingAccountRow);
    expect(Object.values(copy)).not.toContain('12.5');
    expect(copy.postedDebits).toBe(99n);
    expect(copy.pendingDebits).toBe(325n);
  });
});
