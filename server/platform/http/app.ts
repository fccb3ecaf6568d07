/**
 * The HTTP application: express 5 with graphql-yoga 5 at /graphql, health endpoints, limits,
 * security headers and one log line per request. `buildApp` never listens, so tests and
 * `server/service.ts` decide how it is served.
 *
 * Order of the middleware (each stage can answer before the next runs):
 *   request id + access log (access-log.ts) -> rate limit per client address (every route but the
 *   GraphQL requests, which are limited per token below) -> security headers (helmet) -> CORS
 *   -> /healthz, /readyz -> public routes -> GraphiQL's assets
 *   -> /graphql: authentication and rate limit (per token, or per address without one)
 *      -> declared body size -> admission of large bodies (per-token share) -> body read at a
 *      minimum rate (raw bytes, before yoga parses) -> input checks -> yoga (CSRF prevention,
 *      token and nesting limits while parsing, graphql-armor)
 *   -> 404 -> error handler (JSON; unexpected errors masked and logged with the request id)
 */

import { useGraphQlJit } from '@envelop/graphql-jit';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { MikroORM } from '@mikro-orm/postgresql';
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  Lexer,
  NoSchemaIntrospectionCustomRule,
  type ParseOptions,
  parse,
  Source,
  TokenKind,
} from 'graphql';
import { createGraphQLError, createYoga, type Plugin, maskError as yogaMaskError } from 'graphql-yoga';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Principal } from '../../core/index.js';
import type { Config } from '../config.js';
import { pendingMigrations } from '../db/orm.js';
import { isConnectionError, UnavailableError } from '../errors.js';
import { requestSignal } from '../request-signal.js';
import { accessLog, clientAddress, graphqlOutcome, REQUEST_ID_HEADER, setPrincipal } from './access-log.js';
import { sendError, sendUnavailable, UNAVAILABLE_MESSAGE, unavailableError } from './errors.js';
import {
  GRAPHIQL_ASSETS_PATH,
  graphiqlAssetRoutes,
  graphiqlPageHeaders,
  renderGraphiQLPage,
} from './graphiql.js';
import { healthRoutes, type ProcessState } from './health.js';
import {
  BODY_MIN_RATE,
  type BodyLimit,
  type BodyRate,
  LARGE_REQUEST_LIMITS,
  type LargeRequestLimits,
  largeBodyGate,
  readBody,
  sendThrottled,
  sendTooLarge,
  TokenRateLimiter,
} from './limits.js';
import {
  isJsonContentType,
  leanExecution,
  leanExecutor,
  type PersistedDocumentsOptions,
  persistedDocuments,
} from './persisted.js';

export { type ProcessState, READINESS_CACHE_MS, READINESS_TIMEOUT_MS } from './health.js';
export {
  BODY_MIN_RATE,
  type BodyRate,
  LARGE_REQUEST_LIMITS,
  type LargeRequestLimits,
  TokenRateLimiter,
} from './limits.js';
export type { PersistedDocumentsOptions } from './persisted.js';
export { GRAPHIQL_ASSETS_PATH, REQUEST_ID_HEADER, UNAVAILABLE_MESSAGE };

/**
 * Limits on GraphQL documents. Read by the README and tests: change them here only.
 *
 * `maxTokens` and `maxNesting` are checked while the document is read, before the (recursive)
 * parser runs, by an iterative pass of graphql's own lexer: a list literal nested 100,000 deep is
 * refused there (400 GRAPHQL_PARSE_FAILED) instead of overflowing the parser's stack. Nesting
 * counts open brackets, braces and parentheses; the depth limit of 12 fields is far below it.
 *
 * The rest are enforced by graphql-armor before execution. Its cost model: a scalar field costs
 * `scalarCost`, an object field `objectCost` plus `depthCostFactor` times its children, multiplied
 * by a literal `first`/`last` argument. `entries(first: 100)` with ids, dates, metadata and lines
 * with their accounts costs about 10,000; two nested 100-item connections cost about 1,000,000 and
 * are refused. A `first` passed as a variable counts as 1 here; the schema caps `first` at 100.
 */
export const GRAPHQL_LIMITS = {
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 5000,
  maxNesting: 100,
  maxDirectives: 50,
  maxCost: 20_000,
  objectCost: 2,
  scalarCost: 1,
  depthCostFactor: 1.5,
} as const;

/**
 * CSRF prevention (`@graphql-yoga/plugin-csrf-prevention`, the rule of Apollo Server): a request a
 * browser may send cross-site without a CORS preflight (a GET, or a POST whose content type is a
 * form or text) must carry one of these headers. `application/json` POSTs, which every GraphQL
 * client sends, need nothing.
 */
export const CSRF_HEADERS = [
  'x-graphql-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'x-graphql-yoga-csrf',
] as const;

export const GRAPHQL_ENDPOINT = '/graphql';

