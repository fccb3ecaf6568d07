/**
 * Every string an operation takes is well-formed Unicode without U+0000, checked once, for every
 * field, by this Pothos plugin (so no mutation written later can forget it).
 *
 * Why: PostgreSQL cannot store U+0000 in text or jsonb, and it stores a lone surrogate (possible
 * in JSON variables, `"\ud800"`) as U+FFFD, so what a book's hash chain hashed would differ from
 * what it stored and its tamper evidence would break for good (issue 10). Refused at the edge,
 * what is hashed is exactly what is stored.
 *
 * - A mutation with such a string answers its payload with a userError `INVALID_INPUT` per bad
 *   string, `field` naming the input path as other userErrors do (`memo`, `lines[1].unit`,
 *   `entries[3].metadata[0].value`), and runs nothing: no use case is called.
 * - Any other field with such an argument (a query's `city`, a nested field's argument) answers a
 *   top-level error with `extensions.code` `BAD_USER_INPUT` and `extensions.field` the argument path.
 *
 * The arguments checked are the coerced ones, so a string written in the query text
 * (`memo: "a\u0000b"`) and one sent in the variables are checked alike. Scope-auth runs first (it
 * is an earlier plugin, so its wrapper is outside this one): a caller who may not use the field is
 * refused as before, whatever it sent. `node(id:)` is left out: its id is decoded by the relay
 * plugin before any resolver wrapper sees it, and a malformed id answers null there anyway.
 */
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import {
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLOutputType,
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
} from 'graphql';
import { LedgerError } from '../server/core/index.js';

export interface BadString {
  /** Path from the argument, in userError style: `input.lines[1].unit` becomes `lines[1].unit`. */
  field: string;
  problem: 'NUL' | 'SURROGATE';
}

/**
 * Whether a value holds a string that is not storable. Allocates nothing: the paths are built
 * (by badStrings) only for the rare argument that has such a string, not for every value of every
 * request (a batch of 500 entries has about 5,000 of them).
 */
function holdsBadString(value: unknown): boolean {
  if (typeof value === 'string') return !value.isWellFormed() || value.includes('\0');
  if (value === null || typeof value !== 'object' || value instanceof Date) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (holdsBadString(value[i])) return true;
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && holdsBadString((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** Every string in a field's arguments that is not storable, with its path. */
export function badStrings(args: Record<string, unknown>): BadString[] {
  const found: BadString[] = [];
  if (!holdsBadString(args)) return found;
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') {
      if (!value.isWellFormed()) found.push({ field: path, problem: 'SURROGATE' });
      else if (value.includes('\0')) found.push({ field: path, problem: 'NUL' });
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, `${path}[${i}]`);
    } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      for (const [key, item] of Object.entries(value)) walk(item, path === '' ? key : `${path}.${key}`);
    }
  };
  for (const [name, value] of Object.entries(args)) {
    // A mutation's one `input` argument: its fields are named from the input, like other userErrors.
    walk(value, name === 'input' ? '' : name);
  }
  return found;
}

function message(bad: BadString): string {
  const where = bad.field === '' ? 'input' : bad.field;
  return bad.problem === 'NUL'
    ? `${where} holds the NUL character (U+0000), which cannot be stored`
    : `${where} is not well-formed Unicode (it holds a lone surrogate, e.g. "\\ud800" without its pair)`;
}

export function badStringErrors(found: BadString[]): LedgerError[] {
  return found.map(
    (bad) => new LedgerError('INVALID_INPUT', message(bad), bad.field === '' ? null : bad.field),
  );
}

/** Marks the payload of a mutation that refused its input (its fields answer "nothing"). */
const REFUSED = Symbol('refused input');

/**
 * The payload a mutation answers when it did nothing but refuse its input: `userErrors`, and for
 * every other field of the payload what "nothing" is (null, an empty list, false, 0). Each field
 * of a refused payload answers that without running its own resolver (see `wrapResolve`), so one
 * shape fits every mutation however its payload reads its parent;
 * tests/platform/well-formed-input.test.ts sends a bad string to each.
 */
export function refusedPayload(userErrors: LedgerError[]): object {
  return { [REFUSED]: true, userErrors };
}

function isRefused(parent: unknown): parent is { userErrors: LedgerError[] } {
  return typeof parent === 'object' && parent !== null && REFUSED in parent;
}

/** "Nothing" of a field's type: null, an empty list, false, 0 or '' (a non-null object has none). */
function nothingOf(type: GraphQLOutputType): unknown {
  if (!isNonNullType(type)) return null;
  const inner = getNullableType(type);
  if (isListType(inner)) return [];
  switch (getNamedType(inner).name) {
    case 'Boolean':
      return false;
    case 'Int':
    case 'Float':
      return 0;
    case 'String':
      return '';
    default:
      return null;
  }
}

export class WellFormedInputPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const checksArgs = Object.keys(fieldConfig.args).length > 0 && fieldConfig.argMappers.length === 0;
    const isMutation = fieldConfig.parentType === 'Mutation';
    // A field of a refused payload answers "nothing" (its userErrors, the refusals) without running.
    const answerRefused: GraphQLFieldResolver<unknown, Types['Context'], object> = (
      parent,
      args,
      context,
      info,
    ) =>
      isRefused(parent)
        ? info.fieldName === 'userErrors'
          ? parent.userErrors
          : nothingOf(info.returnType)
        : resolver(parent, args, context, info);
    if (!checksArgs) return answerRefused;
    return (parent, args, context, info) => {
      const found = badStrings(args as Record<string, unknown>);
      if (found.length === 0) return answerRefused(parent, args, context, info);
      if (isMutation) return refusedPayload(badStringErrors(found));
      const first = found[0]!;
      throw new GraphQLError(message(first), {
        extensions: { code: 'BAD_USER_INPUT', field: first.field },
      });
    };
  }
}

declare global {
  // ES2024 (Node 20+); the project's `lib` is ES2023.
  interface String {
    isWellFormed(): boolean;
  }
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      wellFormedInput: WellFormedInputPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('wellFormedInput', WellFormedInputPlugin);

export default 'wellFormedInput' as const;
