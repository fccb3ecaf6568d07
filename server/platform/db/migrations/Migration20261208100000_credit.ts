import { Migration } from '@mikro-orm/migrations';

/**
 * Mutual credit (issue 14). A network is one book (its id is the book's): members' accounts,
 * payments and clearing entries all live in it, so a network stays on one shard. Every table
 * starts its key with the book. Money moves only as journal entries; these tables say who the
 * members are, what their limits were and why, which requests and obligations exist and what a
 * clearing did to each obligation.
 *
 * Guards kept by the database itself:
 * - limit changes, policy versions and clearings are append-only;
 * - an obligation's parties, amount and currency never change, it is never deleted, and what is
 *   outstanding never rises (a trigger);
 * - a committed clearing is checked at COMMIT (a deferred constraint trigger): no obligation was
 *   created, every member's position (what others owe it in the currency less what it owes, plus
 *   its network balance) is what it was, and pure set-off moved neither part; the ledger's
 *   receivable and payable accounts agree with the obligations; the clearing accounts are at zero.
 *   A failed check aborts the whole transaction, entries included.
 */
export class Migration20261208100000_credit extends Migration {
  override name = 'Migration20261208100000_credit';

  override up(): void {
    this.addSql(`
create table credit_network (
  book_id uuid primary key references book (id),
  name text not null,
  unit_code text not null,
  peg_currency text null,
  peg_rate numeric(38, 18) null check (peg_rate > 0),
  clearing_account_id uuid not null,
  member_seq integer not null default 0,
  idempotency_key text null check (length(idempotency_key) between 1 and 128),
  request_hash text null,
  created_at timestamptz not null,
  created_by text not null,
  foreign key (book_id, unit_code) references book_unit (book_id, code),
  foreign key (book_id, clearing_account_id) references account (book_id, id),
  check ((peg_currency is null) = (peg_rate is null))
);`);
    this.addSql(
      'create unique index credit_network_key on credit_network (idempotency_key) where idempotency_key is not null;',
    );
    this.addSql(`
create table credit_policy (
  book_id uuid not null references credit_network (book_id),
  version integer not null check (version >= 1),
  policy jsonb not null,
  reason text not null,
  idempotency_key text null,
  request_hash text null,
  created_at timestamptz not null,
  created_by text not null,
  primary key (book_id, version)
);`);
    this.addSql(
      'create unique index credit_policy_key on credit_policy (book_id, idempotency_key) where idempotency_key is not null;',
    );
    this.addSql(`
create table credit_member (
  book_id uuid not null references credit_network (book_id),
  id uuid not null,
  number integer not null check (number >= 1),
  coop_book_id uuid not null references coop (book_id),
  account_id uuid not null,
  limit_mode text not null check (limit_mode in ('POLICY', 'MANUAL')),
  idempotency_key text null check (length(idempotency_key) between 1 and 128),
  request_hash text null,
  joined_at timestamptz not null,
  joined_by text not null,
  primary key (book_id, id),
  unique (book_id, coop_book_id),
  unique (book_id, number),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql('create index credit_member_coop_idx on credit_member (coop_book_id);');
    this.addSql(
      'create unique index credit_member_key on credit_member (book_id, idempotency_key) where idempotency_key is not null;',
    );
    this.addSql(`
create table credit_limit_change (
  book_id uuid not null,
  id uuid not null,
  member_id uuid not null,
  limit_before numeric(38, 18) null,
  limit_after numeric(38, 18) not null,
  upper_before numeric(38, 18) null,
  upper_after numeric(38, 18) null,
  source text not null check (source in ('JOIN', 'STEWARD', 'POLICY')),
  reason text not null,
  idempotency_key text null,
  request_hash text null,
  changed_at timestamptz not null,
  changed_by text not null,
  primary key (book_id, id),
  foreign key (book_id, member_id) references credit_member (book_id, id)
);`);
    this.addSql(
      'create index credit_limit_change_member_idx on credit_limit_change (book_id, member_id, id);',
    );
    this.addSql(
      'create unique index credit_limit_change_key on credit_limit_change (book_id, idempotency_key) where idempotency_key is not null;',
    );
    this.addSql(`
create table credit_currency (
  book_id uuid not null references credit_network (book_id),
  code text not null,
  clearing_account_id uuid not null,
  primary key (book_id, code),
  foreign key (book_id, code) references book_unit (book_id, code),
  foreign key (book_id, clearing_account_id) references account (book_id, id)
);`);
    this.addSql(`
create table credit_member_currency (
  book_id uuid not null,
  member_id uuid not null,
  code text not null,
  receivable_account_id uuid not null,
  payable_account_id uuid not null,
  primary key (book_id, member_id, code),
  foreign key (book_id, member_id) references credit_member (book_id, id),
  foreign key (book_id, code) references credit_currency (book_id, code),
  foreign key (book_id, receivable_account_id) references account (book_id, id),
  foreign key (book_id, payable_account_id) references account (book_id, id)
);`);
    this.addSql(`
create table credit_payment_request (
  book_id uuid not null references credit_network (book_id),
  id uuid not null,
  payer_id uuid not null,
  payee_id uuid not null,
  amount numeric(38, 18) not null check (amount > 0),
  memo text not null,
  status text not null check (status in ('OPEN', 'PAID', 'HELD', 'COMPLETED', 'RELEASED', 'DECLINED', 'CANCELLED')),
  expires_at timestamptz not null,
  hold_expires_at timestamptz null,
  entry_key text null,
  idempotency_key text not null,
  request_hash text not null,
  created_at timestamptz not null,
  created_by text not null,
  decided_at timestamptz null,
  decided_by text null,
  decision_reason text null,
  decision_key text null,
  decision_hash text null,
  resolved_at timestamptz null,
  resolved_by text null,
  resolve_key text null,
  resolve_hash text null,
  primary key (book_id, id),
  unique (book_id, idempotency_key),
  foreign key (book_id, payer_id) references credit_member (book_id, id),
  foreign key (book_id, payee_id) references credit_member (book_id, id),
  check (payer_id <> payee_id)
);`);
    this.addSql('create index credit_request_payer_idx on credit_payment_request (book_id, payer_id, id);');
    this.addSql('create index credit_request_payee_idx on credit_payment_request (book_id, payee_id, id);');
    this.addSql(`
create table credit_obligation_batch (
  book_id uuid not null references credit_network (book_id),
  idempotency_key text not null,
  request_hash text not null,
  recorded integer not null,
  created_at timestamptz not null,
  created_by text not null,
  primary key (book_id, idempotency_key)
);`);
    this.addSql(`
create table credit_obligation (
  book_id uuid not null,
  id uuid not null,
  debtor_id uuid not null,
  creditor_id uuid not null,
  currency text not null,
  amount numeric(38, 18) not null check (amount > 0),
  outstanding numeric(38, 18) not null check (outstanding >= 0 and outstanding <= amount),
  due_on date not null,
  reference text not null check (length(reference) between 1 and 200),
  batch_key text not null,
  recorded_at timestamptz not null,
  recorded_by text not null,
  primary key (book_id, id),
  unique (book_id, creditor_id, currency, reference),
  foreign key (book_id, debtor_id) references credit_member (book_id, id),
  foreign key (book_id, creditor_id) references credit_member (book_id, id),
  foreign key (book_id, currency) references credit_currency (book_id, code),
  check (debtor_id <> creditor_id)
);`);
    this.addSql(
      'create index credit_obligation_open_idx on credit_obligation (book_id, currency, id) where outstanding > 0;',
    );
    this.addSql('create index credit_obligation_debtor_idx on credit_obligation (book_id, debtor_id, id);');
    this.addSql(
      'create index credit_obligation_creditor_idx on credit_obligation (book_id, creditor_id, id);',
    );
    this.addSql(`
create function credit_obligation_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    raise exception 'credit_obligation rows are never deleted' using errcode = 'restrict_violation';
  end if;
  if new.book_id <> old.book_id or new.id <> old.id or new.debtor_id <> old.debtor_id
     or new.creditor_id <> old.creditor_id or new.currency <> old.currency or new.amount <> old.amount
     or new.due_on <> old.due_on or new.reference <> old.reference then
    raise exception 'an obligation''s parties, amount, currency, due date and reference never change'
      using errcode = 'restrict_violation';
  end if;
  if new.outstanding > old.outstanding then
    raise exception 'what is outstanding on obligation % never rises (% to %)', old.id, old.outstanding, new.outstanding
      using errcode = 'restrict_violation';
  end if;
  return new;
end
$$;`);
    this.addSql(
      'create trigger credit_obligation_guard before update or delete on credit_obligation for each row execute function credit_obligation_guard();',
    );
    this.addSql(`
create table credit_clearing (
  book_id uuid not null references credit_network (book_id),
  id uuid not null,
  currency text not null,
  mode text not null check (mode in ('SETOFF', 'SETOFF_AND_LIQUIDITY')),
  obligations_considered integer not null,
  obligation_count bigint not null,
  outstanding_before numeric(38, 18) not null,
  setoff_total numeric(38, 18) not null,
  liquidity_total numeric(38, 18) not null,
  outstanding_after numeric(38, 18) not null,
  nid_before numeric(38, 18) not null,
  nid_after numeric(38, 18) not null,
  liquidity_used numeric(38, 18) not null,
  snapshot_hash text not null,
  entry_count integer not null,
  idempotency_key text not null,
  request_hash text not null,
  committed_at timestamptz not null,
  committed_by text not null,
  primary key (book_id, id),
  unique (book_id, idempotency_key),
  foreign key (book_id, currency) references credit_currency (book_id, code)
);`);
    this.addSql(`
create table credit_clearing_line (
  book_id uuid not null,
  clearing_id uuid not null,
  obligation_id uuid not null,
  setoff numeric(38, 18) not null check (setoff >= 0),
  liquidity numeric(38, 18) not null check (liquidity >= 0),
  primary key (book_id, clearing_id, obligation_id),
  foreign key (book_id, clearing_id) references credit_clearing (book_id, id),
  foreign key (book_id, obligation_id) references credit_obligation (book_id, id)
);`);
    this.addSql(
      'create index credit_clearing_line_obligation_idx on credit_clearing_line (book_id, obligation_id);',
    );
    this.addSql(`
create table credit_clearing_position (
  book_id uuid not null,
  clearing_id uuid not null,
  member_id uuid not null,
  currency_before numeric(38, 18) not null,
  network_before numeric(38, 18) not null,
  network_payment numeric(38, 18) not null,
  primary key (book_id, clearing_id, member_id),
  foreign key (book_id, clearing_id) references credit_clearing (book_id, id),
  foreign key (book_id, member_id) references credit_member (book_id, id)
);`);
    for (const table of [
      'credit_policy',
      'credit_limit_change',
      'credit_clearing',
      'credit_clearing_line',
      'credit_clearing_position',
    ]) {
      this.addSql(
        `create trigger ${table}_immutable before update or delete on ${table} for each row execute function ledger_reject_mutation();`,
      );
    }
    this.addSql(`
create function credit_clearing_assert() returns trigger language plpgsql as $$
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
    this.addSql(`
create constraint trigger credit_clearing_assert after insert on credit_clearing
  deferrable initially deferred for each row execute function credit_clearing_assert();`);
  }

  override down(): void {
    this.addSql(
      'drop table if exists credit_clearing_position, credit_clearing_line, credit_clearing, credit_obligation, credit_obligation_batch, credit_payment_request, credit_member_currency, credit_currency, credit_limit_change, credit_member, credit_policy, credit_network cascade;',
    );
    this.addSql('drop function if exists credit_clearing_assert();');
    this.addSql('drop function if exists credit_obligation_guard();');
  }
}
