/**
 * Persisted documents and the lean route (issue 12).
 *
 * Persisted documents: a manifest (document id -> document text) of the operations clients are
 * known to send, generated from the SDK's operations by `npm run generate`
 * (server/persisted-documents.json; ids are `sha256:<hex>` of the normalised document, as
 * GraphQL Code Generator's client preset makes them). Each is parsed and validated once, at start,
 * by the same parse and validate as yoga's (the document limits, graphql-armor's depth, aliases,
 * directives and cost, introspection when it is off). A client may send a document's id instead
 * of its text (`{"documentId":"sha256:..."}`, or Apollo's `extensions.persistedQuery.sha256Hash`);
 * with `only` (PERSISTED_DOCUMENTS_ONLY), documents outside the manifest are refused.
 *
 * The lean route: a POST of a known document (by id or by its exact text) whose root fields are in
 * `leanRootFields` (the posting mutations), sent with a verified token, is executed here instead
 * of through yoga's request adapter (whatwg-node's Request and Response objects, yoga's request
 * parsing and parameter checks), which cost about as much CPU as posting the entry. Everything
 * else is the same, because it is the same code: it runs after the same express stages
 * (request id and access log, rate limits, authentication, body limits and admission, the input
 * checks), and executes through yoga's own envelop (`yoga.getEnveloped`): the same context, the
 * schema with its scope-auth and well-formed-input checks, error masking, the input errors plugin
 * and the access log's outcome plugin; its result goes through yoga's own result-processing
 * hooks (the accepted media type, status codes, error codes). A request the lean route does not
 * fully understand (other parameters, an operation name that does not match, variables that do
 * not coerce, no token) is left to yoga, untouched, before anything runs.
 */
import type { Request, Response } from 'express';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLSchema,
  getVariableValues,
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import { type Plugin, processRegularResult, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { sendError } from './errors.js';
import {
  acceptRawJson,
  hasRawJson,
  materializeRawJson,
  releaseRawJson,
  stringifyWithRawJson,
} from './raw-json.js';
import { type VariablesCheck, variablesCheck } from './variables-check.js';

export interface PersistedDocumentsOptions {
  /** The manifest: document id (e.g. `sha256:<hex>`) -> document text. */
  documents: Record<string, string>;
  /** Refuse any document that is not in the manifest (production, once every client persists). */
  only?: boolean;
  /**
   * Root fields whose operations the lean route serves; `'*'` for every operation (tests use it
   * to run whole suites through the lean route). Empty: no lean route.
   */
  leanRootFields?: readonly string[] | '*';
  /**
   * Root fields whose operations the lean route executes compiled by graphql-jit (see app.ts);
   * `'*'` (the default) for all it serves. The others run on graphql-js's executor.
   */
  compiledRootFields?: readonly string[] | '*';
  /**
   * Tests: the lean route also serves valid documents outside the manifest (parsed and validated
   * once by yoga's parse and validate, then cached by text).
   */
  leanUnknownDocuments?: boolean;
}

/** A document parsed and validated once. */
interface Prepared {
  text: string;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | null;
  rootFields: string[];
  /** True when the variables surely coerce without errors (see variables-check.ts). */
  variablesCoerce: VariablesCheck;
  /** Executed compiled by graphql-jit (PersistedDocumentsOptions.compiledRootFields). */
  compiled: boolean;
}

const PARAMS = new Set(['query', 'operationName', 'variables', 'extensions', 'documentId']);
const UNKNOWN_DOCUMENTS_CACHED_MAX = 1000;

/** The content types yoga reads as a JSON body. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || type === 'application/graphql+json';
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

type AnyYoga = YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;

export interface LeanRouteDeps {
  yoga: unknown;
  schema: GraphQLSchema;
  options: PersistedDocumentsOptions;
  logger: Logger;
  /** The request's JSON body, parsed once (see app.ts). */
  parsedBody: (req: Request) => object | undefined;
}

/**
 * The persisted documents and the lean route, as one handler: it answers (true) or leaves the
 * request to yoga (false), having replaced a known `documentId` by the document's text.
 */