/** Verifies bearer tokens (the auth domain's service, seen by the platform only through this). */
export interface Authenticator {
  /** True when a token's verification is answered without the database. */
  isCached(token: string): boolean;
  authenticate(token: string): Promise<{ principal: Principal } | { failure: string }>;
}

/** What every request's GraphQL context is built from; the composition root adds the use cases. */
export interface RequestBase {
  requestId: string;
  logger: Logger;
  /** Who is asking: null for an anonymous request (no Authorization header). */
  principal: Principal | null;
}

/**
 * A public GET route outside GraphQL (no token needed), such as a directory profile: `handle`
 * answers a status and a JSON body. It gets the path's parameters only: nothing a client sends in
 * its headers (a route that needs the service's public address is given PUBLIC_URL when built).
 * While the database is down it answers 503 UNAVAILABLE, like every other request.
 */
export interface PublicRoute {
  /** An express path, e.g. `/directory/coops/:id.json`. */
  path: string;
  handle(params: Record<string, string>): Promise<{ status: number; body: unknown; cacheControl?: string }>;
}

export interface AppDeps<TContext extends object = RequestBase> {
  config: Pick<
    Config,
    'graphiql' | 'introspection' | 'bodyLimitBytes' | 'corsOrigins' | 'rateLimitPerSecond'
  > &
    Partial<Pick<Config, 'trustProxy'>>;
  logger: Logger;
  orm: MikroORM;
  schema: GraphQLSchema;
  authenticator: Authenticator;
  /** The GraphQL context of a request. */
  context: (base: RequestBase) => TContext;
  publicRoutes?: PublicRoute[];
  /** Overrides of LARGE_REQUEST_LIMITS (tests use small ones). */
  largeRequestLimits?: Partial<LargeRequestLimits>;
  /** Overrides of BODY_MIN_RATE (tests use a short grace). */
  bodyRate?: Partial<BodyRate>;
  /** The process's own state (its embedded PostgreSQL's supervisor), for /healthz and /readyz. */
  processState?: () => ProcessState;
  /** The readiness check; by default `select 1` and no pending migration on `orm`. */
  readinessProblem?: () => Promise<string | undefined>;
  /** More yoga plugins from the composition root (the schema's own, e.g. its input errors). */
  plugins?: Plugin[];
  /** Persisted documents and the lean route (see persisted.ts); none when left out. */
  persistedDocuments?: PersistedDocumentsOptions;
  /**
   * Called with a request's GraphQL context once its response is done with ('close'), so caches
   * that libraries keep per context in WeakMaps (Pothos's scope-auth) drop their entry at once.
   * V8's scavenger treats every young value of an old WeakMap as alive until it finds the key dead,
   * and by then has promoted it: an entry whose request was in flight at one scavenge had its value
   * (and all it reaches: the context, req, res, headers, body) promoted to the old space at the
   * next, to wait for a mark-compact (issue 12).
   */
  releaseContext?: (context: TContext) => void;
}

const REQUEST_CONTEXT = Symbol('request GraphQL context');

interface RequestState {
  /** The response's locals: `requestId`, and `logger` (made on first use). */
  locals: Record<string, unknown>;
}

type ServerContext = { req: Request; res: Response };

