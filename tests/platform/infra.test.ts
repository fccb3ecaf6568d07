/**
 * The service's infrastructure through real HTTP against real PostgreSQL: health, readiness,
 * request ids and logs, limits, security headers, CORS, CSRF, error masking and configuration
 * switches. The service as a process (usage, signals, draining, the embedded PostgreSQL surviving
 * a SIGKILL) is tests/platform/server-process.test.ts.
 */

import { request as httpRequest } from 'node:http';
import {
  GraphQLError,
  GraphQLInt,
  GraphQLList,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADERS, GRAPHQL_LIMITS } from '../../server/platform/http/app.js';
import { authHeaders, fetchWithToken, graphqlAsAdmin } from '../helpers/auth.js';
import { createScratchDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const json = { 'content-type': 'application/json' };

const graphql = graphqlAsAdmin;

/** A schema with fields that fail on purpose and nest without end, for masking and limits. */
function testSchema(): GraphQLSchema {
  const node: GraphQLObjectType = new GraphQLObjectType({
    name: 'Node',
    fields: () => ({
      name: { type: GraphQLString, resolve: () => 'n' },
      child: { type: node, resolve: () => ({}) },
      children: { type: new GraphQLList(node), args: { first: { type: GraphQLInt } }, resolve: () => [] },
    }),
  });
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        ping: { type: GraphQLString, resolve: () => 'pong' },
        boom: {
          type: GraphQLString,
          resolve: () => {
            throw new Error('secret detail: connection to 10.0.0.7 refused');
          },
        },
        refused: {
          type: GraphQLString,
          resolve: () => {
            throw new GraphQLError('Not allowed here.', { extensions: { code: 'FORBIDDEN' } });
          },
        },
        node: { type: node, resolve: () => ({}) },
        nodes: { type: new GraphQLList(node), args: { first: { type: GraphQLInt } }, resolve: () => [] },
      },
    }),
  });
}

