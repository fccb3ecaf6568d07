/**
 * Scalars. Money is a string on the wire: JSON numbers, exponent notation, NaN and Infinity are
 * refused here with INVALID_AMOUNT; the unit's scale is checked by the ledger, which knows the unit.
 */
import { GraphQLError, Kind } from 'graphql';
import { isCalendarDate, isDecimalLiteral } from '../server/core/index.js';
import { builder } from './builder.js';

function invalidAmount(detail: string): GraphQLError {
  return new GraphQLError(
    `Decimal must be a string holding a plain decimal number such as "12.50": ${detail}`,
    {
      extensions: { code: 'INVALID_AMOUNT' },
    },
  );
}

function parseDecimal(value: unknown): string {
  if (typeof value !== 'string') throw invalidAmount(`got a ${typeof value}`);
  if (value.length > 60 || !isDecimalLiteral(value))
    throw invalidAmount(`"${value.slice(0, 60)}" is not one`);
  return value;
}

builder.scalarType('Decimal', {
  description:
    'An exact decimal amount as a string, for example "1250.00". Never a JSON number, never exponent notation. ' +
    'Written with exactly the scale of its unit; inputs with more decimal places than the unit allows are rejected.',
  serialize: (value) => String(value),
  parseValue: parseDecimal,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw invalidAmount(`got a ${ast.kind} literal`);
    return parseDecimal(ast.value);
  },
});

/*
 * Date and DateTime are the project's own rather than `graphql-scalars`' (2.0.0 was tried against
 * this graphql 16.15.0): its scalars answer a bad value with no `extensions.code` (a client could
 * not tell a bad date from any other error, and this API answers INVALID_DATE for both), its
 * DateTime refuses a plain date (which `effectiveAt` takes here, as 00:00 UTC) and accepts years
 * such as 0001, its Date parses to a JS Date (a time-zone trap for a calendar day) and its
 * LocalDate has no range. Wrapping them to keep this API's properties would leave them doing only
 * what the regular expression below does, for a 6.7 MB dependency.
 */

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;
const PLAIN_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** True when the written calendar fields exist (no Feb 30, no hour 24): Date would roll them over. */
function fieldsExist(m: RegExpExecArray): boolean {
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const second = m[7] === undefined ? 0 : Number(m[7]);
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  const offsetOk = m[9] === 'Z' || (Number(m[10]) <= 23 && Number(m[11]) <= 59);
  return (
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    second <= 59 &&
    offsetOk
  );
}

/** A malformed Date or DateTime: INVALID_DATE, like every other date problem of the API. */
function invalidDate(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'INVALID_DATE' } });
}

const DATETIME_FORMS =
  'DateTime must be an ISO-8601 instant with a time zone ("2026-01-31T12:00:00Z") or a calendar date ("2026-01-31", read as 00:00 UTC)';

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string') throw invalidDate(`${DATETIME_FORMS}; got a ${typeof value}`);
  // A plain calendar date is that day's 00:00 UTC: how membership money is dated (payInstalment's
  // paidOn), so `effectiveAt: "2026-11-01"` means what a Date field would.
  if (PLAIN_DATE.test(value)) {
    if (!isCalendarDate(value)) throw invalidDate(`"${value}" is not a calendar date`);
    return new Date(`${value}T00:00:00.000Z`);
  }
  const match = ISO_INSTANT.exec(value);
  if (!match || !fieldsExist(match)) throw invalidDate(DATETIME_FORMS);
  // The ledger keeps instants to the millisecond: finer digits would be cut silently, so an
  // instant that differs from what is stored is refused (trailing zeros, ".120000Z", are fine).
  if (match[8] !== undefined && /[1-9]/.test(match[8].slice(4)))
    throw invalidDate(`DateTime "${value}" is finer than a millisecond; give at most 3 fractional digits`);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalidDate(`DateTime "${value}" is not a valid instant`);
  return date;
}

builder.scalarType('DateTime', {
  description:
    'An instant as an ISO-8601 string with a time zone, millisecond precision, e.g. "2026-01-31T12:00:00.000Z". ' +
    'Inputs may also be a calendar date "YYYY-MM-DD", read as 00:00 UTC of that day. A malformed value is INVALID_DATE.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw invalidDate(`${DATETIME_FORMS}; got a ${ast.kind} literal`);
    return parseDateTime(ast.value);
  },
});

const DATE_FORM =
  'Date must be a calendar date "YYYY-MM-DD" from 1900-01-01 to 2999-12-31, e.g. "2026-01-31"';

function parseDate(value: unknown): string {
  if (typeof value !== 'string' || value.length !== 10 || !isCalendarDate(value))
    throw invalidDate(DATE_FORM);
  return value;
}

builder.scalarType('Date', {
  description:
    'A calendar date as a string "YYYY-MM-DD" (no time, no zone), from 1900-01-01 to 2999-12-31; dates that do not exist (2026-02-30) are refused. ' +
    'Membership events happen on a day; money events dated by a Date count from 00:00 UTC of that day. A malformed value is INVALID_DATE.',
  serialize: (value) => {
    const text = String(value);
    if (!isCalendarDate(text)) throw new GraphQLError('Date: not a calendar date');
    return text;
  },
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw invalidDate(`${DATE_FORM}; got a ${ast.kind} literal`);
    return parseDate(ast.value);
  },
});