export function buildApp<TContext extends object>({
  config,
  logger,
  orm,
  schema,
  authenticator,
  context,
  publicRoutes = [],
  largeRequestLimits,
  bodyRate,
  processState,
  readinessProblem,
  plugins = [],
  persistedDocuments: persistedOptions,
  releaseContext,
}: AppDeps<TContext>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // TRUST_PROXY: whose X-Forwarded-For gives `req.ip` (the client address of the per-address rate
  // limit and the access log). False (the default) trusts none: the connection's address.
  app.set('trust proxy', config.trustProxy ?? false);
  const large: LargeRequestLimits = { ...LARGE_REQUEST_LIMITS, ...largeRequestLimits };

  // The request's locals (its id and logger) on its abort signal, which `requestSignal` holds while
  // yoga runs, so `maskError` (which gets no context) can log the request id. One async-local
  // store per request instead of two: a nested AsyncLocalStorage.run cost ~8 µs a request. A
  // property of the signal, not a WeakMap entry keyed by it: V8 promotes such a value, and all the
  // locals reach, when its request was in flight at a scavenge (see AppDeps.releaseContext).
  const requestState = (): RequestState | undefined =>
    (requestSignal.getStore() as StatefulSignal | undefined)?.[REQUEST_STATE];

  // --- request id and access log -------------------------------------------------------------
  const logRequest = accessLog(logger);
  app.use(logRequest);

  // --- rate limit per client address ----------------------------------------------------------
  // Every route is limited. GraphQL requests are limited by `authenticate` below, per token (or
  // per address without one); everything else (health, public routes, GraphiQL, 404s) here, per
  // client address, from the same budget as anonymous GraphQL requests.
  const limiter = new TokenRateLimiter(config.rateLimitPerSecond);
  const addressKey = (req: Request, res: Response) => `ip:${clientAddress(req, res)}`;
  const limitedInGraphQL = (req: Request) =>
    req.path === GRAPHQL_ENDPOINT && req.method !== 'OPTIONS' && !(config.graphiql && wantsGraphiQL(req));
  app.use((req, res, next) => {
    if (limitedInGraphQL(req)) return next();
    const wait = limiter.take(addressKey(req, res));
    if (wait > 0) return sendThrottled(res, wait, '');
    next();
  });

  // --- security headers ----------------------------------------------------------------------
  // Helmet's headers do not depend on the request: computed once and set from a list (helmet()
  // itself costs about 0.04 ms per request).
  const strictHeaders = staticHeaders(helmet());
  const securityHeaders = (req: Request, res: Response, next: NextFunction) => {
    if (config.graphiql && req.path === GRAPHQL_ENDPOINT && wantsGraphiQL(req))
      graphiqlPageHeaders(req, res, next);
    else {
      for (const [name, value] of strictHeaders) res.setHeader(name, value);
      next();
    }
  };
  app.use(securityHeaders);

  // --- CORS: none unless origins are configured ---------------------------------------------
  const corsHeaders =
    config.corsOrigins.length > 0
      ? cors({
          origin: config.corsOrigins,
          methods: ['GET', 'POST', 'OPTIONS'],
          allowedHeaders: ['content-type', 'accept', 'authorization', REQUEST_ID_HEADER, ...CSRF_HEADERS],
          exposedHeaders: [REQUEST_ID_HEADER],
          maxAge: 600,
        })
      : undefined;
  if (corsHeaders) app.use(corsHeaders);

  // --- health --------------------------------------------------------------------------------
  const health = healthRoutes(app, {
    readinessProblem: readinessProblem ?? (() => databaseProblem(orm)),
    processState,
  });

  // --- public routes (no token needed), e.g. a co-op's directory profile -----------------------
  for (const route of publicRoutes) {
    app.get(route.path, async (req, res, next) => {
      let answer: Awaited<ReturnType<PublicRoute['handle']>>;
      try {
        answer = await route.handle(req.params as Record<string, string>);
      } catch (error) {
        // While the database is down: UNAVAILABLE, like every other request.
        if (!(error instanceof UnavailableError || isConnectionError(error))) return next(error);
        health.forget();
        return sendUnavailable(res);
      }
      if (answer.cacheControl) res.set('cache-control', answer.cacheControl);
      res.status(answer.status).type('application/json').send(JSON.stringify(answer.body));
    });
  }

  // --- GraphiQL's page and assets, all from this service ---------------------------------------
  if (config.graphiql) graphiqlAssetRoutes(app);

  // --- GraphQL -------------------------------------------------------------------------------
  const yoga = createYoga<ServerContext, TContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    graphiql: config.graphiql ? { title: 'Solidarity Ledger' } : false,
    renderGraphiQL: renderGraphiQLPage,
    landingPage: false,
    // CORS is express's job (above); yoga's default would reflect any origin.
    cors: false,
    multipart: false,
    // express and readBody (limits.ts) already limit every body, before a byte reaches yoga; yoga's
    // own limit would pipe every body through a second stream pipeline (about 0.3 ms a request).
    maxRequestBodySize: false,
    logging: yogaLogger(logger),
    context: (initial): TContext => {
      const made = context(requestBase(initial.res, initial));
      if (releaseContext) (initial.res.locals as { [REQUEST_CONTEXT]?: TContext })[REQUEST_CONTEXT] = made;
      return made;
    },
    maskedErrors: {
      maskError(error, message): Error {
        // A request found the database unreachable: /readyz checks again instead of its cached answer.
        if ((error as { extensions?: { code?: unknown } }).extensions?.code === 'UNAVAILABLE')
          health.forget();
        if (isCodedGraphQLError(error)) return error as Error;
        // The database went away under a field that does not guard its own reads (a nested
        // loader such as `entry.lines.account`): answer UNAVAILABLE, as the guarded root fields
        // do, instead of an internal error. Found by the bank test (connection termination).
        const cause = (error as { originalError?: unknown }).originalError ?? error;
        if (cause instanceof UnavailableError || isConnectionError(cause)) {
          health.forget();
          return unavailableError(error);
        }
        // Never expose internals, whatever NODE_ENV says.
        const masked = yogaMaskError(error, message, false);
        if (masked === error) return masked;
        const state = requestState();
        const original = (error as { originalError?: unknown }).originalError ?? error;
        ((state?.locals.logger as Logger | undefined) ?? logger).error(
          { err: original, path: (error as { path?: unknown }).path },
          'unexpected error (masked for the client)',
        );
        if (state && isGraphQLErrorLike(masked)) {
          (masked.extensions as Record<string, unknown>).requestId = state.locals.requestId;
        }
        return masked;
      },
    },
    plugins: [
      csrfPrevention(),
      parseWithinLimits(),
      codeEveryError(),
      graphqlOutcome(),
      EnvelopArmorPlugin({
        // Depth is the nesting of fields; a fragment spread is not a level of its own, so clients
        // that organise their selections in fragments are not held to a shallower limit.
        maxDepth: { n: GRAPHQL_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true },
        maxAliases: { n: GRAPHQL_LIMITS.maxAliases },
        // Checked while parsing by `parseWithinLimits` (graphql-armor's counts after the fact).
        maxTokens: { enabled: false },
        maxDirectives: { n: GRAPHQL_LIMITS.maxDirectives },
        costLimit: {
          maxCost: GRAPHQL_LIMITS.maxCost,
          objectCost: GRAPHQL_LIMITS.objectCost,
          scalarCost: GRAPHQL_LIMITS.scalarCost,
          depthCostFactor: GRAPHQL_LIMITS.depthCostFactor,
          ignoreIntrospection: true,
          flattenFragments: true,
        },
        // "Did you mean ...?" would reveal the schema that disabled introspection hides.
        blockFieldSuggestion: { enabled: !config.introspection },
      }),
      ...(config.introspection ? [] : [disableIntrospection()]),
      // The lean route's operations compiled to JavaScript once per document (graphql-jit):
      // execution without graphql-js's interpretation per request. Measured on the single-entry
      // bench (issue 12): the service's CPU per request 0.86 -> 0.66 ms, per entry of a batch of
      // 500 0.32 -> 0.20 ms. Only there: its variables are already coerced by graphql-js, and
      // graphql-jit answers bad variables otherwise than graphql-js does (yoga's path keeps them).
      // Only for the root fields the lean route is told to compile (compiledRootFields, see
      // LEAN_COMPILED_ROOT_FIELDS in server/service.ts: the posting mutations and cityReport).
      useGraphQlJit({}, { enableIf: (args) => leanExecution(args.contextValue as object) === 'compiled' }),
      // The lean route's other operations on graphql-js's own execute (see leanExecutor).
      leanExecutor(),
      ...plugins,
    ],
  });

  // Known documents by id, only known documents (when so configured), and the lean route.
  const persisted = persistedOptions
    ? persistedDocuments({ yoga, schema, options: persistedOptions, logger, parsedBody: parsedJsonBody })
    : undefined;

  // Authentication: no Authorization header means anonymous (the schema then allows only what is
  // public); a header that is not a valid, live token is refused here with 401, whatever the query.
  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    res.locals.principal = null;
    // Already counted by the per-address limit above.
    if (req.method === 'OPTIONS' || (config.graphiql && wantsGraphiQL(req))) return next();
    // Callers without a valid token (none, or a refused one) share a budget per client address:
    // they are cheap to refuse, but an unknown token id still costs a database lookup. Requests
    // with a valid token never draw on it.
    const ipKey = addressKey(req, res);
    const throttleAnonymous = (consume = true): boolean => {
      const wait = consume ? limiter.take(ipKey) : limiter.peek(ipKey);
      if (wait === 0) return false;
      sendThrottled(res, wait, '');
      return true;
    };
    const header = req.get('authorization');
    if (header === undefined) return throttleAnonymous() ? undefined : next();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    let failure = 'MALFORMED';
    // A token already verified costs nothing to check again; only lookups are held back.
    if (match && !authenticator.isCached(match[1]!) && throttleAnonymous(false)) return;
    if (match) {
      try {
        const result = await authenticator.authenticate(match[1]!);
        if ('principal' in result) {
          const wait = limiter.take(result.principal.tokenId);
          if (wait > 0) return sendThrottled(res, wait, ' for this token');
          setPrincipal(res, result.principal);
          return next();
        }
        failure = result.failure;
      } catch (error) {
        // A token not verified in the last few seconds needs the database: while it is down the
        // answer is UNAVAILABLE (retry), like any other request, not an internal error.
        if (error instanceof UnavailableError || isConnectionError(error)) {
          health.forget();
          return sendUnavailable(res);
        }
        return next(error);
      }
    }
    if (throttleAnonymous()) return;
    (res.locals.logger as Logger).info({ failure }, 'authentication refused');
    res.set('www-authenticate', 'Bearer');
    // One answer for every failure, so a caller cannot probe which tokens exist.
    sendError(res, 401, 'UNAUTHENTICATED', {
      message: 'The bearer token is not valid (malformed, unknown, expired or revoked).',
    });
  };

  // How much a caller may send: BODY_LIMIT_BYTES with a verified token; without one (only public
  // fields answer), at most the large-request threshold, so anonymous bodies never take a slot.
  const bodyLimitOf = (res: Response): BodyLimit =>
    res.locals.principal
      ? {
          bytes: config.bodyLimitBytes,
          message: `The request body is larger than the limit of ${config.bodyLimitBytes} bytes.`,
        }
      : {
          bytes: Math.min(config.bodyLimitBytes, large.largeBodyBytes),
          message:
            `The request body is larger than the limit of ${Math.min(config.bodyLimitBytes, large.largeBodyBytes)} ` +
            'bytes for requests without a bearer token; send larger requests with your token.',
        };

  // A body declared larger than the limit is refused before a byte of it is read, and the
  // connection closed, so a client cannot hold a slot by declaring a large body and stalling.
  const declaredLimit = (req: Request, res: Response, next: NextFunction) => {
    const limit = bodyLimitOf(res);
    const declared = Number(req.get('content-length') ?? 0);
    if (declared > limit.bytes) return sendTooLarge(res, limit);
    next();
  };

  // What yoga would parse from the URL or a form body must be well-formed JSON: refused here with a
  // clear 400 instead of failing deep inside with an unexpected error. Strings holding U+0000 are
  // not refused here: the schema's well-formed-input plugin answers them with a userError naming
  // the field, in the variables and in the query text alike (issue 10, item 1).
  const checkInput = (req: Request, res: Response, next: NextFunction) => {
    const params: URLSearchParams[] = [];
    // Without a query string the URL holds no parameters (most requests: parsing it cost ~5 µs).
    if (req.originalUrl.includes('?')) params.push(new URL(req.originalUrl, 'http://localhost').searchParams);
    if (/application\/x-www-form-urlencoded/i.test(req.get('content-type') ?? ''))
      params.push(new URLSearchParams(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : ''));
    for (const p of params) {
      for (const name of ['variables', 'extensions']) {
        const raw = p.get(name);
        if (raw === null || raw === '') continue;
        try {
          JSON.parse(raw);
        } catch {
          return sendError(res, 400, 'BAD_REQUEST', {
            message: `The "${name}" parameter is not valid JSON.`,
          });
        }
      }
    }
    next();
  };

  const serveGraphQL = (req: Request, res: Response) => {
    // The request's logger is read lazily (through res.locals): most requests never log but their
    // access line, so no child logger is built for them (see accessLog).
    // Fires when the client goes away before its answer: the posting engine then does not post
    // its entries (see `requestSignal` in server/platform/request-signal.ts).
    const gone = new AbortController();
    // Also when the socket reads the client's FIN (see abortOpenRequests), before the response's
    // 'close'. One listener per connection, not per request.
    const socket = req.socket as WatchedSocket;
    let open = socket[OPEN_REQUESTS];
    if (open === undefined) {
      open = socket[OPEN_REQUESTS] = [];
      socket.once('end', abortOpenRequests);
    }
    open.push(gone);
    res.once('close', () => {
      const at = open.indexOf(gone);
      if (at >= 0) open.splice(at, 1);
      if (!res.writableFinished) gone.abort();
      // The response is done with: per-request caches kept outside the context let go of it.
      const locals = res.locals as { [REQUEST_CONTEXT]?: TContext };
      const done = locals[REQUEST_CONTEXT];
      if (done !== undefined) {
        locals[REQUEST_CONTEXT] = undefined;
        releaseContext?.(done);
      }
    });
    if (socket.destroyed || socket.readableEnded) gone.abort();
    (gone.signal as StatefulSignal)[REQUEST_STATE] = { locals: res.locals };
    requestSignal.run(gone.signal, () => {
      if (persisted?.(req, res)) return;
      handOver(req);
      void yoga.requestListener(req, res);
    });
  };
  const graphqlStages: Middleware[] = [
    authenticate,
    declaredLimit,
    largeBodyGate(large, (res) => (res.locals.principal as Principal | null)?.tokenId),
    readBody(bodyLimitOf, { ...BODY_MIN_RATE, ...bodyRate }),
    checkInput,
    serveGraphQL,
  ];
  app.use(GRAPHQL_ENDPOINT, ...graphqlStages);

  // --- fallbacks -----------------------------------------------------------------------------
  app.use((_req, res) => {
    sendError(res, 404, 'NOT_FOUND', { message: 'Not found. The GraphQL endpoint is /graphql.' });
  });

  const handleError = (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const requestLogger = (res.locals.logger as Logger | undefined) ?? logger;
    const status = httpStatusOf(error);
    if (status !== undefined && status >= 400 && status < 500) {
      return sendError(res, status, 'BAD_REQUEST', { message: 'The request could not be read.' });
    }
    requestLogger.error({ err: error }, 'unexpected error (masked for the client)');
    sendError(res, 500, 'INTERNAL_SERVER_ERROR', {
      message: 'Unexpected error.',
      requestId: res.locals.requestId,
    });
  };
  app.use(handleError);

  // --- POST /graphql without express's router ---------------------------------------------------
  // The GraphQL POSTs (every lean-route request) run the very stages registered above, in the same
  // order, with the request and response prepared as express prepares them, but without walking
  // the router's layers (path matching, parameter processing, mount-point rewriting per layer).
  // Every other request (other paths or methods, a query string, another spelling of the path)
  // goes through express as registered.
  const stages: Middleware[] = [
    logRequest as Middleware,
    securityHeaders,
    ...(corsHeaders ? [corsHeaders as Middleware] : []),
  ];
  const expressHandle = (app as unknown as { handle: ExpressHandle }).handle;
  let env: string | undefined;
  (app as unknown as { handle: ExpressHandle }).handle = function handle(req, res, callback) {
    if (callback !== undefined || req.method !== 'POST' || req.url !== GRAPHQL_ENDPOINT)
      return expressHandle.call(this, req, res, callback);
    // What express's app.handle and router do before the first layer.
    req.res = res;
    res.req = req;
    Object.setPrototypeOf(req, app.request);
    Object.setPrototypeOf(res, app.response);
    res.locals ??= Object.create(null);
    req.originalUrl = req.url;
    req.baseUrl = '';
    // express's final handler prints errors unless the app's env is 'test' (read once).
    env ??= app.get('env') as string;
    runStages(req, res, stages, graphqlStages, handleError, env);
  };

  return app;
}

