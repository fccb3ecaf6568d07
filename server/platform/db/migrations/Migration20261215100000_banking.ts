import { Migration } from '@mikro-orm/migrations';

/**
 * Bank statements and reconciliation (issue 17). A bank account is a ledger account of the book
 * (ASSET or LIABILITY) with a remembered CSV column mapping; imported statement files, their lines
 * (deduplicated per account by a key made from the bank's reference, or from date, amount and
 * description), matches of lines to journal entries (one line, one entry), rules that post
 * unmatched lines, and reconciliations per statement period. Every row carries its book first
 * (the distribution key), like the ledger's own.
 *
 * Money moves only as journal entries; these tables say which bank line each entry stands for.
 * Guards kept by the database itself:
 * - statements and lines are append-only (an import is a record of what the bank said);
 * - an account's line keys are unique, so the same file imported twice adds nothing;
 * - an entry matches at most one line of an account, a line at most one entry;
 * - a closed reconciliation is never changed or deleted, and a match of a line it covers is
 *   never removed.
 */
export class Migration20261215100000_banking extends Migration {
  override name = 'Migration20261215100000_banking';

  override up(): void {
    this.addSql(`
create table bank_account (
  book_id uuid not null,
  account_id uuid not null,
  csv_mapping jsonb null,
  match_window_days integer not null default 3 check (match_window_days between 0 and 31),
  updated_at timestamptz not null,
  updated_by text not null,
  primary key (book_id, account_id),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql(`
create table bank_statement (
  book_id uuid not null,
  id uuid not null,
  account_id uuid not null,
  format text not null check (format in ('CSV', 'OFX', 'CAMT053')),
  file_name text not null default '',
  file_sha256 text not null,
  idempotency_key text not null check (length(idempotency_key) between 1 and 128),
  request_hash text not null,
  period_start date null,
  period_end date null,
  opening_balance numeric(38, 18) null,
  closing_balance numeric(38, 18) null,
  line_count integer not null check (line_count >= 0),
  imported_count integer not null check (imported_count >= 0),
  duplicate_count integer not null check (duplicate_count >= 0),
  created_at timestamptz not null,
  created_by text not null,
  primary key (book_id, id),
  unique (book_id, idempotency_key),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql(
      'create index bank_statement_account_idx on bank_statement (book_id, account_id, created_at, id);',
    );
    this.addSql(`
create table bank_line (
  book_id uuid not null,
  id uuid not null,
  account_id uuid not null,
  statement_id uuid not null,
  line_no integer not null check (line_no >= 1),
  booked_on date not null,
  value_on date null,
  amount numeric(38, 18) not null check (amount <> 0),
  description text not null default '',
  reference text null,
  counterparty text null,
  dedupe_key text not null,
  created_at timestamptz not null,
  primary key (book_id, id),
  unique (book_id, account_id, dedupe_key),
  foreign key (book_id, statement_id) references bank_statement (book_id, id),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql('create index bank_line_account_day_idx on bank_line (book_id, account_id, booked_on, id);');
    this.addSql('create index bank_line_statement_idx on bank_line (book_id, statement_id, line_no);');
    for (const table of ['bank_statement', 'bank_line']) {
      this.addSql(
        `create trigger ${table}_immutable before update or delete on ${table} for each row execute function ledger_reject_mutation();`,
      );
    }
    this.addSql(`
create table bank_rule (
  book_id uuid not null,
  id uuid not null,
  account_id uuid not null,
  priority integer not null,
  description_contains text not null check (length(description_contains) between 1 and 200),
  direction text not null check (direction in ('IN', 'OUT', 'ANY')),
  counter_account_id uuid not null,
  memo text null,
  created_at timestamptz not null,
  created_by text not null,
  primary key (book_id, id),
  foreign key (book_id, account_id) references account (book_id, id),
  foreign key (book_id, counter_account_id) references account (book_id, id)
);`);
    this.addSql('create index bank_rule_account_idx on bank_rule (book_id, account_id, priority, id);');
    this.addSql(`
create table bank_match (
  book_id uuid not null,
  line_id uuid not null,
  account_id uuid not null,
  entry_id uuid not null,
  how text not null check (how in ('SUGGESTION', 'CHOSEN', 'RULE', 'BY_HAND')),
  rule_id uuid null,
  matched_at timestamptz not null,
  matched_by text not null,
  primary key (book_id, line_id),
  unique (book_id, account_id, entry_id),
  foreign key (book_id, line_id) references bank_line (book_id, id),
  foreign key (book_id, entry_id) references journal_entry (book_id, id)
);`);
    this.addSql(`
create table bank_reconciliation (
  book_id uuid not null,
  id uuid not null,
  account_id uuid not null,
  period_start date not null,
  period_end date not null,
  statement_balance numeric(38, 18) not null,
  status text not null check (status in ('OPEN', 'CLOSED')),
  figures jsonb null,
  created_at timestamptz not null,
  created_by text not null,
  closed_at timestamptz null,
  closed_by text null,
  primary key (book_id, id),
  unique (book_id, account_id, period_start),
  check (period_end >= period_start),
  check ((status = 'CLOSED') = (closed_at is not null and figures is not null)),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql(
      "create unique index bank_reconciliation_one_open on bank_reconciliation (book_id, account_id) where status = 'OPEN';",
    );
    this.addSql(`
create table bank_request (
  book_id uuid not null,
  idempotency_key text not null check (length(idempotency_key) between 1 and 128),
  operation text not null,
  request_hash text not null,
  result jsonb not null,
  created_at timestamptz not null,
  created_by text not null,
  primary key (book_id, idempotency_key)
);`);
    // A closed reconciliation is final: no update, no delete.
    this.addSql(`
create function bank_reconciliation_guard() returns trigger language plpgsql as $$
begin
  if old.status = 'CLOSED' then
    raise exception 'bank reconciliation % is closed: % is not allowed', old.id, tg_op
      using errcode = 'restrict_violation';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;`);
    this.addSql(
      'create trigger bank_reconciliation_closed before update or delete on bank_reconciliation for each row execute function bank_reconciliation_guard();',
    );
    // A match of a line inside a closed reconciliation's period stays.
    this.addSql(`
create function bank_match_guard() returns trigger language plpgsql as $$
begin
  if exists (
    select 1 from bank_line l
      join bank_reconciliation r on r.book_id = l.book_id and r.account_id = l.account_id
       and r.status = 'CLOSED' and l.booked_on between r.period_start and r.period_end
     where l.book_id = old.book_id and l.id = old.line_id
  ) then
    raise exception 'bank line % is in a closed reconciliation: % is not allowed', old.line_id, tg_op
      using errcode = 'restrict_violation';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;`);
    this.addSql(
      'create trigger bank_match_closed before update or delete on bank_match for each row execute function bank_match_guard();',
    );
  }

  override down(): void {
    this.addSql(
      'drop table if exists bank_request, bank_reconciliation, bank_match, bank_rule, bank_line, bank_statement, bank_account cascade;',
    );
    this.addSql('drop function if exists bank_reconciliation_guard(), bank_match_guard();');
  }
}
