/** API tokens and who is asking. Token management is for admins only. */
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { TokenRecord } from '../../server/auth/index.js';
import { type Grant, LedgerError, ROLES } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { guard, UserErrorRef } from '../errors.js';
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

function scopeFromApi(g: Grant): Grant {
  if (g.role === 'TREASURER' || g.role === 'NETWORK_STEWARD') {
    // A co-op is its book: its Coop id names the same book.
    return { role: g.role, scope: decodeId(g.scope, 'Book') ?? decodeId(g.scope, 'Coop') ?? g.scope };
  }
  if (g.role === 'MEMBER') {
    const key = decodeScopedId(g.scope, 'Account');
    return { role: g.role, scope: key ? `${key.bookId}:${key.id}` : g.scope };
  }
  return g;
}

const RoleGrantRef = builder.objectRef<Grant>('RoleGrant').implement({
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

const RoleGrantInput = builder.inputType('RoleGrantInput', {
  fields: (t) => ({
    role: t.field({ type: RoleEnum, required: true }),
    scope: t.string({
      required: true,
      description:
        "'' for ADMIN; a Book id (or a Coop id, the same book) for TREASURER and NETWORK_STEWARD; an Account id (the member's own) for MEMBER; a city name for CITY_ANALYST.",
    }),
  }),
});

const ApiTokenRef = builder.objectRef<TokenRecord>('ApiToken').implement({
  description: 'An API token; its secret is shown only once, when it is issued.',
  authScopes: { admin: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    principalName: t.exposeString('principalName'),
    label: t.exposeString('label'),
    grants: t.field({ type: [RoleGrantRef], resolve: (r) => r.grants }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.expiresAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.revokedAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.lastUsedAt }),
  }),
});

const ViewerRef = builder
  .objectRef<{ principalId: string; principalName: string; tokenId: string; grants: Grant[] }>('Viewer')
  .implement({
    description: 'The principal the request acts for.',
    fields: (t) => ({
      principalId: t.exposeID('principalId'),
      principalName: t.exposeString('principalName'),
      tokenId: t.exposeID('tokenId'),
      grants: t.field({ type: [RoleGrantRef], resolve: (v) => v.grants }),
    }),
  });

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    nullable: true,
    description: 'Who the request acts for; null without a token.',
    authScopes: { public: true },
    resolve: (_r, _a, ctx) =>
      ctx.principal
        ? {
            principalId: ctx.principal.id,
            principalName: ctx.principal.name,
            tokenId: ctx.principal.tokenId,
            grants: ctx.principal.grants,
          }
        : null,
  }),
  apiTokens: t.field({
    type: [ApiTokenRef],
    description: 'Every API token (at most 1,000, oldest first). Admins only.',
    authScopes: { admin: true },
    resolve: (_r, _a, ctx) => guard(() => ctx.services.auth.listTokens()),
  }),
}));

const IssueApiTokenPayload = builder
  .objectRef<{ token: string | null; apiToken: TokenRecord | null; userErrors: LedgerError[] }>(
    'IssueApiTokenPayload',
  )
  .implement({
    fields: (t) => ({
      token: t.string({
        nullable: true,
        description: 'The token to send as "Authorization: Bearer <token>". Shown only here, only now.',
        resolve: (p) => p.token,
      }),
      apiToken: t.field({ type: ApiTokenRef, nullable: true, resolve: (p) => p.apiToken }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const RevokeApiTokenPayload = builder
  .objectRef<{ apiToken: TokenRecord | null; userErrors: LedgerError[] }>('RevokeApiTokenPayload')
  .implement({
    fields: (t) => ({
      apiToken: t.field({ type: ApiTokenRef, nullable: true, resolve: (p) => p.apiToken }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationFields((t) => ({
  issueApiToken: t.field({
    type: IssueApiTokenPayload,
    description: 'Creates a principal with role grants and a token for it. Admins only.',
    authScopes: { admin: true },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('IssueApiTokenInput', {
          fields: (f) => ({
            principalName: f.string({ required: true }),
            grants: f.field({ type: [RoleGrantInput], required: true }),
            label: f.string({ description: 'What the token is for (up to 200 characters).' }),
            expiresAt: f.field({ type: 'DateTime', description: 'After this instant the token is refused.' }),
          }),
        }),
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.auth.issueToken(
          {
            principalName: input.principalName,
            grants: input.grants.map(scopeFromApi),
            label: input.label ?? '',
            expiresAt: input.expiresAt ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { token: null, apiToken: null, userErrors: [result] }
        : { token: result.token, apiToken: result.record, userErrors: [] };
    },
  }),
  revokeApiToken: t.field({
    type: RevokeApiTokenPayload,
    description: 'Revokes a token; every server refuses it within 5 seconds. Admins only.',
    authScopes: { admin: true },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RevokeApiTokenInput', {
          fields: (f) => ({ tokenId: f.id({ required: true }) }),
        }),
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() => ctx.services.auth.revokeToken(String(input.tokenId), actorOf(ctx)));
      return result instanceof LedgerError
        ? { apiToken: null, userErrors: [result] }
        : { apiToken: result, userErrors: [] };
    },
  }),
}));
