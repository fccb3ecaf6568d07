import { Migration } from '@mikro-orm/migrations';

/**
 * Identities: principals, their role grants (each scoped to a tenant), and API tokens. A token is
 * `slt_<token id, 32 hex>_<secret>`; only SHA-256 of the secret is stored, so the database never
 * holds a usable token. Grants: ADMIN (scope ''), TREASURER and NETWORK_STEWARD (scope: a book id),
 * MEMBER (scope: `<book id>:<account id>`, the member's own account), CITY_ANALYST (scope: a city).
 */
export class Migration20261125100000_identities extends Migration {
  override name = 'Migration20261125100000_identities';

  override up(): void {
    this.addSql(`
create table principal (
  id uuid primary key,
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null
);`);
    this.addSql(`
create table role_grant (
  principal_id uuid not null references principal (id),
  role text not null check (role in ('ADMIN', 'TREASURER', 'MEMBER', 'NETWORK_STEWARD', 'CITY_ANALYST')),
  scope_id text not null default '',
  created_at timestamptz not null,
  primary key (principal_id, role, scope_id),
  check ((role = 'ADMIN') = (scope_id = ''))
);`);
    this.addSql(`
create table api_token (
  id uuid primary key,
  principal_id uuid not null references principal (id),
  secret_hash text not null,
  label text not null default '',
  created_at timestamptz not null,
  expires_at timestamptz null,
  revoked_at timestamptz null,
  last_used_at timestamptz null
);`);
    this.addSql('create index api_token_principal_idx on api_token (principal_id);');
  }

  override down(): void {
    this.addSql('drop table if exists api_token, role_grant, principal;');
  }
}