export function persistedDocuments(deps: LeanRouteDeps): (req: Request, res: Response) => boolean {
  const yoga = deps.yoga as AnyYoga;
  const { options, logger } = deps;
  const lean = options.leanRootFields ?? [];
  const leanAll = lean === '*';
  const leanFields = new Set(leanAll ? [] : lean);
  const compiledAll = (options.compiledRootFields ?? '*') === '*';
  const compiledFields = new Set(compiledAll ? [] : options.compiledRootFields);
  const prepare = (text: string): Prepared | null => {
    const enveloped = yoga.getEnveloped({} as never);
    let document: DocumentNode;
    try {
      document = enveloped.parse(text);
      // graphql-armor throws what it rejects (yoga answers it); a rejection either way.
      if (enveloped.validate(enveloped.schema, document).length > 0) return null;
    } catch {
      return null;
    }
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    if (operations.length !== 1) return null;
    const operation = operations[0]!;
    const rootFields = operation.selectionSet.selections.map((s) =>
      s.kind === Kind.FIELD ? s.name.value : '',
    );
    return {
      text,
      document,
      operation,
      operationName: operation.name?.value ?? null,
      rootFields,
      variablesCoerce: variablesCheck(deps.schema, operation.variableDefinitions ?? []),
      compiled: compiledAll || (rootFields.length > 0 && rootFields.every((f) => compiledFields.has(f))),
    };
  };

  const byId = new Map<string, string>();
  const byText = new Map<string, Prepared | null>();
  for (const [id, text] of Object.entries(options.documents)) {
    byId.set(id, text);
    const prepared = prepare(text);
    if (!prepared) logger.warn({ documentId: id }, 'a persisted document does not validate; yoga answers it');
    byText.set(text, prepared);
  }
  // Valid documents outside the manifest (tests only), newest last.
  const learnt = new Map<string, Prepared | null>();
  const known = (text: string): Prepared | null | undefined => {
    const found = byText.get(text);
    if (found !== undefined || !options.leanUnknownDocuments) return found;
    let prepared = learnt.get(text);
    if (prepared === undefined) {
      prepared = prepare(text);
      learnt.set(text, prepared);
      if (learnt.size > UNKNOWN_DOCUMENTS_CACHED_MAX) learnt.delete(learnt.keys().next().value!);
    }
    return prepared;
  };
  const isLean = (p: Prepared) =>
    p.operation.operation !== 'subscription' &&
    (leanAll || (p.rootFields.length > 0 && p.rootFields.every((f) => leanFields.has(f))));

  return (req, res) => {
    if (req.method !== 'POST' || !isJsonContentType(req.get('content-type'))) {
      if (options.only && req.method === 'GET') return refuseUnknownGet(req, res, byText);
      return false;
    }
    const body = deps.parsedBody(req);
    if (!isPlainObject(body)) return false;
    // A document sent by its id: known ids are replaced by the text (for yoga too).
    const persistedQuery = isPlainObject(body.extensions) ? body.extensions.persistedQuery : undefined;
    const id =
      typeof body.documentId === 'string'
        ? body.documentId
        : isPlainObject(persistedQuery) && typeof persistedQuery.sha256Hash === 'string'
          ? `sha256:${persistedQuery.sha256Hash}`
          : undefined;
    if (id !== undefined && body.query === undefined) {
      const text = byId.get(id);
      if (text === undefined) {
        sendError(res, 400, 'PERSISTED_DOCUMENT_NOT_FOUND', {
          message: `No persisted document has the id "${id.slice(0, 80)}"; send the document's text in "query".`,
        });
        return true;
      }
      delete body.documentId;
      body.query = text;
    }
    if (options.only && (typeof body.query !== 'string' || !byText.has(body.query))) {
      sendError(res, 400, 'PERSISTED_DOCUMENT_REQUIRED', {
        message: 'This service answers persisted documents only: send a known "documentId".',
      });
      return true;
    }
    if (typeof body.query !== 'string' || res.locals.principal == null) return false;
    for (const key of Object.keys(body)) if (!PARAMS.has(key)) return false;
    const prepared = known(body.query);
    if (!prepared || !isLean(prepared)) return false;
    const { operationName, variables, extensions } = body;
    if (operationName !== undefined && operationName !== null && operationName !== prepared.operationName)
      return false;
    if (variables !== undefined && variables !== null && !isPlainObject(variables)) return false;
    if (extensions !== undefined && extensions !== null && !isPlainObject(extensions)) return false;
    // Variables that do not coerce are answered by yoga (nothing has run yet).
    const inputs = (variables ?? {}) as Record<string, unknown>;
    // The allocation-free check first (variables-check.ts); graphql-js itself when it is unsure.
    if (!prepared.variablesCoerce(inputs)) {
      const coerced = getVariableValues(deps.schema, prepared.operation.variableDefinitions ?? [], inputs, {
        maxErrors: 1,
      });
      if (coerced.errors) return false;
    }
    // A no-op unless LOG_LEVEL is debug (tests read it to know which path answered).
    logger.debug({ requestId: res.locals.requestId }, 'served by the lean route');
    void serve(yoga, req, res, prepared, body, inputs).catch((error: unknown) => {
      (res.locals.logger as Logger).error({ err: error }, 'unexpected error (masked for the client)');
      if (res.headersSent) return res.destroy();
      sendError(res, 500, 'INTERNAL_SERVER_ERROR', {
        message: 'Unexpected error.',
        requestId: res.locals.requestId,
      });
    });
    return true;
  };
}

