import { Migration } from '@mikro-orm/migrations';

/**
 * City reporting (issue 15).
 * - `reporting_profile`: what a co-op's treasurer reports that the ledger does not know (workers
 *   who are not members, worker-owners by gender and race/ethnicity as counts, city contracts,
 *   jobs created at founding or conversion), dated; append-only, the latest report as of a day
 *   counts.
 * - `reporting_coop_month`: the rollup, one value per co-op, month and measure (whole minor units
 *   or people), refreshed per co-op whose sources changed (`reporting_refresh` keeps what they
 *   were). Releases read these, never the journal.
 * - `reporting_frozen`: the figures a release used for the months it covered, with the co-op's
 *   classification then, so later releases republish them unchanged (a revision or a withdrawn
 *   co-op would otherwise show one co-op's figures as a difference between releases).
 * - `reporting_release`: one protected table per city and release, its cells stored sparsely.
 * Every row carries its co-op (book) or its city first.
 */
export class Migration20261217000000_reporting extends Migration {
  override name = 'Migration20261217000000_reporting';

  override up(): void {
    this.addSql(`
create table reporting_profile (
  book_id uuid not null references coop (book_id),
  id uuid not null,
  as_of date not null,
  workers_not_members integer not null check (workers_not_members between 0 and 1000000),
  worker_owners integer not null check (worker_owners between 0 and 1000000),
  gender jsonb not null,
  race jsonb not null,
  jobs_created_at_founding integer null check (jobs_created_at_founding between 0 and 1000000),
  city_contracts_count integer not null check (city_contracts_count between 0 and 1000000),
  city_contracts_value numeric(38, 18) not null check (city_contracts_value >= 0),
  -- owner or federation whose co-ops count as one contributor (null: the co-op alone)
  reporting_group text null check (length(reporting_group) between 1 and 100),
  idempotency_key text not null check (length(idempotency_key) between 1 and 128),
  request_hash text not null,
  recorded_at timestamptz not null,
  recorded_by text not null,
  primary key (book_id, id),
  unique (book_id, idempotency_key)
);`);
    this.addSql(
      'create index reporting_profile_as_of_idx on reporting_profile (book_id, as_of, recorded_at);',
    );
    this.addSql(
      'create trigger reporting_profile_immutable before update or delete on reporting_profile for each row execute function ledger_reject_mutation();',
    );
    this.addSql(`
create table reporting_coop_month (
  book_id uuid not null references coop (book_id),
  measure text not null,
  month date not null check (extract(day from month) = 1),
  value numeric(38, 0) not null,
  primary key (book_id, measure, month)
);`);
    this.addSql(`
create table reporting_refresh (
  book_id uuid primary key references coop (book_id),
  fingerprint text not null,
  refreshed_at timestamptz not null
);`);
    this.addSql(`
create table reporting_frozen (
  city_key text not null,
  book_id uuid not null references coop (book_id),
  measure text not null,
  month date not null,
  value numeric(38, 0) not null,
  neighbourhood text not null,
  sector text not null,
  kind text not null,
  group_key text not null,
  release_seq integer not null,
  primary key (city_key, book_id, measure, month)
);`);
    this.addSql(`
create table reporting_release (
  city_key text not null,
  seq integer not null check (seq >= 1),
  id uuid not null unique,
  city text not null,
  currency text not null,
  first_month date not null,
  through_month date not null,
  policy jsonb not null,
  dimensions jsonb not null,
  cells bytea not null,
  protection bytea not null,
  summary jsonb not null,
  created_at timestamptz not null,
  created_by text not null,
  primary key (city_key, seq)
);`);
  }

  override down(): void {
    this.addSql(
      'drop table if exists reporting_release, reporting_frozen, reporting_refresh, reporting_coop_month, reporting_profile;',
    );
  }
}
