/**
 * Member tokens: a co-op's treasurers invite their members. `issueMemberToken` gives the person of
 * a membership a token with MEMBER grants on their own five accounts (they then read their
 * membership, party, schedule and statement, nothing else of the co-op); `revokeMemberToken` and
 * `Coop.memberTokens` manage them. The admin-only ApiToken type is not involved: a MemberToken
 * shows no grants and no principal, and is readable by the co-op's treasurers (and admins).
 * Checks are CoopService's (after scope-auth here): a caller who may not write the co-op gets the
 * answer of an unknown membership or an unknown token.
 */
import type { MemberTokenRecord } from '../../server/coops/index.js';
import { LedgerError } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { guard, UserErrorRef } from '../errors.js';
import { decodeCoopId, decodeScopedId } from '../ids.js';
import { loadMembership } from './access.js';
import { CoopRef, MembershipRef } from './refs.js';

export const MemberTokenRef = builder.objectRef<MemberTokenRecord>('MemberToken').implement({
  description:
    "A token a co-op's treasurer issued to one of its members (MEMBER grants on the member's own accounts). " +
    "Its secret is shown only once, when it is issued. Readable by the co-op's treasurers and admins.",
  authScopes: (r) => ({ bookRead: r.bookId }),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The token id (revokeMemberToken takes it).' }),
    label: t.exposeString('label', {
      description: 'What the token is for; by default `issued by <principal id of the issuer>`.',
    }),
    membership: t.field({
      type: MembershipRef,
      nullable: true,
      description: 'The membership whose accounts the token names; null when it names none or several.',
      resolve: (r, _a, ctx) => (r.membershipId ? loadMembership(ctx, r.bookId, r.membershipId) : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.expiresAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.revokedAt }),
    lastUsedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the token was last used, to the minute.',
      resolve: (r) => r.lastUsedAt,
    }),
  }),
});

builder.objectField(CoopRef, 'memberTokens', (t) =>
  t.field({
    type: [MemberTokenRef],
    description:
      "Tokens issued to the co-op's members (every grant a MEMBER grant on this co-op's accounts), oldest first, " +
      'at most 1,000, revoked ones included. Treasurers and admins.',
    resolve: (c, _a, ctx) => guard(() => ctx.services.coops.memberTokens(c.id, actorOf(ctx))),
  }),
);

const IssueMemberTokenPayload = builder
  .objectRef<{ token: string | null; memberToken: MemberTokenRecord | null; userErrors: LedgerError[] }>(
    'IssueMemberTokenPayload',
  )
  .implement({
    fields: (t) => ({
      token: t.string({
        nullable: true,
        description:
          'The token to hand to the member, sent as "Authorization: Bearer <token>". Shown only here, only now.',
        resolve: (p) => p.token,
      }),
      memberToken: t.field({ type: MemberTokenRef, nullable: true, resolve: (p) => p.memberToken }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const RevokeMemberTokenPayload = builder
  .objectRef<{ memberToken: MemberTokenRecord | null; userErrors: LedgerError[] }>('RevokeMemberTokenPayload')
  .implement({
    fields: (t) => ({
      memberToken: t.field({ type: MemberTokenRef, nullable: true, resolve: (p) => p.memberToken }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

builder.mutationFields((t) => ({
  issueMemberToken: t.field({
    type: IssueMemberTokenPayload,
    description:
      "Invites a member: a token with MEMBER grants on the membership's own accounts, so the person reads their " +
      'membership, party, schedule and statement (nothing of other members). The co-op’s treasurers and admins. ' +
      'Not idempotent: each call issues another token.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('IssueMemberTokenInput', {
          fields: (f) => ({
            membershipId: f.id({ required: true }),
            label: f.string({
              description:
                'What the token is for (up to 200 characters); default `issued by <your principal id>`.',
            }),
            expiresAt: f.field({ type: 'DateTime', description: 'After this instant the token is refused.' }),
          }),
        }),
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = decodeScopedId(String(input.membershipId), 'Membership') ?? { bookId: '', id: '' };
      const result = await guard(() =>
        ctx.services.coops.issueMemberToken(
          {
            bookId: key.bookId,
            membershipId: key.id,
            label: input.label ?? null,
            expiresAt: input.expiresAt ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { token: null, memberToken: null, userErrors: [result] }
        : { token: result.token, memberToken: result.memberToken, userErrors: [] };
    },
  }),
  revokeMemberToken: t.field({
    type: RevokeMemberTokenPayload,
    description:
      "Revokes one of the co-op's member tokens; every server refuses it within 5 seconds. Any other token id " +
      'answers like an unknown token. The co-op’s treasurers and admins.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RevokeMemberTokenInput', {
          fields: (f) => ({
            coopId: f.id({ required: true }),
            tokenId: f.id({ required: true, description: 'MemberToken.id' }),
          }),
        }),
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.coops.revokeMemberToken(
          { bookId: decodeCoopId(input.coopId), tokenId: String(input.tokenId) },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { memberToken: null, userErrors: [result] }
        : { memberToken: result, userErrors: [] };
    },
  }),
}));
