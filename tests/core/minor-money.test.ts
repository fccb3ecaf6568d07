/**
 * The posting engine computes in integer minor units (server/core/minor.ts, entries-minor.ts); the
 * rest of the ledger, and these rules' first version, in decimal.js. Each integer function is held
 * equal to its decimal twin on random inputs of every scale: the same value, or the same refusal
 * (code, message, field), including amounts with more places than the unit's scale (rejected,
 * never rounded) and totals at and around the 10^20 limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccountState,
  type AccountType,
  applyLines,
  applyLinesMinor,
  type BalanceMovement,
  balanceView,
  balanceViewMinor,
  Decimal,
  decimalOfMinor,
  firstBoundBreach,
  firstBoundBreachMinor,
  formatMinor,
  LedgerError,
  type MinorAccount,
  type MinorMovement,
  type Movement,
  minorFromNumeric,
  minorOfDecimal,
  parseAmount,
  parseMinor,
  resolveLines,
  resolveLinesMinor,
  type Side,
  signedAmount,
  signedMinor,
  UNIT_SCALE_MAX,
} from '../../server/core/index.js';

const run = { numRuns: 400 };
const TYPES: AccountType[] = ['ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE'];
const SIDES: Side[] = ['DEBIT', 'CREDIT'];
const MOVEMENTS: Movement[] = ['POST', 'RESERVE', 'COMMIT', 'RELEASE'];

const scaleArb = fc.integer({ min: 0, max: UNIT_SCALE_MAX });
const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** Wire amounts, most of them plain literals, with up to 21 integer digits and 21 places. */
const literalArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.boolean(), digits(1, 21), fc.option(digits(1, 21), { nil: undefined }))
      .map(([negative, int, fraction]) => {
        const integer = int.replace(/^0+(?=\d)/, '');
        return `${negative ? '-' : ''}${integer}${fraction === undefined ? '' : `.${fraction}`}`;
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '-',
      '0',
      '-0',
      '0.000',
      '-0.0',
      '1e5',
      '01',
      '.5',
      '5.',
      '+1',
      ' 1',
      'NaN',
      '1.2.3',
    ),
  },
);

function same(minor: bigint | LedgerError, decimal: Decimal | LedgerError, scale: number): void {
  if (decimal instanceof LedgerError) {
    expect(minor).toBeInstanceOf(LedgerError);
    const e = minor as LedgerError;
    expect([e.code, e.message, e.field]).toEqual([decimal.code, decimal.message, decimal.field]);
  } else {
    expect(minor).not.toBeInstanceOf(LedgerError);
    expect(formatMinor(minor as bigint, scale)).toBe(decimal.toFixed(scale));
    expect(decimalOfMinor(minor as bigint, scale).eq(decimal)).toBe(true);
  }
}

