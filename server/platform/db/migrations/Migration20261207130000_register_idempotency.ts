import { Migration } from '@mikro-orm/migrations';

/**
 * Idempotency keys for the co-op register's writes (issue 11): `createMemberClass` and
 * `registerParty` take an optional `idempotencyKey`, stored with a SHA-256 of the request, like the
 * memberships' and imports' keys. Rows written without one (and every row written before this
 * migration) keep nulls; a key is unique per co-op among the rows that have one.
 */
export class Migration20261207130000_register_idempotency extends Migration {
  override name = 'Migration20261207130000_register_idempotency';

  override up(): void {
    for (const table of ['member_class', 'party']) {
      this.addSql(`
alter table ${table}
  add column idempotency_key text null check (length(idempotency_key) between 1 and 128),
  add column request_hash text null,
  add constraint ${table}_key_has_hash check ((idempotency_key is null) = (request_hash is null));`);
      this.addSql(
        `create unique index ${table}_idempotency_key on ${table} (book_id, idempotency_key) where idempotency_key is not null;`,
      );
    }
  }

  override down(): void {
    for (const table of ['member_class', 'party']) {
      this.addSql(`drop index if exists ${table}_idempotency_key;`);
      this.addSql(
        `alter table ${table} drop constraint if exists ${table}_key_has_hash, drop column if exists request_hash, drop column if exists idempotency_key;`,
      );
    }
  }
}
