/**
 * Property tests of the pure ledger core (server/ledger). No database, no I/O: random accounts in
 * several units with random scales, random entries built from integer minor units (never floats),
 * checked against the invariants a double-entry ledger must keep.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_TYPES,
  type AccountState,
  type AccountTotals,
  type AccountType,
  applyLines,
  balanceView,
  type ChainEntry,
  canonicalEntry,
  canonicalRequest,
  chainAmount,
  Decimal,
  ENTRY_KINDS,
  formatAmount,
  InvariantError,
  LedgerError,
  type LineInput,
  type Movement,
  normalSide,
  oppositeSide,
  parseAmount,
  type ResolvedLine,
  resolveLines,
  reversalLines,
  type Side,
  signedAmount,
  UNIT_SCALE_MAX,
  type Unit,
  ZERO,
  ZERO_TOTALS,
} from '../../server/core/index.js';

const NUM_RUNS = 300;
const run = { numRuns: NUM_RUNS };

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Writes an integer number of minor units as a decimal literal at `scale` (optionally trimmed). */
function minorToLiteral(minor: bigint, scale: number, trim = false): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const integer = digits.slice(0, digits.length - scale);
  let fraction = scale === 0 ? '' : digits.slice(digits.length - scale);
  if (trim) fraction = fraction.replace(/0+$/, '');
  return `${negative ? '-' : ''}${integer}${fraction ? `.${fraction}` : ''}`;
}

function minorToDecimal(minor: bigint, scale: number): Decimal {
  return new Decimal(minorToLiteral(minor, scale));
}

function expectDecimal(actual: Decimal, expected: Decimal, what: string): void {
  expect(actual.eq(expected), `${what}: ${actual.toString()} != ${expected.toString()}`).toBe(true);
}

function expectTotals(actual: AccountTotals, expected: AccountTotals, what: string): void {
  expectDecimal(actual.postedDebits, expected.postedDebits, `${what} postedDebits`);
  expectDecimal(actual.postedCredits, expected.postedCredits, `${what} postedCredits`);
  expectDecimal(actual.pendingDebits, expected.pendingDebits, `${what} pendingDebits`);
  expectDecimal(actual.pendingCredits, expected.pendingCredits, `${what} pendingCredits`);
}

function unwrap<T>(value: T | LedgerError): T {
  if (value instanceof LedgerError)
    throw new Error(`unexpected ${value.code} at ${value.field}: ${value.message}`);
  return value;
}

type Accounts = ReadonlyMap<string, AccountState>;

/** applyLines, then folds the returned totals back into the account states. */
function apply(
  accounts: Accounts,
  lines: readonly { accountId: string; side: Side; amount: Decimal }[],
  movement: Movement,
): Accounts | LedgerError {
  const totals = applyLines(accounts, lines, movement);
  if (totals instanceof LedgerError) return totals;
  const next = new Map(accounts);
  for (const [id, t] of totals) {
    const account = accounts.get(id)!;
    next.set(id, {
      ...account,
      postedDebits: t.postedDebits,
      postedCredits: t.postedCredits,
      pendingDebits: t.pendingDebits,
      pendingCredits: t.pendingCredits,
    });
  }
  return next;
}

function totalsOf(account: AccountState): AccountTotals {
  const { postedDebits, postedCredits, pendingDebits, pendingCredits } = account;
  return { postedDebits, postedCredits, pendingDebits, pendingCredits };
}

