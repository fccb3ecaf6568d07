/**
 * Identities and API tokens: the use cases. Verification looks a token up by its id and compares
 * secret hashes in constant time. Verified tokens are cached for TOKEN_CACHE_MS, so a revocation
 * takes effect within that time on every server process. Issuing and revoking are for admins.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import {
  type Grant,
  LedgerError,
  type Principal,
  requireAdmin,
  systemPrincipal,
  validateGrant,
} from '../core/index.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import type { AuthStore, TokenRecord } from './store.js';
import { mintToken, parseToken, tokenIdOf } from './tokens.js';

/** How long a verified token is trusted without asking the database again. */
export const TOKEN_CACHE_MS = 5_000;
/** last_used_at is written at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** Verified tokens cached at most; the oldest is dropped first. */
const TOKEN_CACHE_ENTRIES_MAX = 10_000;

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
    private readonly store: AuthStore,
    private readonly logger: Logger,
  ) {}

  /** True when a token's verification is answered from the cache (no database lookup). */
  isCached(token: string, now = Date.now()): boolean {
    // The id alone (no hashing): authenticate() verifies the secret right after.
    const tokenId = tokenIdOf(token);
    const entry = tokenId ? this.cache.get(tokenId) : undefined;
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
      if (this.cache.size > TOKEN_CACHE_ENTRIES_MAX) this.cache.delete(this.cache.keys().next().value!);
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
    const found = await this.store.findToken(tokenId);
    if (!found)
      return {
        principal: null,
        failure: 'UNKNOWN',
        secretHash: '0'.repeat(64),
        expiresAt: null,
        fetchedAt: now,
      };
    return {
      principal: { id: found.principalId, name: found.principalName, tokenId, grants: found.grants },
      failure: found.revoked ? 'REVOKED' : null,
      secretHash: found.secretHash,
      expiresAt: found.expiresAt,
      fetchedAt: now,
    };
  }

  private touch(tokenId: string, now: number): void {
    const last = this.lastUsedWritten.get(tokenId) ?? 0;
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(tokenId, now);
    this.store
      .touchToken(tokenId)
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
    // A network's book is changed through the mutual-credit use cases only (payments, clearing),
    // which keep its balances within limits and summing to zero. A TREASURER of it would write it
    // through the ledger's general mutations, which its stewards may not use: no such grant.
    const treasured = input.grants.flatMap((g) => (g.role === 'TREASURER' ? [g.scope] : []));
    const managed = treasured.length === 0 ? [] : await this.store.managedBooks(treasured);
    const i = input.grants.findIndex((g) => g.role === 'TREASURER' && managed.includes(g.scope));
    if (i >= 0) {
      return new LedgerError(
        'INVALID_INPUT',
        "a TREASURER grant cannot name a mutual-credit network's book: it changes only through the network's own use cases; grant NETWORK_STEWARD instead",
        `grants[${i}].scope`,
      );
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
    await this.store.insertToken({
      tokenId,
      principalId: uuidv7(),
      principalName: name,
      secretHash,
      grants: input.grants,
      label: input.label,
      expiresAt: input.expiresAt,
    });
    const record = (await this.store.listTokens({ tokenId }))[0]!;
    return { token, record };
  }

  /** Revokes a token (admins only); every process refuses it within TOKEN_CACHE_MS. */
  async revokeToken(tokenId: string, actor: Principal): Promise<TokenRecord | LedgerError> {
    requireAdmin(actor, 'revoke tokens');
    if (!isUuid(tokenId) || !(await this.store.revokeToken(tokenId))) return unknownToken();
    this.cache.delete(tokenId);
    return (await this.store.listTokens({ tokenId }))[0]!;
  }

  listTokens(filter: { tokenId?: string } = {}): Promise<TokenRecord[]> {
    return this.store.listTokens(filter);
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
      const stored = await this.store.secretHashOf(parsed.tokenId);
      if (stored !== null) {
        if (stored !== parsed.secretHash) throw new Error('ADMIN_TOKEN clashes with another token');
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
    if (await this.store.liveAdminTokenExists()) return null;
    const issued = await this.issueToken(
      { principalName: 'admin', grants: [{ role: 'ADMIN', scope: '' }], label: 'bootstrap', expiresAt: null },
      BOOTSTRAP,
    );
    if (issued instanceof LedgerError) throw new Error(issued.message);
    return issued.token;
  }
}
