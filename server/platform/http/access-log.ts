/**
 * One access log line per request, carrying what tells operations and people apart:
 *
 *   {"level":"info",...,"requestId":"3f0c...","method":"POST","path":"/graphql","status":200,
 *    "ms":4.2,"operation":"PostEntry","operationType":"mutation","ip":"203.0.113.7",
 *    "principal":"token:...","outcome":"BALANCE_BOUND_EXCEEDED","msg":"request"}
 *
 * `outcome` is, for GraphQL, the `extensions.code` of the first error, else the `code` of the first
 * userError in the data, else "ok"; for an error answered outside GraphQL (429, 413, 404...) its
 * code. `ip` is the client address the per-address rate limit used (`req.ip`: the connection's, or
 * a trusted proxy's X-Forwarded-For with TRUST_PROXY). `principal` is the id of the caller whose
 * token was verified (absent for anonymous calls).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import {
  type DocumentNode,
  type GraphQLError,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What the GraphQL layer learnt about a request, for its access log line. */
export interface GraphQLOutcome {
  operation?: string;
  operationType?: string;
  outcome?: string;
  /** Where the executed operation selects `userErrors` (response keys from `data`), see userErrorPaths. */
  userErrorPaths?: readonly (readonly string[])[];
}

type Locals = {
  requestId?: string;
  logger?: Logger;
  principal?: { id: string } | null;
  graphql?: GraphQLOutcome;
  outcome?: string;
  started?: bigint;
  path?: string;
  /** The client address (`req.ip`), read once by clientAddress. */
  ip?: string;
};

/** The request's child logger, made on first use of `locals.logger`. */
const CHILD_LOGGER = Symbol('child logger');
type ChildHolder = { [CHILD_LOGGER]?: Logger | undefined };

const localsOf = (res: ServerResponse): Locals => ((res as Response).locals ?? {}) as Locals;

/**
 * The request id (the incoming `x-request-id` when sane, else a UUID, echoed in the response) and
 * the access log line, written when the answer is sent (or `"aborted":true` when the client went
 * away first). Sets `res.locals.requestId` and `res.locals.logger` for the stages after it.
 *
 * `res.locals.logger` (a child logger carrying the request id, and the principal once one is set
 * with `setPrincipal`) is made on first use only: most requests never log anything but their
 * access line, which is written by the service's logger with the request id as a field (the same
 * line a child logger would write), so building a child per request (about 0.02 ms) is skipped.
 * This replaced pino-http (issue 12): on the single-entry bench pino-http built a child logger and
 * its serializers for every request, about 0.02-0.03 ms of the service's CPU per request out of a
 * 0.35 ms target; this file is the part of it the service used (a line on 'finish' or 'close').
 */
export function accessLog(logger: Logger) {
  const fields = (req: IncomingMessage, res: ServerResponse, locals: Locals) => {
    const ms =
      locals.started === undefined ? undefined : Number(process.hrtime.bigint() - locals.started) / 1e6;
    const graphql = locals.graphql;
    // Built field by field in the line's order (spreads of small objects cost more).
    const line: Record<string, unknown> = {
      requestId: locals.requestId,
      method: req.method,
      path: locals.path,
      status: res.statusCode,
    };
    if (ms !== undefined) line.ms = Math.round(ms * 100) / 100;
    if (graphql?.operation !== undefined) line.operation = graphql.operation;
    if (graphql?.operationType !== undefined) line.operationType = graphql.operationType;
    line.ip = clientAddress(req, res);
    if (locals.principal) line.principal = locals.principal.id;
    const outcome = graphql?.outcome ?? locals.outcome;
    if (outcome !== undefined) line.outcome = outcome;
    if (!res.writableFinished) line.aborted = true;
    return line;
  };
  // One getter and setter for every request, reading the request's locals (`this`). Functions made
  // per request and held by the property kept each request's graph (req, res, their headers and
  // body) alive through V8's scavenges, to be promoted to the old space and wait for a mark-compact
  // (issue 12): a plain express app defining the property so promoted 3.7 of the 9.8 MB it
  // allocated between two scavenges (none with shared functions), and the service's 404s 3.2-3.8 MB
  // a scavenge (none after this change).
  const loggerProperty: PropertyDescriptor = {
    configurable: true,
    enumerable: true,
    get(this: Locals & ChildHolder): Logger {
      const requestId = this.requestId;
      this[CHILD_LOGGER] ??= logger.child(
        this.principal ? { requestId, principal: this.principal.id } : { requestId },
      );
      return this[CHILD_LOGGER];
    },
    set(this: ChildHolder, value: Logger | undefined) {
      this[CHILD_LOGGER] = value;
    },
  };
  return (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const incoming = req.headers[REQUEST_ID_HEADER];
    const requestId =
      typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const locals = localsOf(res);
    locals.requestId = requestId;
    locals.started = process.hrtime.bigint();
    // Read now: inside a mounted router `req.url` is relative to the mount point.
    const url = req.url ?? '';
    const query = url.indexOf('?');
    locals.path = query < 0 ? url : url.slice(0, query);
    locals.ip = undefined;
    (locals as ChildHolder)[CHILD_LOGGER] = undefined;
    Object.defineProperty(locals, 'logger', loggerProperty);
    let streamError: unknown;
    const onError = (error: unknown) => {
      streamError = error;
    };
    const done = () => {
      res.off('close', done);
      res.off('finish', done);
      res.off('error', onError);
      const level = streamError !== undefined || res.statusCode >= 500 ? 'warn' : 'info';
      // The line is not built when its level is off (LOG_LEVEL=warn: the benches, busy services).
      if (!logger.isLevelEnabled(level)) return;
      const line = fields(req, res, locals);
      if (streamError !== undefined) logger.warn({ ...line, err: streamError }, 'request');
      else logger[level](line, 'request');
    };
    res.once('finish', done);
    res.once('close', done);
    res.once('error', onError);
    next();
  };
}

