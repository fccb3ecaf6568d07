/**
 * Money and units. decimal.js is configured once here: 80 significant digits so no arithmetic on
 * amounts of up to 38 digits ever rounds, banker's rounding where rounding is asked for explicitly,
 * and plain (never exponent) notation in `toString`.
 */
import { Decimal as BaseDecimal } from 'decimal.js';
import { LedgerError } from './errors.js';

export const Decimal = BaseDecimal.clone({
  precision: 80,
  rounding: BaseDecimal.ROUND_HALF_EVEN,
  toExpNeg: -80,
  toExpPos: 80,
});
export type Decimal = InstanceType<typeof Decimal>;

export const ZERO: Decimal = new Decimal(0);

/** Decimal places a unit may have. 18 matches the NUMERIC(38,18) columns. */
export const UNIT_SCALE_MAX = 18;
/** Integer digits an amount or bound may have; sums keep headroom inside NUMERIC(38,18). */
export const AMOUNT_INTEGER_DIGITS_MAX = 18;
/** Account totals (sums of amounts) must stay below 10^20: NUMERIC(38,18) holds 20 integer digits. */
export const TOTAL_LIMIT = new Decimal(10).pow(20);

/** ISO 4217 codes (`USD`) or custom ones (`HOUR`, `NET_CREDIT`): 2..16 of A-Z, 0-9 and `_`. */
const UNIT_CODE = /^[A-Z][A-Z0-9_]{1,15}$/;

/** A plain decimal literal: optional minus, digits, optional fraction. No exponent, no `+`, no spaces. */
const DECIMAL_LITERAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
/** A plain decimal literal of zero ("0", "-0.00"). */
const ZERO_LITERAL = /^-?0(\.0+)?$/;

export interface Unit {
  code: string;
  scale: number;
}

export function validateUnit(unit: Unit, field: string): LedgerError | null {
  if (!UNIT_CODE.test(unit.code)) {
    return new LedgerError(
      'INVALID_UNIT',
      `unit code "${unit.code}" must be 2 to 16 characters of A-Z, 0-9 and _, starting with a letter`,
      field,
    );
  }
  if (!Number.isInteger(unit.scale) || unit.scale < 0 || unit.scale > UNIT_SCALE_MAX) {
    return new LedgerError(
      'INVALID_UNIT',
      `unit scale must be an integer from 0 to ${UNIT_SCALE_MAX}`,
      field,
    );
  }
  return null;
}

/** True when `text` is a plain decimal literal as accepted on the wire (no exponent, NaN, Infinity). */
export function isDecimalLiteral(text: string): boolean {
  return DECIMAL_LITERAL.test(text);
}

/** Number of digits after the decimal point as written (trailing zeros count: "1.50" has 2). */
export function writtenScale(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** What checkAmountLiteral read of an accepted literal, for its parsers. */
export interface AmountLiteral {
  negative: boolean;
  /** Index of the decimal point, -1 without one. */
  dot: number;
  /** Decimal places as written (at most the unit's scale). */
  places: number;
  /** The literal is zero ("0", "-0.00"). */
  zero: boolean;
}

/**
 * The checks of a wire amount for a unit, in their order and with their errors, shared by
 * parseAmount (decimal.js) and parseMinor (minor units): a plain decimal literal, at most the
 * unit's scale in decimal places (rejected, never rounded), at most AMOUNT_INTEGER_DIGITS_MAX
 * integer digits, sign and zero as allowed. Read from the literal itself (no leading zeros but a
 * single 0 before the point), so a parser makes no value to check it.
 */
export function checkAmountLiteral(
  text: string,
  unit: Unit,
  field: string,
  options: { allowNegative?: boolean; allowZero?: boolean } = {},
): AmountLiteral | LedgerError {
  if (typeof text !== 'string' || !isDecimalLiteral(text)) {
    return new LedgerError(
      'INVALID_AMOUNT',
      'amount must be a plain decimal string such as "12.50" (no exponent, no NaN, no JSON number)',
      field,
    );
  }
  const places = writtenScale(text);
  if (places > unit.scale) {
    return new LedgerError(
      'INVALID_AMOUNT',
      `amount "${text}" has more than ${unit.scale} decimal places allowed for ${unit.code}`,
      field,
    );
  }
  const negative = text.charCodeAt(0) === 45; // '-'
  const dot = text.indexOf('.');
  const integerDigits = (dot < 0 ? text.length : dot) - (negative ? 1 : 0);
  if (integerDigits > AMOUNT_INTEGER_DIGITS_MAX) {
    return new LedgerError(
      'INVALID_AMOUNT',
      `amount "${text}" has more than ${AMOUNT_INTEGER_DIGITS_MAX} integer digits`,
      field,
    );
  }
  const zero = ZERO_LITERAL.test(text);
  if (negative && !zero && !options.allowNegative) {
    return new LedgerError('INVALID_AMOUNT', `amount "${text}" must not be negative`, field);
  }
  if (zero && !options.allowZero) {
    return new LedgerError('INVALID_AMOUNT', 'amount must be greater than zero', field);
  }
  return { negative, dot, places, zero };
}

/**
 * Parses a wire amount for a unit. Rejects (never rounds) more decimal places than the unit's
 * scale, and rejects magnitudes of more than AMOUNT_INTEGER_DIGITS_MAX integer digits.
 * `allowNegative` and `allowZero` are for bounds; line amounts are strictly positive.
 */
export function parseAmount(
  text: string,
  unit: Unit,
  field: string,
  options: { allowNegative?: boolean; allowZero?: boolean } = {},
): Decimal | LedgerError {
  const literal = checkAmountLiteral(text, unit, field, options);
  if (literal instanceof LedgerError) return literal;
  // "-0" and "0" are the same value; normalise the sign away.
  return literal.zero ? ZERO : new Decimal(text);
}

/** Formats an amount with exactly the unit's scale, the only wire format for money. */
export function formatAmount(value: Decimal, scale: number): string {
  return value.toFixed(scale);
}
