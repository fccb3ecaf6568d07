/**
 * Example-based tests of every rejection the pure ledger core can return, with its code and the
 * path of the offending field. No database.
 */
import { describe, expect, it } from 'vitest';
import {
  type AccountDraft,
  type AccountState,
  accountOnBothSides,
  applyLines,
  Decimal,
  type EntryInput,
  ERROR_CODES,
  type ErrorCode,
  LedgerError,
  LIMITS,
  type LineInput,
  type MetadataEntry,
  resolveLines,
  type Side,
  type Unit,
  validateAccountDraft,
  validateEffectiveAt,
  validateEntryShape,
  validateExpiresAt,
  validateIdempotencyKey,
  validateMemo,
  validateMetadata,
  validateUnit,
  ZERO_TOTALS,
} from '../../server/core/index.js';

/** Codes the pure core itself produces; the rest of ERROR_CODES come from the application layer. */
const PURE_CORE_CODES: ErrorCode[] = [
  'UNBALANCED_ENTRY',
  'UNKNOWN_ACCOUNT',
  'UNIT_MISMATCH',
  'INVALID_AMOUNT',
  'INVALID_UNIT',
  'INVALID_INPUT',
  'INVALID_METADATA',
  'INVALID_EFFECTIVE_AT',
  'INVALID_IDEMPOTENCY_KEY',
  'ACCOUNT_CLOSED',
  'BALANCE_BOUND_EXCEEDED',
];

const seen = new Set<ErrorCode>();

function expectError(result: unknown, code: ErrorCode, field: string | null): LedgerError {
  expect(result).toBeInstanceOf(LedgerError);
  const error = result as LedgerError;
  expect({ code: error.code, field: error.field }).toEqual({ code, field });
  expect(error.message.length).toBeGreaterThan(0);
  seen.add(code);
  return error;
}

const NOW = new Date('2026-06-15T12:00:00.000Z');
const DAY = 24 * 3600 * 1000;
const USD: Unit = { code: 'USD', scale: 2 };
const EUR: Unit = { code: 'EUR', scale: 2 };
const HOUR: Unit = { code: 'HOUR', scale: 0 };

describe('LedgerError', () => {
  it('has only known codes and prefixes fields', () => {
    for (const code of PURE_CORE_CODES) expect(ERROR_CODES).toContain(code);
    const e = new LedgerError('INVALID_AMOUNT', 'bad', 'amount');
    expect(e.withFieldPrefix('lines[2]').field).toBe('lines[2].amount');
    expect(new LedgerError('UNBALANCED_ENTRY', 'x').field).toBeNull();
    expect(new LedgerError('UNBALANCED_ENTRY', 'x').withFieldPrefix('entries[0]').field).toBe('entries[0]');
  });
});

