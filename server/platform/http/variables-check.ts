/**
 * Whether a request's variables coerce without errors, for the lean route's known documents,
 * without building the coerced values (issue 12). graphql-js's getVariableValues builds a copy of
 * every value (a batch of 500 entries is about 5,000 of them, each with its path on error), which
 * the lean route threw away: it only asks "do they coerce?", and graphql-jit coerces them again.
 *
 * The check follows graphql-js 16's coerceInputValue rule for rule (non-null, null, lists and
 * single values as lists, input objects with their required fields, defaults and unknown fields,
 * leaf types through their own parseValue), on the values JSON.parse makes (objects, arrays,
 * strings, numbers, booleans, null). It answers true only when graphql-js would find no error;
 * anything it does not model (a @oneOf input object, a type the schema does not have) is false,
 * and the caller then asks graphql-js itself, so the answer is never looser than graphql-js's.
 */
import {
  type GraphQLInputType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInputType,
  isListType,
  isNonNullType,
  isScalarType,
  type TypeNode,
  typeFromAST,
  type VariableDefinitionNode,
} from 'graphql';

export type VariablesCheck = (inputs: Record<string, unknown>) => boolean;

/** The check for an operation's variable definitions. */
export function variablesCheck(
  schema: GraphQLSchema,
  definitions: readonly VariableDefinitionNode[],
): VariablesCheck {
  const vars = definitions.map((d) => {
    const type = typeFromAST(schema, d.type as TypeNode & { kind: never }) as GraphQLInputType | undefined;
    const known = type !== undefined && isInputType(type);
    return {
      name: d.variable.name.value,
      check: known ? checkOf(type) : null,
      required: known && isNonNullType(type),
      hasDefault: d.defaultValue !== undefined,
    };
  });
  return (inputs) => {
    for (const v of vars) {
      if (v.check === null) return false;
      if (!Object.hasOwn(inputs, v.name)) {
        if (v.hasDefault) continue;
        if (v.required) return false;
        continue;
      }
      if (!v.check(inputs[v.name])) return false;
    }
    return true;
  };
}

type Check = (value: unknown) => boolean;

/**
 * Each type's check, made once: a batch of 500 entries is about 6,000 values, and asking of each
 * what its type is (isNonNullType, isListType, ..., each an instanceof in graphql-js) was most of
 * the check's time. Built lazily (an input object's fields are looked at when it is first
 * checked), so input types that refer to themselves are no problem.
 */
const checks = new WeakMap<GraphQLInputType, Check>();

function checkOf(type: GraphQLInputType): Check {
  let check = checks.get(type);
  if (check === undefined) {
    check = buildCheck(type);
    checks.set(type, check);
  }
  return check;
}

function buildCheck(type: GraphQLInputType): Check {
  if (isNonNullType(type)) {
    const inner = checkOf(type.ofType);
    return (value) => value !== null && value !== undefined && inner(value);
  }
  if (isListType(type)) {
    const item = checkOf(type.ofType);
    return (value) => {
      if (value === null || value === undefined) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!item(value[i])) return false;
        return true;
      }
      return item(value);
    };
  }
  if (isInputObjectType(type)) {
    // Not modelled: left to graphql-js.
    if ((type as { isOneOf?: boolean }).isOneOf) return (value) => value === null || value === undefined;
    let fields: Record<string, unknown> | undefined;
    let known: { name: string; check: Check; hasDefault: boolean; required: boolean }[] = [];
    return (value) => {
      if (value === null || value === undefined) return true;
      // Arrays are object-like to graphql-js; not worth modelling.
      if (typeof value !== 'object' || Array.isArray(value)) return false;
      if (fields === undefined) {
        const map = type.getFields();
        known = Object.values(map).map((field) => ({
          name: field.name,
          check: checkOf(field.type),
          hasDefault: field.defaultValue !== undefined,
          required: isNonNullType(field.type),
        }));
        fields = map;
      }
      const object = value as Record<string, unknown>;
      for (let i = 0; i < known.length; i++) {
        const field = known[i]!;
        // Read as graphql-js reads it (inherited properties too).
        const fieldValue = object[field.name];
        if (fieldValue === undefined) {
          if (field.hasDefault) continue;
          if (field.required) return false;
          continue;
        }
        if (!field.check(fieldValue)) return false;
      }
      for (const key in object) {
        if (Object.hasOwn(object, key) && !Object.hasOwn(fields, key)) return false;
      }
      return true;
    };
  }
  if (isScalarType(type) || isEnumType(type)) {
    return (value) => {
      if (value === null || value === undefined) return true;
      try {
        return type.parseValue(value) !== undefined;
      } catch {
        return false;
      }
    };
  }
  return (value) => value === null || value === undefined;
}