function sumsPerUnit(lines: readonly ResolvedLine[]): Map<string, { debits: Decimal; credits: Decimal }> {
  const sums = new Map<string, { debits: Decimal; credits: Decimal }>();
  for (const line of lines) {
    const s = sums.get(line.unitCode) ?? { debits: ZERO, credits: ZERO };
    if (line.side === 'DEBIT') s.debits = s.debits.plus(line.amount);
    else s.credits = s.credits.plus(line.amount);
    sums.set(line.unitCode, s);
  }
  return sums;
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const UNIT_CODES = ['USD', 'EUR', 'JPY', 'HOUR', 'NET_CREDIT', 'BTC'] as const;

interface World {
  units: Unit[];
  accounts: Map<string, AccountState>;
}

interface WorldOptions {
  scaleMax?: number;
  /** Random non-negative posted totals to start from (no bounds then). */
  initialTotals?: boolean;
  /** Random bounds in minor units that admit zero (accounts start at zero). */
  boundsMinor?: number;
}

function worldArb(options: WorldOptions = {}): fc.Arbitrary<World> {
  const scaleMax = options.scaleMax ?? UNIT_SCALE_MAX;
  const units = fc.uniqueArray(
    fc.record({ code: fc.constantFrom(...UNIT_CODES), scale: fc.integer({ min: 0, max: scaleMax }) }),
    { selector: (u) => u.code, minLength: 1, maxLength: 4 },
  );
  const bound = (sign: 1n | -1n) =>
    options.boundsMinor === undefined
      ? fc.constant(null)
      : fc.option(
          fc.bigInt({ min: 0n, max: BigInt(options.boundsMinor) }).map((m) => m * sign),
          { nil: null, freq: 3 },
        );
  const initial = options.initialTotals ? fc.bigInt({ min: 0n, max: 10n ** 12n }) : fc.constant(0n);
  const accountSpec = fc.record({
    unitPick: fc.nat(),
    type: fc.constantFrom(...ACCOUNT_TYPES),
    lower: bound(-1n),
    upper: bound(1n),
    debits: initial,
    credits: initial,
  });
  return units.chain((us) =>
    fc
      // One account per unit at least, then up to 6 more in random units.
      .tuple(
        fc.array(accountSpec, { minLength: us.length, maxLength: us.length }),
        fc.array(accountSpec, { maxLength: 6 }),
      )
      .map(([perUnit, extra]) => {
        const accounts = new Map<string, AccountState>();
        const specs = [
          ...perUnit.map((s, i) => ({ ...s, unit: us[i]! })),
          ...extra.map((s) => ({ ...s, unit: us[s.unitPick % us.length]! })),
        ];
        for (const [i, s] of specs.entries()) {
          const id = `acc-${i}`;
          accounts.set(id, {
            id,
            bookId: 'book-1',
            type: s.type,
            unit: s.unit,
            lowerBound: s.lower === null ? null : minorToDecimal(s.lower, s.unit.scale),
            upperBound: s.upper === null ? null : minorToDecimal(s.upper, s.unit.scale),
            closed: false,
            postedDebits: minorToDecimal(s.debits, s.unit.scale),
            postedCredits: minorToDecimal(s.credits, s.unit.scale),
            pendingDebits: ZERO,
            pendingCredits: ZERO,
          });
        }
        return { units: us, accounts };
      }),
  );
}

/** Largest magnitude (in minor units) one generated line may have: keeps every sum within 18 integer digits. */
function defaultMaxMinor(scale: number): bigint {
  return 10n ** BigInt(18 + scale) / 16n;
}

/** Balanced lines for one unit: 1-3 debits, 1-3 credits, plus one balancing line when the sums differ. */
function unitLinesArb(world: World, unit: Unit, maxMinor: bigint): fc.Arbitrary<LineInput[]> {
  const ids = [...world.accounts.values()].filter((a) => a.unit.code === unit.code).map((a) => a.id);
  const leg = fc.record({
    accountId: fc.constantFrom(...ids),
    minor: fc.bigInt({ min: 1n, max: maxMinor }),
    trim: fc.boolean(),
  });
  return fc
    .tuple(
      fc.array(leg, { minLength: 1, maxLength: 3 }),
      fc.array(leg, { minLength: 1, maxLength: 3 }),
      fc.constantFrom(...ids),
      fc.boolean(),
    )
    .map(([debits, credits, balancingId, trimBalancing]) => {
      const legs: { accountId: string; side: Side; minor: bigint; trim: boolean }[] = [
        ...debits.map((d) => ({ ...d, side: 'DEBIT' as const })),
        ...credits.map((c) => ({ ...c, side: 'CREDIT' as const })),
      ];
      const sumD = debits.reduce((s, d) => s + d.minor, 0n);
      const sumC = credits.reduce((s, c) => s + c.minor, 0n);
      if (sumD > sumC)
        legs.push({ accountId: balancingId, side: 'CREDIT', minor: sumD - sumC, trim: trimBalancing });
      if (sumC > sumD)
        legs.push({ accountId: balancingId, side: 'DEBIT', minor: sumC - sumD, trim: trimBalancing });
      return legs.map((l) => ({
        accountId: l.accountId,
        side: l.side,
        amount: minorToLiteral(l.minor, unit.scale, l.trim),
        unit: unit.code,
      }));
    });
}

/** A balanced entry over a non-empty subset of the world's units, lines shuffled across units. */
function balancedEntryArb(world: World, maxMinor: (scale: number) => bigint = defaultMaxMinor) {
  return fc
    .subarray(world.units, { minLength: 1 })
    .chain((units) => fc.tuple(...units.map((u) => unitLinesArb(world, u, maxMinor(u.scale)))))
    .chain((groups) => {
      const lines = groups.flat();
      return fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length });
    });
}

function resolved(world: World, lines: LineInput[]): ResolvedLine[] {
  return unwrap(resolveLines(lines, world.accounts));
}

/** A world together with one balanced entry on it. */
const worldWithEntry = (options: WorldOptions = {}) =>
  worldArb(options).chain((world) => balancedEntryArb(world).map((lines) => ({ world, lines })));

// ---------------------------------------------------------------------------------------------
// Balance per unit
// ---------------------------------------------------------------------------------------------