describe('validateIdempotencyKey', () => {
  it('accepts 1 to 128 printable ASCII characters without spaces', () => {
    expect(validateIdempotencyKey('a')).toBeNull();
    expect(validateIdempotencyKey('x'.repeat(LIMITS.idempotencyKeyLengthMax))).toBeNull();
    expect(validateIdempotencyKey('order-42:retry#1!~')).toBeNull();
    // Every printable non-space ASCII character.
    let all = '';
    for (let c = 0x21; c <= 0x7e; c++) all += String.fromCharCode(c);
    expect(validateIdempotencyKey(all)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
    ['a space', 'has space'],
    ['a tab', 'tab\there'],
    ['a newline', 'a\nb'],
    ['non-ASCII', 'clé'],
    ['DEL', 'a\x7f'],
    ['NUL', 'a\x00'],
    ['an emoji', 'key-🙂'],
  ])('rejects %s', (_label, key) => {
    expectError(validateIdempotencyKey(key), 'INVALID_IDEMPOTENCY_KEY', 'idempotencyKey');
  });

  it('reports the given field path', () => {
    expectError(
      validateIdempotencyKey('', 'entries[3].idempotencyKey'),
      'INVALID_IDEMPOTENCY_KEY',
      'entries[3].idempotencyKey',
    );
  });
});

describe('validateMemo', () => {
  it('accepts null and up to 1000 characters, rejects 1001', () => {
    expect(validateMemo(null)).toBeNull();
    expect(validateMemo('m'.repeat(LIMITS.memoLengthMax))).toBeNull();
    expectError(validateMemo('m'.repeat(LIMITS.memoLengthMax + 1)), 'INVALID_INPUT', 'memo');
  });
});

describe('validateMetadata', () => {
  const entries = (n: number): MetadataEntry[] =>
    Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));

  it('returns the map for valid metadata, {} for null', () => {
    expect(validateMetadata(null)).toEqual({});
    expect(validateMetadata([])).toEqual({});
    expect(
      validateMetadata([
        { key: 'invoice.id', value: 'INV-1' },
        { key: 'a_b:c-d', value: '' },
      ]),
    ).toEqual({ 'invoice.id': 'INV-1', 'a_b:c-d': '' });
  });

  it('accepts 50 keys, rejects 51', () => {
    const fifty = validateMetadata(entries(50));
    expect(fifty).not.toBeInstanceOf(LedgerError);
    expect(Object.keys(fifty)).toHaveLength(50);
    expectError(validateMetadata(entries(51)), 'INVALID_METADATA', 'metadata');
  });

  it('accepts a 40-character key, rejects 41 and empty', () => {
    expect(validateMetadata([{ key: 'k'.repeat(40), value: 'v' }])).toEqual({ ['k'.repeat(40)]: 'v' });
    expectError(
      validateMetadata([
        { key: 'ok', value: 'v' },
        { key: 'k'.repeat(41), value: 'v' },
      ]),
      'INVALID_METADATA',
      'metadata[1].key',
    );
    expectError(validateMetadata([{ key: '', value: 'v' }]), 'INVALID_METADATA', 'metadata[0].key');
  });

  it('accepts a 500-character value, rejects 501', () => {
    expect(validateMetadata([{ key: 'k', value: 'v'.repeat(500) }])).not.toBeInstanceOf(LedgerError);
    expectError(
      validateMetadata([
        { key: 'a', value: 'v' },
        { key: 'b', value: 'v' },
        { key: 'c', value: 'v'.repeat(501) },
      ]),
      'INVALID_METADATA',
      'metadata[2].value',
    );
  });

  it('rejects a duplicate key at the second occurrence', () => {
    expectError(
      validateMetadata([
        { key: 'dup', value: '1' },
        { key: 'other', value: '2' },
        { key: 'dup', value: '3' },
      ]),
      'INVALID_METADATA',
      'metadata[2].key',
    );
  });

  it('treats keys case-sensitively (no false duplicates)', () => {
    expect(
      validateMetadata([
        { key: 'Key', value: '1' },
        { key: 'key', value: '2' },
      ]),
    ).toEqual({ Key: '1', key: '2' });
  });

  it.each(['has space', 'slash/key', 'eq=key', 'clé', 'tab\tkey', 'quote"', 'star*', 'brace{}', 'new\nline'])(
    'rejects the key %j for bad characters',
    (key) => {
      expectError(validateMetadata([{ key, value: 'v' }]), 'INVALID_METADATA', 'metadata[0].key');
    },
  );

  it('keys that are Object.prototype names stay own properties', () => {
    const result = validateMetadata([
      { key: 'constructor', value: 'a' },
      { key: 'toString', value: 'b' },
      { key: 'hasOwnProperty', value: 'c' },
    ]);
    expect(result).toEqual({ constructor: 'a', toString: 'b', hasOwnProperty: 'c' });
    expect(Object.keys(result)).toEqual(['constructor', 'toString', 'hasOwnProperty']);
  });

  // A "__proto__" key is kept as an own key or rejected, never silently dropped (it once was).
  it('never silently drops a "__proto__" key', () => {
    const result = validateMetadata([{ key: '__proto__', value: 'x' }]);
    const keptOrRejected = result instanceof LedgerError || Object.hasOwn(result, '__proto__');
    expect(keptOrRejected).toBe(true);
  });

  it('reports the given field path prefix', () => {
    expectError(
      validateMetadata([{ key: 'bad key', value: 'v' }], 'entries[4].metadata'),
      'INVALID_METADATA',
      'entries[4].metadata[0].key',
    );
  });
});