type Middleware = (req: Request, res: Response, next: NextFunction) => unknown;
type ExpressHandle = (this: unknown, req: Request, res: Response, callback?: unknown) => void;

/**
 * Runs the app-level stages, then the stages mounted at GRAPHQL_ENDPOINT (with `req.url` and
 * `req.baseUrl` as the mount point sets them), as express's router would: a stage moves on by
 * calling `next()`, and an error (thrown, passed to `next`, or a rejected promise) goes to the
 * error handler; what the error handler passes on goes where express's final handler takes it
 * (the connection destroyed, the error printed outside tests).
 */
function runStages(
  req: Request,
  res: Response,
  appStages: readonly Middleware[],
  mounted: readonly Middleware[],
  handleError: (error: unknown, req: Request, res: Response, next: NextFunction) => void,
  env: string,
): void {
  let i = 0;
  let failed = false;
  const final = (error?: unknown) => {
    if (error === undefined || error === 'route' || error === 'router') return;
    if (env !== 'test') console.error((error as Error)?.stack ?? String(error));
    if (res.headersSent) req.socket?.destroy();
    else res.destroy();
  };
  const next = (error?: unknown) => {
    if (error !== undefined && error !== 'route' && error !== 'router') {
      if (failed) {
        final(error);
        return;
      }
      failed = true;
      try {
        handleError(error, req, res, final as NextFunction);
      } catch (thrown) {
        final(thrown);
      }
      return;
    }
    if (failed) return;
    const index = i++;
    let stage: Middleware | undefined;
    if (index < appStages.length) stage = appStages[index];
    else {
      if (index === appStages.length) {
        req.baseUrl = GRAPHQL_ENDPOINT;
        req.url = '/';
      }
      stage = mounted[index - appStages.length];
    }
    if (stage === undefined) return;
    try {
      const result = stage(req, res, next);
      if (result instanceof Promise) result.then(undefined, (e: unknown) => next(e ?? new Error('Rejected')));
    } catch (thrown) {
      next(thrown);
    }
  };
  next();
}

