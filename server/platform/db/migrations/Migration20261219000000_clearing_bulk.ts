import { Migration } from '@mikro-orm/migrations';

/**
 * A clearing's writes as set-based work (issue 14's figures: commitClearing of 140,000 open
 * obligations took 15 s, measured by scripts/bench-clearing.ts with EXPLAIN ANALYZE):
 *
 * - Lowering `outstanding` on 121,000 obligations took 3.3 s, almost all of it new index entries:
 *   `outstanding` sat in the predicate of the partial index of open obligations, so no update
 *   could be HOT, and the heap pages were full. The index is now on (book_id, currency, id) for
 *   every obligation (reads of open obligations filter on the heap), and the table keeps half of
 *   each page free (fillfactor 50) so a clearing's new row versions stay on their page: HOT, no
 *   index entries, 0.8 s for the same update.
 * - The clearing's lines (one per obligation reduced) were checked by two foreign keys, a lookup
 *   per line each: 3.3 s of a 4.4 s insert. One statement-level check of the inserted lines
 *   (a transition table, anti-joins) gives the same guarantee (a line names an obligation of its
 *   book and a clearing of its book; obligations are never deleted, lines never change).
 * - The COMMIT-time assertion read each member's obligations through the debtor and creditor
 *   indexes, three times each (its filter repeated the sums): 1.5 s. It now sums the book's
 *   obligations per member once and joins by hash; nested loops are off inside the function, so a
 *   plan made without statistics (right after a bulk load) cannot turn quadratic as the first
 *   form of this check once did.
 */
export class Migration20261219000000_clearing_bulk extends Migration {
  override name = 'Migration20261219000000_clearing_bulk';

  override up(): void {
    this.addSql('alter table credit_obligation set (fillfactor = 50);');
    this.addSql('drop index if exists credit_obligation_open_idx;');
    this.addSql('create index credit_obligation_currency_idx on credit_obligation (book_id, currency, id);');
    this.addSql(
      'alter table credit_clearing_line drop constraint if exists credit_clearing_line_book_id_obligation_id_fkey;',
    );
    this.addSql(
      'alter table credit_clearing_line drop constraint if exists credit_clearing_line_book_id_clearing_id_fkey;',
    );
    this.addSql(`
create function credit_clearing_line_refs() returns trigger language plpgsql as $$
declare
  bad record;
begin
  select l.book_id, l.clearing_id, l.obligation_id into bad
    from new_lines l
   where not exists (select 1 from credit_obligation o where o.book_id = l.book_id and o.id = l.obligation_id)
      or not exists (select 1 from credit_clearing c where c.book_id = l.book_id and c.id = l.clearing_id)
   limit 1;
  if found then
    raise exception 'clearing line (%, %, %) names no obligation or clearing of its book',
      bad.book_id, bad.clearing_id, bad.obligation_id using errcode = 'foreign_key_violation';
  end if;
  return null;
end
$$;`);
    this.addSql(`
create trigger credit_clearing_line_refs after insert on credit_clearing_line
  referencing new table as new_lines for each statement execute function credit_clearing_line_refs();`);
    this.addSql(`
create or replace function credit_clearing_assert() returns trigger language plpgsql
set enable_nestloop = off as $$
declare
  bad record;
  n bigint;
begin
  select count(*) into n from credit_obligation where book_id = new.book_id;
  if n <> new.obligation_count then
    raise exception 'clearing %: obligations were created (% before, % after)', new.id, new.obligation_count, n
      using errcode = 'check_violation';
  end if;
  -- Each member's figures summed once for the whole book (a hash aggregate and hash joins).
  for bad in
    with obl as (
      select member_id, sum(v) as net from (
        select creditor_id as member_id, outstanding as v from credit_obligation
         where book_id = new.book_id and currency = new.currency
        union all
        select debtor_id, -outstanding from credit_obligation
         where book_id = new.book_id and currency = new.currency
      ) x group by member_id
    ), ledger as (
      select mc.member_id,
             (r.posted_debits - r.posted_credits) - (p.posted_credits - p.posted_debits) as net
        from credit_member_currency mc
        join account r on r.book_id = mc.book_id and r.id = mc.receivable_account_id
        join account p on p.book_id = mc.book_id and p.id = mc.payable_account_id
       where mc.book_id = new.book_id and mc.code = new.currency
         and r.book_id = new.book_id and p.book_id = new.book_id
    ), f as (
      select pos.member_id, pos.currency_before, pos.network_before,
             coalesce(obl.net, 0) as currency_after, coalesce(ledger.net, 0) as ledger_after,
             a.posted_credits - a.posted_debits as network_after
        from credit_clearing_position pos
        join credit_member m on m.book_id = pos.book_id and m.id = pos.member_id
        join account a on a.book_id = m.book_id and a.id = m.account_id
        left join obl on obl.member_id = pos.member_id
        left join ledger on ledger.member_id = pos.member_id
       where pos.book_id = new.book_id and pos.clearing_id = new.id
         and m.book_id = new.book_id and a.book_id = new.book_id
    )
    select * from f
     where f.currency_after + f.network_after <> f.currency_before + f.network_before
        or f.currency_after <> f.ledger_after
        or (new.mode = 'SETOFF' and (f.currency_after <> f.currency_before or f.network_after <> f.network_before))
     limit 1
  loop
    raise exception 'clearing %: the position of member % moved (currency % -> %, ledger %, network % -> %)',
      new.id, bad.member_id, bad.currency_before, bad.currency_after, bad.ledger_after, bad.network_before, bad.network_after
      using errcode = 'check_violation';
  end loop;
  if exists (
    select 1 from account a
     where a.book_id = new.book_id and a.posted_debits <> a.posted_credits
       and a.id in (select clearing_account_id from credit_currency where book_id = new.book_id and code = new.currency
                    union all select clearing_account_id from credit_network where book_id = new.book_id)
  ) then
    raise exception 'clearing %: a clearing account is not back at zero', new.id using errcode = 'check_violation';
  end if;
  return null;
end
$$;`);
  }

  override down(): void {
    this.addSql('drop trigger if exists credit_clearing_line_refs on credit_clearing_line;');
    this.addSql('drop function if exists credit_clearing_line_refs();');
    this.addSql(
      'alter table credit_clearing_line add foreign key (book_id, obligation_id) references credit_obligation (book_id, id);',
    );
    this.addSql(
      'alter table credit_clearing_line add foreign key (book_id, clearing_id) references credit_clearing (book_id, id);',
    );
    this.addSql('drop index if exists credit_obligation_currency_idx;');
    this.addSql(
      'create index credit_obligation_open_idx on credit_obligation (book_id, currency, id) where outstanding > 0;',
    );
    this.addSql('alter table credit_obligation reset (fillfactor);');
    // The assertion's previous form (Migration20261218000000_clearing_assert) is restored by running
    // that migration's up() again; this one does not repeat its text.
    this.addSql('alter function credit_clearing_assert() reset enable_nestloop;');
  }
}