describe('validateEffectiveAt', () => {
  const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

  // The README's limits, as literals: at most 60 s in the future; at most maxBackdateDays back.
  it('accepts now, 60 s ahead exactly, and the backdate window exactly', () => {
    expect(validateEffectiveAt(NOW, NOW, 30)).toBeNull();
    expect(validateEffectiveAt(at(60_000), NOW, 30)).toBeNull();
    expect(validateEffectiveAt(at(-30 * DAY), NOW, 30)).toBeNull();
    expect(validateEffectiveAt(at(-366 * DAY), NOW, 366)).toBeNull();
  });

  it('rejects more than 60 s ahead', () => {
    expectError(validateEffectiveAt(at(60_001), NOW, 30), 'INVALID_EFFECTIVE_AT', 'effectiveAt');
    expectError(validateEffectiveAt(at(365 * DAY), NOW, 30), 'INVALID_EFFECTIVE_AT', 'effectiveAt');
  });

  it('rejects before the backdate window', () => {
    expectError(validateEffectiveAt(at(-30 * DAY - 1), NOW, 30), 'INVALID_EFFECTIVE_AT', 'effectiveAt');
    expectError(validateEffectiveAt(at(-366 * DAY - 1), NOW, 366), 'INVALID_EFFECTIVE_AT', 'effectiveAt');
    // A window of zero days: only now (and the future tolerance).
    expect(validateEffectiveAt(NOW, NOW, 0)).toBeNull();
    expectError(validateEffectiveAt(at(-1), NOW, 0), 'INVALID_EFFECTIVE_AT', 'effectiveAt');
  });

  it('rejects an invalid instant, with the given field path', () => {
    expectError(validateEffectiveAt(new Date(Number.NaN), NOW, 30), 'INVALID_EFFECTIVE_AT', 'effectiveAt');
    expectError(
      validateEffectiveAt(at(-31 * DAY), NOW, 30, 'entries[0].effectiveAt'),
      'INVALID_EFFECTIVE_AT',
      'entries[0].effectiveAt',
    );
  });
});

describe('validateExpiresAt', () => {
  const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

  it('accepts null, just after now, and exactly the maximum pending timeout', () => {
    expect(validateExpiresAt(null, NOW)).toBeNull();
    expect(validateExpiresAt(at(1), NOW)).toBeNull();
    expect(validateExpiresAt(at(LIMITS.pendingTimeoutMaxMs), NOW)).toBeNull();
  });

  it.each([
    ['now', 0],
    ['the past', -1],
    ['beyond 366 days', LIMITS.pendingTimeoutMaxMs + 1],
  ])('rejects %s', (_label, offset) => {
    expectError(validateExpiresAt(at(offset), NOW), 'INVALID_INPUT', 'expiresAt');
  });

  it('rejects an invalid instant, with the given field path', () => {
    expectError(
      validateExpiresAt(new Date(Number.NaN), NOW, 'pending.expiresAt'),
      'INVALID_INPUT',
      'pending.expiresAt',
    );
  });
});

