import { Migration } from '@mikro-orm/migrations';

/**
 * Patronage (issue 13): a co-op's versioned patronage policy, members' patronage records, the
 * allocation runs with each member's allocation, and what was paid, redeemed or written off
 * against them. Every row carries the book first (the distribution key), like the ledger's own.
 *
 * Money moves only as journal entries; these tables say which entries belong to which run and
 * member. A run's `inputs` and `inputs_hash` are the proof that it can be reproduced to the cent.
 */
export class Migration20261207120000_patronage extends Migration {
  override name = 'Migration20261207120000_patronage';

  override up(): void {
    this.addSql(`
create table patronage_account (
  book_id uuid not null references coop (book_id),
  purpose text not null check (purpose in ('PATRONAGE_PAYABLE', 'COMMUNITY_FUND', 'SURPLUS_ALLOCATED')),
  account_id uuid not null,
  primary key (book_id, purpose),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql(`
create table patronage_policy (
  book_id uuid not null references coop (book_id),
  version integer not null check (version >= 1),
  policy jsonb not null,
  idempotency_key text null check (length(idempotency_key) between 1 and 128),
  request_hash text null,
  created_at timestamptz not null,
  created_by text null,
  primary key (book_id, version)
);`);
    this.addSql(
      'create unique index patronage_policy_key on patronage_policy (book_id, idempotency_key) where idempotency_key is not null;',
    );
    // A policy version is what a run used: never rewritten.
    this.addSql(
      'create trigger patronage_policy_immutable before update or delete on patronage_policy for each row execute function ledger_reject_mutation();',
    );
    this.addSql(`
create table patronage_record (
  book_id uuid not null,
  id uuid not null,
  membership_id uuid not null,
  measure text not null,
  period_start date not null,
  period_end date not null,
  quantity numeric(38, 18) not null check (quantity >= 0),
  batch_key text not null,
  created_at timestamptz not null,
  primary key (book_id, id),
  foreign key (book_id, membership_id) references membership (book_id, id),
  check (period_end >= period_start and period_end - period_start < 366)
);`);
    this.addSql(
      'create index patronage_record_member_idx on patronage_record (book_id, membership_id, measure, period_start);',
    );
    this.addSql('create index patronage_record_period_idx on patronage_record (book_id, period_start);');
    this.addSql(`
create table patronage_batch (
  book_id uuid not null references coop (book_id),
  idempotency_key text not null,
  request_hash text not null,
  kind text not null check (kind in ('RECORDS', 'CSV')),
  result jsonb not null,
  created_at timestamptz not null,
  created_by text null,
  primary key (book_id, idempotency_key)
);`);
    this.addSql(`
create table patronage_consent (
  book_id uuid not null,
  membership_id uuid not null,
  consented boolean not null,
  effective_on date not null,
  recorded_at timestamptz not null,
  recorded_by text null,
  primary key (book_id, membership_id),
  foreign key (book_id, membership_id) references membership (book_id, id)
);`);
    this.addSql(`
create table patronage_run (
  book_id uuid not null references coop (book_id),
  id uuid not null,
  fiscal_year integer not null,
  kind text not null check (kind in ('SURPLUS', 'LOSS')),
  status text not null check (status in ('COMMITTED', 'REVERSED')),
  policy_version integer not null,
  allocated_on date not null,
  surplus numeric(38, 18) not null,
  surplus_source text not null check (surplus_source in ('BOOK', 'GIVEN')),
  reserve numeric(38, 18) not null,
  community numeric(38, 18) not null,
  member_pool numeric(38, 18) not null,
  below_minimum numeric(38, 18) not null,
  inputs jsonb not null,
  inputs_hash text not null,
  -- figures shown with the run that are not columns (measures and their totals, policy terms)
  summary jsonb not null,
  entry_count integer not null,
  idempotency_key text not null,
  request_hash text not null,
  created_at timestamptz not null,
  created_by text null,
  reversed_at timestamptz null,
  reversed_by text null,
  reversal_key text null,
  reversal_request_hash text null,
  primary key (book_id, id),
  unique (book_id, idempotency_key),
  foreign key (book_id, policy_version) references patronage_policy (book_id, version)
);`);
    // One live run per fiscal year: a reversed run frees its year for a new one.
    this.addSql(
      `create unique index patronage_run_one_per_year on patronage_run (book_id, fiscal_year) where status = 'COMMITTED';`,
    );
    this.addSql(
      'create unique index patronage_run_reversal_key on patronage_run (book_id, reversal_key) where reversal_key is not null;',
    );
    this.addSql(`
create table patronage_allocation (
  book_id uuid not null,
  run_id uuid not null,
  membership_id uuid not null,
  member_number integer not null,
  fiscal_year integer not null,
  share text not null,
  patronage jsonb not null,
  allocation numeric(38, 18) not null,
  cash numeric(38, 18) not null,
  retained numeric(38, 18) not null,
  below_minimum numeric(38, 18) not null,
  qualified boolean not null,
  consent text not null check (consent in ('BYLAW', 'WRITTEN', 'NONE')),
  cash_paid numeric(38, 18) not null default 0,
  redeemed numeric(38, 18) not null default 0,
  written_off numeric(38, 18) not null default 0,
  primary key (book_id, run_id, membership_id),
  foreign key (book_id, run_id) references patronage_run (book_id, id),
  foreign key (book_id, membership_id) references membership (book_id, id),
  check (cash + retained = allocation),
  check (cash_paid >= 0 and cash_paid <= greatest(cash, 0)),
  check (redeemed >= 0 and written_off >= 0 and redeemed + written_off <= greatest(retained, 0))
);`);
    this.addSql(
      'create index patronage_allocation_member_idx on patronage_allocation (book_id, membership_id);',
    );
    this.addSql(`
create table patronage_payout (
  book_id uuid not null references coop (book_id),
  id uuid not null,
  kind text not null check (kind in ('CASH', 'REDEMPTION')),
  run_id uuid null,
  paid_on date not null,
  method text not null check (method in ('CASH', 'BANK')),
  total numeric(38, 18) not null,
  cap numeric(38, 18) null,
  entry_count integer not null,
  idempotency_key text not null,
  request_hash text not null,
  created_at timestamptz not null,
  created_by text null,
  primary key (book_id, id),
  unique (book_id, idempotency_key),
  foreign key (book_id, run_id) references patronage_run (book_id, id)
);`);
    this.addSql(
      `create unique index patronage_payout_cash_once on patronage_payout (book_id, run_id) where kind = 'CASH';`,
    );
    // What reduced an allocation: cash paid, retained redeemed (revolving or on leaving), or
    // written off by a loss. `source_id` is the payout, the loss or absorbing run, or the
    // membership event's key for a leaving member.
    this.addSql(`
create table patronage_payment (
  book_id uuid not null,
  source_id text not null,
  run_id uuid not null,
  membership_id uuid not null,
  kind text not null check (kind in ('CASH', 'REDEMPTION', 'LEAVING', 'WRITE_OFF')),
  amount numeric(38, 18) not null check (amount > 0),
  paid_on date not null,
  primary key (book_id, source_id, run_id, membership_id, kind),
  foreign key (book_id, run_id, membership_id) references patronage_allocation (book_id, run_id, membership_id)
);`);
    this.addSql(
      'create index patronage_payment_allocation_idx on patronage_payment (book_id, run_id, membership_id);',
    );
    this.addSql('create index patronage_payment_year_idx on patronage_payment (book_id, paid_on);');
  }

  override down(): void {
    this.addSql(
      'drop table if exists patronage_payment, patronage_payout, patronage_allocation, patronage_run, patronage_consent, patronage_batch, patronage_record, patronage_policy, patronage_account;',
    );
  }
}
