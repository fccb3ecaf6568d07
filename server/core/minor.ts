/**
 * Money in integer minor units (bigint), for the posting engine's hot path: a unit of scale s
 * holds the amount a as the integer a * 10^s, exactly (bigint never rounds nor overflows, so sums
 * of amounts of up to 18 integer digits at scale 18 stay exact). The posting engine decides in
 * minor units and converts only at its edges: the wire (parseMinor rejects, never rounds, more
 * places than the unit's scale, with parseAmount's checks and messages), PostgreSQL's NUMERIC text
 * (minorFromNumeric, formatMinor) and decimal.js where the rest of the ledger wants a Decimal
 * (decimalOfMinor, minorOfDecimal). Never a JavaScript number.
 */
import { invariant, LedgerError } from './errors.js';
import { checkAmountLiteral, Decimal, UNIT_SCALE_MAX, type Unit } from './money.js';

/** 10^n as bigint, for n up to the largest total's digits at the largest scale. */
const POW10: bigint[] = Array.from({ length: 20 + UNIT_SCALE_MAX + 2 }, (_, n) => 10n ** BigInt(n));
/** '0' repeated n times, n up to UNIT_SCALE_MAX + 1. */
const ZEROS: string[] = Array.from({ length: UNIT_SCALE_MAX + 2 }, (_, n) => '0'.repeat(n));

/** 10^n as bigint. */
export function pow10(n: number): bigint {
  return POW10[n] ?? 10n ** BigInt(n);
}

/**
 * Account totals must stay below 10^20 (TOTAL_LIMIT): in minor units of a unit of `scale`,
 * 10^(20 + scale).
 */
export function totalLimitMinor(scale: number): bigint {
  return pow10(20 + scale);
}

/**
 * parseAmount in minor units: the same checks in the same order with the same errors
 * (checkAmountLiteral), and the amount times 10^scale as a bigint.
 */
export function parseMinor(
  text: string,
  unit: Unit,
  field: string,
  options: { allowNegative?: boolean; allowZero?: boolean } = {},
): bigint | LedgerError {
  const literal = checkAmountLiteral(text, unit, field, options);
  if (literal instanceof LedgerError) return literal;
  const { negative, dot, places, zero } = literal;
  if (zero) return 0n;
  const start = negative ? 1 : 0;
  // The digits without the point, then zeros up to the unit's scale: the amount in minor units.
  const digits =
    dot < 0
      ? text.slice(start) + ZEROS[unit.scale]!
      : text.slice(start, dot) + text.slice(dot + 1) + ZEROS[unit.scale - places]!;
  const value = BigInt(digits);
  return negative ? -value : value;
}

/**
 * An amount in minor units written with exactly `scale` decimal places, as Decimal's
 * toFixed(scale) writes the same value ("-1.50", "0.05", "12"); never "-0".
 */
export function formatMinor(minor: bigint, scale: number): string {
  const negative = minor < 0n;
  let digits = (negative ? -minor : minor).toString();
  if (scale === 0) return negative ? `-${digits}` : digits;
  if (digits.length <= scale) digits = ZEROS[scale - digits.length + 1]! + digits;
  const cut = digits.length - scale;
  const text = `${digits.slice(0, cut)}.${digits.slice(cut)}`;
  return negative ? `-${text}` : text;
}

/**
 * A PostgreSQL NUMERIC as text ("-12.340000000000000000", "7", "0") in minor units of a unit of
 * `scale`. A value with a non-zero digit beyond the scale is not an amount of that unit: that is a
 * programmer error (every amount and bound is checked at the unit's scale before it is stored),
 * so it throws rather than round.
 */
export function minorFromNumeric(text: string, scale: number): bigint {
  // Zero, as most pending totals read: no digits to put together.
  if (text === '0') return 0n;
  const negative = text.charCodeAt(0) === 45;
  const start = negative ? 1 : 0;
  const dot = text.indexOf('.');
  let digits: string;
  if (dot < 0) {
    digits = text.slice(start) + ZEROS[scale]!;
  } else {
    const fraction = text.length - dot - 1;
    if (fraction <= scale) {
      digits = text.slice(start, dot) + text.slice(dot + 1) + ZEROS[scale - fraction]!;
    } else {
      // Digits beyond the scale must all be zeros.
      for (let i = dot + 1 + scale; i < text.length; i++) {
        invariant(text.charCodeAt(i) === 48, `${text} has more than ${scale} decimal places`);
      }
      digits = text.slice(start, dot) + text.slice(dot + 1, dot + 1 + scale);
    }
  }
  invariant(/^[0-9]+$/.test(digits), `${text} is not a plain decimal number`);
  const value = BigInt(digits);
  return negative ? -value : value;
}

/** The Decimal of an amount in minor units. */
export function decimalOfMinor(minor: bigint, scale: number): Decimal {
  return new Decimal(formatMinor(minor, scale));
}

/** A Decimal in minor units of `scale`; it must have at most `scale` decimal places. */
export function minorOfDecimal(value: Decimal, scale: number): bigint {
  invariant(value.decimalPlaces() <= scale, `${value.toFixed()} has more than ${scale} decimal places`);
  return minorFromNumeric(value.toFixed(scale), scale);
}