describe('validateEntryShape', () => {
  const line = (i: number, side: LineInput['side'] = i % 2 === 0 ? 'DEBIT' : 'CREDIT'): LineInput => ({
    accountId: `acc-${i}`,
    side,
    amount: '1.00',
    unit: 'USD',
  });
  const entry = (over: Partial<EntryInput> = {}): EntryInput => ({
    idempotencyKey: 'key-1',
    lines: [line(0), line(1)],
    effectiveAt: null,
    memo: null,
    metadata: null,
    ...over,
  });

  it('accepts 2 and 100 lines', () => {
    expect(validateEntryShape(entry())).toBeNull();
    expect(validateEntryShape(entry({ lines: Array.from({ length: 100 }, (_, i) => line(i)) }))).toBeNull();
  });

  it.each([0, 1, 101])('rejects %i lines', (n) => {
    expectError(
      validateEntryShape(entry({ lines: Array.from({ length: n }, (_, i) => line(i)) })),
      'INVALID_INPUT',
      'lines',
    );
  });

  it.each(['debit', 'BOTH', '', 'Debit'])('rejects the side %j with the line index', (side) => {
    expectError(
      validateEntryShape(entry({ lines: [line(0), line(1), line(2, side as LineInput['side'])] })),
      'INVALID_INPUT',
      'lines[2].side',
    );
  });

  it('checks the idempotency key, the memo and the metadata', () => {
    expectError(
      validateEntryShape(entry({ idempotencyKey: '' })),
      'INVALID_IDEMPOTENCY_KEY',
      'idempotencyKey',
    );
    expectError(validateEntryShape(entry({ memo: 'm'.repeat(1001) })), 'INVALID_INPUT', 'memo');
    expectError(
      validateEntryShape(entry({ metadata: [{ key: 'ok', value: 'x'.repeat(501) }] })),
      'INVALID_METADATA',
      'metadata[0].value',
    );
  });
});

function state(id: string, unit: Unit, extra: Partial<AccountState> = {}): AccountState {
  return {
    id,
    bookId: 'book-1',
    type: 'ASSET',
    unit,
    lowerBound: null,
    upperBound: null,
    closed: false,
    ...ZERO_TOTALS,
    ...extra,
  };
}

// Issue 10 item 13: decided to refuse (README, "Journal entry").
describe('accountOnBothSides', () => {
  const cash = (side: Side) => ({ accountId: 'cash', side });
  const other = (i: number, side: Side) => ({ accountId: `acc-${i}`, side });

  it('refuses an account on both sides, naming the line that puts it on the other side', () => {
    expectError(accountOnBothSides([cash('DEBIT'), cash('CREDIT')]), 'INVALID_INPUT', 'lines[1].accountId');
    expectError(
      accountOnBothSides([cash('CREDIT'), other(1, 'DEBIT'), other(2, 'CREDIT'), cash('DEBIT')]),
      'INVALID_INPUT',
      'lines[3].accountId',
    );
  });

  it('accepts the same account twice on one side (a split) and distinct accounts', () => {
    expect(accountOnBothSides([cash('DEBIT'), cash('DEBIT'), other(1, 'CREDIT')])).toBeNull();
    expect(accountOnBothSides([other(1, 'DEBIT'), other(2, 'CREDIT')])).toBeNull();
  });
});