/**
 * `@graphql-yoga/plugin-csrf-prevention` with this service's answer: 403 and the code
 * CSRF_PREVENTED, with a message that says what to send instead.
 */
function csrfPrevention(): Plugin {
  const library = useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS] });
  return {
    onRequestParse(payload) {
      try {
        return library.onRequestParse?.(payload as never);
      } catch {
        throw createGraphQLError(
          'This request was blocked as a possible cross-site request forgery: send it with ' +
            `"content-type: application/json", or add a "${CSRF_HEADERS[0]}" header.`,
          { extensions: { code: 'CSRF_PREVENTED', http: { status: 403 } } },
        );
      }
    },
  };
}

/** Marks the refusals of `parseDocument`, which answer 400 whatever the client accepts. */
const DOCUMENT_LIMIT = Symbol('document limit');

/** A refusal while reading the document: 400 GRAPHQL_PARSE_FAILED. */
function documentLimitError(message: string): GraphQLError {
  return Object.assign(
    new GraphQLError(`Syntax Error: ${message}`, {
      extensions: { code: 'GRAPHQL_PARSE_FAILED', http: { status: 400, spec: false } },
    }),
    { [DOCUMENT_LIMIT]: true },
  );
}

const OPENING = new Set<string>([TokenKind.BRACKET_L, TokenKind.BRACE_L, TokenKind.PAREN_L]);
const CLOSING = new Set<string>([TokenKind.BRACKET_R, TokenKind.BRACE_R, TokenKind.PAREN_R]);

