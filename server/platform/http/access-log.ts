/**
 * One access log line per request (pino-http), carrying what tells operations and people apart:
 *
 *   {"level":"info",...,"requestId":"3f0c...","method":"POST","path":"/graphql","status":200,
 *    "ms":4.2,"operation":"PostEntry","operationType":"mutation","principal":"token:...",
 *    "outcome":"BALANCE_BOUND_EXCEEDED","msg":"request"}
 *
 * `outcome` is, for GraphQL, the `extensions.code` of the first error, else the `code` of the first
 * userError in the data, else "ok"; for an error answered outside GraphQL (429, 413, 404...) its
 * code. `principal` is the id of the caller whose token was verified (absent for anonymous calls).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Response } from 'express';
import { type GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What the GraphQL layer learnt about a request, for its access log line. */
export interface GraphQLOutcome {
  operation?: string;
  operationType?: string;
  outcome?: string;
}

type Locals = {
  requestId?: string;
  logger?: Logger;
  principal?: { id: string } | null;
  graphql?: GraphQLOutcome;
  outcome?: string;
  started?: bigint;
  path?: string;
};

const localsOf = (res: ServerResponse): Locals => ((res as Response).locals ?? {}) as Locals;

/**
 * The request id (the incoming `x-request-id` when sane, else a UUID, echoed in the response) and
 * the access log line. Sets `res.locals.requestId` and `res.locals.logger` (a child logger with the
 * request id) for the stages after it.
 */
export function accessLog(logger: Logger) {
  const fields = (req: IncomingMessage, res: ServerResponse) => {
    const locals = localsOf(res);
    const ms =
      locals.started === undefined ? undefined : Number(process.hrtime.bigint() - locals.started) / 1e6;
    const graphql = locals.graphql ?? {};
    return {
      method: req.method,
      path: locals.path,
      status: res.statusCode,
      ...(ms === undefined ? {} : { ms: Math.round(ms * 100) / 100 }),
      ...(graphql.operation === undefined ? {} : { operation: graphql.operation }),
      ...(graphql.operationType === undefined ? {} : { operationType: graphql.operationType }),
      ...(locals.principal ? { principal: locals.principal.id } : {}),
      ...((graphql.outcome ?? locals.outcome) === undefined
        ? {}
        : { outcome: graphql.outcome ?? locals.outcome }),
      ...(res.writableFinished ? {} : { aborted: true }),
    };
  };
  return pinoHttp({
    logger,
    // Lines logged for a request carry only its id (no serialized req/res objects).
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    genReqId: (req, res) => {
      const incoming = req.headers[REQUEST_ID_HEADER];
      const requestId =
        typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader(REQUEST_ID_HEADER, requestId);
      const locals = localsOf(res);
      locals.requestId = requestId;
      locals.started = process.hrtime.bigint();
      // Read now: inside a mounted router `req.url` is relative to the mount point.
      locals.path = (req.url ?? '').split('?')[0];
      return requestId;
    },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'warn' : 'info'),
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request',
    customSuccessObject: (req, res) => fields(req, res),
    customErrorObject: (req, res, error) => ({
      ...fields(req, res),
      // A 5xx answer is no exception of its own; a stream error is.
      ...(res.statusCode >= 500 && (error as Error).message.startsWith('failed with status code')
        ? {}
        : { err: error }),
    }),
  });
}

/** Sets `res.locals.logger` from pino-http's request logger (call right after `accessLog`). */
export function requestLogger(req: IncomingMessage & { log?: Logger }, res: ServerResponse): void {
  localsOf(res).logger = req.log;
}

/**
 * Records the operation's name and type and the outcome code in `res.locals.graphql`, where the
 * access log line reads them.
 */
export function graphqlOutcome(): Plugin<{ res?: Response }> {
  const of = (context: { res?: Response } | undefined): GraphQLOutcome | undefined => {
    const res = context?.res;
    if (!res) return undefined;
    res.locals.graphql ??= {};
    return res.locals.graphql as GraphQLOutcome;
  };
  return {
    onParams({ params, context }) {
      const outcome = of(context);
      if (outcome && typeof params.operationName === 'string') outcome.operation = params.operationName;
    },
    onExecute({ args }) {
      const outcome = of(args.contextValue as { res?: Response });
      if (!outcome) return;
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      if (!operation) return;
      outcome.operationType = operation.operation;
      if (operation.name) outcome.operation = operation.name.value;
    },
    onResultProcess({ result, serverContext }) {
      const outcome = of(serverContext as { res?: Response });
      if (!outcome || Array.isArray(result) || !result || typeof result !== 'object') return;
      const { errors, data } = result as { errors?: readonly GraphQLError[]; data?: unknown };
      const code = errors?.[0]?.extensions?.code;
      if (errors?.length) outcome.outcome = typeof code === 'string' ? code : 'ERROR';
      else outcome.outcome = firstUserErrorCode(data, 3) ?? 'ok';
    },
  };
}

/** The `code` of the first non-empty `userErrors` list in `data`, looking `depth` levels down. */
function firstUserErrorCode(value: unknown, depth: number): string | undefined {
  if (depth < 0 || value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const code = firstUserErrorCode(item, depth - 1);
      if (code !== undefined) return code;
    }
    return undefined;
  }
  const userErrors = (value as { userErrors?: unknown }).userErrors;
  if (Array.isArray(userErrors) && userErrors.length > 0) {
    const code = (userErrors[0] as { code?: unknown } | null)?.code;
    if (typeof code === 'string') return code;
  }
  for (const child of Object.values(value)) {
    const code = firstUserErrorCode(child, depth - 1);
    if (code !== undefined) return code;
  }
  return undefined;
}