describe('resolveLines: every accepted entry balances per unit', () => {
  it('accepts every constructed balanced entry, and its resolved lines balance per unit', () => {
    fc.assert(
      fc.property(worldWithEntry(), ({ world, lines }) => {
        const result = resolveLines(lines, world.accounts);
        const out = unwrap(result);
        expect(out).toHaveLength(lines.length);
        for (const [i, line] of out.entries()) {
          const account = world.accounts.get(line.accountId)!;
          expect(line.accountId).toBe(lines[i]!.accountId);
          expect(line.side).toBe(lines[i]!.side);
          expect(line.unitCode).toBe(account.unit.code);
          expect(line.scale).toBe(account.unit.scale);
          expect(line.amount.isPositive() && !line.amount.isZero()).toBe(true);
          expectDecimal(line.amount, new Decimal(lines[i]!.amount), `line ${i} amount`);
        }
        for (const [unit, { debits, credits }] of sumsPerUnit(out)) {
          expectDecimal(debits, credits, `unit ${unit}`);
        }
      }),
      run,
    );
  });

  it('for fully random lines: accepted implies balanced per unit, UNBALANCED_ENTRY implies unbalanced', () => {
    const arb = worldArb({ scaleMax: 3 }).chain((world) => {
      const ids = [...world.accounts.keys()];
      const line = fc.record({
        accountId: fc.constantFrom(...ids),
        side: fc.constantFrom<Side>('DEBIT', 'CREDIT'),
        minor: fc.bigInt({ min: 1n, max: 4n }),
      });
      return fc.array(line, { minLength: 2, maxLength: 8 }).map((ls) => ({
        world,
        lines: ls.map((l) => {
          const unit = world.accounts.get(l.accountId)!.unit;
          return {
            accountId: l.accountId,
            side: l.side,
            amount: minorToLiteral(l.minor, unit.scale),
            unit: unit.code,
          };
        }),
      }));
    });
    let accepted = 0;
    fc.assert(
      fc.property(arb, ({ world, lines }) => {
        const result = resolveLines(lines, world.accounts);
        const net = new Map<string, Decimal>();
        for (const l of lines) {
          const signed = l.side === 'DEBIT' ? new Decimal(l.amount) : new Decimal(l.amount).negated();
          net.set(l.unit, (net.get(l.unit) ?? ZERO).plus(signed));
        }
        const balanced = [...net.values()].every((v) => v.isZero());
        if (result instanceof LedgerError) {
          expect(result.code).toBe('UNBALANCED_ENTRY');
          expect(result.field).toBe('lines');
          expect(balanced).toBe(false);
        } else {
          accepted++;
          expect(balanced).toBe(true);
          for (const [unit, { debits, credits }] of sumsPerUnit(result)) {
            expectDecimal(debits, credits, `unit ${unit}`);
          }
        }
      }),
      { numRuns: 500 },
    );
    // Not vacuous: some random entries happened to balance.
    expect(accepted).toBeGreaterThan(0);
  });

  it('rejects deliberately unbalanced entries (one amount nudged, or one side flipped) with UNBALANCED_ENTRY', () => {
    const arb = worldWithEntry().chain(({ world, lines }) =>
      fc.record({
        world: fc.constant(world),
        lines: fc.constant(lines),
        index: fc.nat({ max: lines.length - 1 }),
        nudge: fc.bigInt({ min: 1n, max: 1000n }),
        flip: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(arb, ({ world, lines, index, nudge, flip }) => {
        const target = lines[index]!;
        const scale = world.accounts.get(target.accountId)!.unit.scale;
        const changed: LineInput = flip
          ? { ...target, side: oppositeSide(target.side) }
          : {
              ...target,
              amount: new Decimal(target.amount).plus(minorToDecimal(nudge, scale)).toFixed(scale),
            };
        const broken = lines.map((l, i) => (i === index ? changed : l));
        const result = resolveLines(broken, world.accounts);
        expect(result).toBeInstanceOf(LedgerError);
        expect((result as LedgerError).code).toBe('UNBALANCED_ENTRY');
        expect((result as LedgerError).field).toBe('lines');
        // The message names the unit that does not balance.
        expect((result as LedgerError).message).toContain(`${target.unit}:`);
      }),
      run,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Reversal
// ---------------------------------------------------------------------------------------------

describe('reversal', () => {
  it('posting an entry then its reversal leaves every posted balance as it was', () => {
    fc.assert(
      fc.property(worldWithEntry({ initialTotals: true }), ({ world, lines }) => {
        const out = resolved(world, lines);
        const afterPost = unwrap(apply(world.accounts, out, 'POST'));
        const reversal = reversalLines(out);
        expect(reversal).toHaveLength(out.length);
        for (const [i, r] of reversal.entries()) {
          expect(r.side).toBe(oppositeSide(out[i]!.side));
          expect(r.amount).toBe(out[i]!.amount);
          expect(r.accountId).toBe(out[i]!.accountId);
        }
        const afterReversal = unwrap(apply(afterPost, reversal, 'POST'));
        for (const [id, before] of world.accounts) {
          const after = afterReversal.get(id)!;
          expectDecimal(balanceView(after.type, after).posted, balanceView(before.type, before).posted, id);
          // Nothing pending was touched.
          expectDecimal(after.pendingDebits, before.pendingDebits, `${id} pendingDebits`);
          expectDecimal(after.pendingCredits, before.pendingCredits, `${id} pendingCredits`);
        }
      }),
      run,
    );
  });

  it('reversalLines does not mutate its input', () => {
    const lines = [
      { accountId: 'a', side: 'DEBIT' as const, amount: new Decimal('1') },
      { accountId: 'b', side: 'CREDIT' as const, amount: new Decimal('1') },
    ];
    const reversed = reversalLines(lines);
    expect(lines.map((l) => l.side)).toEqual(['DEBIT', 'CREDIT']);
    expect(reversed.map((l) => l.side)).toEqual(['CREDIT', 'DEBIT']);
  });
});

// ---------------------------------------------------------------------------------------------
// Balances equal the sum of their lines
// ---------------------------------------------------------------------------------------------

describe('balances equal the sum of lines', () => {
  it('after any sequence of accepted entries, posted == signed sum and totals == sums by side', () => {
    const arb = worldArb().chain((world) =>
      fc
        .array(balancedEntryArb(world), { minLength: 1, maxLength: 8 })
        .map((entries) => ({ world, entries })),
    );
    fc.assert(
      fc.property(arb, ({ world, entries }) => {
        let accounts: Accounts = world.accounts;
        const kept: ResolvedLine[] = [];
        for (const lines of entries) {
          const out = resolved(world, lines);
          accounts = unwrap(apply(accounts, out, 'POST'));
          kept.push(...out);
        }
        for (const [id, account] of accounts) {
          const mine = kept.filter((l) => l.accountId === id);
          const signed = mine.reduce((s, l) => s.plus(signedAmount(account.type, l.side, l.amount)), ZERO);
          const debits = mine.filter((l) => l.side === 'DEBIT').reduce((s, l) => s.plus(l.amount), ZERO);
          const credits = mine.filter((l) => l.side === 'CREDIT').reduce((s, l) => s.plus(l.amount), ZERO);
          const view = balanceView(account.type, account);
          expectDecimal(view.posted, signed, `${id} posted`);
          expectDecimal(account.postedDebits, debits, `${id} postedDebits`);
          expectDecimal(account.postedCredits, credits, `${id} postedCredits`);
          expectDecimal(view.available, view.posted, `${id} available`);
          expectDecimal(view.projected, view.posted, `${id} projected`);
          expect(account.pendingDebits.isZero() && account.pendingCredits.isZero()).toBe(true);
        }
        // Per unit, the debit-normal and credit-normal balances net to zero (the accounting equation).
        for (const unit of world.units) {
          let debitNormal = ZERO;
          let creditNormal = ZERO;
          for (const a of accounts.values()) {
            if (a.unit.code !== unit.code) continue;
            const posted = balanceView(a.type, a).posted;
            if (normalSide(a.type) === 'DEBIT') debitNormal = debitNormal.plus(posted);
            else creditNormal = creditNormal.plus(posted);
          }
          expectDecimal(debitNormal, creditNormal, `accounting equation for ${unit.code}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('signedAmount follows the normal side of each account type', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ACCOUNT_TYPES),
        fc.constantFrom<Side>('DEBIT', 'CREDIT'),
        fc.bigInt({ min: 1n, max: 10n ** 20n }),
        (type: AccountType, side, minor) => {
          const amount = minorToDecimal(minor, 2);
          const expected = side === normalSide(type) ? amount : amount.negated();
          expectDecimal(signedAmount(type, side, amount), expected, 'signed');
          const totals =
            side === 'DEBIT'
              ? { ...ZERO_TOTALS, postedDebits: amount }
              : { ...ZERO_TOTALS, postedCredits: amount };
          expectDecimal(balanceView(type, totals).posted, expected, 'posted');
        },
      ),
      run,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Bounds, with posts, reservations, commits and releases
// ---------------------------------------------------------------------------------------------

type Op =
  | { kind: 'POST'; lines: LineInput[] }
  | { kind: 'RESERVE'; lines: LineInput[] }
  | { kind: 'COMMIT'; pick: number }
  | { kind: 'RELEASE'; pick: number };

describe('bounds', () => {
  it('applying only accepted movements never takes available below lowerBound or projected above upperBound', () => {
    const smallAmounts = () => 400n;
    const arb = worldArb({ scaleMax: 3, boundsMinor: 1000 }).chain((world) => {
      const op: fc.Arbitrary<Op> = fc.oneof(
        {
          weight: 3,
          arbitrary: balancedEntryArb(world, smallAmounts).map((lines) => ({ kind: 'POST' as const, lines })),
        },
        {
          weight: 3,
          arbitrary: balancedEntryArb(world, smallAmounts).map((lines) => ({
            kind: 'RESERVE' as const,
            lines,
          })),
        },
        { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'COMMIT' as const, pick })) },
        { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'RELEASE' as const, pick })) },
      );
      return fc.array(op, { minLength: 1, maxLength: 25 }).map((ops) => ({ world, ops }));
    });
    let rejected = 0;
    let accepted = 0;
    fc.assert(
      fc.property(arb, ({ world, ops }) => {
        let accounts: Accounts = world.accounts;
        const pending: ResolvedLine[][] = [];
        const posted: ResolvedLine[] = [];
        for (const op of ops) {
          if (op.kind === 'POST' || op.kind === 'RESERVE') {
            const out = resolved(world, op.lines);
            const next = apply(accounts, out, op.kind);
            if (next instanceof LedgerError) {
              rejected++;
              expect(next.code).toBe('BALANCE_BOUND_EXCEEDED');
              expect(next.field).toMatch(/^lines\[\d+\]\.accountId$/);
              continue;
            }
            accepted++;
            accounts = next;
            if (op.kind === 'POST') posted.push(...out);
            else pending.push(out);
          } else {
            if (pending.length === 0) continue;
            const [lines] = pending.splice(op.pick % pending.length, 1);
            // Resolving a reservation never makes the worst case worse, so it is never rejected.
            accounts = unwrap(apply(accounts, lines!, op.kind));
            if (op.kind === 'COMMIT') posted.push(...lines!);
          }
          for (const [id, a] of accounts) {
            const view = balanceView(a.type, a);
            if (a.lowerBound !== null) {
              expect(
                view.available.gte(a.lowerBound),
                `${id} available ${view.available} < ${a.lowerBound}`,
              ).toBe(true);
            }
            if (a.upperBound !== null) {
              expect(
                view.projected.lte(a.upperBound),
                `${id} projected ${view.projected} > ${a.upperBound}`,
              ).toBe(true);
            }
          }
        }
        // Model check: totals are exactly what the kept lines say.
        const outstanding = pending.flat();
        for (const [id, a] of accounts) {
          const sum = (ls: ResolvedLine[], side: Side) =>
            ls.filter((l) => l.accountId === id && l.side === side).reduce((s, l) => s.plus(l.amount), ZERO);
          expectTotals(
            a,
            {
              postedDebits: sum(posted, 'DEBIT'),
              postedCredits: sum(posted, 'CREDIT'),
              pendingDebits: sum(outstanding, 'DEBIT'),
              pendingCredits: sum(outstanding, 'CREDIT'),
            },
            id,
          );
        }
      }),
      { numRuns: 300 },
    );
    expect(rejected).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });

  it('an account already outside a bound (bound tightened later) may still move back toward it', () => {
    const accounts = new Map<string, AccountState>([
      ['cash', account('cash', 'ASSET', { lowerBound: ZERO, postedCredits: new Decimal('10') })],
      [
        'loan',
        account('loan', 'LIABILITY', { upperBound: new Decimal('5'), postedCredits: new Decimal('20') }),
      ],
    ]);
    // Debit cash (up, toward its lower bound) and debit the loan (down, toward its upper bound).
    const better = [
      { accountId: 'cash', side: 'DEBIT' as const, amount: new Decimal('4') },
      { accountId: 'loan', side: 'DEBIT' as const, amount: new Decimal('4') },
    ];
    expect(applyLines(accounts, better, 'POST')).not.toBeInstanceOf(LedgerError);
    const worse = applyLines(accounts, reversalLines(better), 'POST');
    expect(worse).toBeInstanceOf(LedgerError);
    expect((worse as LedgerError).code).toBe('BALANCE_BOUND_EXCEEDED');
    expect((worse as LedgerError).field).toBe('lines[0].accountId');
    const worseLoanOnly = applyLines(
      accounts,
      [{ accountId: 'loan', side: 'CREDIT', amount: new Decimal('1') }],
      'POST',
    );
    expect((worseLoanOnly as LedgerError).field).toBe('lines[0].accountId');
  });

  it('a rejected entry leaves the input accounts untouched (applyLines never mutates)', () => {
    const accounts = new Map<string, AccountState>([
      ['cash', account('cash', 'ASSET', { lowerBound: ZERO })],
      ['equity', account('equity', 'EQUITY')],
    ]);
    const snapshot = [...accounts.values()].map((a) => ({ ...a }));
    const result = applyLines(
      accounts,
      [
        { accountId: 'equity', side: 'DEBIT', amount: new Decimal('5') },
        { accountId: 'cash', side: 'CREDIT', amount: new Decimal('5') },
      ],
      'POST',
    );
    expect(result).toBeInstanceOf(LedgerError);
    expect((result as LedgerError).code).toBe('BALANCE_BOUND_EXCEEDED');
    expect((result as LedgerError).field).toBe('lines[1].accountId');
    expect([...accounts.values()]).toEqual(snapshot);
  });
});

// ---------------------------------------------------------------------------------------------
// Two-phase entries
// ---------------------------------------------------------------------------------------------

function account(id: string, type: AccountType, extra: Partial<AccountState> = {}): AccountState {
  return {
    id,
    bookId: 'book-1',
    type,
    unit: { code: 'USD', scale: 2 },
    lowerBound: null,
    upperBound: null,
    closed: false,
    ...ZERO_TOTALS,
    ...extra,
  };
}

describe('two-phase', () => {
  it('RESERVE then COMMIT equals POST, and leaves pending at zero', () => {
    fc.assert(
      fc.property(worldWithEntry({ initialTotals: true }), ({ world, lines }) => {
        const out = resolved(world, lines);
        const reserved = unwrap(apply(world.accounts, out, 'RESERVE'));
        const committed = unwrap(apply(reserved, out, 'COMMIT'));
        const postedDirectly = unwrap(apply(world.accounts, out, 'POST'));
        for (const [id, a] of committed) {
          expectTotals(totalsOf(a), totalsOf(postedDirectly.get(id)!), id);
          expect(a.pendingDebits.isZero() && a.pendingCredits.isZero(), `${id} pending`).toBe(true);
        }
        // While reserved, posted balances did not move.
        for (const [id, a] of reserved) {
          const before = world.accounts.get(id)!;
          expectDecimal(balanceView(a.type, a).posted, balanceView(before.type, before).posted, id);
        }
      }),
      run,
    );
  });

  it('RESERVE then RELEASE leaves all totals unchanged', () => {
    fc.assert(
      fc.property(worldWithEntry({ initialTotals: true }), ({ world, lines }) => {
        const out = resolved(world, lines);
        const reserved = unwrap(apply(world.accounts, out, 'RESERVE'));
        const released = unwrap(apply(reserved, out, 'RELEASE'));
        for (const [id, a] of released) expectTotals(totalsOf(a), totalsOf(world.accounts.get(id)!), id);
      }),
      run,
    );
  });

  it('a reservation counts against the bounds: a second reserve exceeding the bound together is rejected', () => {
    const arb = fc
      .record({
        type: fc.constantFrom(...ACCOUNT_TYPES),
        which: fc.constantFrom('lower', 'upper'),
        limit: fc.bigInt({ min: 2n, max: 10n ** 9n }),
      })
      .chain((r) =>
        fc
          .bigInt({ min: 1n, max: r.limit })
          .chain((first) =>
            fc.bigInt({ min: r.limit - first + 1n, max: r.limit }).map((second) => ({ ...r, first, second })),
          ),
      );
    fc.assert(
      fc.property(arb, ({ type, which, limit, first, second }) => {
        const bounded = account('bounded', type, {
          lowerBound: which === 'lower' ? minorToDecimal(-limit, 2) : null,
          upperBound: which === 'upper' ? minorToDecimal(limit, 2) : null,
        });
        const other = account('other', 'EQUITY');
        const accounts = new Map([
          ['other', other],
          ['bounded', bounded],
        ]);
        // Toward the bound: decreases for a lower bound, increases for an upper bound.
        const side: Side = which === 'lower' ? oppositeSide(normalSide(type)) : normalSide(type);
        const lines = (minor: bigint) => [
          { accountId: 'other', side: oppositeSide(side), amount: minorToDecimal(minor, 2) },
          { accountId: 'bounded', side, amount: minorToDecimal(minor, 2) },
        ];
        const afterFirst = unwrap(apply(accounts, lines(first), 'RESERVE'));
        // Alone, the second amount is within the bound, both as a reservation and as a post...
        unwrap(apply(accounts, lines(second), 'RESERVE'));
        unwrap(apply(accounts, lines(second), 'POST'));
        // ...but not on top of the first reservation, neither reserved nor posted.
        for (const movement of ['RESERVE', 'POST'] as const) {
          const result = apply(afterFirst, lines(second), movement);
          expect(result).toBeInstanceOf(LedgerError);
          expect((result as LedgerError).code).toBe('BALANCE_BOUND_EXCEEDED');
          expect((result as LedgerError).field).toBe('lines[1].accountId');
        }
        // Releasing the first makes room again.
        const afterRelease = unwrap(apply(afterFirst, lines(first), 'RELEASE'));
        unwrap(apply(afterRelease, lines(second), 'RESERVE'));
      }),
      run,
    );
  });

  it('resolving a reservation twice is a broken invariant (throws InvariantError)', () => {
    const accounts = new Map([
      ['a', account('a', 'ASSET')],
      ['b', account('b', 'EQUITY')],
    ]);
    const lines = [
      { accountId: 'a', side: 'DEBIT' as const, amount: new Decimal('3.00') },
      { accountId: 'b', side: 'CREDIT' as const, amount: new Decimal('3.00') },
    ];
    const reserved = unwrap(apply(accounts, lines, 'RESERVE'));
    const committed = unwrap(apply(reserved, lines, 'COMMIT'));
    expect(() => apply(committed, lines, 'COMMIT')).toThrow(InvariantError);
    expect(() => apply(committed, lines, 'RELEASE')).toThrow(InvariantError);
  });
});

// ---------------------------------------------------------------------------------------------
// parseAmount
// ---------------------------------------------------------------------------------------------

const scaleArb = fc.integer({ min: 0, max: UNIT_SCALE_MAX });
/** Positive minor units with at most 18 integer digits at `scale`. */
const validMinor = (scale: number) => fc.bigInt({ min: 1n, max: 10n ** BigInt(18 + scale) - 1n });
const unitOf = (scale: number): Unit => ({ code: 'TEST', scale });

function expectInvalidAmount(result: Decimal | LedgerError, field = 'amount'): void {
  expect(result).toBeInstanceOf(LedgerError);
  expect((result as LedgerError).code).toBe('INVALID_AMOUNT');
  expect((result as LedgerError).field).toBe(field);
}

describe('parseAmount', () => {
  it('round-trips formatAmount(parseAmount(s)) for literals written at the unit scale', () => {
    fc.assert(
      fc.property(
        scaleArb.chain((scale) => validMinor(scale).map((minor) => ({ scale, minor }))),
        ({ scale, minor }) => {
          const text = minorToLiteral(minor, scale);
          const value = unwrap(parseAmount(text, unitOf(scale), 'amount'));
          expect(formatAmount(value, scale)).toBe(text);
          const negative = unwrap(parseAmount(`-${text}`, unitOf(scale), 'amount', { allowNegative: true }));
          expect(formatAmount(negative, scale)).toBe(`-${text}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('accepts fewer decimals than the scale and formats them padded to the scale', () => {
    fc.assert(
      fc.property(
        scaleArb.chain((scale) => validMinor(scale).map((minor) => ({ scale, minor }))),
        ({ scale, minor }) => {
          const value = unwrap(parseAmount(minorToLiteral(minor, scale, true), unitOf(scale), 'amount'));
          expect(formatAmount(value, scale)).toBe(minorToLiteral(minor, scale));
        },
      ),
      run,
    );
  });

  it('accepts exactly 18 integer digits and rejects 19 or more, whatever the options', () => {
    expect(formatAmount(unwrap(parseAmount('999999999999999999', unitOf(0), 'amount')), 0)).toBe(
      '999999999999999999',
    );
    expect(
      formatAmount(unwrap(parseAmount('999999999999999999.999999999999999999', unitOf(18), 'amount')), 18),
    ).toBe('999999999999999999.999999999999999999');
    fc.assert(
      fc.property(
        fc.bigInt({ min: 10n ** 18n, max: 10n ** 30n }),
        fc.boolean(),
        fc.boolean(),
        (integer, negative, fraction) => {
          const text = `${negative ? '-' : ''}${integer}${fraction ? '.5' : ''}`;
          expectInvalidAmount(
            parseAmount(text, unitOf(2), 'amount', { allowNegative: true, allowZero: true }),
          );
        },
      ),
      run,
    );
  });

  it('rejects more decimal places than the scale (even trailing zeros), never rounding', () => {
    fc.assert(
      fc.property(
        scaleArb.chain((scale) => validMinor(scale + 1).map((minor) => ({ scale, minor }))),
        ({ scale, minor }) => {
          const text = minorToLiteral(minor, scale + 1);
          expectInvalidAmount(
            parseAmount(text, unitOf(scale), 'amount', { allowNegative: true, allowZero: true }),
          );
        },
      ),
      run,
    );
    expectInvalidAmount(parseAmount('1.50', unitOf(1), 'amount'));
    expectInvalidAmount(parseAmount('1.0', unitOf(0), 'amount'));
  });

  it('rejects exponent notation, NaN, Infinity, signs, spaces and malformed literals', () => {
    const bad = [
      '1e3',
      '1E3',
      '1e-2',
      '1.5e2',
      'NaN',
      'nan',
      'Infinity',
      '-Infinity',
      '+1',
      ' 1',
      '1 ',
      '1.',
      '.5',
      '-.5',
      '01',
      '-01',
      '00',
      '0x10',
      '0b1',
      '1_000',
      '1,000',
      '1,5',
      '--1',
      '-',
      '',
      '١',
      '１',
    ];
    for (const text of bad) {
      expectInvalidAmount(parseAmount(text, unitOf(2), 'amount', { allowNegative: true, allowZero: true }));
    }
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 6n }), fc.integer({ min: -20, max: 20 }), (m, e) => {
        expectInvalidAmount(
          parseAmount(`${m}e${e}`, unitOf(18), 'amount', { allowNegative: true, allowZero: true }),
        );
      }),
      run,
    );
    // Not a string at all (a JSON number slipped through).
    expectInvalidAmount(parseAmount(12 as unknown as string, unitOf(2), 'amount'));
  });

  it('rejects negative and zero line amounts by default', () => {
    fc.assert(
      fc.property(
        scaleArb.chain((scale) => validMinor(scale).map((minor) => ({ scale, minor }))),
        ({ scale, minor }) => {
          const result = parseAmount(minorToLiteral(-minor, scale), unitOf(scale), 'lines[0].amount');
          expectInvalidAmount(result, 'lines[0].amount');
          expect((result as LedgerError).message).toContain('negative');
        },
      ),
      run,
    );
    for (const zero of ['0', '0.0', '0.00', '-0', '-0.00']) {
      const result = parseAmount(zero, unitOf(2), 'amount');
      expectInvalidAmount(result);
      expect((result as LedgerError).message).toContain('greater than zero');
      // allowNegative alone does not admit zero.
      expectInvalidAmount(parseAmount(zero, unitOf(2), 'amount', { allowNegative: true }));
    }
  });

  it('treats "-0" as zero: rejected for lines, accepted with allowZero and normalised to unsigned zero', () => {
    for (const text of ['-0', '-0.0', '-0.00']) {
      for (const options of [{ allowZero: true }, { allowZero: true, allowNegative: true }]) {
        const value = unwrap(parseAmount(text, unitOf(2), 'lowerBound', options));
        expect(value.isZero()).toBe(true);
        expect(value.isNegative()).toBe(false);
        expect(formatAmount(value, 2)).toBe('0.00');
        expect(formatAmount(value, 0)).toBe('0');
      }
    }
    // Negative bounds need allowNegative; zero with allowZero alone is fine.
    expectInvalidAmount(parseAmount('-1', unitOf(2), 'lowerBound', { allowZero: true }), 'lowerBound');
    expect(formatAmount(unwrap(parseAmount('0', unitOf(2), 'b', { allowZero: true })), 2)).toBe('0.00');
  });

  it('never throws on arbitrary text, and accepts only plain decimal literals', () => {
    const literal = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.string({ unit: 'binary', maxLength: 30 }),
          fc.stringMatching(/^[-+.0-9eE ]{0,12}$/),
        ),
        scaleArb,
        fc.boolean(),
        fc.boolean(),
        (text, scale, allowNegative, allowZero) => {
          const result = parseAmount(text, unitOf(scale), 'amount', { allowNegative, allowZero });
          if (result instanceof LedgerError) {
            expect(result.code).toBe('INVALID_AMOUNT');
            expect(result.field).toBe('amount');
          } else {
            expect(text).toMatch(literal);
            expect(result.eq(new Decimal(text))).toBe(true);
            if (!allowNegative) expect(result.isNegative()).toBe(false);
            if (!allowZero) expect(result.isZero()).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Canonical forms
// ---------------------------------------------------------------------------------------------

const metadataKeyArb = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/).filter((k) => k !== '__proto__');
const dateArb = fc.date({
  min: new Date('2000-01-01T00:00:00Z'),
  max: new Date('2100-01-01T00:00:00Z'),
  noInvalidDate: true,
});

const chainEntryArb = fc.record({
  bookId: fc.uuid(),
  id: fc.uuid(),
  seq: fc.bigInt({ min: 1n, max: 10n ** 15n }).map(String),
  kind: fc.constantFrom(...ENTRY_KINDS),
  idempotencyKey: fc.stringMatching(/^[\x21-\x7e]{1,20}$/),
  effectiveAt: dateArb,
  recordedAt: dateArb,
  memo: fc.string({ maxLength: 30 }),
  metadataEntries: fc.uniqueArray(fc.tuple(metadataKeyArb, fc.string({ maxLength: 20 })), {
    selector: ([k]) => k,
    maxLength: 10,
  }),
  reversesId: fc.option(fc.uuid(), { nil: null }),
  pendingId: fc.option(fc.uuid(), { nil: null }),
  expiresAt: fc.option(dateArb, { nil: null }),
  postedBy: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
  lines: fc.array(
    fc.record({
      accountId: fc.uuid(),
      side: fc.constantFrom<Side>('DEBIT', 'CREDIT'),
      amount: fc
        .tuple(fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.integer({ min: 0, max: 6 }))
        .map(([m, s]) => minorToLiteral(m, s)),
      unitCode: fc.constantFrom(...UNIT_CODES),
    }),
    { minLength: 2, maxLength: 6 },
  ),
});

function toChainEntry(
  spec: Omit<ChainEntry, 'metadata'> & { metadataEntries: [string, string][] },
  order: [string, string][] = spec.metadataEntries,
): ChainEntry {
  const { metadataEntries: _ignored, ...rest } = spec;
  return { ...rest, metadata: Object.fromEntries(order) };
}

describe('canonicalEntry', () => {
  it('is deterministic and independent of metadata key insertion order', () => {
    const arb = chainEntryArb.chain((spec) =>
      fc
        .shuffledSubarray(spec.metadataEntries, {
          minLength: spec.metadataEntries.length,
          maxLength: spec.metadataEntries.length,
        })
        .map((shuffled) => ({ spec, shuffled })),
    );
    fc.assert(
      fc.property(arb, ({ spec, shuffled }) => {
        const a = toChainEntry(spec);
        const b = toChainEntry(structuredClone(spec), shuffled);
        const reversed = toChainEntry(spec, [...spec.metadataEntries].reverse());
        const text = canonicalEntry(a);
        expect(canonicalEntry(a)).toBe(text);
        expect(canonicalEntry(b)).toBe(text);
        expect(canonicalEntry(reversed)).toBe(text);
        const parsed = JSON.parse(text) as unknown[];
        expect(parsed[0]).toBe('entry/v1');
        const metadata = parsed[9] as [string, string][];
        const keys = metadata.map(([k]) => k);
        expect(keys).toEqual([...keys].sort());
        expect(Object.fromEntries(metadata)).toEqual(a.metadata);
      }),
      run,
    );
  });

  it('changes when a line, the metadata or a date changes', () => {
    fc.assert(
      fc.property(chainEntryArb, fc.nat(), (spec, pick) => {
        const base = toChainEntry(spec);
        const text = canonicalEntry(base);
        const i = pick % base.lines.length;
        const lineChanged = {
          ...base,
          lines: base.lines.map((l, j) => (j === i ? { ...l, amount: `${l.amount}1` } : l)),
        };
        const sideChanged = {
          ...base,
          lines: base.lines.map((l, j) => (j === i ? { ...l, side: oppositeSide(l.side) } : l)),
        };
        const reordered = { ...base, lines: [...base.lines.slice(1), base.lines[0]!] };
        const metadataChanged = { ...base, metadata: { ...base.metadata, 'extra.key': 'v' } };
        const dateChanged = { ...base, effectiveAt: new Date(base.effectiveAt.getTime() + 1) };
        for (const other of [lineChanged, sideChanged, metadataChanged, dateChanged]) {
          expect(canonicalEntry(other)).not.toBe(text);
        }
        if (JSON.stringify(base.lines[0]) !== JSON.stringify(base.lines[1])) {
          expect(canonicalEntry(reordered)).not.toBe(text);
        }
      }),
      run,
    );
  });
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const { tree: jsonTreeArb } = fc.letrec<{
  tree: Json;
  leaf: Json;
  arr: Json[];
  obj: { [key: string]: Json };
}>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('arr'), tie('obj')),
  leaf: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null)),
  arr: fc.array(tie('tree'), { maxLength: 4 }),
  obj: fc
    .uniqueArray(
      fc.tuple(
        fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'),
        tie('tree'),
      ),
      {
        selector: ([k]) => k,
        maxLength: 5,
      },
    )
    .map((entries) => Object.fromEntries(entries)),
}));
const requestArb = fc
  .uniqueArray(
    fc.tuple(
      fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'),
      jsonTreeArb,
    ),
    {
      selector: ([k]) => k,
      minLength: 1,
      maxLength: 5,
    },
  )
  .map((entries) => Object.fromEntries(entries) as { [key: string]: Json });

/** Deep copy with every object's keys inserted in reverse order and every null turned into undefined. */
function reorderAndUndefine(value: Json): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(reorderAndUndefine);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).reverse()) out[key] = reorderAndUndefine(value[key]!);
    return out;
  }
  return value;
}

/** Paths to every leaf and every empty container. */
function mutationPaths(value: Json, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) {
    return value.length === 0 ? [path] : value.flatMap((v, i) => mutationPaths(v, [...path, i]));
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length === 0 ? [path] : keys.flatMap((k) => mutationPaths(value[k]!, [...path, k]));
  }
  return [path];
}

/** A copy of `value` with the thing at `path` changed to a different JSON value. */
function mutateAt(value: Json, path: (string | number)[]): Json {
  if (path.length === 0) {
    if (value === null) return 0;
    if (typeof value === 'string') return `${value}x`;
    if (typeof value === 'number') return value + 1;
    if (typeof value === 'boolean') return !value;
    if (Array.isArray(value)) return [1];
    return { k: 1 };
  }
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? mutateAt(v, rest) : v));
  const obj = value as { [key: string]: Json };
  return Object.fromEntries(Object.keys(obj).map((k) => [k, k === head ? mutateAt(obj[k]!, rest) : obj[k]!]));
}

describe('canonicalRequest', () => {
  it('is equal for the same request with keys in a different order and undefined in place of null', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), requestArb, (operation, input) => {
        const text = canonicalRequest(operation, input);
        expect(canonicalRequest(operation, reorderAndUndefine(input))).toBe(text);
        expect(canonicalRequest(operation, structuredClone(input))).toBe(text);
      }),
      run,
    );
  });

  it('differs when any value differs, or the operation differs', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), requestArb, fc.nat(), (operation, input, pick) => {
        const text = canonicalRequest(operation, input);
        const paths = mutationPaths(input);
        const mutated = mutateAt(input, paths[pick % paths.length]!);
        expect(canonicalRequest(operation, mutated)).not.toBe(text);
        expect(canonicalRequest(`${operation}x`, input)).not.toBe(text);
      }),
      run,
    );
  });

  it('keeps array order (line order is part of the request)', () => {
    expect(canonicalRequest('post', { lines: [1, 2] })).not.toBe(canonicalRequest('post', { lines: [2, 1] }));
  });

  it('writes Dates as ISO instants', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(canonicalRequest('op', { at })).toBe(canonicalRequest('op', { at: '2026-01-02T03:04:05.678Z' }));
  });

  // Absent and null keys hash alike, so a retry that omits an optional field replays (they once did not).
  it('treats an absent key like a null one, as its doc comment says', () => {
    expect(canonicalRequest('op', { a: 1 })).toBe(canonicalRequest('op', { a: 1, memo: null }));
  });

  // A regression guard (fixed: server/core/chain.ts, normalise builds objects with
  // Object.fromEntries): with `out[key] = ...`, a "__proto__" key sets the prototype instead of a
  // property, so an own "__proto__" key (as JSON.parse produces) vanished and two different
  // requests canonicalised the same.
  it('does not drop an own "__proto__" key', () => {
    const withProto = JSON.parse('{"__proto__":{"a":1},"b":1}') as unknown;
    expect(canonicalRequest('op', withProto)).not.toBe(canonicalRequest('op', { b: 1 }));
  });
});