/**
 * Parses a document within GRAPHQL_LIMITS.maxTokens and maxNesting. graphql's parser is recursive
 * (a nested list literal is a nested call), so its own `maxTokens` comes too late for a document
 * of 5,000 `[`: the stack overflows at about 2,000 levels. graphql's lexer is iterative, so a first
 * pass with it counts tokens and nesting and refuses before the parser runs.
 */
export function parseDocument(source: string | Source, options?: ParseOptions): DocumentNode {
  const lexer = new Lexer(typeof source === 'string' ? new Source(source) : source);
  let tokens = 0;
  let depth = 0;
  let deepest = 0;
  for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
    tokens++;
    if (tokens > GRAPHQL_LIMITS.maxTokens) {
      throw documentLimitError(`Token limit of ${GRAPHQL_LIMITS.maxTokens} exceeded.`);
    }
    if (OPENING.has(token.kind)) deepest = Math.max(deepest, ++depth);
    else if (CLOSING.has(token.kind)) depth--;
  }
  if (deepest > GRAPHQL_LIMITS.maxNesting) {
    throw documentLimitError(
      `Nesting limit of ${GRAPHQL_LIMITS.maxNesting} exceeded: brackets, braces and parentheses nest ${deepest} deep.`,
    );
  }
  try {
    return parse(source, { ...options, maxTokens: GRAPHQL_LIMITS.maxTokens });
  } catch (error) {
    // Not expected within the limits above; a stack overflow is still a refusal, never a 500.
    if (error instanceof RangeError) throw documentLimitError('The document is nested too deeply.');
    throw error;
  }
}

