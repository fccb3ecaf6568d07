/**
 * The voting roll: the members entitled to vote on a date, one member one vote. Readable by the
 * co-op's treasurers (readers of its book) only.
 */
import type { MembershipRecord, PartyRecord } from '../../server/coops/index.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { guard } from '../errors.js';
import { classOf, coopLoaders } from './loaders.js';
import { CoopRef, MemberClassRef, MembershipRef, PartyRef } from './refs.js';

interface VotingRollRecord {
  coopId: string;
  on: string;
  entries: { membership: MembershipRecord; party: PartyRecord }[];
}

const VotingRollEntryRef = builder
  .objectRef<{ membership: MembershipRecord; party: PartyRecord }>('VotingRollEntry')
  .implement({
    description: 'One member entitled to vote: one member, one vote, whatever shares they hold.',
    fields: (t) => ({
      memberNumber: t.int({ resolve: (e) => e.membership.memberNumber }),
      membership: t.field({ type: MembershipRef, resolve: (e) => e.membership }),
      party: t.field({ type: PartyRef, resolve: (e) => e.party }),
      memberClass: t.field({ type: MemberClassRef, resolve: (e, _a, ctx) => classOf(ctx, e.membership) }),
    }),
  });

export const VotingRollRef = builder.objectRef<VotingRollRecord>('VotingRoll').implement({
  description:
    'Members entitled to vote on a date: ACTIVE at the end of that day in a class that votes. A person or ' +
    'organisation appears once (one member, one vote). Ordered by member number.',
  authScopes: (r) => ({ bookRead: r.coopId }),
  fields: (t) => ({
    coop: t.field({
      type: CoopRef,
      resolve: async (r, _a, ctx) => (await coopLoaders(ctx).coop.load(r.coopId))!,
    }),
    on: t.field({ type: 'Date', resolve: (r) => r.on }),
    votes: t.int({
      description: 'How many votes there are: the number of entries.',
      resolve: (r) => r.entries.length,
    }),
    entries: t.field({ type: [VotingRollEntryRef], resolve: (r) => r.entries }),
  }),
});

export async function votingRollOf(
  ctx: GraphQLContext,
  coopId: string,
  on: string,
): Promise<VotingRollRecord> {
  const entries = await guard(() => ctx.services.coops.votingRoll(coopId, on));
  return { coopId, on, entries };
}