/**
 * The client's address: express's `req.ip`, which follows the app's `trust proxy` setting
 * (TRUST_PROXY: the X-Forwarded-For of trusted proxies, else the connection's address). Read once
 * per request, so the per-address rate limit and the access line's `ip` are the same address.
 */
export function clientAddress(req: IncomingMessage, res: ServerResponse): string {
  const locals = localsOf(res);
  locals.ip ??= (req as Request).ip ?? req.socket.remoteAddress ?? '';
  return locals.ip;
}

/**
 * Records who asks (the access line's `principal`, and a binding of the request's logger, made
 * afresh on its next use).
 */
export function setPrincipal(res: ServerResponse, principal: { id: string } | null): void {
  const locals = localsOf(res);
  locals.principal = principal;
  const requestId = locals.requestId;
  if (principal === null || requestId === undefined) return;
  // The next use of `res.locals.logger` binds the principal too.
  const descriptor = Object.getOwnPropertyDescriptor(locals, 'logger');
  if (descriptor?.set) descriptor.set.call(locals, undefined);
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
      outcome.userErrorPaths = userErrorPaths(args.document, operation);
    },
    onResultProcess({ result, serverContext }) {
      const outcome = of(serverContext as { res?: Response });
      if (!outcome || Array.isArray(result) || !result || typeof result !== 'object') return;
      const { errors } = result as { errors?: readonly GraphQLError[] };
      const code = errors?.[0]?.extensions?.code;
      if (errors?.length) outcome.outcome = typeof code === 'string' ? code : 'ERROR';
      else {
        const data = (result as { data?: unknown }).data;
        outcome.outcome =
          (outcome.userErrorPaths
            ? userErrorCodeAt(data, outcome.userErrorPaths)
            : firstUserErrorCode(data, 3)) ?? 'ok';
      }
    },
  };
}

/** `userErrors` selected under at most this many fields (the root field counts) are looked at. */
const USER_ERRORS_DEPTH = 3;
const pathsOf = new WeakMap<OperationDefinitionNode, readonly (readonly string[])[]>();

/**
 * The response paths (response keys from `data`) at which the operation selects a field named
 * `userErrors`, down to USER_ERRORS_DEPTH fields, through fragments; computed once per parsed
 * operation. The outcome then reads only those places instead of walking the whole answer: a
 * cityReport answer holds hundreds of cells, none of which can carry userErrors (issue 15: walking
 * them was 5% of the service's CPU).
 */
function userErrorPaths(
  document: DocumentNode,
  operation: OperationDefinitionNode,
): readonly (readonly string[])[] {
  const known = pathsOf.get(operation);
  if (known) return known;
  const fragments = new Map<string, SelectionSetNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
  const paths: string[][] = [];
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode, path: string[], spread: ReadonlySet<string>) => {
    for (const s of set.selections) {
      if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet, path, spread);
      else if (s.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(s.name.value);
        if (fragment && !spread.has(s.name.value)) walk(fragment, path, new Set([...spread, s.name.value]));
      } else {
        const key = s.alias?.value ?? s.name.value;
        if (s.name.value === 'userErrors') {
          const at = [...path, key];
          if (!seen.has(at.join('.'))) {
            seen.add(at.join('.'));
            paths.push(at);
          }
        } else if (s.selectionSet && path.length < USER_ERRORS_DEPTH)
          walk(s.selectionSet, [...path, key], spread);
      }
    }
  };
  walk(operation.selectionSet, [], new Set());
  pathsOf.set(operation, paths);
  return paths;
}

/** The `code` of the first non-empty `userErrors` list found at one of `paths` in `data`. */
function userErrorCodeAt(data: unknown, paths: readonly (readonly string[])[]): string | undefined {
  const at = (value: unknown, path: readonly string[], i: number): string | undefined => {
    if (value === null || typeof value !== 'object') return undefined;
    if (Array.isArray(value)) {
      for (const item of value) {
        const code = at(item, path, i);
        if (code !== undefined) return code;
      }
      return undefined;
    }
    const next = (value as Record<string, unknown>)[path[i]!];
    if (i < path.length - 1) return at(next, path, i + 1);
    if (!Array.isArray(next) || next.length === 0) return undefined;
    const code = (next[0] as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : undefined;
  };
  for (const path of paths) {
    const code = at(data, path, 0);
    if (code !== undefined) return code;
  }
  return undefined;
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