function parseWithinLimits(): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn(parseDocument);
    },
    // yoga marks every parse error a "spec" error once parsed (`http.spec = true`), which it
    // answers 200 to clients that accept application/json; a document refused for its size is a
    // 400 for every client. Undone here, before the result is written.
    onResultProcess({ result }) {
      const errors = (result as { errors?: unknown[] } | null)?.errors;
      for (const error of Array.isArray(errors) ? errors : []) {
        if (error instanceof GraphQLError && DOCUMENT_LIMIT in error) {
          (error.extensions as { http: { spec: boolean } }).http.spec = false;
        }
      }
    },
  };
}

/**
 * Gives every error that lacks one a stable `extensions.code`: parse errors GRAPHQL_PARSE_FAILED,
 * other errors raised before execution (validation, depth, aliases, cost, an operation type the
 * schema lacks) GRAPHQL_VALIDATION_FAILED.
 */
function codeEveryError(): Plugin {
  const withCode = (error: GraphQLError): GraphQLError => {
    if (error.extensions?.code !== undefined || error.path !== undefined) return error;
    const code = error.message.startsWith('Syntax Error')
      ? 'GRAPHQL_PARSE_FAILED'
      : 'GRAPHQL_VALIDATION_FAILED';
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      originalError: error.originalError,
      extensions: { ...error.extensions, code },
    });
  };
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result)) return;
      const errors = (result as { errors?: readonly GraphQLError[] }).errors;
      if (!errors?.length) return;
      setResult({
        ...(result as object),
        errors: errors.map((e) => (e instanceof GraphQLError ? withCode(e) : e)),
      } as never);
    },
  };
}

/** yoga renders GraphiQL for a GET that accepts HTML (the same test as its `shouldRenderGraphiQL`). */
function wantsGraphiQL(req: Request): boolean {
  return req.method === 'GET' && (req.get('accept') ?? '').includes('text/html');
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status =
    (error as { status?: unknown; statusCode?: unknown }).status ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

function isGraphQLErrorLike(value: unknown): value is { extensions: Record<string, unknown> } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { extensions?: unknown }).extensions === 'object'
  );
}

/**
 * An error the schema raised on purpose: a GraphQLError carrying `extensions.code` whose cause, if
 * any, is itself a GraphQLError. Those reach the client unchanged; anything else is masked.
 */
function isCodedGraphQLError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'GraphQLError') return false;
  const { extensions, originalError } = error as Error & {
    extensions?: { code?: unknown };
    originalError?: unknown;
  };
  if (typeof extensions?.code !== 'string') return false;
  return (
    originalError === undefined || originalError === null || (originalError as Error).name === 'GraphQLError'
  );
}

/** Readiness of the database: `select 1`, then no pending migration. */
async function databaseProblem(orm: MikroORM): Promise<string | undefined> {
  try {
    await orm.em.fork().getConnection().execute('select 1');
  } catch (error) {
    return `database unreachable: ${(error as Error).message}`;
  }
  try {
    const pending = await pendingMigrations(orm);
    if (pending.length > 0) return `pending migrations: ${pending.join(', ')}`;
  } catch (error) {
    return `cannot read migrations: ${(error as Error).message}`;
  }
  return undefined;
}

function disableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

function yogaLogger(logger: Logger) {
  const child = logger.child({ component: 'yoga' });
  return {
    debug: (...args: unknown[]) => child.debug({ args }, 'yoga'),
    info: (...args: unknown[]) => child.info({ args }, 'yoga'),
    warn: (...args: unknown[]) => child.warn({ args }, 'yoga'),
    error: (...args: unknown[]) => child.error({ args }, 'yoga'),
  };
}

