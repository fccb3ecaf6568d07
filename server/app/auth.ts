/**
 * Identities and API tokens.
 *
 * A token is `slt_<token id as 32 hex digits>_<secret>` (the secret is 32 random bytes in
 * base64url). Only SHA-256 of the secret is stored, so a copy of the database holds no usable
 * token; the secret is shown once, when the token is issued. Verification looks the token up by
 * its id and compares hashes in constant time. Verified tokens are cached for TOKEN_CACHE_MS, so a
 * revocation takes effect within that time on every server process.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { LedgerError } from '../ledger/index.js';
import { ForbiddenError } from './errors.js';
import { uuidv7 } from './ids.js';

export const ROLES = ['ADMIN', 'TREASURER', 'MEMBER', 'NETWORK_STEWARD', 'CITY_ANALYST'] as const;
export type Role = (typeof ROLES)[number];

export interface Grant {
  role: Role;
  /** '' for ADMIN; a book id for TREASURER and NETWORK_STEWARD; `<book>:<account>` for MEMBER; a city for CITY_ANALYST. */
  scope: string;
}

export interface Principal {
  id: string;
  name: string;
  tokenId: string;
  grants: Grant[];
}

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

/** How long a verified token is trusted without asking the database again. */
export const TOKEN_CACHE_MS = 5_000;
/** last_used_at is written at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

const TOKEN = /^slt_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const UUID_SCOPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hexToUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Makes a new token for a token id: the plaintext (shown once) and the hash to store. */
export function mintToken(tokenId: string): { token: string; secretHash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `slt_${tokenId.replaceAll('-', '')}_${secret}`, secretHash: sha256(secret) };
}

/** Splits a token into its id and secret hash; null when it is not a token at all. */
export function parseToken(token: string): { tokenId: string; secretHash: string } | null {
  const match = TOKEN.exec(token);
  if (!match) return null;
  return { tokenId: hexToUuid(match[1]!), secretHash: sha256(match[2]!) };
}

export function validateGrant(grant: Grant, field: string): LedgerError | null {
  if (!ROLES.includes(grant.role))
    return new LedgerError('INVALID_INPUT', `role must be one of ${ROLES.join(', ')}`, field);
  const ok =
    grant.role === 'ADMIN'
      ? grant.scope === ''
      : grant.role === 'TREASURER' || grant.role === 'NETWORK_STEWARD'
        ? UUID_SCOPE.test(grant.scope)
        : grant.role === 'MEMBER'
          ? /^[0-9a-f-]{36}:[0-9a-f-]{36}$/.test(grant.scope) &&
            grant.scope.split(':').every((p) => UUID_SCOPE.test(p))
          : grant.scope.length >= 1 && grant.scope.length <= 100;
  if (!ok) {
    return new LedgerError(
      'INVALID_INPUT',
      'scope must be empty for ADMIN, a book for TREASURER and NETWORK_STEWARD, book:account for MEMBER, a city for CITY_ANALYST',
      `${field}.scope`,
    );
  }
  return null;
}

// ---------- what a principal may do (pure) ----------

export function isAdmin(p: Principal | null): boolean {
  return !!p?.grants.some((g) => g.role === 'ADMIN');
}

/** Books whose accounts and entries the principal may read and write. */
export function canWriteBook(p: Principal | null, bookId: string): boolean {
  if (!p) return false;
  return (
    isAdmin(p) ||
    p.grants.some((g) => (g.role === 'TREASURER' || g.role === 'NETWORK_STEWARD') && g.scope === bookId)
  );
}

export const canReadBook = canWriteBook;

/**
 * Whether the actor may change this book (a co-op is its book) through a use case. '' is what the
 * API makes of an id it cannot decode: it names no book, not even for an admin, so the use case
 * answers as for an unknown one.
 */
export function mayWriteBook(actor: Principal, bookId: string): boolean {
  return bookId !== '' && canWriteBook(actor, bookId);
}

/** A member reads their own account (its balance), nothing else of the book. */
export function canReadAccount(p: Principal | null, bookId: string, accountId: string): boolean {
  if (canReadBook(p, bookId)) return true;
  return !!p?.grants.some((g) => g.role === 'MEMBER' && g.scope === `${bookId}:${accountId}`);
}

/** Book ids the principal may read (null: all of them, for an admin). */
export function readableBooks(p: Principal | null): string[] | null {
  if (isAdmin(p)) return null;
  return [
    ...new Set(
      (p?.grants ?? [])
        .filter((g) => g.role === 'TREASURER' || g.role === 'NETWORK_STEWARD')
        .map((g) => g.scope),
    ),
  ];
}

/**
 * The principal of work done on nobody's behalf (the pending-entry expiry sweep, the first-start
 * bootstrap, scripts and tests that call use cases directly): an ADMIN with the id `system:<name>`,
 * which is what entries and membership events record as their author. No token stands behind it.
 */
export function systemPrincipal(name: string): Principal {
  return {
    id: `system:${name}`,
    name: `system:${name}`,
    tokenId: '',
    grants: [{ role: 'ADMIN', scope: '' }],
  };
}