describe('resolveLines', () => {
  const accounts = new Map<string, AccountState>([
    ['usd-1', state('usd-1', USD)],
    ['usd-2', state('usd-2', USD, { type: 'EQUITY' })],
    ['eur-1', state('eur-1', EUR)],
    ['eur-2', state('eur-2', EUR, { type: 'LIABILITY' })],
    ['hours', state('hours', HOUR)],
    ['closed', state('closed', USD, { closed: true })],
  ]);
  const l = (accountId: string, side: LineInput['side'], amount: string, unit: string): LineInput => ({
    accountId,
    side,
    amount,
    unit,
  });

  it('resolves a balanced entry in two units', () => {
    const result = resolveLines(
      [
        l('usd-1', 'DEBIT', '10.5', 'USD'),
        l('eur-1', 'DEBIT', '3', 'EUR'),
        l('usd-2', 'CREDIT', '10.50', 'USD'),
        l('eur-2', 'CREDIT', '3.00', 'EUR'),
      ],
      accounts,
    );
    expect(result).not.toBeInstanceOf(LedgerError);
    const lines = result as Exclude<typeof result, LedgerError>;
    expect(lines.map((x) => [x.accountId, x.side, x.amount.toFixed(x.scale), x.unitCode])).toEqual([
      ['usd-1', 'DEBIT', '10.50', 'USD'],
      ['eur-1', 'DEBIT', '3.00', 'EUR'],
      ['usd-2', 'CREDIT', '10.50', 'USD'],
      ['eur-2', 'CREDIT', '3.00', 'EUR'],
    ]);
  });

  it('UNKNOWN_ACCOUNT names the line', () => {
    expectError(
      resolveLines([l('usd-1', 'DEBIT', '1', 'USD'), l('nope', 'CREDIT', '1', 'USD')], accounts),
      'UNKNOWN_ACCOUNT',
      'lines[1].accountId',
    );
  });

  it('UNIT_MISMATCH names the line', () => {
    expectError(
      resolveLines([l('usd-1', 'DEBIT', '1', 'EUR'), l('usd-2', 'CREDIT', '1', 'USD')], accounts),
      'UNIT_MISMATCH',
      'lines[0].unit',
    );
    // Unit codes are exact: no case folding.
    expectError(
      resolveLines([l('usd-1', 'DEBIT', '1', 'USD'), l('usd-2', 'CREDIT', '1', 'usd')], accounts),
      'UNIT_MISMATCH',
      'lines[1].unit',
    );
  });

  it.each([
    ['zero', '0'],
    ['zero with decimals', '0.00'],
    ['minus zero', '-0'],
    ['negative', '-1.00'],
    ['too many decimals for USD', '1.001'],
    ['exponent', '1e2'],
    ['NaN', 'NaN'],
    ['19 integer digits', '1000000000000000000'],
  ])('INVALID_AMOUNT for %s names the line', (_label, amount) => {
    expectError(
      resolveLines([l('usd-1', 'DEBIT', '1', 'USD'), l('usd-2', 'CREDIT', amount, 'USD')], accounts),
      'INVALID_AMOUNT',
      'lines[1].amount',
    );
  });

  it('INVALID_AMOUNT for decimals on a unit of scale 0', () => {
    expectError(
      resolveLines([l('hours', 'DEBIT', '1.5', 'HOUR'), l('hours', 'CREDIT', '1.5', 'HOUR')], accounts),
      'INVALID_AMOUNT',
      'lines[0].amount',
    );
  });

  it('ACCOUNT_CLOSED names the line, unless closed accounts are allowed', () => {
    const lines = [l('usd-1', 'DEBIT', '1', 'USD'), l('closed', 'CREDIT', '1', 'USD')];
    expectError(resolveLines(lines, accounts), 'ACCOUNT_CLOSED', 'lines[1].accountId');
    expect(resolveLines(lines, accounts, { allowClosed: true })).not.toBeInstanceOf(LedgerError);
  });

  it('UNBALANCED_ENTRY within one unit', () => {
    const e = expectError(
      resolveLines([l('usd-1', 'DEBIT', '10.00', 'USD'), l('usd-2', 'CREDIT', '9.99', 'USD')], accounts),
      'UNBALANCED_ENTRY',
      'lines',
    );
    expect(e.message).toContain('USD');
  });

  it('UNBALANCED_ENTRY when each unit must balance separately, even if the numbers match across units', () => {
    // 10 USD against 10 EUR: equal numbers, different units.
    expectError(
      resolveLines([l('usd-1', 'DEBIT', '10', 'USD'), l('eur-2', 'CREDIT', '10', 'EUR')], accounts),
      'UNBALANCED_ENTRY',
      'lines',
    );
    // USD over by 5 and EUR under by 5: the grand total nets to zero but neither unit balances.
    const e = expectError(
      resolveLines(
        [
          l('usd-1', 'DEBIT', '15', 'USD'),
          l('usd-2', 'CREDIT', '10', 'USD'),
          l('eur-1', 'DEBIT', '10', 'EUR'),
          l('eur-2', 'CREDIT', '15', 'EUR'),
        ],
        accounts,
      ),
      'UNBALANCED_ENTRY',
      'lines',
    );
    expect(e.message).toContain('USD');
    expect(e.message).toContain('EUR');
    // USD balances, EUR does not: only EUR is named.
    const eurOnly = expectError(
      resolveLines(
        [
          l('usd-1', 'DEBIT', '10', 'USD'),
          l('usd-2', 'CREDIT', '10', 'USD'),
          l('eur-1', 'DEBIT', '10', 'EUR'),
          l('eur-2', 'CREDIT', '10.01', 'EUR'),
        ],
        accounts,
      ),
      'UNBALANCED_ENTRY',
      'lines',
    );
    expect(eurOnly.message).toContain('EUR');
    expect(eurOnly.message).not.toContain('USD');
  });

  it('reports the first bad line', () => {
    expectError(
      resolveLines([l('nope', 'DEBIT', '0', 'USD'), l('usd-2', 'CREDIT', 'bad', 'EUR')], accounts),
      'UNKNOWN_ACCOUNT',
      'lines[0].accountId',
    );
  });
});

