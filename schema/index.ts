/**
 * The GraphQL schema: the builder, then every domain's types (schema/<domain>/), then `toSchema()`.
 */
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import './ledger/index.js';
import './auth/index.js';
import './coops/index.js';
import './patronage/index.js';
import './credit/index.js';
import './banking/index.js';
import './reporting/index.js';

export type { GraphQLContext } from './context.js';
/** Short, coded variable coercion errors: a yoga plugin for the service's yoga instance. */
export { inputErrorsPlugin, shortenInputError } from './input-errors.js';

let built: GraphQLSchema | null = null;

export function buildSchema(): GraphQLSchema {
  built ??= builder.toSchema();
  return built;
}

/** The SDL committed as schema/schema.graphql (sorted so diffs are stable). */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