/**
 * Admin-only use cases throw for anyone else. The API's scope-auth has refused those callers with
 * FORBIDDEN before the use case runs; this keeps other callers to the same rule.
 */
export function requireAdmin(actor: Principal, what: string): void {
  if (!isAdmin(actor)) throw new ForbiddenError(`only an administrator may ${what}`);
}

// ---------- storage ----------

export type AuthFailure = 'MALFORMED' | 'UNKNOWN' | 'EXPIRED' | 'REVOKED';

interface Cached {
  principal: Principal | null;
  failure: AuthFailure | null;
  secretHash: string;
  expiresAt: Date | null;
  fetchedAt: number;
}

/**
 * The answer for a token id that names no token (or one the caller may not touch): one answer for
 * both, so token ids cannot be probed.
 */
export function unknownToken(): LedgerError {
  return new LedgerError('INVALID_INPUT', 'no such token', 'tokenId');
}

/** Who issues the first ADMIN token: nobody yet, so the system. */
const BOOTSTRAP = systemPrincipal('bootstrap');

export class AuthService {
  private readonly cache = new Map<string, Cached>();
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  /** True when a token's verification is answered from the cache (no database lookup). */
  isCached(token: string, now = Date.now()): boolean {
    // The id alone (no hashing): authenticate() verifies the secret right after.
    const match = TOKEN.exec(token);
    const entry = match ? this.cache.get(hexToUuid(match[1]!)) : undefined;
    return entry !== undefined && now - entry.fetchedAt <= TOKEN_CACHE_MS;
  }

