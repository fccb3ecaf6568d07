/**
 * The one Pothos builder. Fields are non-null unless marked (`defaultFieldNullability: false`) so
 * SDK users do not null-check what is always there.
 */
import SchemaBuilder from '@pothos/core';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import type { GraphQLContext } from './context.js';

/** Types that implement Node; `node(id:)` resolves only these. */
const NODE_TYPENAMES = new Set(['Book', 'Account', 'JournalEntry']);

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    Decimal: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
  };
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // A malformed id or one naming a type that is not a node answers null, like book(id:) does.
    decodeGlobalID: (globalID) => {
      try {
        return decodeGlobalID(globalID);
      } catch {
        return { typename: '', id: globalID };
      }
    },
    nodeQueryOptions: {
      nullable: true,
      resolve: (_root, args, _ctx, _info, resolveNode) =>
        NODE_TYPENAMES.has(args.id.typename) ? resolveNode(args.id) : null,
    },
    nodesQueryOptions: false,
  },
});

builder.queryType({});
builder.mutationType({});
