import { Migration } from '@mikro-orm/migrations';

/**
 * A version on each book's chain head (issue 12): every write of the posting engine to a book (its
 * entries, lines, account totals and remembered refusals) adds one to `book.version` in the same
 * statement, on the condition that it is still the version the engine read before deciding
 * (compare-and-set). The engine then decides without holding the book's lock across round trips:
 * it reads the book's state in one statement, decides in the process, and writes in one statement
 * that commits at once; when another writer (another process) wrote the book in between, the
 * version differs, the statement fails with `ledger_stale` (SQLSTATE 40001, a serialization
 * failure) and nothing of it is kept, and the engine reads again and decides again.
 */
export class Migration20261216000000_book_version extends Migration {
  override name = 'Migration20261216000000_book_version';

  override up(): void {
    this.addSql('alter table book add column version bigint not null default 0;');
    this.addSql(`
create function ledger_stale(what text) returns bigint language plpgsql as $$
begin
  raise exception using errcode = '40001', message = 'ledger: ' || what || ' changed since it was read';
end $$;`);
  }

  override down(): void {
    this.addSql('drop function ledger_stale(text);');
    this.addSql('alter table book drop column version;');
  }
}
