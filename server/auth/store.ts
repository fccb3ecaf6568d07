/**
 * Storage of principals, grants and API tokens. Plain records go through MikroORM's EntityManager;
 * the token lookup of every authentication and the token list (principal, token and aggregated
 * grants in one statement) are hand-written SQL.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import type { Grant, Role } from '../core/index.js';
import { ApiTokenEntity, PrincipalEntity, RoleGrantEntity } from './entities.js';

export interface TokenRecord {
  id: string;
  principalId: string;
  principalName: string;
  label: string;
  grants: Grant[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** What authentication needs of a token: its principal with grants, its secret's hash and state. */
export interface StoredToken {
  principalId: string;
  principalName: string;
  grants: Grant[];
  secretHash: string;
  expiresAt: Date | null;
  revoked: boolean;
}

export interface NewToken {
  tokenId: string;
  principalId: string;
  principalName: string;
  secretHash: string;
  grants: Grant[];
  label: string;
  expiresAt: Date | null;
}

/** Tokens listed at most (oldest first). */
export const TOKENS_LISTED_MAX = 1000;

const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

export class AuthStore {
  constructor(
    private readonly orm: MikroORM,
    private readonly pool: Pool,
  ) {}

  async findToken(tokenId: string): Promise<StoredToken | null> {
    const { rows } = await this.pool.query(
      `select t.id, t.secret_hash, t.expires_at, t.revoked_at, p.id as principal_id, p.name,
              coalesce((select json_agg(json_build_array(g.role, g.scope_id)) from role_grant g where g.principal_id = p.id), '[]') as grants
         from api_token t join principal p on p.id = t.principal_id where t.id = $1`,
      [tokenId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      principalId: row.principal_id,
      principalName: row.name,
      grants: (row.grants as [Role, string][]).map(([role, scope]) => ({ role, scope })),
      secretHash: row.secret_hash,
      expiresAt: date(row.expires_at),
      revoked: row.revoked_at !== null,
    };
  }

  /**
   * Those of the book ids that name a book a domain manages (a mutual-credit network's book), which
   * no TREASURER grant may name (server/ledger/write-access.ts).
   */
  async managedBooks(bookIds: string[]): Promise<string[]> {
    const { rows } = await this.pool.query(
      'select id::text from book where id = any($1::uuid[]) and managed_by is not null',
      [bookIds],
    );
    return rows.map((r) => r.id as string);
  }

  async touchToken(tokenId: string): Promise<void> {
    await this.pool.query('update api_token set last_used_at = now() where id = $1', [tokenId]);
  }

  /** The principal, its grants (each once) and its first token, in one transaction. */
  async insertToken(token: NewToken): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      const now = new Date();
      em.create(PrincipalEntity, { id: token.principalId, name: token.principalName, createdAt: now });
      // Grants and the token reference the principal: it is inserted first.
      await em.flush();
      const unique = new Map(token.grants.map((g) => [`${g.role}/${g.scope}`, g]));
      for (const g of unique.values())
        em.create(RoleGrantEntity, {
          principalId: token.principalId,
          role: g.role,
          scopeId: g.scope,
          createdAt: now,
        });
      em.create(ApiTokenEntity, {
        id: token.tokenId,
        principalId: token.principalId,
        secretHash: token.secretHash,
        label: token.label,
        createdAt: now,
        expiresAt: token.expiresAt,
        revokedAt: null,
        lastUsedAt: null,
      });
    });
  }

  /** Revokes a token, keeping the first revocation time; false when there is no such token. */
  async revokeToken(tokenId: string): Promise<boolean> {
    const em = this.orm.em.fork();
    const updated = await em.nativeUpdate(
      ApiTokenEntity,
      { id: tokenId, revokedAt: null },
      { revokedAt: new Date() },
    );
    return updated > 0 || (await em.count(ApiTokenEntity, { id: tokenId })) > 0;
  }

  async secretHashOf(tokenId: string): Promise<string | null> {
    const token = await this.orm.em.fork().findOne(ApiTokenEntity, { id: tokenId });
    return token?.secretHash ?? null;
  }

  /** Whether some unrevoked, unexpired token carries an ADMIN grant. */
  async liveAdminTokenExists(): Promise<boolean> {
    const { rows } = await this.pool.query(
      `select 1 from api_token t join role_grant g on g.principal_id = t.principal_id and g.role = 'ADMIN'
        where t.revoked_at is null and (t.expires_at is null or t.expires_at > now()) limit 1`,
    );
    return rows.length > 0;
  }

  async listTokens(filter: { tokenId?: string } = {}): Promise<TokenRecord[]> {
    const { rows } = await this.pool.query(
      `select t.id, t.principal_id, p.name, t.label, t.created_at, t.expires_at, t.revoked_at, t.last_used_at,
              coalesce((select json_agg(json_build_array(g.role, g.scope_id) order by g.role, g.scope_id)
                          from role_grant g where g.principal_id = p.id), '[]') as grants
         from api_token t join principal p on p.id = t.principal_id
        where ($1::uuid is null or t.id = $1::uuid)
        order by t.created_at, t.id limit $2`,
      [filter.tokenId ?? null, TOKENS_LISTED_MAX],
    );
    return rows.map((r) => ({
      id: r.id,
      principalId: r.principal_id,
      principalName: r.name,
      label: r.label,
      grants: (r.grants as [Role, string][]).map(([role, scope]) => ({ role, scope })),
      createdAt: date(r.created_at)!,
      expiresAt: date(r.expires_at),
      revokedAt: date(r.revoked_at),
      lastUsedAt: date(r.last_used_at),
    }));
  }
}
