import { Migration } from '@mikro-orm/migrations';

/**
 * The first decision for an idempotency key is the only one. A posted request is remembered on its
 * entry (journal_entry.idempotency_key); a request the posting engine refused under the book lock
 * (a bound, an unknown account, a closed account, a date outside the window...) is remembered here,
 * written in the same transaction as the postings of its group, so a stale copy of the request (a
 * paused process, a slow connection) replays the refusal instead of posting later, and the same
 * key with other input is IDEMPOTENCY_KEY_REUSED, as for a posted entry. A key is in one of the
 * two tables at most: both are read under the book lock before anything is decided.
 *
 * Like the journal, refusals are append-only and kept forever.
 */
export class Migration20261206200000_refusals extends Migration {
  override name = 'Migration20261206200000_refusals';

  override up(): void {
    this.addSql(`
create table journal_refusal (
  book_id uuid not null references book (id),
  idempotency_key text not null,
  request_hash text not null,
  code text not null,
  message text not null,
  field text null,
  recorded_at timestamptz not null,
  primary key (book_id, idempotency_key)
);`);
    this.addSql(
      'create trigger journal_refusal_immutable before update or delete on journal_refusal for each row execute function ledger_reject_mutation();',
    );
    this.addSql(
      'create trigger journal_refusal_no_truncate before truncate on journal_refusal for each statement execute function ledger_reject_mutation();',
    );
  }

  override down(): void {
    this.addSql('drop table if exists journal_refusal;');
  }
}
