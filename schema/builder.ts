/**
 * The one Pothos builder. Fields are non-null unless marked (`defaultFieldNullability: false`) so
 * SDK users do not null-check what is always there.
 *
 * Authorization is declared on the schema with scope-auth: every root field states its scopes
 * (tests/auth/authorization.test.ts fails for a root field without them), and every type
 * that belongs to a tenant checks its tenant on the object itself (`bookRead`, `accountRead`), so
 * an object reached through any path (node, nested fields, connections) is checked again.
 * Resolvers of root fields also filter by tenant first and answer "not found" (null, an empty
 * connection, UNKNOWN_* codes) for what the caller may not see, so no answer reveals another
 * tenant's ids.
 */
import SchemaBuilder from '@pothos/core';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { canReadAccount, canReadBook, isAdmin } from '../server/core/index.js';
import { canReadParty, isMemberOfBook } from './access.js';
import { forbiddenError, type GraphQLContext, unauthenticatedError } from './context.js';
import { parseScopedId } from './ids.js';
import WellFormedInputPlugin from './well-formed-input.js';

/** Types that implement Node; `node(id:)` resolves only these, and only within the caller's tenants. */
const NODE_TYPENAMES = new Set([
  'Book',
  'Account',
  'JournalEntry',
  'Coop',
  'MemberClass',
  'Party',
  'Membership',
  'CreditNetwork',
]);

/**
 * A first, id-only filter of `node(id:)`. For Party and Membership a member of the book passes
 * here; their loaders then keep only the member's own (schema/coops/memberships.ts), so another
 * member's id answers null too. CreditNetwork is filtered by its loader alone.
 */
function mayReadNode(ctx: GraphQLContext, typename: string, id: string): boolean {
  if (typename === 'Book' || typename === 'Coop') return canReadBook(ctx.principal, id);
  // A network is also read by the treasurers of its member co-ops, which only its loader can tell
  // (schema/credit/queries.ts, the rule of creditNetwork(id:)).
  if (typename === 'CreditNetwork') return ctx.principal !== null;
  const key = parseScopedId(id);
  if (!key) return false;
  switch (typename) {
    case 'Account':
      return canReadAccount(ctx.principal, key.bookId, key.id);
    case 'MemberClass':
    case 'Party':
    case 'Membership':
      return canReadBook(ctx.principal, key.bookId) || isMemberOfBook(ctx.principal, key.bookId);
    default:
      return canReadBook(ctx.principal, key.bookId);
  }
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    Decimal: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
    Date: { Input: string; Output: string };
  };
  /** Every connection's shape carries the size of its whole list (schema/connection.ts). */
  Connection: { totalCount: () => number | Promise<number> };
  AuthScopes: {
    /** Anyone, with or without a token. */
    public: boolean;
    /** Any valid token. */
    authenticated: boolean;
    /** An ADMIN grant. */
    admin: boolean;
    /** May read (and, for now, write) this book: ADMIN, or TREASURER / NETWORK_STEWARD of it. */
    bookRead: string;
    /** May read this account (`<book>:<account>`): a reader of its book, or the MEMBER it belongs to. */
    accountRead: string;
    /** May read this party and its memberships (`<book>:<party>`): a reader of its book, or the person (MEMBER grants on their accounts). */
    partyRead: string;
    /** Holds a MEMBER grant on some account of this book (a co-op's member classes are theirs to read). */
    coopMember: string;
  };
}>({
  // Order matters: scope-auth's wrapper is outermost (a refused caller is refused first), then the
  // check that every string argument is storable (schema/well-formed-input.ts).
  plugins: [ScopeAuthPlugin, RelayPlugin, WellFormedInputPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      public: true,
      authenticated: ctx.principal !== null,
      admin: isAdmin(ctx.principal),
      bookRead: (bookId) => canReadBook(ctx.principal, bookId),
      accountRead: (key) => {
        const parsed = parseScopedId(key);
        return parsed !== null && canReadAccount(ctx.principal, parsed.bookId, parsed.id);
      },
      partyRead: async (key) => {
        const parsed = parseScopedId(key);
        return parsed !== null && (await canReadParty(ctx, parsed.bookId, parsed.id));
      },
      coopMember: (bookId) => isMemberOfBook(ctx.principal, bookId),
    }),
    unauthorizedError: (_parent, ctx) => (ctx.principal === null ? unauthenticatedError() : forbiddenError()),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // Connections (schema/connection.ts): `nodes` beside `edges`, and what the paging arguments take.
    nodesOnConnection: true,
    firstArgOptions: {
      description:
        'Page size, 1 to 100, reading forward (after `after`); default 50 when neither first nor last is given.',
    },
    lastArgOptions: {
      description:
        'Page size, 1 to 100, reading backward (the last nodes, or those before `before`). Not with `first`.',
    },
    afterArgOptions: { description: "A cursor of this connection (an edge's cursor or pageInfo.endCursor)." },
    beforeArgOptions: {
      description: "A cursor of this connection (an edge's cursor or pageInfo.startCursor).",
    },
    pageInfoTypeOptions: {
      description:
        'Where a page lies in its list. hasPreviousPage is true when paging forward after a cursor, and hasNextPage when ' +
        'paging backward before one (the Relay specification allows either without a further read).',
    },
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
      authScopes: { authenticated: true },
      resolve: (_root, args, ctx, _info, resolveNode) =>
        NODE_TYPENAMES.has(args.id.typename) && mayReadNode(ctx, args.id.typename, args.id.id)
          ? resolveNode(args.id)
          : null,
    },
    nodesQueryOptions: false,
  },
});

builder.queryType({});
builder.mutationType({});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
/** The builder of an input type's fields, for helpers that give several inputs the same fields. */
export type InputFields = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;