describe('minor units against decimal.js', () => {
  it('parseMinor equals parseAmount on random literals of every scale, refusals included', () => {
    fc.assert(
      fc.property(
        literalArb,
        scaleArb,
        fc.boolean(),
        fc.boolean(),
        (text, scale, allowNegative, allowZero) => {
          const unit = { code: 'UNIT', scale };
          const options = { allowNegative, allowZero };
          same(parseMinor(text, unit, 'f', options), parseAmount(text, unit, 'f', options), scale);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('rejects, never rounds, one place more than the scale', () => {
    for (let scale = 0; scale <= UNIT_SCALE_MAX; scale++) {
      const text = `1.${'0'.repeat(scale)}1`;
      const got = parseMinor(text, { code: 'USD', scale }, 'lines[0].amount');
      expect(got).toBeInstanceOf(LedgerError);
      expect((got as LedgerError).code).toBe('INVALID_AMOUNT');
    }
  });

  it('formatMinor writes what Decimal.toFixed(scale) writes; NUMERIC text and Decimals convert both ways', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), scaleArb, (minor, scale) => {
        const decimal = new Decimal(minor.toString()).div(new Decimal(10).pow(scale));
        expect(formatMinor(minor, scale)).toBe(decimal.toFixed(scale));
        // PostgreSQL writes NUMERIC(38,18) with 18 places; a NUMERIC sum may have any number.
        expect(minorFromNumeric(decimal.toFixed(18), scale)).toBe(minor);
        expect(minorFromNumeric(decimal.toFixed(), scale)).toBe(minor);
        expect(minorOfDecimal(decimal, scale)).toBe(minor);
      }),
      run,
    );
  });

  it('minorFromNumeric refuses a value with a non-zero digit beyond the scale', () => {
    expect(() => minorFromNumeric('1.005000000000000000', 2)).toThrow(/more than 2 decimal places/);
    expect(() => minorFromNumeric('-0.1', 0)).toThrow(/more than 0 decimal places/);
    expect(minorFromNumeric('-0.100', 1)).toBe(-1n);
    expect(() => minorOfDecimal(new Decimal('0.001'), 2)).toThrow();
  });
});

/** A random account in both representations: totals and bounds near and far from the limits. */
interface Pair {
  minor: MinorAccount;
  decimal: AccountState;
}

function pairOf(
  id: string,
  type: AccountType,
  scale: number,
  totals: [bigint, bigint, bigint, bigint],
  lower: bigint | null,
  upper: bigint | null,
  closed: boolean,
): Pair {
  const unit = { code: `U${scale}X`, scale };
  const minor: MinorAccount = {
    id,
    bookId: 'book',
    type,
    unit,
    lowerBound: lower,
    upperBound: upper,
    closed,
    postedDebits: totals[0],
    postedCredits: totals[1],
    pendingDebits: totals[2],
    pendingCredits: totals[3],
  };
  const d = (m: bigint) => decimalOfMinor(m, scale);
  const decimal: AccountState = {
    id,
    bookId: 'book',
    type,
    unit,
    lowerBound: lower === null ? null : d(lower),
    upperBound: upper === null ? null : d(upper),
    closed,
    postedDebits: d(totals[0]),
    postedCredits: d(totals[1]),
    pendingDebits: d(totals[2]),
    pendingCredits: d(totals[3]),
  };
  return { minor, decimal };
}

/** A total: small, or within a few minor units of 10^20 in the unit. */
const totalArb = (scale: number) =>
  fc.oneof(
    fc.bigInt({ min: 0n, max: 10n ** BigInt(scale + 6) }),
    fc.bigInt({ min: -1000n, max: 0n }).map((x) => 10n ** BigInt(20 + scale) - 1n + x),
  );

const boundArb = (scale: number) =>
  fc.option(fc.bigInt({ min: -(10n ** BigInt(scale + 6)), max: 10n ** BigInt(scale + 6) }), { nil: null });

const accountArb = (id: string, scale: number) =>
  fc
    .tuple(
      fc.constantFrom(...TYPES),
      fc.tuple(totalArb(scale), totalArb(scale), totalArb(scale), totalArb(scale)),
      boundArb(scale),
      boundArb(scale),
      fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
    )
    .map(([type, totals, lower, upper, closed]) => pairOf(id, type, scale, totals, lower, upper, closed));

/** Three accounts (two in one unit, one in another) and 2-4 lines on them. */
const worldArb = fc
  .tuple(scaleArb, scaleArb)
  .chain(([s1, s2]) =>
    fc.tuple(
      fc.tuple(accountArb('a', s1), accountArb('b', s1), accountArb('c', s2)),
      fc.array(
        fc.tuple(
          fc.constantFrom('a', 'b', 'c', 'nope'),
          fc.constantFrom(...SIDES),
          fc.oneof(
            { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 10n ** BigInt(Math.max(s1, s2) + 4) }) },
            { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 20n }) },
          ),
          fc.integer({ min: -1, max: 2 }),
        ),
        { minLength: 2, maxLength: 4 },
      ),
      fc.constantFrom(...MOVEMENTS),
    ),
  );

