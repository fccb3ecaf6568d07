import { Migration } from '@mikro-orm/migrations';

/**
 * The database itself refuses an amount with more decimal places than its unit's scale: a line's
 * amount, an account's bounds and its four running totals (sums of line amounts, so never finer
 * than the unit). The application already refuses such amounts ("1.001" in USD is INVALID_AMOUNT);
 * this is the second wall, against writes that do not go through it. A CHECK constraint cannot
 * read the unit's scale from book_unit, so these are triggers.
 *
 * Statement-level AFTER triggers with transition tables: one set-based check per statement, so the
 * posting engine's single insert of a group's lines and single update of its accounts each cost
 * one small query over the rows they wrote, never one per row. (PostgreSQL allows a transition
 * table on a trigger of one event only, hence an INSERT and an UPDATE trigger per table.)
 *
 * Per-day totals (account_day_total) are left to the audit (auditBook), which recomputes them
 * from the lines: a day total finer than its unit differs from what the lines make.
 *
 * Rows already stored are not re-checked here: amounts finer than the unit can only have come from
 * outside the service, and auditBook and verifyBookChain report them.
 */
export class Migration20261206100000_amount_scale extends Migration {
  override name = 'Migration20261206100000_amount_scale';

  override up(): void {
    this.addSql(`
create function ledger_check_line_scale() returns trigger language plpgsql as $$
declare
  bad record;
begin
  select n.book_id, n.entry_id, n.line_no, n.amount, u.scale into bad
    from new_rows n join book_unit u on u.book_id = n.book_id and u.code = n.unit_code
   where n.amount <> trunc(n.amount, u.scale)
   limit 1;
  if found then
    raise exception 'journal_line (book %, entry %, line %): amount % has more decimal places than its unit allows (%)',
      bad.book_id, bad.entry_id, bad.line_no, bad.amount, bad.scale
      using errcode = 'check_violation';
  end if;
  return null;
end
$$;`);
    this.addSql(`
create function ledger_check_account_scale() returns trigger language plpgsql as $$
declare
  bad record;
begin
  select a.book_id, a.id, u.scale into bad
    from new_rows a join book_unit u on u.book_id = a.book_id and u.code = a.unit_code
   where a.lower_bound <> trunc(a.lower_bound, u.scale)
      or a.upper_bound <> trunc(a.upper_bound, u.scale)
      or a.posted_debits <> trunc(a.posted_debits, u.scale)
      or a.posted_credits <> trunc(a.posted_credits, u.scale)
      or a.pending_debits <> trunc(a.pending_debits, u.scale)
      or a.pending_credits <> trunc(a.pending_credits, u.scale)
   limit 1;
  if found then
    raise exception 'account (book %, id %): a bound or total has more decimal places than its unit allows (%)',
      bad.book_id, bad.id, bad.scale
      using errcode = 'check_violation';
  end if;
  return null;
end
$$;`);
    for (const [table, fn] of [
      ['journal_line', 'ledger_check_line_scale'],
      ['account', 'ledger_check_account_scale'],
    ] as const) {
      for (const event of ['insert', 'update'] as const) {
        this.addSql(
          `create trigger ${table}_scale_${event} after ${event} on ${table} referencing new table as new_rows for each statement execute function ${fn}();`,
        );
      }
    }
  }

  override down(): void {
    for (const table of ['journal_line', 'account']) {
      for (const event of ['insert', 'update']) {
        this.addSql(`drop trigger if exists ${table}_scale_${event} on ${table};`);
      }
    }
    this.addSql('drop function if exists ledger_check_line_scale();');
    this.addSql('drop function if exists ledger_check_account_scale();');
  }
}
