import { Migration } from '@mikro-orm/migrations';

/**
 * The ledger core. Every ledger table starts its primary key with `book_id`: the book is the
 * distribution key, so a book's accounts, entries and lines can live on one shard of a
 * distributed PostgreSQL later. No sequence is shared across books: ids are UUIDv7 made by the
 * application and `seq` is a per-book counter kept on the book row (the hash-chain head).
 *
 * Amounts are NUMERIC(38,18): scales 0..18 fit exactly and the application limits amounts to 18
 * integer digits, so account totals keep 20 integer digits of headroom.
 *
 * Primary keys are added after the other indexes on purpose. Foreign-key checks run a cached
 * generic plan (`where book_id = $1 and id = $2`); on a new, empty table every index that starts
 * with book_id costs the same, PostgreSQL keeps the last one it considered, and a plan on, say,
 * (book_id, effective_at) then scans the whole book for every line inserted. Created last, the
 * primary key wins the tie; once statistics exist it wins on cost (see also the statistics
 * keeper in server/app/posting.ts).
 */
export class Migration20261125000000_ledger_core extends Migration {
  override name = 'Migration20261125000000_ledger_core';

  override up(): void {
    this.addSql(`
create table book (
  id uuid primary key,
  name text not null,
  description text not null default '',
  max_backdate_days integer not null check (max_backdate_days between 0 and 36600),
  -- head of the hash chain: number and hash of the last entry posted in this book
  entry_seq bigint not null default 0,
  last_hash text not null,
  created_at timestamptz not null
);`);
    this.addSql(`
create table book_unit (
  book_id uuid not null references book (id),
  code text not null,
  scale smallint not null check (scale between 0 and 18),
  primary key (book_id, code)
);`);
    this.addSql(`
create table account (
  book_id uuid not null references book (id),
  id uuid not null,
  code text not null,
  name text not null,
  type text not null check (type in ('ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE')),
  unit_code text not null,
  parent_id uuid null,
  lower_bound numeric(38, 18) null,
  upper_bound numeric(38, 18) null,
  closed_at timestamptz null,
  posted_debits numeric(38, 18) not null default 0 check (posted_debits >= 0),
  posted_credits numeric(38, 18) not null default 0 check (posted_credits >= 0),
  pending_debits numeric(38, 18) not null default 0 check (pending_debits >= 0),
  pending_credits numeric(38, 18) not null default 0 check (pending_credits >= 0),
  created_at timestamptz not null,
  constraint account_book_code_key unique (book_id, code),
  foreign key (book_id, unit_code) references book_unit (book_id, code),
  check (lower_bound is null or upper_bound is null or lower_bound <= upper_bound)
);`);
    this.addSql(
      'create index account_parent_idx on account (book_id, parent_id) where parent_id is not null;',
    );
    this.addSql('alter table account add constraint account_pkey primary key (book_id, id);');
    this.addSql(
      'alter table account add constraint account_parent_fkey foreign key (book_id, parent_id) references account (book_id, id);',
    );
    this.addSql(`
create table journal_entry (
  book_id uuid not null references book (id),
  id uuid not null,
  seq bigint not null check (seq > 0),
  kind text not null check (kind in ('STANDARD', 'REVERSAL', 'PENDING', 'COMMIT', 'VOID')),
  idempotency_key text not null,
  request_hash text not null,
  effective_at timestamptz not null,
  recorded_at timestamptz not null,
  memo text not null default '',
  metadata jsonb not null default '{}'::jsonb,
  reverses_id uuid null,
  pending_id uuid null,
  expires_at timestamptz null,
  posted_by text null,
  prev_hash text not null,
  hash text not null,
  constraint journal_entry_seq_key unique (book_id, seq),
  constraint journal_entry_idempotency_key unique (book_id, idempotency_key),
  check ((kind = 'REVERSAL') = (reverses_id is not null)),
  check ((kind in ('COMMIT', 'VOID')) = (pending_id is not null)),
  check (kind = 'PENDING' or expires_at is null)
);`);
    this.addSql('create index journal_entry_effective_idx on journal_entry (book_id, effective_at, seq);');
    // An entry is reversed at most once, a pending entry is resolved at most once. Partial: most
    // entries have neither link, and those cost nothing to index.
    this.addSql(
      'create unique index journal_entry_reverses_key on journal_entry (book_id, reverses_id) where reverses_id is not null;',
    );
    this.addSql(
      'create unique index journal_entry_pending_key on journal_entry (book_id, pending_id) where pending_id is not null;',
    );
    this.addSql('alter table journal_entry add constraint journal_entry_pkey primary key (book_id, id);');
    this.addSql(
      'alter table journal_entry add constraint journal_entry_reverses_fkey foreign key (book_id, reverses_id) references journal_entry (book_id, id);',
    );
    this.addSql(
      'alter table journal_entry add constraint journal_entry_pending_fkey foreign key (book_id, pending_id) references journal_entry (book_id, id);',
    );
    this.addSql(`
create table journal_line (
  book_id uuid not null,
  entry_id uuid not null,
  line_no smallint not null,
  account_id uuid not null,
  side text not null check (side in ('DEBIT', 'CREDIT')),
  amount numeric(38, 18) not null check (amount > 0),
  unit_code text not null,
  -- copied from the entry so balance-as-of reads stay on this table's index
  effective_at timestamptz not null,
  -- PENDING lines reserve against bounds; POSTED lines count in the posted balance
  phase text not null check (phase in ('POSTED', 'PENDING')),
  seq bigint not null,
  foreign key (book_id, entry_id) references journal_entry (book_id, id),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql(
      'create index journal_line_account_idx on journal_line (book_id, account_id, effective_at, seq);',
    );
    this.addSql(
      'alter table journal_line add constraint journal_line_pkey primary key (book_id, entry_id, line_no);',
    );
    this.addSql(`
-- Posted movement per account per UTC day of effective_at: balance as of any instant is the sum
-- of whole days before it plus the lines of its own day, never a scan of every line.
create table account_day_total (
  book_id uuid not null,
  account_id uuid not null,
  day date not null,
  debits numeric(38, 18) not null,
  credits numeric(38, 18) not null,
  primary key (book_id, account_id, day),
  foreign key (book_id, account_id) references account (book_id, id)
);`);
    this.addSql(`
-- Pending entries not yet committed or voided (the journal itself is append-only, so this small
-- mutable table is what the expiry sweep reads; a row leaves when its entry is resolved).
create table pending_open (
  book_id uuid not null,
  entry_id uuid not null,
  expires_at timestamptz null,
  primary key (book_id, entry_id),
  foreign key (book_id, entry_id) references journal_entry (book_id, id)
);`);
    this.addSql(
      'create index pending_open_expiry_idx on pending_open (expires_at) where expires_at is not null;',
    );
    this.addSql(`
create function ledger_reject_mutation() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only: % is not allowed', tg_table_name, tg_op
    using errcode = 'restrict_violation';
end
$$;`);
    for (const table of ['journal_entry', 'journal_line']) {
      this.addSql(
        `create trigger ${table}_immutable before update or delete on ${table} for each row execute function ledger_reject_mutation();`,
      );
      this.addSql(
        `create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function ledger_reject_mutation();`,
      );
    }
  }

  override down(): void {
    this.addSql(
      'drop table if exists pending_open, account_day_total, journal_line, journal_entry, account, book_unit, book cascade;',
    );
    this.addSql('drop function if exists ledger_reject_mutation();');
  }
}