describe('applyLines', () => {
  it('BALANCE_BOUND_EXCEEDED names the first line of the account pushed past its bound', () => {
    const accounts = new Map<string, AccountState>([
      ['cash', state('cash', USD, { lowerBound: new Decimal('-50') })],
      ['sales', state('sales', USD, { type: 'REVENUE', upperBound: new Decimal('1000') })],
      ['equity', state('equity', USD, { type: 'EQUITY' })],
    ]);
    const move = (accountId: string, side: 'DEBIT' | 'CREDIT', amount: string) => ({
      accountId,
      side,
      amount: new Decimal(amount),
    });
    // Cash may go to -50 but not below.
    expect(
      applyLines(accounts, [move('equity', 'DEBIT', '50'), move('cash', 'CREDIT', '50')], 'POST'),
    ).not.toBeInstanceOf(LedgerError);
    expectError(
      applyLines(accounts, [move('equity', 'DEBIT', '50.01'), move('cash', 'CREDIT', '50.01')], 'POST'),
      'BALANCE_BOUND_EXCEEDED',
      'lines[1].accountId',
    );
    // Two lines on the same account count together; the first of them is named.
    expectError(
      applyLines(
        accounts,
        [move('cash', 'CREDIT', '30'), move('equity', 'DEBIT', '60'), move('cash', 'CREDIT', '30')],
        'RESERVE',
      ),
      'BALANCE_BOUND_EXCEEDED',
      'lines[0].accountId',
    );
    // Upper bound on a credit-normal account.
    expectError(
      applyLines(accounts, [move('cash', 'DEBIT', '1000.01'), move('sales', 'CREDIT', '1000.01')], 'POST'),
      'BALANCE_BOUND_EXCEEDED',
      'lines[1].accountId',
    );
  });
});