describe('with the real schema', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('answers a GraphQL request', async () => {
    const { response, body } = await graphql(server.url, '{ __typename }');
    expect(response.status).toBe(200);
    expect(body).toEqual({ data: { __typename: 'Query' } });
  });

  it('GET /healthz is 200 while the process is up', async () => {
    const response = await fetch(`${server.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('GET /readyz is 200 against the migrated database', async () => {
    const response = await fetch(`${server.baseUrl}/readyz`);
    expect(await response.json()).toEqual({ status: 'ready' });
    expect(response.status).toBe(200);
  });

  it('echoes a sane x-request-id and logs one line per request with it', async () => {
    const response = await fetch(`${server.baseUrl}/healthz`, { headers: { 'x-request-id': 'abc_DEF-123' } });
    expect(response.headers.get('x-request-id')).toBe('abc_DEF-123');
    await waitFor(() => server.logs.some((line) => line.requestId === 'abc_DEF-123'), {
      what: 'the access log line',
    });
    const lines = server.logs.filter((line) => line.requestId === 'abc_DEF-123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request', method: 'GET', path: '/healthz', status: 200 });
    expect(typeof lines[0]?.ms).toBe('number');

    await graphql(server.url, '{ __typename }', { 'x-request-id': 'gql-path-1' });
    await waitFor(
      () => server.logs.some((line) => line.requestId === 'gql-path-1' && line.msg === 'request'),
      {
        what: 'the GraphQL access log line',
      },
    );
    const graphqlLine = server.logs.find((line) => line.requestId === 'gql-path-1' && line.msg === 'request');
    expect(graphqlLine).toMatchObject({ method: 'POST', path: '/graphql', status: 200 });
  });

  it('replaces an unsafe or missing request id with a UUID', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const headers of [
      { 'x-request-id': 'a'.repeat(65) },
      { 'x-request-id': 'has spaces' },
      { 'x-request-id': '"quoted"\\' },
      {} as Record<string, string>,
    ]) {
      const response = await fetch(`${server.baseUrl}/healthz`, { headers });
      expect(response.headers.get('x-request-id')).toMatch(uuid);
    }
  });

  it('sets security headers and no CORS headers by default', async () => {
    const response = await fetchWithToken(server.url, {
      method: 'POST',
      headers: { ...json, origin: 'https://evil.example.org' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves GraphiQL to browsers from this service alone, under a CSP of self', async () => {
    const response = await fetchWithToken(server.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<title>Solidarity Ledger</title>');
    const csp = response.headers.get('content-security-policy') ?? '';
    const directive = (name: string) =>
      csp
        .split(';')
        .map((d) => d.trim())
        .find((d) => d.startsWith(`${name} `));
    expect(directive('script-src')).toBe("script-src 'self'");
    expect(directive('worker-src')).toBe("worker-src 'self'");
    expect(directive('connect-src')).toBe("connect-src 'self'");
    expect(directive('default-src')).toBe("default-src 'self'");
    // No other origin anywhere in the policy, and no upgrade of this http page to https.
    expect(csp).not.toMatch(/https?:/);
    expect(csp).not.toContain('upgrade-insecure-requests');
    // No inline script (the CSP would block it): every script is a file of this server, or data.
    const scripts = [...html.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, content] of scripts) {
      if (!/\ssrc=/.test(attributes!)) {
        expect(attributes).toContain('type="application/json"');
        expect(() => JSON.parse(content!)).not.toThrow();
      }
    }
    // Every file the page and its worker set-up name is served here, with its type.
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(5);
    const environment = await (
      await fetch(`${server.baseUrl}${refs.find((r) => r.endsWith('environment.js'))}`)
    ).text();
    const workers = [...environment.matchAll(/'(\/workers\/[^']+)'/g)].map((m) => m[1]!);
    expect(workers).toHaveLength(3);
    const base = refs[0]!.slice(0, refs[0]!.lastIndexOf('/'));
    for (const ref of [...refs, ...workers.map((w) => `${base}${w}`)]) {
      expect(ref, ref).toMatch(/^\/graphiql\//);
      const asset = await fetch(`${server.baseUrl}${ref}`);
      expect(asset.status, ref).toBe(200);
      expect(asset.headers.get('content-type'), ref).toMatch(/javascript|css|image/);
      expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(100);
    }
  });

  it('refuses requests a browser could send cross-site without a preflight (CSRF)', async () => {
    const get = await fetchWithToken(`${server.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.status).toBe(403);
    expect((await get.json()).errors[0].extensions.code).toBe('CSRF_PREVENTED');

    const form = await fetchWithToken(server.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(form.status).toBe(403);

    for (const header of CSRF_HEADERS) {
      const allowed = await fetchWithToken(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, {
        headers: { [header]: '1', accept: 'application/json' },
      });
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('answers unknown paths with a JSON 404', async () => {
    const response = await fetch(`${server.baseUrl}/nope`);
    expect(response.status).toBe(404);
    expect((await response.json()).errors[0].extensions.code).toBe('NOT_FOUND');
  });
});

describe('request body limit', () => {
  const limit = 4096;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { bodyLimitBytes: limit } });
  });
  afterAll(() => server?.stop());

  const padded = (bytes: number) => {
    const base = JSON.stringify({ query: '{ __typename }', extensions: { pad: '' } });
    return JSON.stringify({ query: '{ __typename }', extensions: { pad: 'x'.repeat(bytes - base.length) } });
  };

  it('accepts a body at the limit', async () => {
    const body = padded(limit);
    expect(Buffer.byteLength(body)).toBe(limit);
    const response = await fetchWithToken(server.url, { method: 'POST', headers: json, body });
    expect(response.status).toBe(200);
  });

  it('refuses a declared content-length over the limit with 413 JSON', async () => {
    const response = await fetchWithToken(server.url, {
      method: 'POST',
      headers: json,
      body: padded(limit + 1),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      errors: [
        {
          message: `The request body is larger than the limit of ${limit} bytes.`,
          extensions: { code: 'PAYLOAD_TOO_LARGE', limitBytes: limit },
        },
      ],
    });
  });

  it('counts streamed bytes when no content-length is sent (chunked)', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        server.url,
        { method: 'POST', headers: { ...json, ...authHeaders() } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      // Three chunks of 2 KiB: the third passes the limit.
      req.write('{"query":"{ __typename }","extensions":{"pad":"');
      req.write('x'.repeat(2048));
      req.write('x'.repeat(2048));
      req.end('x'.repeat(2048));
    });
    expect(status).toBe(413);
    expect(JSON.parse(body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('errors and limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ schema: testSchema() });
  });
  afterAll(() => server?.stop());

  it('masks unexpected errors and logs them in full with the request id', async () => {
    const { body, response } = await graphql(server.url, '{ boom }', { 'x-request-id': 'req-boom-1' });
    expect(response.status).toBe(200);
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]?.message).toBe('Unexpected error.');
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      requestId: 'req-boom-1',
    });
    expect(JSON.stringify(body)).not.toContain('10.0.0.7');
    const logged = server.logs.find((line) => line.requestId === 'req-boom-1' && line.level === 'error');
    expect(logged?.msg).toBe('unexpected error (masked for the client)');
    expect(JSON.stringify(logged?.err)).toContain('secret detail: connection to 10.0.0.7 refused');
  });

  it('passes GraphQL errors that carry extensions.code through', async () => {
    const { body } = await graphql(server.url, '{ refused }');
    expect(body.errors?.[0]).toMatchObject({
      message: 'Not allowed here.',
      extensions: { code: 'FORBIDDEN' },
    });
  });

  it(`refuses documents deeper than ${GRAPHQL_LIMITS.maxDepth}`, async () => {
    // Depth counts every field on the path, the leaf included: `{ node { name } }` is 2.
    const nest = (depth: number) =>
      `{ node { ${'child { '.repeat(depth - 2)}name${' }'.repeat(depth - 2)} } }`;
    expect((await graphql(server.url, nest(GRAPHQL_LIMITS.maxDepth))).body.errors).toBeUndefined();
    const { body } = await graphql(server.url, nest(GRAPHQL_LIMITS.maxDepth + 1));
    expect(body.errors?.[0]?.message).toMatch(/depth limit/i);
  });

  it(`refuses more than ${GRAPHQL_LIMITS.maxAliases} aliases`, async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ping`).join(' ')} }`;
    expect((await graphql(server.url, aliases(GRAPHQL_LIMITS.maxAliases))).body.errors).toBeUndefined();
    const { body } = await graphql(server.url, aliases(GRAPHQL_LIMITS.maxAliases + 1));
    expect(body.errors?.[0]?.message).toMatch(/aliases limit/i);
  });

  it(`refuses more than ${GRAPHQL_LIMITS.maxTokens} tokens`, async () => {
    const { body } = await graphql(server.url, `{ ${'ping '.repeat(GRAPHQL_LIMITS.maxTokens)} }`);
    expect(body.errors?.[0]?.message).toMatch(/token limit/i);
  });

  it(`allows one 100-item connection but refuses a cost over ${GRAPHQL_LIMITS.maxCost}`, async () => {
    const one = '{ nodes(first: 100) { name child { name child { name } } } }';
    expect((await graphql(server.url, one)).body.errors).toBeUndefined();
    const nested = '{ nodes(first: 100) { name children(first: 100) { name child { name } } } }';
    const { body } = await graphql(server.url, nested);
    expect(body.errors?.[0]?.message).toMatch(/cost limit/i);
  });

  it('allows introspection by default', async () => {
    const { body } = await graphql(server.url, '{ __schema { queryType { name } } }');
    expect(body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });
});

