/**
 * The GraphQL schema. STUB: being written (owner: lead). `buildSchema()` and `GraphQLContext`
 * keep these signatures.
 */
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import type { Logger } from 'pino';
import type { Services } from '../server/app/index.js';

export interface GraphQLContext {
  services: Services;
  requestId: string;
  logger: Logger;
}

export function buildSchema(): GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ping: { type: GraphQLString, resolve: () => 'pong' } } }),
  });
}
