/**
 * The HTTP application: express 5 with graphql-yoga 5 at /graphql, health endpoints, limits,
 * security headers and one log line per request. `buildApp` never listens, so tests and
 * `server/service.ts` decide how it is served.
 *
 * Order of the middleware (each stage can answer before the next runs):
 *   request id + access log -> security headers (helmet) -> CORS -> /healthz, /readyz
 *   -> /graphql: CSRF guard -> body limit (raw bytes, before yoga parses) -> yoga
 *   -> 404 -> error handler (JSON; unexpected errors masked and logged with the request id)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { MikroORM } from '@mikro-orm/postgresql';
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError, type GraphQLSchema, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, maskError as yogaMaskError } from 'graphql-yoga';
import helmet from 'helmet';
import type { Logger } from 'pino';
import type { Principal } from '../../core/index.js';
import type { Config } from '../config.js';
import { pendingMigrations } from '../db/orm.js';
import { isConnectionError, UnavailableError } from '../errors.js';
import { requestSignal } from '../request-signal.js';
import { UNAVAILABLE_MESSAGE, unavailableError } from './errors.js';

export { UNAVAILABLE_MESSAGE };

/**
 * Limits on GraphQL documents, enforced by graphql-armor before execution. Read by the README
 * and tests: change them here only.
 *
 * The cost model is graphql-armor's: a scalar field costs `scalarCost`, an object field
 * `objectCost` plus `depthCostFactor` times its children, multiplied by a literal `first`/`last`
 * argument. `entries(first: 100)` with ids, dates, metadata and lines with their accounts costs
 * about 10,000; two nested 100-item connections cost about 1,000,000 and are refused. A `first`
 * passed as a variable counts as 1 here; the schema caps `first` at 100 itself.
 */
export const GRAPHQL_LIMITS = {
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 5000,
  maxDirectives: 50,
  maxCost: 20_000,
  objectCost: 2,
  scalarCost: 1,
  depthCostFactor: 1.5,
} as const;

/** How long /readyz waits for the database before answering 503. */
export const READINESS_TIMEOUT_MS = 2000;

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * CSRF prevention (the rule of Apollo Server and of `@graphql-yoga/plugin-csrf-prevention`, which
 * graphql-yoga 5 does not bundle): a request a browser may send cross-site without a CORS
 * preflight (a GET, or a POST whose content type is form or text) must carry one of these
 * headers. `application/json` POSTs, which every GraphQL client sends, need nothing.
 */
export const CSRF_HEADERS = [
  'x-graphql-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'x-graphql-yoga-csrf',
] as const;
const NON_PREFLIGHTED_CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
];

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
 * answers a status and a JSON body, or null for 404. While the database is down it answers 503
 * UNAVAILABLE, like every other request.
 */
export interface PublicRoute {
  /** An express path, e.g. `/directory/coops/:id.json`. */
  path: string;
  handle(
    params: Record<string, string>,
    request: { origin: string },
  ): Promise<{ status: number; body: unknown; cacheControl?: string }>;
}

export interface AppDeps<TContext extends object = RequestBase> {
  config: Pick<
    Config,
    'graphiql' | 'introspection' | 'bodyLimitBytes' | 'corsOrigins' | 'rateLimitPerSecond'
  >;
  logger: Logger;
  orm: MikroORM;
  schema: GraphQLSchema;
  authenticator: Authenticator;
  /** The GraphQL context of a request. */
  context: (base: RequestBase) => TContext;
  publicRoutes?: PublicRoute[];
  /** Overrides of LARGE_REQUEST_LIMITS (tests use small ones). */
  largeRequestLimits?: Partial<LargeRequestLimits>;
}

