/**
 * The GraphQL schema: the builder, then every type module, then `toSchema()`.
 */
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import './types/book.js';
import './types/account.js';
import './types/entry.js';
import './types/reports.js';
import './types/queries.js';
import './types/mutations.js';
import './types/auth.js';
import './types/coop.js';
import './types/coop-mutations.js';
import './types/member-tokens.js';

export type { GraphQLContext } from './context.js';

let built: GraphQLSchema | null = null;

export function buildSchema(): GraphQLSchema {
  built ??= builder.toSchema();
  return built;
}

/** The SDL committed as schema/schema.graphql (sorted so diffs are stable). */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
