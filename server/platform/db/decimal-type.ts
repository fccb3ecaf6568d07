/** NUMERIC <-> Decimal. pg hands NUMERIC over as a string, which converts exactly. */
import { Type } from '@mikro-orm/core';
import { Decimal } from '../../core/money.js';

export class DecimalType extends Type<Decimal | null, string | null> {
  override convertToDatabaseValue(value: Decimal | null): string | null {
    return value === null || value === undefined ? null : value.toFixed();
  }

  override convertToJSValue(value: string | null): Decimal | null {
    return value === null || value === undefined ? null : new Decimal(value);
  }

  override compareAsType(): string {
    return 'string';
  }

  override getColumnType(): string {
    return 'numeric(38,18)';
  }
}