interface RequestState {
  requestId: string;
  logger: Logger;
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
}: AppDeps<TContext>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // Holds the request id while yoga runs, so `maskError` (which gets no context) can log it.
  const requestStore = new AsyncLocalStorage<RequestState>();

  // --- request id and access log -------------------------------------------------------------
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    // Read now: inside a mounted router `req.path` is relative to the mount point.
    const { method, path } = req;
    const incoming = req.get(REQUEST_ID_HEADER);
    const requestId = incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const requestLogger = logger.child({ requestId });
    res.locals.requestId = requestId;
    res.locals.logger = requestLogger;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    let logged = false;
    const logLine = () => {
      if (logged) return;
      logged = true;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      requestLogger.info(
        {
          method,
          path,
          status: res.statusCode,
          ms: Math.round(ms * 100) / 100,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    };
    res.on('finish', logLine);
    res.on('close', logLine);
    next();
  });

  // --- security headers ----------------------------------------------------------------------
  const strictHeaders = helmet();
  // GraphiQL's page (yoga's) loads its script, styles and editor workers from unpkg.com and
  // starts them with inline scripts: only that HTML response gets a CSP that allows them.
  const graphiqlHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'", 'https://unpkg.com', 'blob:'],
        workerSrc: ["'self'", 'blob:'],
        styleSrc: ["'self'", "'unsafe-inline'", 'https://unpkg.com'],
        connectSrc: ["'self'", 'https://unpkg.com'],
        imgSrc: ["'self'", 'data:', 'https://raw.githubusercontent.com'],
        fontSrc: ["'self'", 'data:', 'https://unpkg.com'],
        // The page calls this server over plain http on localhost: do not upgrade it to https.
        upgradeInsecureRequests: null,
      },
    },
  });
  app.use((req, res, next) => {
    if (config.graphiql && req.path === GRAPHQL_ENDPOINT && wantsGraphiQL(req))
      graphiqlHeaders(req, res, next);
    else strictHeaders(req, res, next);
  });

  // --- CORS: none unless origins are configured ---------------------------------------------
  if (config.corsOrigins.length > 0) {
    app.use(
      cors({
        origin: config.corsOrigins,
        methods: ['GET', 'POST', 'OPTIONS'],
        allowedHeaders: ['content-type', 'accept', 'authorization', REQUEST_ID_HEADER, ...CSRF_HEADERS],
        exposedHeaders: [REQUEST_ID_HEADER],
        maxAge: 600,
      }),
    );
  }

  // --- health --------------------------------------------------------------------------------
  app.get('/healthz', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' });
  });

  // --- public routes (no token needed), e.g. a co-op's directory profile -----------------------
  for (const route of publicRoutes) {
    app.get(route.path, async (req, res, next) => {
      let answer: Awaited<ReturnType<PublicRoute['handle']>>;
      try {
        answer = await route.handle(req.params as Record<string, string>, {
          origin: `${req.protocol}://${req.get('host')}`,
        });
      } catch (error) {
        // While the database is down: UNAVAILABLE, like every other request.
        if (!(error instanceof UnavailableError || isConnectionError(error))) return next(error);
        return sendUnavailable(res);
      }
      if (answer.cacheControl) res.set('cache-control', answer.cacheControl);
      res.status(answer.status).type('application/json').send(JSON.stringify(answer.body));
    });
  }

  app.get('/readyz', async (_req, res) => {
    const reason = await readinessProblem(orm);
    res.set('cache-control', 'no-store');
    if (reason === undefined) res.json({ status: 'ready' });
    else {
      (res.locals.logger as Logger).warn({ reason }, 'not ready');
      res.status(503).json({ status: 'not ready', reason });
    }
  });

  // --- GraphQL -------------------------------------------------------------------------------
  const yoga = createYoga<ServerContext, TContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    graphiql: config.graphiql ? { title: 'Solidarity Ledger' } : false,
    landingPage: false,
    // CORS is express's job (above); yoga's default would reflect any origin.
    cors: false,
    multipart: false,
    logging: yogaLogger(logger),
    context: ({ res }): TContext =>
      context({
        requestId: res.locals.requestId as string,
        logger: res.locals.logger as Logger,
        principal: (res.locals.principal as Principal | null) ?? null,
      }),
    maskedErrors: {
      maskError(error, message): Error {
        if (isCodedGraphQLError(error)) return error as Error;
        // The database went away under a field that does not guard its own reads (a nested
        // loader such as `entry.lines.account`): answer UNAVAILABLE, as the guarded root fields
        // do, instead of an internal error. Found by the bank test (connection termination).
        const cause = (error as { originalError?: unknown }).originalError ?? error;
        if (cause instanceof UnavailableError || isConnectionError(cause)) return unavailableError(error);
        // Never expose internals, whatever NODE_ENV says.
        const masked = yogaMaskError(error, message, false);
        if (masked === error) return masked;
        const state = requestStore.getStore();
        const original = (error as { originalError?: unknown }).originalError ?? error;
        (state?.logger ?? logger).error(
          { err: original, path: (error as { path?: unknown }).path },
          'unexpected error (masked for the client)',
        );
        if (state && isGraphQLErrorLike(masked)) {
          (masked.extensions as Record<string, unknown>).requestId = state.requestId;
        }
        return masked;
      },
    },
    plugins: [
      codeEveryError(),
      EnvelopArmorPlugin({
        // Depth is the nesting of fields; a fragment spread is not a level of its own, so clients
        // that organise their selections in fragments are not held to a shallower limit.
        maxDepth: { n: GRAPHQL_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true },
        maxAliases: { n: GRAPHQL_LIMITS.maxAliases },
        maxTokens: { n: GRAPHQL_LIMITS.maxTokens },
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
    ],
  });

  const csrfGuard = (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'OPTIONS' || (config.graphiql && wantsGraphiQL(req))) return next();
    const contentType = req.get('content-type');
    const essence = contentType?.split(';')[0]?.trim().toLowerCase();
    const preflighted =
      essence !== undefined && essence !== '' && !NON_PREFLIGHTED_CONTENT_TYPES.includes(essence);
    if (preflighted || CSRF_HEADERS.some((name) => (req.get(name) ?? '') !== '')) return next();
    sendError(res, 403, 'CSRF_PREVENTED', {
      message:
        'This request was blocked as a possible cross-site request forgery: send it with ' +
        `"content-type: application/json", or add a non-empty "${CSRF_HEADERS[0]}" header.`,
    });
  };

  // Reads the whole body as bytes before yoga sees it: a declared content-length over the limit is
  // refused without reading, and a streamed (chunked) body is refused as soon as it passes the
  // limit. Compressed bodies are refused (415): their size after inflation is unknown up front.
  const readBody = express.raw({ type: () => true, limit: config.bodyLimitBytes, inflate: false });

  // Authentication: no Authorization header means anonymous (the schema then allows only what is
  // public); a header that is not a valid, live token is refused here with 401, whatever the query.
  const limiter = new TokenRateLimiter(config.rateLimitPerSecond);
  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    res.locals.principal = null;
    if (req.method === 'OPTIONS' || (config.graphiql && wantsGraphiQL(req))) return next();
    // Callers without a valid token (none, or a refused one) share a budget per client address:
    // they are cheap to refuse, but an unknown token id still costs a database lookup. Requests
    // with a valid token never draw on it.
    const ipKey = `ip:${req.ip ?? req.socket.remoteAddress ?? ''}`;
    const throttleAnonymous = (consume = true): boolean => {
      const wait = consume ? limiter.take(ipKey) : limiter.peek(ipKey);
      if (wait === 0) return false;
      res.set('retry-after', String(Math.ceil(wait / 1000)));
      sendError(res, 429, 'THROTTLED', {
        message: `Too many requests; retry in ${Math.ceil(wait / 1000)} s.`,
      });
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
          if (wait > 0) {
            res.set('retry-after', String(Math.ceil(wait / 1000)));
            return sendError(res, 429, 'THROTTLED', {
              message: `Too many requests for this token; retry in ${Math.ceil(wait / 1000)} s.`,
            });
          }
          res.locals.principal = result.principal;
          res.locals.logger = (res.locals.logger as Logger).child({ principal: result.principal.id });
          return next();
        }
        failure = result.failure;
      } catch (error) {
        // A token not verified in the last few seconds needs the database: while it is down the
        // answer is UNAVAILABLE (retry), like any other request, not an internal error.
        if (error instanceof UnavailableError || isConnectionError(error)) return sendUnavailable(res);
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

  // A body declared larger than the limit is refused before a byte of it is read, and the
  // connection closed, so a client cannot hold a slot by declaring a large body and stalling.
  const declaredLimit = (req: Request, res: Response, next: NextFunction) => {
    const declared = Number(req.get('content-length') ?? 0);
    if (!(declared > config.bodyLimitBytes)) return next();
    res.set('connection', 'close');
    sendError(res, 413, 'PAYLOAD_TOO_LARGE', {
      message: `The request body is larger than the limit of ${config.bodyLimitBytes} bytes.`,
      limitBytes: config.bodyLimitBytes,
    });
  };

  // What yoga would parse from the URL or a form body must be well-formed JSON, and no string may
  // hold U+0000 (PostgreSQL text cannot store it): refused here with a clear 400 instead of
  // failing deep inside with an unexpected error.
  const checkInput = (req: Request, res: Response, next: NextFunction) => {
    const params: URLSearchParams[] = [new URL(req.originalUrl, 'http://localhost').searchParams];
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    if (/application\/x-www-form-urlencoded/i.test(req.get('content-type') ?? ''))
      params.push(new URLSearchParams(body));
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
    if (
      body.includes('\0') ||
      /(^|[^\\])(\\\\)*\\u0000/i.test(body) ||
      params.some((p) => p.toString().includes('%00'))
    ) {
      return sendError(res, 400, 'INVALID_INPUT', {
        message: 'Strings must not contain the NUL character (U+0000).',
      });
    }
    next();
  };

  app.use(
    GRAPHQL_ENDPOINT,
    csrfGuard,
    authenticate,
    declaredLimit,
    largeBodyGate({ ...LARGE_REQUEST_LIMITS, ...largeRequestLimits }),
    readBody,
    checkInput,
    (req: Request, res: Response) => {
      const state: RequestState = { requestId: res.locals.requestId, logger: res.locals.logger };
      // Fires when the client goes away before its answer: the posting engine then does not post
      // its entries (see `requestSignal` in server/platform/request-signal.ts).
      const gone = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      if (req.socket.destroyed) gone.abort();
      requestSignal.run(gone.signal, () =>
        requestStore.run(state, () => {
          // An empty body must not look like a parsed one (whatwg-node would then read the stream).
          if (Buffer.isBuffer(req.body) && req.body.length === 0) req.body = undefined;
          void yoga.requestListener(req, res);
        }),
      );
    },
  );

  // --- fallbacks -----------------------------------------------------------------------------
  app.use((_req, res) => {
    sendError(res, 404, 'NOT_FOUND', { message: 'Not found. The GraphQL endpoint is /graphql.' });
  });

  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const requestLogger = (res.locals.logger as Logger | undefined) ?? logger;
    const status = httpStatusOf(error);
    if (status === 413) {
      // The rest of an oversized body is not worth reading: close the connection after answering.
      res.set('connection', 'close');
      return sendError(res, 413, 'PAYLOAD_TOO_LARGE', {
        message: `The request body is larger than the limit of ${config.bodyLimitBytes} bytes.`,
        limitBytes: config.bodyLimitBytes,
      });
    }
    if (status === 415) {
      return sendError(res, 415, 'UNSUPPORTED_ENCODING', {
        message: 'Compressed request bodies are not accepted; send the body uncompressed.',
      });
    }
    if (status !== undefined && status >= 400 && status < 500) {
      return sendError(res, status, 'BAD_REQUEST', { message: 'The request could not be read.' });
    }
    requestLogger.error({ err: error }, 'unexpected error (masked for the client)');
    sendError(res, 500, 'INTERNAL_SERVER_ERROR', {
      message: 'Unexpected error.',
      requestId: res.locals.requestId,
    });
  });

  return app;
}

