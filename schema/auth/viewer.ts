/** Who is asking: the principal of the request's token, or null without one. */
import type { Grant } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { RoleGrantRef } from './grants.js';

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
}));
