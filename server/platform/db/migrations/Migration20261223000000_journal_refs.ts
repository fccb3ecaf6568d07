import { Migration } from '@mikro-orm/migrations';

/** The tables the journal names, never deleted or re-keyed: their key columns. */
const GUARDED_KEYS = { account: ['book_id', 'id'], book: ['id'] };

/**
 * The journal's references checked once per statement instead of once per row (issue 12).
 *
 * A write of 500 entries inserts 500 journal_entry rows and 1,000 journal_line rows, and three
 * foreign keys checked each of them with a lookup of its own: the entry's book, the line's entry
 * and the line's account. Each check is a query run through SPI (a plan started, an index probe,
 * a FOR KEY SHARE lock on the row found), and they took about a quarter of PostgreSQL's CPU in a
 * book's write (perf, batches of 500: SPI_execute_snapshot under AfterTriggerEndQuery 24% of the
 * backend's samples). A book's writes are serial, so that CPU is the book's throughput.
 *
 * The same guarantee, set-based:
 * - After each INSERT statement, one check of the rows it inserted (a transition table, anti-joins
 *   through the primary keys): every line names an entry of its book and an account of its book,
 *   every entry a book. A violation raises foreign_key_violation (23503) naming the first offending
 *   row, and the statement (the whole write) fails, as before.
 * - What the foreign keys also did, refuse to delete or re-key a row the journal names, is done by
 *   guards: entries and lines were already append-only (ledger_reject_mutation); accounts and
 *   books are now never deleted, truncated or given another id (an account is closed instead, and
 *   the service never deleted either). The guards refuse these outright rather than checking for
 *   references, so there is no window between a check and a concurrent insert (what the foreign
 *   key's FOR KEY SHARE lock closed).
 *
 * The other foreign keys stay: an entry's reversed or pending entry (NULL for almost every entry,
 * so the check returns at once), per-day totals and pending_open (a row per account per day, per
 * pending entry), and every table outside the journal.
 */
export class Migration20261223000000_journal_refs extends Migration {
  override name = 'Migration20261223000000_journal_refs';

  override up(): void {
    for (const [table, constraint] of [
      ['journal_line', 'journal_line_book_id_entry_id_fkey'],
      ['journal_line', 'journal_line_book_id_account_id_fkey'],
      ['journal_entry', 'journal_entry_book_id_fkey'],
    ] as const) {
      this.addSql(`alter table ${table} drop constraint if exists ${constraint};`);
    }
    this.addSql(`
create function ledger_check_line_refs() returns trigger language plpgsql as $$
declare
  bad record;
begin
  select n.book_id, n.entry_id, n.line_no into bad
    from new_rows n
   where not exists (select 1 from journal_entry e where e.book_id = n.book_id and e.id = n.entry_id)
   limit 1;
  if found then
    raise exception 'journal_line (book %, entry %, line %) names no entry of its book',
      bad.book_id, bad.entry_id, bad.line_no
      using errcode = 'foreign_key_violation', table = 'journal_line';
  end if;
  select n.book_id, n.entry_id, n.line_no, n.account_id into bad
    from new_rows n
   where not exists (select 1 from account a where a.book_id = n.book_id and a.id = n.account_id)
   limit 1;
  if found then
    raise exception 'journal_line (book %, entry %, line %) names account %, which is not an account of its book',
      bad.book_id, bad.entry_id, bad.line_no, bad.account_id
      using errcode = 'foreign_key_violation', table = 'journal_line';
  end if;
  return null;
end
$$;`);
    this.addSql(`
create function ledger_check_entry_refs() returns trigger language plpgsql as $$
declare
  bad record;
begin
  select n.book_id, n.id into bad
    from new_rows n
   where not exists (select 1 from book b where b.id = n.book_id)
   limit 1;
  if found then
    raise exception 'journal_entry % names book %, which does not exist', bad.id, bad.book_id
      using errcode = 'foreign_key_violation', table = 'journal_entry';
  end if;
  return null;
end
$$;`);
    this.addSql(`
create function ledger_keep_referenced() returns trigger language plpgsql as $$
begin
  raise exception '% rows are never deleted or given another id: the journal names them (close an account instead): % is not allowed',
    tg_table_name, tg_op
    using errcode = 'restrict_violation';
end
$$;`);
    this.addSql(
      'create trigger journal_line_refs after insert on journal_line referencing new table as new_rows for each statement execute function ledger_check_line_refs();',
    );
    this.addSql(
      'create trigger journal_entry_refs after insert on journal_entry referencing new table as new_rows for each statement execute function ledger_check_entry_refs();',
    );
    for (const [table, key] of Object.entries(GUARDED_KEYS)) {
      const changed = key.map((column) => `old.${column} <> new.${column}`).join(' or ');
      this.addSql(
        `create trigger ${table}_keep_delete before delete on ${table} for each row execute function ledger_keep_referenced();`,
      );
      this.addSql(
        `create trigger ${table}_keep_key before update of ${key.join(', ')} on ${table} for each row when (${changed}) execute function ledger_keep_referenced();`,
      );
      this.addSql(
        `create trigger ${table}_keep_truncate before truncate on ${table} for each statement execute function ledger_keep_referenced();`,
      );
    }
  }

  override down(): void {
    for (const table of Object.keys(GUARDED_KEYS)) {
      for (const what of ['delete', 'key', 'truncate']) {
        this.addSql(`drop trigger if exists ${table}_keep_${what} on ${table};`);
      }
    }
    this.addSql('drop trigger if exists journal_entry_refs on journal_entry;');
    this.addSql('drop trigger if exists journal_line_refs on journal_line;');
    this.addSql('drop function if exists ledger_keep_referenced();');
    this.addSql('drop function if exists ledger_check_entry_refs();');
    this.addSql('drop function if exists ledger_check_line_refs();');
    this.addSql(
      'alter table journal_entry add constraint journal_entry_book_id_fkey foreign key (book_id) references book (id);',
    );
    this.addSql(
      'alter table journal_line add constraint journal_line_book_id_entry_id_fkey foreign key (book_id, entry_id) references journal_entry (book_id, id);',
    );
    this.addSql(
      'alter table journal_line add constraint journal_line_book_id_account_id_fkey foreign key (book_id, account_id) references account (book_id, id);',
    );
  }
}