describe('posting rules in minor units against decimal.js', () => {
  it('resolveLinesMinor and applyLinesMinor decide as resolveLines and applyLines', () => {
    fc.assert(
      fc.property(worldArb, ([accounts, rawLines, movement]) => {
        const minorMap = new Map(accounts.map((p) => [p.minor.id, p.minor]));
        const decimalMap = new Map(accounts.map((p) => [p.decimal.id, p.decimal]));
        // Amounts written at the account's scale, plus `extra` places (-1: one fewer; 1, 2: more,
        // some of them non-zero, which must be refused).
        const lines = rawLines.map(([accountId, side, minor, extra]) => {
          const scale = minorMap.get(accountId)?.unit.scale ?? 2;
          let amount = formatMinor(minor, scale);
          if (extra > 0) amount = `${amount}${scale === 0 ? '.' : ''}${'0'.repeat(extra - 1)}7`;
          if (extra < 0 && amount.endsWith('0') && scale > 0) amount = amount.slice(0, -1);
          const unit = minorMap.get(accountId)?.unit.code ?? 'U2X';
          return { accountId, side, amount, unit };
        });
        const resolvedMinor = resolveLinesMinor(lines, minorMap, { allowClosed: true });
        const resolvedDecimal = resolveLines(lines, decimalMap, { allowClosed: true });
        if (resolvedDecimal instanceof LedgerError) {
          expect(resolvedMinor).toBeInstanceOf(LedgerError);
          const e = resolvedMinor as LedgerError;
          expect([e.code, e.message, e.field]).toEqual([
            resolvedDecimal.code,
            resolvedDecimal.message,
            resolvedDecimal.field,
          ]);
          return;
        }
        expect(resolvedMinor).not.toBeInstanceOf(LedgerError);
        const rm = resolvedMinor as Exclude<typeof resolvedMinor, LedgerError>;
        expect(rm.map((l) => formatMinor(l.minor, l.scale))).toEqual(
          resolvedDecimal.map((l) => l.amount.toFixed(l.scale)),
        );
        let appliedMinor: ReturnType<typeof applyLinesMinor>;
        let appliedDecimal: ReturnType<typeof applyLines>;
        try {
          appliedDecimal = applyLines(decimalMap, resolvedDecimal, movement);
        } catch (error) {
          // A release or commit of more than is pending: an invariant in both.
          expect(() => applyLinesMinor(minorMap, rm, movement)).toThrow((error as Error).message);
          return;
        }
        appliedMinor = applyLinesMinor(minorMap, rm, movement);
        if (appliedDecimal instanceof LedgerError) {
          expect(appliedMinor).toBeInstanceOf(LedgerError);
          const e = appliedMinor as LedgerError;
          expect([e.code, e.message, e.field]).toEqual([
            appliedDecimal.code,
            appliedDecimal.message,
            appliedDecimal.field,
          ]);
          return;
        }
        expect(appliedMinor).not.toBeInstanceOf(LedgerError);
        const am = appliedMinor as Exclude<typeof appliedMinor, LedgerError>;
        expect([...am.keys()]).toEqual([...appliedDecimal.keys()]);
        for (const [id, t] of appliedDecimal) {
          const scale = minorMap.get(id)!.unit.scale;
          const m = am.get(id)!;
          for (const field of ['postedDebits', 'postedCredits', 'pendingDebits', 'pendingCredits'] as const) {
            expect(formatMinor(m[field], scale)).toBe(t[field].toFixed(scale));
          }
          const type = minorMap.get(id)!.type;
          const vm = balanceViewMinor(type, m);
          const vd = balanceView(type, t);
          expect([vm.posted, vm.available, vm.projected].map((x) => formatMinor(x, scale))).toEqual(
            [vd.posted, vd.available, vd.projected].map((x) => x.toFixed(scale)),
          );
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses a total reaching exactly 10^20 in the unit, at every scale, as applyLines does', () => {
    for (let scale = 0; scale <= UNIT_SCALE_MAX; scale++) {
      const limit = 10n ** BigInt(20 + scale);
      for (const [before, amount] of [
        [limit - 2n, 1n],
        [limit - 1n, 1n],
        [limit - 1n, 2n],
      ] as const) {
        const p = pairOf('a', 'ASSET', scale, [before, 0n, 0n, 0n], null, null, false);
        const q = pairOf('b', 'EQUITY', scale, [0n, 0n, 0n, 0n], null, null, false);
        const minor = new Map([
          ['a', p.minor],
          ['b', q.minor],
        ]);
        const decimal = new Map([
          ['a', p.decimal],
          ['b', q.decimal],
        ]);
        const lm = [
          { accountId: 'a', side: 'DEBIT' as const, minor: amount },
          { accountId: 'b', side: 'CREDIT' as const, minor: amount },
        ];
        const ld = lm.map((l) => ({ ...l, amount: decimalOfMinor(l.minor, scale) }));
        const got = applyLinesMinor(minor, lm, 'POST');
        const want = applyLines(decimal, ld, 'POST');
        expect(got instanceof LedgerError).toBe(before + amount >= limit);
        expect(want instanceof LedgerError).toBe(before + amount >= limit);
      }
    }
  });

  it('signedMinor and firstBoundBreachMinor equal signedAmount and firstBoundBreach', () => {
    const movementArb = fc.record({
      atMs: fc.integer({ min: 0, max: 50 }),
      seq: fc.bigInt({ min: 1n, max: 1000n }),
      delta: fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }),
    });
    fc.assert(
      fc.property(
        scaleArb,
        fc.constantFrom(...TYPES),
        fc.constantFrom(...SIDES),
        fc.option(fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }), { nil: null }),
        fc.option(fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }), { nil: null }),
        fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }),
        fc.array(movementArb, { maxLength: 8 }),
        fc.integer({ min: 0, max: 50 }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        (scale, type, side, lower, upper, current, movements, atMs, amount) => {
          const d = (m: bigint) => decimalOfMinor(m, scale);
          const deltaMinor = signedMinor(type, side, amount);
          expect(formatMinor(deltaMinor, scale)).toBe(signedAmount(type, side, d(amount)).toFixed(scale));
          const later: MinorMovement[] = movements.filter((m) => m.atMs > atMs);
          const laterDecimal: BalanceMovement[] = later.map((m) => ({ ...m, delta: d(m.delta) }));
          const got = firstBoundBreachMinor(
            { lowerBound: lower, upperBound: upper },
            current,
            later,
            atMs,
            deltaMinor,
          );
          const want = firstBoundBreach(
            { lowerBound: lower === null ? null : d(lower), upperBound: upper === null ? null : d(upper) },
            d(current),
            laterDecimal,
            atMs,
            d(deltaMinor),
          );
          if (want === null) expect(got).toBeNull();
          else {
            expect(got).not.toBeNull();
            expect([
              got!.atMs,
              got!.bound,
              formatMinor(got!.balance, scale),
              formatMinor(got!.limit, scale),
            ]).toEqual([want.atMs, want.bound, want.balance.toFixed(scale), want.limit.toFixed(scale)]);
          }
        },
      ),
      run,
    );
  });
});