/** Only persisted documents: a GET carrying an unknown `query` is refused. */
function refuseUnknownGet(req: Request, res: Response, byText: Map<string, Prepared | null>): boolean {
  const query = new URL(req.originalUrl, 'http://localhost').searchParams.get('query');
  if (query === null || byText.has(query)) return false;
  sendError(res, 400, 'PERSISTED_DOCUMENT_REQUIRED', {
    message: 'This service answers persisted documents only: send a known "documentId".',
  });
  return true;
}

type ResultProcessor = (result: ExecutionResult, fetchAPI: unknown, mediaType: string) => unknown;
type ResultProcessHook = (payload: {
  request: unknown;
  acceptableMediaTypes: string[];
  result: ExecutionResult;
  setResult: (result: ExecutionResult) => void;
  resultProcessor: ResultProcessor | undefined;
  setResultProcessor: (processor: ResultProcessor, mediaType: string) => void;
  serverContext: unknown;
}) => unknown;

/**
 * Marks the contexts of the requests the lean route executes, with how it executes them. Their
 * variables were checked to coerce before the route took them (anything unusual is left to yoga),
 * so:
 * - 'compiled': they may run compiled by graphql-jit (see app.ts), which answers bad variables
 *   differently from graphql-js (statuses, messages), and the lean route never hands it any;
 * - 'graphql-js': the others run on graphql-js's own `execute` (see `leanExecutor`) instead of yoga's
 *   (@graphql-tools/executor), which copies every variable value before coercing it.
 * A mark on the context, not a WeakSet of contexts (see AppDeps.releaseContext in app.ts).
 */
const LEAN_EXECUTION = Symbol('lean route execution');

/** How the lean route executes the request of this context; undefined when yoga serves it. */
export function leanExecution(context: object): 'compiled' | 'graphql-js' | undefined {
  return (context as { [LEAN_EXECUTION]?: 'compiled' | 'graphql-js' })[LEAN_EXECUTION];
}

/**
 * The lean route's interpreted requests run on graphql-js's `execute` rather than yoga's executor
 * (@graphql-tools/executor), whose variable coercion first copies every value (snapshotInputValue)
 * and then coerces it with graphql-js's coerceInputValue, on top of the lean route's own check.
 * The same schema, document, context and envelop hooks (error masking, the outcome plugins): only
 * the function that executes changes. Measured on the single-entry bench (issue 12) in interleaved
 * rounds against the code before (8 each, both services up at once), with NODE_ENV=production as
 * `npm start` now sets it: at 16 clients the service's CPU per request 0.291 -> 0.271 ms
 * (2,241 -> 2,280 entries/s); at 64 clients two runs gave 2,113 -> 2,865 and 2,851 -> 2,973
 * entries/s (CPU 0.454 -> 0.266 and 0.267 -> 0.264 ms), so a small gain within this machine's noise.
 */