/** yoga renders GraphiQL for a GET that accepts HTML (the same test as its `shouldRenderGraphiQL`). */
/**
 * Admission of large requests (batches of entries): at most `largeInFlightMax` bodies over
 * `largeBodyBytes` are read and processed at once; the others wait, unread, in a bounded queue
 * (their bytes stay in the kernel's socket buffers), and past the queue they get 503 THROTTLED.
 * The posting engine handles one group at a time anyway, so this costs no throughput; it bounds
 * the memory that sixteen concurrent 1,000-entry batches would otherwise hold at once.
 */
export interface LargeRequestLimits {
  largeBodyBytes: number;
  largeInFlightMax: number;
  largeQueueMax: number;
}

export const LARGE_REQUEST_LIMITS: Readonly<LargeRequestLimits> = {
  largeBodyBytes: 64 * 1024,
  largeInFlightMax: 2,
  largeQueueMax: 256,
};

function largeBodyGate(limits: LargeRequestLimits) {
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else inFlight--;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const declared = Number(req.get('content-length') ?? Number.NaN);
    const large = Number.isNaN(declared)
      ? req.get('transfer-encoding') !== undefined
      : declared > limits.largeBodyBytes;
    if (!large) return next();
    let released = false;
    const admit = () => {
      res.once('close', () => {
        if (!released) {
          released = true;
          release();
        }
      });
      next();
    };
    if (inFlight < limits.largeInFlightMax) {
      inFlight++;
      return admit();
    }
    if (waiting.length >= limits.largeQueueMax) {
      res.set('retry-after', '1');
      return sendError(res, 503, 'THROTTLED', {
        message: 'Too many large requests are waiting; retry shortly.',
      });
    }
    // A client that gives up while queued leaves the queue.
    const entry = () => {
      res.off('close', abandon);
      admit();
    };
    const abandon = () => {
      const i = waiting.indexOf(entry);
      if (i >= 0) waiting.splice(i, 1);
    };
    res.once('close', abandon);
    waiting.push(entry);
  };
}

