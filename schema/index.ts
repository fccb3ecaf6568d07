/**
 * The GraphQL schema: the builder, then every domain's types (schema/<domain>/), then `toSchema()`.
 */
import { RequestCache } from '@pothos/plugin-scope-auth';
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

import type { GraphQLContext } from './context.js';

export type { GraphQLContext } from './context.js';
/** Short, coded variable coercion errors: a yoga plugin for the service's yoga instance. */
export { inputErrorsPlugin, shortenInputError } from './input-errors.js';

/**
 * Drops what the schema's plugins keep per request outside its context (scope-auth's cache of a
 * request's scopes, a WeakMap entry): the platform calls it once the response is done with (see
 * AppDeps.releaseContext in server/platform/http/app.ts). A field resolved after that (none is)
 * would evaluate its scopes afresh.
 */
export function releaseContext(ctx: GraphQLContext): void {
  RequestCache.clearForContext(ctx);
}

let built: GraphQLSchema | null = null;

export function buildSchema(): GraphQLSchema {
  built ??= builder.toSchema();
  return built;
}

/** The SDL committed as schema/schema.graphql (sorted so diffs are stable). */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