export function leanExecutor(): Plugin {
  return {
    onExecute({ args, setExecuteFn }) {
      if (leanExecution(args.contextValue as object) === 'graphql-js') setExecuteFn(execute);
    },
  };
}

/** Executes a prepared document through yoga's envelop and answers as yoga does. */

async function serve(
  yoga: AnyYoga,
  req: Request,
  res: Response,
  prepared: Prepared,
  body: Record<string, unknown>,
  variables: Record<string, unknown>,
): Promise<void> {
  const params = {
    query: prepared.text,
    operationName: (body.operationName as string | null | undefined) ?? undefined,
    variables,
    extensions: (body.extensions as Record<string, unknown> | null | undefined) ?? undefined,
  };
  // What the access log's onParams hook records on yoga's path.
  if (typeof body.operationName === 'string') {
    res.locals.graphql ??= {};
    (res.locals.graphql as { operation?: string }).operation = body.operationName;
  }
  const serverContext = { req, res };
  const enveloped = yoga.getEnveloped({ ...serverContext, params } as never);
  const contextValue = await enveloped.contextFactory();
  Object.defineProperty(contextValue, LEAN_EXECUTION, {
    configurable: true,
    enumerable: false,
    value: prepared.compiled ? 'compiled' : 'graphql-js',
  });
  acceptRawJson(contextValue);
  let result = (await enveloped.execute({
    schema: enveloped.schema,
    document: prepared.document,
    contextValue,
    variableValues: variables,
    operationName: params.operationName,
  })) as ExecutionResult;
  // Raw JSON held by resolvers (raw-json.ts) is written as text only into a plain answer.
  const plain = (r: ExecutionResult) =>
    !r.errors?.length && (r as { extensions?: unknown }).extensions === undefined && !Array.isArray(r);
  if (hasRawJson(contextValue) && !plain(result)) {
    materializeRawJson(contextValue, result);
    releaseRawJson(contextValue);
  }

  // yoga's onResultProcess hooks (the media type, error codes, the access log's outcome), with the
  // headers of this request.
  const request = {
    method: req.method,
    url: req.originalUrl,
    headers: { get: (name: string) => req.get(name) ?? null },
  };
  let processor: ResultProcessor | undefined;
  let mediaType = '*/*';
  const acceptableMediaTypes: string[] = [];
  const hooks = (yoga as unknown as { onResultProcessHooks: ResultProcessHook[] }).onResultProcessHooks;
  const setResult = (next: ExecutionResult) => {
    result = next;
  };
  const setResultProcessor = (next: ResultProcessor, type: string) => {
    processor = next;
    mediaType = type;
  };
  for (const hook of hooks) {
    const returned = hook({
      request,
      acceptableMediaTypes,
      result,
      setResult,
      resultProcessor: processor,
      setResultProcessor,
      serverContext,
    });
    // Awaited only when a hook answers a promise (each await of a plain value is a microtask).
    if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function') await returned;
  }
  if (!processor) {
    res.status(406).setHeader('accept', acceptableMediaTypes.join('; charset=utf-8, '));
    res.end();
    return;
  }
  if (processor === (processRegularResult as unknown) && plain(result)) {
    // What processRegularResult answers for a result without errors, without its Response object.
    const stringify = (result as { stringify?: (r: unknown) => string }).stringify ?? JSON.stringify;
    res.status(200).setHeader('content-type', `${mediaType}; charset=utf-8`);
    const answer = stringifyWithRawJson(contextValue, result, stringify);
    if (typeof answer === 'string') {
      res.end(answer);
      return;
    }
    // The pieces written as they are (one writev), with the length res.end(buffer) would have set.
    res.setHeader('content-length', answer.length);
    // The held JSON's buffers are reused once the socket has taken the whole answer.
    res.once('finish', () => releaseRawJson(contextValue));
    res.cork();
    for (let i = 0; i < answer.chunks.length - 1; i++) res.write(answer.chunks[i]);
    res.end(answer.chunks[answer.chunks.length - 1]);
    res.uncork();
    return;
  }
  materializeRawJson(contextValue, result);
  releaseRawJson(contextValue);
  const response = (await processor(result, yoga.fetchAPI, mediaType)) as globalThis.Response;
  res.status(response.status);
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  res.end(await response.text());
}
