/** The pure membership rules and the CSV reader. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, parseCsv } from '../../server/coops/csv.js';
import {
  addMonths,
  checkTransition,
  Decimal,
  instalmentSchedule,
  isCalendarDate,
  isMonthDay,
  MEMBERSHIP_STATES,
  type MembershipState,
  memberAccountCode,
  splitEvenly,
  stateOn,
  votingRoll,
} from '../../server/core/index.js';

describe('splitEvenly', () => {
  it('splits into parts at the scale that sum exactly and differ by at most one smallest unit', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 240 }),
        (minor, scale, parts) => {
          const amount = new Decimal(minor.toString()).div(new Decimal(10).pow(scale));
          const split = splitEvenly(amount, parts, scale);
          expect(split.length).toBe(parts);
          expect(split.reduce((a, b) => a.plus(b), new Decimal(0)).eq(amount)).toBe(true);
          const step = new Decimal(10).pow(-scale);
          for (const part of split) {
            expect(part.decimalPlaces()).toBeLessThanOrEqual(scale);
            expect(part.minus(split[parts - 1]!).lte(step)).toBe(true);
            expect(part.gte(split[parts - 1]!)).toBe(true);
          }
        },
      ),
    );
  });

  it('gives the leftover cents to the first instalments', () => {
    expect(splitEvenly(new Decimal('100.00'), 3, 2).map((d) => d.toFixed(2))).toEqual([
      '33.34',
      '33.33',
      '33.33',
    ]);
    expect(splitEvenly(new Decimal('0.02'), 3, 2).map((d) => d.toFixed(2))).toEqual(['0.01', '0.01', '0.00']);
  });
});

describe('calendar dates', () => {
  it('accepts real dates only', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('1900-02-29')).toBe(false);
    expect(isCalendarDate('2000-02-29')).toBe(true);
    expect(isCalendarDate('2024-13-01')).toBe(false);
    expect(isCalendarDate('2024-1-01')).toBe(false);
    expect(isCalendarDate('2024-01-01T00:00:00Z')).toBe(false);
    expect(isMonthDay('02-29')).toBe(false);
    expect(isMonthDay('07-01')).toBe(true);
  });

  it('adds months clamped to the end of the month', () => {
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2023-01-31', 1)).toBe('2023-02-28');
    expect(addMonths('2024-11-15', 3)).toBe('2025-02-15');
    expect(addMonths('2024-03-31', 24)).toBe('2026-03-31');
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1990-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }),
        fc.nat(480),
        (d, n) => {
          const date = d.toISOString().slice(0, 10);
          const later = addMonths(date, n);
          expect(isCalendarDate(later)).toBe(true);
          expect(later >= date).toBe(true);
        },
      ),
    );
  });
});

describe('membership states', () => {
  it('allows exactly the transitions the README lists, and nothing out of a final state', () => {
    // Written out from the README, not read from the implementation: APPLICANT -> CANDIDATE ->
    // ACTIVE -> WITHDRAWN or TERMINATED; APPLICANT may go straight to ACTIVE; any open state may
    // end; the two end states are final. No state moves to itself.
    const states: MembershipState[] = ['APPLICANT', 'CANDIDATE', 'ACTIVE', 'WITHDRAWN', 'TERMINATED'];
    const allowed = new Set([
      'APPLICANT>CANDIDATE',
      'APPLICANT>ACTIVE',
      'APPLICANT>WITHDRAWN',
      'APPLICANT>TERMINATED',
      'CANDIDATE>ACTIVE',
      'CANDIDATE>WITHDRAWN',
      'CANDIDATE>TERMINATED',
      'ACTIVE>WITHDRAWN',
      'ACTIVE>TERMINATED',
    ]);
    // Every state the implementation knows is one of these (a new state must be added here too).
    expect([...MEMBERSHIP_STATES].sort()).toEqual([...states].sort());
    const refused: string[] = [];
    const accepted: string[] = [];
    for (const from of states) {
      for (const to of states) {
        const error = checkTransition(from, to, '2024-01-01', '2024-02-01', '2024-03-01');
        if (error === null) accepted.push(`${from}>${to}`);
        else {
          expect(error.code).toBe('ILLEGAL_TRANSITION');
          refused.push(`${from}>${to}`);
        }
      }
    }
    expect(accepted.sort()).toEqual([...allowed].sort());
    expect(refused).toHaveLength(25 - 9);
  });

  it('refuses transitions dated before the last one or in the future', () => {
    expect(checkTransition('APPLICANT', 'ACTIVE', '2024-02-01', '2024-01-31', '2024-03-01')?.code).toBe(
      'INVALID_DATE',
    );
    expect(checkTransition('APPLICANT', 'ACTIVE', '2024-02-01', '2024-03-02', '2024-03-01')?.code).toBe(
      'INVALID_DATE',
    );
    expect(checkTransition('APPLICANT', 'ACTIVE', '2024-02-01', '2024-02-01', '2024-03-01')).toBeNull();
  });

  it('answers the state on any date from the history', () => {
    const events = [
      { toState: 'APPLICANT' as MembershipState, effectiveOn: '2024-01-10', seq: 1 },
      { toState: 'ACTIVE' as MembershipState, effectiveOn: '2024-02-01', seq: 2 },
      { toState: 'WITHDRAWN' as MembershipState, effectiveOn: '2024-02-01', seq: 3 },
    ];
    expect(stateOn(events, '2024-01-09')).toBeNull();
    expect(stateOn(events, '2024-01-10')).toBe('APPLICANT');
    expect(stateOn(events, '2024-01-31')).toBe('APPLICANT');
    expect(stateOn(events, '2024-02-01')).toBe('WITHDRAWN');
  });

  it('puts each party on the voting roll once, only when active in a voting class', () => {
    const active = [{ toState: 'ACTIVE' as MembershipState, effectiveOn: '2024-01-01', seq: 1 }];
    const roll = votingRoll(
      [
        { partyId: 'a', voting: true, events: active, item: 'a1' },
        { partyId: 'a', voting: true, events: active, item: 'a2' },
        { partyId: 'b', voting: false, events: active, item: 'b1' },
        { partyId: 'c', voting: true, events: [{ ...active[0]!, toState: 'CANDIDATE' }], item: 'c1' },
        { partyId: 'd', voting: true, events: active, item: 'd1' },
      ],
      '2024-06-01',
    );
    expect(roll).toEqual(['a1', 'd1']);
  });
});

describe('instalment schedule', () => {
  const base = {
    buyIn: new Decimal('1200.00'),
    scale: 2,
    count: 24,
    intervalMonths: 1,
    startOn: '2024-01-15',
    today: '2024-04-15',
    ended: false,
  };

  it('lays out the plan and settles payments in order', () => {
    const s = instalmentSchedule({ ...base, paidTotal: new Decimal('125.00') });
    expect(s.length).toBe(24);
    expect(s[0]).toMatchObject({ dueOn: '2024-01-15', status: 'PAID' });
    expect(s[1]).toMatchObject({ dueOn: '2024-02-15', status: 'PAID' });
    expect(s[2]!.paid.toFixed(2)).toBe('25.00');
    expect(s[2]!.status).toBe('PARTLY_PAID');
    expect(s[3]).toMatchObject({ dueOn: '2024-04-15', status: 'DUE' });
    expect(s[4]!.status).toBe('UPCOMING');
    expect(s.reduce((a, i) => a.plus(i.amount), new Decimal(0)).toFixed(2)).toBe('1200.00');
    const ended = instalmentSchedule({ ...base, paidTotal: new Decimal('100.00'), ended: true });
    expect(ended.slice(0, 3).map((i) => i.status)).toEqual(['PAID', 'PAID', 'CANCELLED']);
    expect(instalmentSchedule({ ...base, buyIn: new Decimal(0), paidTotal: new Decimal(0) })).toEqual([]);
  });

  it('never shows more paid than paid, nor more than due', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 130_000 }), fc.integer({ min: 1, max: 36 }), (cents, count) => {
        const paidTotal = new Decimal(cents).div(100);
        const s = instalmentSchedule({ ...base, count, paidTotal });
        const paid = s.reduce((a, i) => a.plus(i.paid), new Decimal(0));
        expect(paid.eq(Decimal.min(paidTotal, base.buyIn))).toBe(true);
        for (const i of s) expect(i.paid.lte(i.amount)).toBe(true);
      }),
    );
  });
});

it('names member accounts after the chart parent and the member number', () => {
  expect(memberAccountCode('SHARE_CAPITAL', 42)).toBe('3000-00042');
  expect(memberAccountCode('INTERNAL_CAPITAL', 7)).toBe('3100-00007');
});

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, CRLF, a BOM and multi-line fields', () => {
    const records = parseCsv('\uFEFFa,b,c\r\n"x, y","say ""hi""",\r\n\r\n"multi\nline",2,3\n');
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', ''] },
      { line: 4, fields: ['multi\nline', '2', '3'] },
    ]);
  });

  it('names the line of a syntax error', () => {
    expect(() => parseCsv('a,b\n"open,2\n')).toThrow(CsvSyntaxError);
    expect(() => parseCsv('a,b\nx,y"z\n')).toThrow(expect.objectContaining({ line: 2 }));
    expect(() => parseCsv('a,b\n"x"y,2\n')).toThrow(/closing quote/);
  });

  it('reads back what a writer quoting every field wrote', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', ' ', 'é') });
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        (rows) => {
          const text = rows.map((r) => r.map((f) => `"${f.replaceAll('"', '""')}"`).join(',')).join('\r\n');
          expect(parseCsv(text).map((r) => r.fields)).toEqual(rows);
        },
      ),
    );
  });
});