/**
 * Per-token rate limit: a token bucket of `perSecond` tokens a second holding at most twice that.
 * Kept in memory per process (several processes each apply it); 0 disables it.
 */
export class TokenRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number) {}

  /** Like `take` without taking: 0 when a request would be allowed now. */
  peek(key: string, now = Date.now()): number {
    if (this.perSecond <= 0) return 0;
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.perSecond * 2, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.perSecond) * 1000);
  }

  /** Takes one request for `key`; returns 0 when allowed, else the milliseconds to wait. */
  take(key: string, now = Date.now()): number {
    if (this.perSecond <= 0) return 0;
    const capacity = this.perSecond * 2;
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
  }
}

/**
 * Gives every error that lacks one a stable `extensions.code`: parse errors (graphql-armor's
 * token limit included) GRAPHQL_PARSE_FAILED, other errors raised before execution (validation,
 * depth, aliases, cost, an operation type the schema lacks) GRAPHQL_VALIDATION_FAILED.
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

function wantsGraphiQL(req: Request): boolean {
  return req.method === 'GET' && (req.get('accept') ?? '').includes('text/html');
}

/** Errors shaped like GraphQL's, in the JSON body every GraphQL client already reads. */
/** 503 UNAVAILABLE for a request that needed the database while it is down: retry in a second. */
function sendUnavailable(res: Response): void {
  res.set('retry-after', '1');
  sendError(res, 503, 'UNAVAILABLE', { message: UNAVAILABLE_MESSAGE });
}

function sendError(
  res: Response,
  status: number,
  code: string,
  { message, ...extensions }: { message: string } & Record<string, unknown>,
): void {
  res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
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

async function readinessProblem(orm: MikroORM): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`database check timed out after ${READINESS_TIMEOUT_MS} ms`),
      READINESS_TIMEOUT_MS,
    );
  });
  const check = (async (): Promise<string | undefined> => {
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
  })();
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
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
