import { Migration } from '@mikro-orm/migrations';

/**
 * The clearing's COMMIT-time assertion (credit_clearing_assert, see Migration20261208100000_credit)
 * with the same checks, written so each member's figures are found by key: the first form joined
 * every position to an aggregate of all members' ledger accounts, and right after a bulk load (no
 * statistics yet) PostgreSQL planned it as a nested loop re-reading every member's accounts for
 * each position. scripts/bench-clearing.ts saw the COMMIT of a 3,200-member clearing run for
 * minutes; this form reads a member's obligations through the debtor and creditor indexes and its
 * accounts through their primary keys, whatever the statistics say.
 */
export class Migration20261218000000_clearing_assert extends Migration {
  override name = 'Migration20261218000000_clearing_assert';

  override up(): void {
    this.addSql(`
create or replace function credit_clearing_assert() returns trigger language plpgsql as $$
declare
  bad record;
  n bigint;
begin
  select count(*) into n from credit_obligation where book_id = new.book_id;
  if n <> new.obligation_count then
    raise exception 'clearing %: obligations were created (% before, % after)', new.id, new.obligation_count, n
      using errcode = 'check_violation';
  end if;
  -- One row per member position, each figure found by key (primary-key and member indexes), so the
  -- plan cannot turn quadratic when the planner's statistics lag a bulk load (they did: every
  -- position re-scanned all members' ledger accounts, minutes for 3,200 members).
  for bad in
    select pos.member_id, pos.currency_before, pos.network_before,
           f.currency_after, f.ledger_after, f.network_after
      from credit_clearing_position pos
      join credit_member m on m.book_id = pos.book_id and m.id = pos.member_id
      join account a on a.book_id = m.book_id and a.id = m.account_id
      cross join lateral (
        select coalesce((select sum(o.outstanding) from credit_obligation o
                          where o.book_id = pos.book_id and o.creditor_id = pos.member_id
                            and o.currency = new.currency), 0)
             - coalesce((select sum(o.outstanding) from credit_obligation o
                          where o.book_id = pos.book_id and o.debtor_id = pos.member_id
                            and o.currency = new.currency), 0) as currency_after,
               coalesce((select (r.posted_debits - r.posted_credits) - (p.posted_credits - p.posted_debits)
                           from credit_member_currency mc
                           join account r on r.book_id = mc.book_id and r.id = mc.receivable_account_id
                           join account p on p.book_id = mc.book_id and p.id = mc.payable_account_id
                          where mc.book_id = pos.book_id and mc.member_id = pos.member_id
                            and mc.code = new.currency), 0) as ledger_after,
               a.posted_credits - a.posted_debits as network_after
      ) f
     where pos.book_id = new.book_id and pos.clearing_id = new.id
       and (f.currency_after + f.network_after <> pos.currency_before + pos.network_before
            or f.currency_after <> f.ledger_after
            or (new.mode = 'SETOFF' and (f.currency_after <> pos.currency_before
                                         or f.network_after <> pos.network_before)))
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
    this.addSql(`
create or replace function credit_clearing_assert() returns trigger language plpgsql as $$
declare
  bad record;
  n bigint;
begin
  select count(*) into n from credit_obligation where book_id = new.book_id;
  if n <> new.obligation_count then
    raise exception 'clearing %: obligations were created (% before, % after)', new.id, new.obligation_count, n
      using errcode = 'check_violation';
  end if;
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
    )
    select pos.member_id, pos.currency_before, pos.network_before,
           coalesce(obl.net, 0) as currency_after, coalesce(ledger.net, 0) as ledger_after,
           a.posted_credits - a.posted_debits as network_after
      from credit_clearing_position pos
      join credit_member m on m.book_id = pos.book_id and m.id = pos.member_id
      join account a on a.book_id = m.book_id and a.id = m.account_id
      left join obl on obl.member_id = pos.member_id
      left join ledger on ledger.member_id = pos.member_id
     where pos.book_id = new.book_id and pos.clearing_id = new.id
       and (coalesce(obl.net, 0) + (a.posted_credits - a.posted_debits) <> pos.currency_before + pos.network_before
            or coalesce(obl.net, 0) <> coalesce(ledger.net, 0)
            or (new.mode = 'SETOFF' and (coalesce(obl.net, 0) <> pos.currency_before
                                         or a.posted_credits - a.posted_debits <> pos.network_before)))
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
}