describe('validateAccountDraft', () => {
  const draft = (over: Partial<AccountDraft> = {}): AccountDraft => ({
    code: '1000.cash',
    name: 'Cash',
    type: 'ASSET',
    unit: USD,
    lowerBound: null,
    upperBound: null,
    ...over,
  });

  it('accepts valid drafts and parses the bounds', () => {
    expect(validateAccountDraft(draft())).toEqual({ lowerBound: null, upperBound: null });
    const result = validateAccountDraft(draft({ lowerBound: '-100.50', upperBound: '2000' }));
    expect(result).not.toBeInstanceOf(LedgerError);
    const bounds = result as { lowerBound: Decimal; upperBound: Decimal };
    expect(bounds.lowerBound.toFixed(2)).toBe('-100.50');
    expect(bounds.upperBound.toFixed(2)).toBe('2000.00');
    expect(validateAccountDraft(draft({ lowerBound: '0', upperBound: '0' }))).not.toBeInstanceOf(LedgerError);
    // "-0" is zero, and zero is allowed for bounds.
    const minusZero = validateAccountDraft(draft({ lowerBound: '-0' })) as { lowerBound: Decimal };
    expect(minusZero.lowerBound.isZero()).toBe(true);
    expect(validateAccountDraft(draft({ code: 'a'.repeat(64) }))).not.toBeInstanceOf(LedgerError);
    expect(validateAccountDraft(draft({ code: 'A1_b.c:d-e' }))).not.toBeInstanceOf(LedgerError);
    expect(validateAccountDraft(draft({ code: '7' }))).not.toBeInstanceOf(LedgerError);
    expect(validateAccountDraft(draft({ name: 'n'.repeat(200) }))).not.toBeInstanceOf(LedgerError);
  });

  it.each(['', '-cash', '_cash', '.cash', 'has space', 'a'.repeat(65), 'café', 'a/b', 'a#b'])(
    'rejects the code %j',
    (code) => {
      expectError(validateAccountDraft(draft({ code })), 'INVALID_INPUT', 'code');
    },
  );

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['201 characters', 'n'.repeat(201)],
  ])('rejects a %s name', (_label, name) => {
    expectError(validateAccountDraft(draft({ name })), 'INVALID_INPUT', 'name');
  });

  it('rejects an unknown type', () => {
    expectError(
      validateAccountDraft(draft({ type: 'CASH' as AccountDraft['type'] })),
      'INVALID_INPUT',
      'type',
    );
  });

  it('rejects malformed bounds as INVALID_AMOUNT on the bound', () => {
    expectError(validateAccountDraft(draft({ lowerBound: '-1e3' })), 'INVALID_AMOUNT', 'lowerBound');
    expectError(validateAccountDraft(draft({ upperBound: '10.001' })), 'INVALID_AMOUNT', 'upperBound');
    expectError(
      validateAccountDraft(draft({ upperBound: '1000000000000000000' })),
      'INVALID_AMOUNT',
      'upperBound',
    );
  });

  it('rejects lowerBound > upperBound', () => {
    expectError(
      validateAccountDraft(draft({ lowerBound: '0', upperBound: '-0.01' })),
      'INVALID_INPUT',
      'lowerBound',
    );
    expectError(
      validateAccountDraft(draft({ lowerBound: '-1', upperBound: '-5' })),
      'INVALID_INPUT',
      'lowerBound',
    );
  });

  it('rejects bounds that exclude zero', () => {
    expectError(validateAccountDraft(draft({ lowerBound: '0.01' })), 'INVALID_INPUT', 'lowerBound');
    expectError(validateAccountDraft(draft({ upperBound: '-0.01' })), 'INVALID_INPUT', 'upperBound');
    expectError(
      validateAccountDraft(draft({ lowerBound: '5', upperBound: '10' })),
      'INVALID_INPUT',
      'lowerBound',
    );
    expectError(
      validateAccountDraft(draft({ lowerBound: '-10', upperBound: '-5' })),
      'INVALID_INPUT',
      'upperBound',
    );
  });
});

describe('validateUnit', () => {
  it.each([
    ['USD', 2],
    ['JPY', 0],
    ['HOUR', 0],
    ['NET_CREDIT', 18],
    ['X1', 3],
    ['A'.repeat(16), 2],
  ])('accepts %s with scale %i', (code, scale) => {
    expect(validateUnit({ code, scale }, 'unit')).toBeNull();
  });

  it.each(['', 'U', 'usd', 'Usd', '1USD', '_USD', 'US D', 'USD-', 'A'.repeat(17), 'ÉUR'])(
    'rejects the code %j',
    (code) => {
      expectError(validateUnit({ code, scale: 2 }, 'unit.code'), 'INVALID_UNIT', 'unit.code');
    },
  );

  it.each([-1, 19, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the scale %s', (scale) => {
    expectError(validateUnit({ code: 'USD', scale }, 'unit'), 'INVALID_UNIT', 'unit');
  });
});

// Runs last (tests in a file run in order): every code the core can return was exercised above.
describe('coverage of error codes', () => {
  it('every pure-core error code was asserted by some test above', () => {
    expect([...seen].sort()).toEqual([...PURE_CORE_CODES].sort());
  });
});
