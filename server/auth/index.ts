/**
 * The auth domain's public face: principals, API tokens and grants. The rules of who may do what
 * are pure and live in server/core (access.ts); this domain stores and verifies tokens.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { DbPool } from '../platform/transaction.js';
import { AuthService } from './service.js';
import { AuthStore } from './store.js';

export { authEntities } from './entities.js';
export { type AuthFailure, AuthService, TOKEN_CACHE_MS, unknownToken } from './service.js';
export { TOKENS_LISTED_MAX, type TokenRecord } from './store.js';
export { mintToken, newTokenString, parseToken } from './tokens.js';

export function createAuthService(orm: MikroORM, pool: DbPool, logger: Logger): AuthService {
  return new AuthService(new AuthStore(orm, pool), logger);
}