  /** The principal a bearer token acts for, or why it does not act for anyone. */
  async authenticate(
    token: string,
    now = Date.now(),
  ): Promise<{ principal: Principal } | { failure: AuthFailure }> {
    const parsed = parseToken(token);
    if (!parsed) return { failure: 'MALFORMED' };
    let entry = this.cache.get(parsed.tokenId);
    if (!entry || now - entry.fetchedAt > TOKEN_CACHE_MS) {
      entry = await this.load(parsed.tokenId, now);
      this.cache.set(parsed.tokenId, entry);
      if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
    }
    const a = Buffer.from(entry.secretHash.padEnd(64, '0'), 'hex');
    const b = Buffer.from(parsed.secretHash, 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b) || entry.failure === 'UNKNOWN')
      return { failure: 'UNKNOWN' };
    if (entry.failure) return { failure: entry.failure };
    if (entry.expiresAt && entry.expiresAt.getTime() <= now) return { failure: 'EXPIRED' };
    this.touch(parsed.tokenId, now);
    return { principal: entry.principal! };
  }

  private async load(tokenId: string, now: number): Promise<Cached> {
    const { rows } = await this.pool.query(
      `select t.id, t.secret_hash, t.expires_at, t.revoked_at, p.id as principal_id, p.name,
              coalesce((select json_agg(json_build_array(g.role, g.scope_id)) from role_grant g where g.principal_id = p.id), '[]') as grants
         from api_token t join principal p on p.id = t.principal_id where t.id = $1`,
      [tokenId],
    );
    const row = rows[0];
    if (!row)
      return {
        principal: null,
        failure: 'UNKNOWN',
        secretHash: '0'.repeat(64),
        expiresAt: null,
        fetchedAt: now,
      };
    return {
      principal: {
        id: row.principal_id,
        name: row.name,
        tokenId,
        grants: (row.grants as [Role, string][]).map(([role, scope]) => ({ role, scope })),
      },
      failure: row.revoked_at ? 'REVOKED' : null,
      secretHash: row.secret_hash,
      expiresAt: row.expires_at ? new Date(row.expires_at) : null,
      fetchedAt: now,
    };
  }

  private touch(tokenId: string, now: number): void {
    const last = this.lastUsedWritten.get(tokenId) ?? 0;
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(tokenId, now);
    this.pool
      .query('update api_token set last_used_at = now() where id = $1', [tokenId])
      .catch((error) => this.logger.warn({ err: error }, 'could not record token use'));
  }

  /** Creates a principal with grants and a first token (admins only). Returns the token, shown only now. */
  async issueToken(
    input: {
      principalName: string;
      grants: Grant[];
      label: string;
      expiresAt: Date | null;
      /** A token to store instead of a new random one (the bootstrap's ADMIN_TOKEN). */
      presetToken?: string;
    },
    actor: Principal,
  ): Promise<{ token: string; record: TokenRecord } | LedgerError> {
    requireAdmin(actor, 'issue tokens');
    const name = input.principalName.trim();
    if (name.length === 0 || name.length > 200) {
      return new LedgerError('INVALID_INPUT', 'principal name must be 1 to 200 characters', 'principalName');
    }
    if (input.grants.length === 0 || input.grants.length > 100) {
      return new LedgerError('INVALID_INPUT', 'a token carries 1 to 100 grants', 'grants');
    }
    for (const [i, grant] of input.grants.entries()) {
      const error = validateGrant(grant, `grants[${i}]`);
      if (error) return error;
    }
    if (input.label.length > 200)
      return new LedgerError('INVALID_INPUT', 'label must be at most 200 characters', 'label');
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      return new LedgerError('INVALID_INPUT', 'expiresAt must be in the future', 'expiresAt');
    }
    let tokenId: string;
    let token: string;
    let secretHash: string;
    if (input.presetToken) {
      const parsed = parseToken(input.presetToken);
      if (!parsed)
        return new LedgerError(
          'INVALID_INPUT',
          'not a token of the form slt_<32 hex>_<43 base64url>',
          'token',
        );
      tokenId = parsed.tokenId;
      secretHash = parsed.secretHash;
      token = input.presetToken;
    } else {
      tokenId = uuidv7();
      ({ token, secretHash } = mintToken(tokenId));
    }
    const principalId = uuidv7();
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await client.query('insert into principal (id, name, created_at) values ($1, $2, now())', [
        principalId,
        name,
      ]);
      const unique = new Map(input.grants.map((g) => [`${g.role}/${g.scope}`, g]));
      for (const g of unique.values()) {
        await client.query(
          'insert into role_grant (principal_id, role, scope_id, created_at) values ($1, $2, $3, now())',
          [principalId, g.role, g.scope],
        );
      }
      await client.query(
        `insert into api_token (id, principal_id, secret_hash, label, created_at, expires_at)
         values ($1, $2, $3, $4, now(), $5)`,
        [tokenId, principalId, secretHash, input.label, input.expiresAt],
      );
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    const record = (await this.listTokens({ tokenId }))[0]!;
    return { token, record };
  }

  /** Revokes a token (admins only); every process refuses it within TOKEN_CACHE_MS. */
  async revokeToken(tokenId: string, actor: Principal): Promise<TokenRecord | LedgerError> {
    requireAdmin(actor, 'revoke tokens');
    const { rowCount } = await this.pool.query(
      'update api_token set revoked_at = coalesce(revoked_at, now()) where id = $1',
      [UUID_SCOPE.test(tokenId) ? tokenId : '00000000-0000-0000-0000-000000000000'],
    );
    if (!rowCount) return unknownToken();
    this.cache.delete(tokenId);
    return (await this.listTokens({ tokenId }))[0]!;
  }

  async listTokens(filter: { tokenId?: string } = {}): Promise<TokenRecord[]> {
    const { rows } = await this.pool.query(
      `select t.id, t.principal_id, p.name, t.label, t.created_at, t.expires_at, t.revoked_at, t.last_used_at,
              coalesce((select json_agg(json_build_array(g.role, g.scope_id) order by g.role, g.scope_id)
                          from role_grant g where g.principal_id = p.id), '[]') as grants
         from api_token t join principal p on p.id = t.principal_id
        where ($1::uuid is null or t.id = $1::uuid)
        order by t.created_at, t.id limit 1000`,
      [filter.tokenId ?? null],
    );
    const date = (v: unknown) => (v === null ? null : new Date(v as string));
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

  /**
   * First start: makes sure an administrator can get in. With `adminToken` (ADMIN_TOKEN), that token
   * is registered as an ADMIN token unless it already is. Without it, and with no live ADMIN token
   * in the database, a new one is issued and returned so the caller can print it once.
   */
  async bootstrap(adminToken: string | null): Promise<string | null> {
    if (adminToken) {
      const parsed = parseToken(adminToken);
      if (!parsed) throw new Error('ADMIN_TOKEN is not a token of the form slt_<32 hex>_<43 base64url>');
      const { rows } = await this.pool.query('select secret_hash from api_token where id = $1', [
        parsed.tokenId,
      ]);
      if (rows[0]) {
        if (rows[0].secret_hash !== parsed.secretHash)
          throw new Error('ADMIN_TOKEN clashes with another token');
        return null;
      }
      const issued = await this.issueToken(
        {
          principalName: 'admin',
          grants: [{ role: 'ADMIN', scope: '' }],
          label: 'ADMIN_TOKEN',
          expiresAt: null,
          presetToken: adminToken,
        },
        BOOTSTRAP,
      );
      if (issued instanceof LedgerError) throw new Error(issued.message);
      return null;
    }
    const { rows } = await this.pool.query(
      `select 1 from api_token t join role_grant g on g.principal_id = t.principal_id and g.role = 'ADMIN'
        where t.revoked_at is null and (t.expires_at is null or t.expires_at > now()) limit 1`,
    );
    if (rows.length > 0) return null;
    const issued = await this.issueToken(
      { principalName: 'admin', grants: [{ role: 'ADMIN', scope: '' }], label: 'bootstrap', expiresAt: null },
      BOOTSTRAP,
    );
    if (issued instanceof LedgerError) throw new Error(issued.message);
    return issued.token;
  }
}

/** A token for ADMIN_TOKEN or tests: a fresh random token string. */
export function newTokenString(): string {
  return mintToken(uuidv7()).token;
}
