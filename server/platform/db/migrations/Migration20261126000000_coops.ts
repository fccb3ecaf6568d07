import { Migration } from '@mikro-orm/migrations';

/**
 * Cooperatives and their members. A co-op IS its book: `coop.book_id` is the primary key, so a
 * TREASURER grant on the book is a grant on the co-op, and every membership row carries the book
 * id first (the distribution key), like the ledger's own tables.
 *
 * Personal data (party name and contact) lives only in `party`, per co-op: each co-op keeps its
 * own register, as the controller of its members' data.
 */
export class Migration20261126000000_coops extends Migration {
  override name = 'Migration20261126000000_coops';

  override up(): void {
    this.addSql(`
create table coop (
  book_id uuid primary key references book (id),
  name text not null check (length(name) between 1 and 200),
  kind text not null check (kind in ('WORKER', 'CONSUMER', 'PRODUCER', 'MULTI_STAKEHOLDER', 'HOUSING', 'PLATFORM', 'CREDIT_UNION', 'OTHER')),
  naics_code text not null check (naics_code ~ '^[0-9]{2,6}$'),
  city text not null check (length(city) between 1 and 100),
  neighbourhood text not null default '' check (length(neighbourhood) <= 100),
  latitude numeric(9, 6) null check (latitude between -90 and 90),
  longitude numeric(9, 6) null check (longitude between -180 and 180),
  founded_on date not null,
  legal_form text not null check (length(legal_form) between 1 and 100),
  fiscal_year_start text not null check (fiscal_year_start ~ '^[0-9]{2}-[0-9]{2}$'),
  base_currency text not null,
  redemption_rule text not null check (redemption_rule in ('REPAY_NOW', 'HOLD')),
  data_sharing_consent boolean not null default false,
  data_sharing_consent_at timestamptz null,
  public_listing boolean not null default false,
  description text not null default '' check (length(description) <= 2000),
  website text not null default '' check (length(website) <= 500),
  member_seq integer not null default 0,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check ((latitude is null) = (longitude is null))
);`);
    // The public directory filters listed co-ops by city, case-insensitively, ordered by name.
    this.addSql('create index coop_directory_idx on coop (lower(city), name, book_id) where public_listing;');
    this.addSql(`
create table coop_account (
  book_id uuid not null references coop (book_id),
  purpose text not null,
  account_id uuid not null,
  primary key (book_id, purpose),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql(`
create table member_class (
  book_id uuid not null references coop (book_id),
  id uuid not null,
  code text not null check (code ~ '^[A-Za-z0-9_-]{1,40}$'),
  name text not null check (length(name) between 1 and 200),
  buy_in numeric(38, 18) not null check (buy_in >= 0),
  instalment_count integer not null check (instalment_count between 1 and 240),
  instalment_interval_months integer not null check (instalment_interval_months between 1 and 24),
  voting boolean not null,
  transferable boolean not null,
  created_at timestamptz not null,
  primary key (book_id, id),
  unique (book_id, code)
);`);
    this.addSql(`
create table party (
  book_id uuid not null references coop (book_id),
  id uuid not null,
  kind text not null check (kind in ('PERSON', 'ORGANIZATION')),
  name text not null check (length(name) between 1 and 200),
  email text not null default '' check (length(email) <= 254),
  phone text not null default '' check (length(phone) <= 50),
  address text not null default '' check (length(address) <= 500),
  organization_coop_id uuid null references coop (book_id),
  external_ref text null check (length(external_ref) between 1 and 100),
  created_at timestamptz not null,
  primary key (book_id, id)
);`);
    this.addSql(
      'create unique index party_external_ref_key on party (book_id, external_ref) where external_ref is not null;',
    );
    this.addSql(`
create table membership (
  book_id uuid not null references coop (book_id),
  id uuid not null,
  member_number integer not null,
  party_id uuid not null,
  class_id uuid not null,
  state text not null check (state in ('APPLICANT', 'CANDIDATE', 'ACTIVE', 'WITHDRAWN', 'TERMINATED')),
  state_since date not null,
  applied_on date not null,
  subscribed numeric(38, 18) not null check (subscribed >= 0),
  -- the unpaid part of the subscription cancelled when the member left
  subscription_cancelled numeric(38, 18) not null default 0 check (subscription_cancelled >= 0),
  share_capital_account_id uuid not null,
  subscription_receivable_account_id uuid not null,
  subscribed_unpaid_account_id uuid not null,
  internal_capital_account_id uuid not null,
  redemption_payable_account_id uuid not null,
  idempotency_key text not null,
  request_hash text not null,
  created_at timestamptz not null,
  primary key (book_id, id),
  unique (book_id, member_number),
  unique (book_id, idempotency_key),
  foreign key (book_id, party_id) references party (book_id, id),
  foreign key (book_id, class_id) references member_class (book_id, id),
  foreign key (book_id, share_capital_account_id) references account (book_id, id),
  foreign key (book_id, subscription_receivable_account_id) references account (book_id, id),
  foreign key (book_id, subscribed_unpaid_account_id) references account (book_id, id),
  foreign key (book_id, internal_capital_account_id) references account (book_id, id),
  foreign key (book_id, redemption_payable_account_id) references account (book_id, id)
);`);
    // A party holds at most one membership that has not ended in a co-op: one member, one vote.
    this.addSql(
      `create unique index membership_one_open_per_party on membership (book_id, party_id) where state not in ('WITHDRAWN', 'TERMINATED');`,
    );
    this.addSql('create index membership_party_idx on membership (book_id, party_id);');
    this.addSql(`
create table membership_event (
  book_id uuid not null,
  membership_id uuid not null,
  seq integer not null,
  from_state text null,
  to_state text not null,
  effective_on date not null,
  recorded_at timestamptz not null,
  recorded_by text null,
  note text not null default '' check (length(note) <= 1000),
  idempotency_key text null,
  -- a transition that moves money posts an entry with this same idempotency key
  request_hash text null,
  primary key (book_id, membership_id, seq),
  foreign key (book_id, membership_id) references membership (book_id, id)
);`);
    this.addSql(
      'create unique index membership_event_key on membership_event (book_id, idempotency_key) where idempotency_key is not null;',
    );
    // The history of a membership is never rewritten, like the journal.
    this.addSql(
      'create trigger membership_event_immutable before update or delete on membership_event for each row execute function ledger_reject_mutation();',
    );
    this.addSql(`
create table coop_import (
  book_id uuid not null references coop (book_id),
  idempotency_key text not null,
  request_hash text not null,
  kind text not null,
  result jsonb not null,
  recorded_at timestamptz not null,
  recorded_by text null,
  primary key (book_id, idempotency_key)
);`);
  }

  override down(): void {
    this.addSql(
      'drop table if exists coop_import, membership_event, membership, party, member_class, coop_account, coop;',
    );
  }
}
