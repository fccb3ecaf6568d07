/**
 * Short, coded errors for variables that do not fit their types (issue 11, item 5).
 *
 * graphql-js words a variable coercion error as `Variable "$input" got invalid value { ...the whole
 * value... }; Field "idempotencyKey" of required type "String!" was not provided.`: one missing
 * field of a journal entry came back as a 671-character message echoing the input, with no
 * `extensions.code`. This rewrites each such error as a short message that names the path
 * (`input.idempotencyKey is required (String!) but was not provided`), with
 * `extensions.field` the path from the variable (`input.lines[1].amount`) and `extensions.code`:
 * the scalar's own code when a scalar refused the value (INVALID_AMOUNT for a Decimal,
 * INVALID_DATE for a Date or DateTime), BAD_USER_INPUT otherwise. The value itself is never echoed
 * beyond what the scalar's message says (at most 200 characters of it).
 *
 * It is a yoga plugin (the errors are made before any resolver runs): `inputErrorsPlugin()`, to be
 * listed in the yoga instance's plugins.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const INVALID_VALUE = /^Variable "\$([A-Za-z_][A-Za-z0-9_]*)" got invalid value /;
const NOT_PROVIDED =
  /^Variable "\$([A-Za-z_][A-Za-z0-9_]*)" of (?:required|non-null) type "([^"]+)" (?:was not provided|must not be null)\.$/;
const MISSING_FIELD = /^Field "([^"]+)" of required type "([^"]+)" was not provided\.$/;
const UNKNOWN_FIELD = /^Field "([^"]+)" is not defined by type "([^"]+)"\./;
const NOT_AN_OBJECT = /^Expected type "([^"]+)" to be an object\.$/;
const DETAIL_LENGTH_MAX = 200;

function clip(text: string): string {
  return text.length > DETAIL_LENGTH_MAX ? `${text.slice(0, DETAIL_LENGTH_MAX - 3)}...` : text;
}

/**
 * The short error. It keeps the original's `extensions.http` (the executor marks these errors
 * `status: 400`, which yoga answers as the HTTP status, and drops from the body).
 */
function coded(error: GraphQLError, message: string, code: string, field: string): GraphQLError {
  const extensions: Record<string, unknown> = { code, field };
  const http = error.extensions?.http;
  if (http !== undefined) extensions.http = http;
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions,
  });
}

/** The short form of a variable coercion error; any other error is returned unchanged. */
export function shortenInputError(error: GraphQLError): GraphQLError {
  const absent = NOT_PROVIDED.exec(error.message);
  if (absent) {
    const [, name, type] = absent;
    return coded(error, `$${name} (${type}) is required but was not provided`, 'BAD_USER_INPUT', name!);
  }
  const head = INVALID_VALUE.exec(error.message);
  if (!head) return error;
  const variable = head[1]!;
  const inner = error.originalError;
  const innerMessage = inner?.message ?? '';
  // The message is `<prefix>; <inner message>`, the prefix ending with ` at "<path>"` when the
  // problem is inside the variable's value.
  const prefix = error.message.endsWith(`; ${innerMessage}`)
    ? error.message.slice(0, error.message.length - innerMessage.length - 2)
    : error.message;
  const at = / at "([^"]+)"$/.exec(prefix)?.[1];
  let path = at?.startsWith(variable) ? at : variable;
  let message: string;
  const missing = MISSING_FIELD.exec(innerMessage);
  const unknown = UNKNOWN_FIELD.exec(innerMessage);
  const notObject = NOT_AN_OBJECT.exec(innerMessage);
  if (missing) {
    path = `${path}.${missing[1]}`;
    message = `${path} is required (${missing[2]}) but was not provided`;
  } else if (unknown) {
    path = `${path}.${unknown[1]}`;
    message = `${path} is not a field of ${unknown[2]}`;
  } else if (notObject) {
    message = `${path} must be an object (${notObject[1]})`;
  } else {
    message = `${path}: ${clip(innerMessage)}`;
  }
  const innerCode = (inner as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  return coded(error, message, typeof innerCode === 'string' ? innerCode : 'BAD_USER_INPUT', path);
}

/** A yoga plugin: every execution result's variable coercion errors in their short form. */
export function inputErrorsPlugin(): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!result || typeof result !== 'object' || Symbol.asyncIterator in result) return;
          const errors = (result as { errors?: readonly GraphQLError[] }).errors;
          if (!errors?.length) return;
          const shortened = errors.map((e) => (e instanceof GraphQLError ? shortenInputError(e) : e));
          if (shortened.every((e, i) => e === errors[i])) return;
          setResult({ ...(result as object), errors: shortened } as never);
        },
      };
    },
  };
}
