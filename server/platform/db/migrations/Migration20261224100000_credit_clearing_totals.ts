import { Migration } from '@mikro-orm/migrations';

/** A clearing's totals, summed over every open obligation of its currency. */
const TOTALS = [
  'outstanding_before',
  'setoff_total',
  'liquidity_total',
  'outstanding_after',
  'nid_before',
  'nid_after',
  'liquidity_used',
];

/**
 * A clearing's totals past 10^20 (issue 14, found by an audit). Each obligation holds at most 18
 * integer digits and each member's running totals stay below 10^20 (the ledger's limit), but a
 * clearing's totals sum every open obligation of its currency: 102 invoices of the largest amount
 * around a cycle of three members, each member well inside its totals, made an outstanding of
 * 1.02 x 10^20 that numeric(38, 18) cannot hold, and commitClearing failed with an internal error
 * after computing a correct plan. The totals take 40 integer digits now, the same 18 decimals
 * (a wider precision of the same scale: PostgreSQL rewrites nothing).
 */
export class Migration20261224100000_credit_clearing_totals extends Migration {
  override name = 'Migration20261224100000_credit_clearing_totals';

  override up(): void {
    this.addSql(
      `alter table credit_clearing ${TOTALS.map((c) => `alter column ${c} type numeric(58, 18)`).join(', ')};`,
    );
  }

  override down(): void {
    this.addSql(
      `alter table credit_clearing ${TOTALS.map((c) => `alter column ${c} type numeric(38, 18)`).join(', ')};`,
    );
  }
}
