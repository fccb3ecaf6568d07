import { Migration } from '@mikro-orm/migrations';

/**
 * A payment request's step refused by the ledger, remembered under the step's idempotency key
 * (issue 14, found by an audit): accepting a request posts its payment in the same transaction
 * as the request's decision, so a refusal (BALANCE_BOUND_EXCEEDED) rolled both back and left no
 * trace of the key. The same acceptance sent again once the payer had credit then paid: a replay
 * after a refusal posted, where every ledger key's first decision is final (payInNetwork's keys
 * included, through journal_refusal). A refusal is kept per network, step (DECISION: accept,
 * decline, cancel; RESOLUTION: complete, release, as the request row's two key columns) and key,
 * with the request and the hash of the input it answered; it never changes.
 */
export class Migration20261224000000_credit_request_refusals extends Migration {
  override name = 'Migration20261224000000_credit_request_refusals';

  override up(): void {
    this.addSql(`
create table credit_request_refusal (
  book_id uuid not null,
  step text not null check (step in ('DECISION', 'RESOLUTION')),
  idempotency_key text not null,
  request_id uuid not null,
  request_hash text not null,
  code text not null,
  message text not null,
  field text null,
  recorded_at timestamptz not null,
  recorded_by text not null,
  primary key (book_id, step, idempotency_key),
  foreign key (book_id, request_id) references credit_payment_request (book_id, id)
);`);
    this.addSql(
      'create trigger credit_request_refusal_immutable before update or delete on credit_request_refusal for each row execute function ledger_reject_mutation();',
    );
  }

  override down(): void {
    this.addSql('drop table if exists credit_request_refusal;');
  }
}
