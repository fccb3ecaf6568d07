/** API tokens: issued, listed and revoked by admins only. */
import type { TokenRecord } from '../../server/auth/index.js';
import { LedgerError } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { guard, UserErrorRef } from '../errors.js';
import { RoleGrantInput, RoleGrantRef, scopeFromApi } from './grants.js';

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

builder.queryFields((t) => ({
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
