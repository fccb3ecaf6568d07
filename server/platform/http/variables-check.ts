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
  const vars = definitions.map((d) => ({
    name: d.variable.name.value,
    type: typeFromAST(schema, d.type as TypeNode & { kind: never }) as GraphQLInputType | undefined,
    hasDefault: d.defaultValue !== undefined,
  }));
  return (inputs) => {
    for (const v of vars) {
      if (v.type === undefined || !isInputType(v.type)) return false;
      if (!Object.hasOwn(inputs, v.name)) {
        if (v.hasDefault) continue;
        if (isNonNullType(v.type)) return false;
        continue;
      }
      if (!coerces(inputs[v.name], v.type)) return false;
    }
    return true;
  };
}

function coerces(value: unknown, type: GraphQLInputType): boolean {
  if (isNonNullType(type)) {
    if (value === null || value === undefined) return false;
    return coerces(value, type.ofType);
  }
  if (value === null || value === undefined) return true;
  if (isListType(type)) {
    const item = type.ofType;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (!coerces(value[i], item)) return false;
      return true;
    }
    return coerces(value, item);
  }
  if (isInputObjectType(type)) {
    // Arrays are object-like to graphql-js; not worth modelling.
    if (typeof value !== 'object' || Array.isArray(value)) return false;
    if ((type as { isOneOf?: boolean }).isOneOf) return false;
    const fields = type.getFields();
    const object = value as Record<string, unknown>;
    for (const name in fields) {
      const field = fields[name]!;
      // Read as graphql-js reads it (inherited properties too).
      const fieldValue = object[name];
      if (fieldValue === undefined) {
        if (field.defaultValue !== undefined) continue;
        if (isNonNullType(field.type)) return false;
        continue;
      }
      if (!coerces(fieldValue, field.type)) return false;
    }
    for (const key in object) {
      if (Object.hasOwn(object, key) && !Object.hasOwn(fields, key)) return false;
    }
    return true;
  }
  if (isScalarType(type) || isEnumType(type)) {
    try {
      return type.parseValue(value) !== undefined;
    } catch {
      return false;
    }
  }
  return false;
}