/** The abort controllers of a connection's requests not yet answered (see serveGraphQL). */
const OPEN_REQUESTS = Symbol('requests awaiting their answer');
type WatchedSocket = Request['socket'] & { [OPEN_REQUESTS]?: AbortController[] };

/**
 * A connection's 'end' (the client's FIN): its requests not yet answered have gone. node's HTTP
 * server aborts them itself (httpAllowHalfOpen is off) and their answers can no longer be sent,
 * but their responses' 'close' comes only in the event loop's close phase: a flush decided in
 * between (say, on a database reply read in the same turn) would otherwise post for a client
 * that has gone.
 */
function abortOpenRequests(this: WatchedSocket): void {
  for (const gone of this[OPEN_REQUESTS]!.splice(0)) gone.abort();
}

const REQUEST_STATE = Symbol('request state');
type StatefulSignal = AbortSignal & { [REQUEST_STATE]?: RequestState };

/**
 * The context's base for a request, made on the context object itself (`target`, yoga's initial
 * context, which becomes the request's GraphQL context): its logger is made on first use only (see
 * accessLog), through a getter that is not enumerable, so the `Object.assign`s that build the
 * context (the composition root's, envelop's `extendContext`) neither copy nor call it. An
 * enumerable getter was called by envelop's Object.assign on every request, building a child
 * logger each time. Callers must keep the object (`Object.assign`, not a spread).
 */
function requestBase(res: Response, target: object): RequestBase {
  const locals = res.locals;
  const base = target as RequestBase;
  base.requestId = locals.requestId as string;
  base.principal = (locals.principal as Principal | null) ?? null;
  Object.defineProperty(base, REQUEST_LOCALS, { configurable: true, enumerable: false, value: locals });
  Object.defineProperty(base, 'logger', contextLoggerProperty);
  return base;
}

const REQUEST_LOCALS = Symbol('request locals');

/**
 * The context's `logger`: the request's (res.locals.logger, made on first use). One getter and
 * setter for every context, reading it from `this`: functions made per request and held by the
 * property kept each request's graph alive through V8's scavenges (see accessLog).
 */
const contextLoggerProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: { [REQUEST_LOCALS]: Record<string, unknown> }): Logger {
    return this[REQUEST_LOCALS].logger as Logger;
  },
  // A context function that sets a logger of its own (tests do) replaces the getter.
  set(this: object, value: Logger) {
    Object.defineProperty(this, 'logger', { configurable: true, enumerable: true, writable: true, value });
  },
};

/**
 * Hands the body read by readBody to yoga once. A JSON body is parsed here and handed over as an
 * object: whatwg-node then answers yoga's `request.json()` with it, instead of wrapping the bytes
 * in a stream (and, for a Buffer, calling `Object.keys` on it: one string per byte). Anything
 * else (another content type, JSON that does not parse or is not an object) is handed over as
 * its bytes in an async iterable, which yoga reads and answers exactly as before.
 */
export function handOver(req: Request): void {
  const read: unknown = req.body;
  if (req.method === 'GET' || req.method === 'HEAD') return;
  // No body at all: handed over as an empty one (the request's stream was read by readBody).
  const body = Buffer.isBuffer(read) ? read : Buffer.alloc(0);
  if (body.length > 0 && isJsonContentType(req.get('content-type'))) {
    const parsed = parsedJsonBody(req);
    if (parsed !== undefined && Object.keys(parsed).length > 0) {
      req.body = parsed;
      return;
    }
  }
  req.body = {
    // whatwg-node takes an object with own keys as a parsed body; an async iterable as the bytes.
    bytes: body.length,
    async *[Symbol.asyncIterator]() {
      yield body;
    },
  };
}

const PARSED = Symbol('parsed JSON body');

/** The request's JSON body as an object, parsed once (undefined when it is not one). */
export function parsedJsonBody(req: Request): object | undefined {
  const cached = (req as unknown as { [PARSED]?: object | null })[PARSED];
  if (cached !== undefined) return cached ?? undefined;
  let parsed: unknown;
  try {
    parsed = Buffer.isBuffer(req.body) ? JSON.parse(req.body.toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  const result = parsed !== null && typeof parsed === 'object' ? parsed : undefined;
  (req as unknown as { [PARSED]?: object | null })[PARSED] = result ?? null;
  return result;
}

/** Runs a middleware whose headers do not depend on the request once, and lists what it set. */
function staticHeaders(
  middleware: (req: Request, res: Response, next: (error?: unknown) => void) => void,
): [string, string | string[]][] {
  const headers = new Map<string, string | string[]>();
  const recorder = {
    setHeader(name: string, value: string | string[]) {
      headers.set(name.toLowerCase(), value);
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
    getHeader(name: string) {
      return headers.get(name.toLowerCase());
    },
  };
  let called = false;
  middleware({ headers: {}, method: 'GET', url: '/' } as Request, recorder as unknown as Response, () => {
    called = true;
  });
  if (!called) throw new Error('the security headers middleware did not run synchronously');
  return [...headers];
}
