import { Migration } from '@mikro-orm/migrations';

/**
 * A book a domain manages (a mutual-credit network's book: 'credit'): its stewards change it only
 * through that domain's use cases, never through the ledger's general mutations (entries,
 * reversals, accounts, imports), which could otherwise move members' balances as a payment no
 * member made. Existing networks' books are marked.
 */
export class Migration20261222000000_book_managed_by extends Migration {
  override name = 'Migration20261222000000_book_managed_by';

  override up(): void {
    this.addSql(`alter table book add column managed_by text null check (managed_by in ('credit'));`);
    this.addSql(`update book set managed_by = 'credit' where id in (select book_id from credit_network);`);
  }

  override down(): void {
    this.addSql('alter table book drop column managed_by;');
  }
}