describe('configuration switches', () => {
  it('disables introspection and GraphiQL when configured', async () => {
    const server = await startTestServer({ config: { introspection: false, graphiql: false } });
    try {
      const { body } = await graphql(server.url, '{ __schema { queryType { name } } }');
      expect(body.errors?.[0]?.message).toMatch(/introspection/i);
      const page = await fetchWithToken(server.url, {
        headers: { accept: 'text/html', 'x-graphql-csrf': '1' },
      });
      expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
    } finally {
      await server.stop();
    }
  });

  it('answers CORS only for configured origins', async () => {
    const server = await startTestServer({ config: { corsOrigins: ['https://app.example.org'] } });
    try {
      const preflight = await fetch(server.url, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.org',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.org');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

      const allowed = await fetchWithToken(server.url, {
        method: 'POST',
        headers: { ...json, origin: 'https://app.example.org' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.org');
      expect(allowed.headers.get('access-control-expose-headers')).toContain('x-request-id');

      const other = await fetchWithToken(server.url, {
        method: 'POST',
        headers: { ...json, origin: 'https://evil.example.org' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.stop();
    }
  });
});

describe('readiness', () => {
  it('is 503 against a database without the migrations', async () => {
    const empty = await createScratchDatabase();
    const server = await startTestServer({ databaseUrl: empty.url });
    try {
      const response = await fetch(`${server.baseUrl}/readyz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; reason: string };
      expect(body.status).toBe('not ready');
      expect(body.reason).toMatch(/^pending migrations: Migration/);
      // Liveness does not depend on the database.
      expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
      await empty.drop();
    }
  });

  it('is 503 when the database goes away', async () => {
    const scratch = await createScratchDatabase();
    const server = await startTestServer({ databaseUrl: scratch.url });
    try {
      await scratch.drop();
      const response = await fetch(`${server.baseUrl}/readyz`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { reason: string }).reason).toMatch(/^database unreachable: /);
    } finally {
      await server.stop().catch(() => {});
    }
  });
});
