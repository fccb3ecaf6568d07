import { describe, expect, it } from 'vitest';
import {
  accountNames,
  beancountCommodities,
  type ExportAccount,
  type ExportEntry,
  renderJournal,
} from '../../scripts/lib/plain-text-export.js';

const accounts: ExportAccount[] = [
  { id: 'A1', code: 'cash', type: 'ASSET' },
  { id: 'A2', code: 'sales.local', type: 'REVENUE' },
  { id: 'A3', code: 'sales:local', type: 'REVENUE' },
];

const line = (account: string, side: 'DEBIT' | 'CREDIT', amount: string) => ({
  side,
  amount,
  unit: { code: 'USD' },
  account: { id: account },
});

const entries: ExportEntry[] = [
  {
    id: 'E1',
    seq: '1',
    kind: 'STANDARD',
    effectiveAt: '2026-01-02T10:00:00.000Z',
    memo: 'sale',
    lines: [line('A1', 'DEBIT', '10.00'), line('A2', 'CREDIT', '10.00')],
  },
  {
    id: 'E2',
    seq: '2',
    kind: 'PENDING',
    effectiveAt: '2026-01-03T10:00:00.000Z',
    memo: 'hold',
    lines: [line('A1', 'DEBIT', '5.00'), line('A3', 'CREDIT', '5.00')],
  },
  {
    id: 'E3',
    seq: '3',
    kind: 'REVERSAL',
    effectiveAt: '2026-01-02T10:00:00.000Z',
    memo: '',
    lines: [line('A1', 'CREDIT', '10.00'), line('A2', 'DEBIT', '10.00')],
  },
];

describe('plain-text export', () => {
  it('writes posted entries only, debits positive and credits negative', () => {
    const text = renderJournal(accounts, entries, 'hledger', 'Coop');
    expect(text).toContain('2026-01-02 * sale');
    expect(text).toContain('    asset:cash  10.00 "USD"');
    expect(text).toContain('    revenue:sales.local  -10.00 "USD"');
    expect(text).toContain('2026-01-02 * reversal 3');
    expect(text).not.toContain('hold');
  });

  it('makes beancount names valid and unique, and opens every account', () => {
    const names = accountNames(accounts, 'beancount');
    expect(names.get('A1')).toBe('Assets:Xcash');
    expect(new Set(names.values()).size).toBe(3);
    for (const name of names.values())
      expect(name).toMatch(/^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$/);
    const text = renderJournal(accounts, entries, 'beancount', 'Coop');
    expect(text.match(/ open /g)).toHaveLength(3);
  });

  it('names each unit a commodity beancount takes, unique, and declares the renamed ones', () => {
    // KG_ ends in an underscore (bean-check: "Invalid token"); KGX is already another unit's code.
    const commodities = beancountCommodities(['KG_', 'KGX', 'USD', 'A__', 'AXX']);
    expect(Object.fromEntries(commodities)).toEqual({
      A__: 'AXX2',
      AXX: 'AXX',
      KGX: 'KGX',
      KG_: 'KGX2',
      USD: 'USD',
    });
    const text = renderJournal(
      accounts,
      [{ ...entries[0]!, lines: entries[0]!.lines.map((l) => ({ ...l, unit: { code: 'KG_' } })) }],
      'beancount',
      'Coop',
    );
    expect(text).toContain('2026-01-02 commodity KGX\n  unit: "KG_"\n');
    expect(text).toContain('  Assets:Xcash  10.00 KGX\n');
  });
});
