/**
 * Who may do what, as pure rules: principals, their role grants (each scoped to a tenant), and the
 * checks every use case and the schema make. No I/O: the auth domain stores principals and tokens,
 * these functions judge them.
 */
import { ForbiddenError, LedgerError } from './errors.js';

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

const UUID_SCOPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
