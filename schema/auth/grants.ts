/** Roles and their grants, as the API shows and takes them (global ids, not raw ones). */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { type Grant, ROLES } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { decodeId, decodeScopedId } from '../ids.js';

const RoleEnum = builder.enumType('Role', {
  description:
    'ADMIN: the instance. TREASURER: reads and writes one co-op book. MEMBER: reads one account (their own). ' +
    'NETWORK_STEWARD: reads and writes one mutual-credit network book. CITY_ANALYST: city aggregates only.',
  values: ROLES,
});

/** Grants store raw ids; the API shows and takes global ids, like everywhere else. */
function scopeToApi(g: Grant): string {
  if (g.role === 'TREASURER' || g.role === 'NETWORK_STEWARD') return encodeGlobalID('Book', g.scope);
  if (g.role === 'MEMBER') return encodeGlobalID('Account', g.scope);
  return g.scope;
}

export function scopeFromApi(g: Grant): Grant {
  if (g.role === 'TREASURER' || g.role === 'NETWORK_STEWARD') {
    // A co-op is its book: its Coop id names the same book as its Book id. So is a mutual-credit
    // network, whose CreditNetwork id is taken for its stewards only: a TREASURER grant on a
    // network's book would write it through the ledger's general mutations, which a steward may not
    // (server/ledger/write-access.ts), so that id is no way to issue one (INVALID_INPUT as before).
    const bookId =
      decodeId(g.scope, 'Book') ??
      decodeId(g.scope, 'Coop') ??
      (g.role === 'NETWORK_STEWARD' ? decodeId(g.scope, 'CreditNetwork') : null);
    return { role: g.role, scope: bookId ?? g.scope };
  }
  if (g.role === 'MEMBER') {
    const key = decodeScopedId(g.scope, 'Account');
    return { role: g.role, scope: key ? `${key.bookId}:${key.id}` : g.scope };
  }
  return g;
}

export const RoleGrantRef = builder.objectRef<Grant>('RoleGrant').implement({
  description: 'A role on a tenant.',
  fields: (t) => ({
    role: t.field({ type: RoleEnum, resolve: (g) => g.role }),
    scope: t.string({
      description:
        "'' for ADMIN; the Book id for TREASURER and NETWORK_STEWARD; the Account id for MEMBER; a city for CITY_ANALYST.",
      resolve: (g) => scopeToApi(g),
    }),
  }),
});

export const RoleGrantInput = builder.inputType('RoleGrantInput', {
  fields: (t) => ({
    role: t.field({ type: RoleEnum, required: true }),
    scope: t.string({
      required: true,
      description:
        "'' for ADMIN; a Book id for TREASURER and NETWORK_STEWARD (a co-op's Coop id names the same book, and for NETWORK_STEWARD so does a network's CreditNetwork id; a TREASURER grant may not name a network's book); an Account id (the member's own) for MEMBER; a city name for CITY_ANALYST.",
    }),
  }),
});
