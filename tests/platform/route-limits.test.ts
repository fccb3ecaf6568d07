/**
 * Every route is rate limited (issue 10, item 9), not only GraphQL: health, readiness, the public
 * directory, GraphiQL's assets and unknown paths answer 429 THROTTLED past the budget of their
 * client address (RATE_LIMIT_PER_SECOND, bursts of twice that). And /readyz is no amplifier: one
 * database check serves every caller for READINESS_CACHE_MS.
 *
 * Each route is called from its own loopback address (127.0.0.x), so each has its own budget.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, GRAPHIQL_ASSETS_PATH, READINESS_CACHE_MS } from '../../server/platform/http/app.js';
import { createLogger } from '../../server/platform/logger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PER_SECOND = 5;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  code: unknown;
}

/** A GET from the given local address (the client address the server sees). */
function get(
  port: number,
  path: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, localAddress: from, agent: false, headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => {
          let code: unknown;
          try {
            code = (JSON.parse(body) as { errors?: { extensions?: { code?: unknown } }[] }).errors?.[0]
              ?.extensions?.code;
          } catch {
            code = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] as string | undefined,
            code,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('rate limit on every route', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { rateLimitPerSecond: PER_SECOND } });
  });
  afterAll(() => server?.stop());

  const html = { accept: 'text/html' };
  const routes: [string, () => string, number, Record<string, string>?][] = [
    ['/healthz', () => '/healthz', 200],
    ['/readyz', () => '/readyz', 200],
    ['a directory profile', () => `/directory/coops/${randomUUID()}.json`, 404],
    ['an unknown path', () => '/no-such-path', 404],
    ["GraphiQL's assets", () => `${GRAPHIQL_ASSETS_PATH}/start.js`, 200],
    ['the GraphiQL page', () => '/graphql', 200, html],
  ];

  it.each(routes.map(([name, path, status, headers], i) => [name, path, status, headers ?? {}, i] as const))(
    '%s answers 429 THROTTLED past the budget of its client address',
    async (_name, path, status, headers, i) => {
      const from = `127.0.0.${20 + i}`;
      const answers: Answer[] = [];
      // Bursts of twice the rate: well within 40 requests the budget runs out.
      for (let n = 0; n < 40; n++) answers.push(await get(server.port, path(), from, headers));
      expect(answers[0]!.status).toBe(status);
      const throttled = answers.filter((a) => a.status === 429);
      expect(throttled.length).toBeGreaterThan(0);
      for (const a of throttled) {
        expect(a.code).toBe('THROTTLED');
        expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      // Another address is not held back by this one.
      expect((await get(server.port, path(), `127.0.0.${60 + i}`, headers)).status).toBe(status);
    },
  );
});

describe('/readyz is no amplifier', () => {
  it(`checks the database at most once per ${READINESS_CACHE_MS} ms, however many callers`, async () => {
    let checks = 0;
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ping: { type: GraphQLString } } }),
    });
    const app = buildApp({
      config: {
        graphiql: false,
        introspection: true,
        bodyLimitBytes: 1 << 20,
        corsOrigins: [],
        rateLimitPerSecond: 0,
      },
      logger: createLogger({ level: 'silent' }),
      orm: undefined as never,
      schema,
      authenticator: { isCached: () => false, authenticate: async () => ({ failure: 'UNKNOWN' }) },
      context: (base) => base,
      readinessProblem: async () => {
        checks++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return undefined;
      },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const started = Date.now();
      const concurrent = await Promise.all(
        Array.from({ length: 50 }, () => get(port, '/readyz', '127.0.0.1')),
      );
      const sequential: Answer[] = [];
      for (let n = 0; n < 50; n++) sequential.push(await get(port, '/readyz', '127.0.0.1'));
      const elapsedMs = Date.now() - started;
      for (const answer of [...concurrent, ...sequential]) expect(answer.status).toBe(200);
      // 100 answers; one check per window the calls spanned (plus the one under way at its end).
      expect(checks).toBeGreaterThan(0);
      expect(checks).toBeLessThanOrEqual(Math.ceil(elapsedMs / READINESS_CACHE_MS) + 1);
      expect(checks).toBeLessThan(100);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('checks again as soon as a request found the database unreachable', async () => {
    let problem: string | undefined;
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          down: {
            type: GraphQLString,
            resolve: () => {
              throw new GraphQLError('The ledger database is unavailable.', {
                extensions: { code: 'UNAVAILABLE' },
              });
            },
          },
        },
      }),
    });
    const app = buildApp({
      config: {
        graphiql: false,
        introspection: true,
        bodyLimitBytes: 1 << 20,
        corsOrigins: [],
        rateLimitPerSecond: 0,
      },
      logger: createLogger({ level: 'silent' }),
      orm: undefined as never,
      schema,
      authenticator: { isCached: () => false, authenticate: async () => ({ failure: 'UNKNOWN' }) },
      context: (base) => base,
      readinessProblem: async () => problem,
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      expect((await get(port, '/readyz', '127.0.0.1')).status).toBe(200);
      // The database goes away; the cached answer would say ready for up to a second more.
      problem = 'database unreachable: connection refused';
      const answer = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ down }' }),
      });
      expect(
        ((await answer.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code,
      ).toBe('UNAVAILABLE');
      expect((await get(port, '/readyz', '127.0.0.1')).status).toBe(503);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