// Keep the Movement union and the fold helper honest: every movement is one applyLines accepts.
describe('movements', () => {
  it('every movement on an unbounded account is accepted', () => {
    const accounts = new Map([
      ['a', account('a', 'ASSET', { pendingDebits: new Decimal(5), pendingCredits: new Decimal(5) })],
      ['b', account('b', 'LIABILITY', { pendingDebits: new Decimal(5), pendingCredits: new Decimal(5) })],
    ]);
    const lines = [
      { accountId: 'a', side: 'DEBIT' as const, amount: new Decimal('1') },
      { accountId: 'b', side: 'CREDIT' as const, amount: new Decimal('1') },
    ];
    for (const movement of ['POST', 'RESERVE', 'COMMIT', 'RELEASE'] as const) {
      expect(apply(accounts, lines, movement)).not.toBeInstanceOf(LedgerError);
    }
  });
});

// The chain hashes the exact stored amount (issue 10 item 2): amounts the ledger accepts keep the
// text they were always hashed with, and a change below the unit's scale changes the text.
describe('chainAmount', () => {
  const scaleArb = fc.integer({ min: 0, max: UNIT_SCALE_MAX });
  /** A NUMERIC(38,18) value as the database returns it: 18 decimals, trailing zeros included. */
  const stored = (minor: bigint, scale: number) =>
    new Decimal(minorToLiteral(minor * 10n ** BigInt(UNIT_SCALE_MAX - scale), UNIT_SCALE_MAX));

  it('writes an amount of at most `scale` decimals exactly as before: at the unit scale', () => {
    fc.assert(
      fc.property(scaleArb, fc.bigInt({ min: 1n, max: 10n ** 36n - 1n }), (scale, minor) => {
        const value = stored(minor, scale);
        // What the chain hashed before the rule changed, and what a posted entry hashes now.
        expect(chainAmount(value, scale)).toBe(formatAmount(value, scale));
        expect(chainAmount(value, scale)).toBe(minorToLiteral(minor, scale));
      }),
      run,
    );
  });

  it('writes a finer amount in full, never as the amount it rounds to', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: UNIT_SCALE_MAX - 1 }),
        fc.bigInt({ min: 1n, max: 10n ** 36n - 1n }),
        (scale, minor18) => {
          const value = new Decimal(minorToLiteral(minor18, UNIT_SCALE_MAX));
          fc.pre(value.decimalPlaces() > scale);
          const text = chainAmount(value, scale);
          expect(new Decimal(text).equals(value)).toBe(true);
          expect(text).not.toBe(formatAmount(value, scale));
          expect(text).not.toBe(chainAmount(value.toDecimalPlaces(scale, Decimal.ROUND_DOWN), scale));
        },
      ),
      run,
    );
  });

  it('gives different values different texts (10.00 and 10.004 in a unit of scale 2)', () => {
    expect(chainAmount(new Decimal('10.000000000000000000'), 2)).toBe('10.00');
    expect(chainAmount(new Decimal('10.004000000000000000'), 2)).toBe('10.004');
    fc.assert(
      fc.property(
        scaleArb,
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        (scale, a, b) => {
          fc.pre(a !== b);
          const x = new Decimal(minorToLiteral(a, UNIT_SCALE_MAX));
          const y = new Decimal(minorToLiteral(b, UNIT_SCALE_MAX));
          expect(chainAmount(x, scale)).not.toBe(chainAmount(y, scale));
        },
      ),
      run,
    );
  });
});
