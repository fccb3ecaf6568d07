/**
 * The SDK's transport (client-sdk/transport.ts): every request goes through graphql-request's
 * `GraphQLClient`, and what the rest of the SDK sees of an answer is what the service sent:
 * status, headers, and the body read as JSON whatever graphql-request makes of it (an HTML error
 * page, a 2xx without GraphQL, JSON under another content type).
 *
 * graphql-request is wrapped here by a subclass that records each client's options and each
 * `rawRequest` before handing it to the real one, so these tests fail if the SDK stops sending
 * through graphql-request (or sends some requests around it), and behave as the real thing
 * otherwise. The wire is a scripted node:http server on 127.0.0.1.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { print } from 'graphql';
import type { GraphQLClient } from 'graphql-request';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BooksDocument,
  createLedgerClient,
  documentIdOf,
  LedgerClientError,
  type LedgerClientOptions,
  type RetryEvent,
} from '../../client-sdk/index.js';

type Config = NonNullable<ConstructorParameters<typeof GraphQLClient>[1]>;
type RawRequestOptions = {
  query: string;
  variables?: unknown;
  requestHeaders?: HeadersInit;
  signal?: unknown;
};

const recorded = vi.hoisted(() => ({
  clients: [] as { url: string; config: unknown }[],
  rawRequests: [] as unknown[],
}));

vi.mock('graphql-request', async (importOriginal) => {
  const actual = await importOriginal<typeof import('graphql-request')>();
  class RecordingGraphQLClient extends actual.GraphQLClient {
    constructor(url: string, config?: ConstructorParameters<typeof actual.GraphQLClient>[1]) {
      super(url, config);
      recorded.clients.push({ url, config });
      const rawRequest = this.rawRequest;
      this.rawRequest = ((...args: Parameters<typeof rawRequest>) => {
        recorded.rawRequests.push(args[0]);
        return (rawRequest as (...a: unknown[]) => unknown)(...args);
      }) as typeof rawRequest;
    }
  }
  return { ...actual, GraphQLClient: RecordingGraphQLClient };
});

interface Step {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

let server: Server;
let url: string;
let script: Step[] = [];
let received: Record<string, unknown>[] = [];

const graphqlJson = { 'content-type': 'application/graphql-response+json; charset=utf-8' };
const emptyBooks = {
  books: { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false }, totalCount: 0 },
};
const htmlPage = '<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>';

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
    const step = script.shift() ?? { status: 500, body: 'no step scripted' };
    res.writeHead(step.status, step.headers ?? {});
    res.end(step.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  script = [];
  received = [];
  recorded.clients.length = 0;
  recorded.rawRequests.length = 0;
});

function client(options: Partial<LedgerClientOptions> = {}) {
  return createLedgerClient({ url, token: 't', retryBaseDelayMs: 1, retryMaxDelayMs: 5, ...options });
}

async function failure(promise: Promise<unknown>): Promise<LedgerClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LedgerClientError);
  return error as LedgerClientError;
}

describe('requests go through graphql-request', () => {
  it('each request on the wire is one rawRequest of a GraphQLClient, the persisted id put in by its requestMiddleware', async () => {
    script = [{ status: 200, body: JSON.stringify({ data: emptyBooks }), headers: graphqlJson }];
    expect((await client().books({ first: 1 })).totalCount).toBe(0);

    expect(received).toEqual([
      { documentId: documentIdOf(BooksDocument), operationName: 'Books', variables: { first: 1 } },
    ]);
    expect(recorded.rawRequests).toHaveLength(1);
    const raw = recorded.rawRequests[0] as RawRequestOptions;
    expect(raw.query).toBe(print(BooksDocument));
    expect(raw.variables).toEqual({ first: 1 });
    expect(raw.signal).toBeInstanceOf(AbortSignal);
    expect(new Headers(raw.requestHeaders).get('authorization')).toBe('Bearer t');
    const { url: clientUrl, config } = recorded.clients.at(-1)! as { url: string; config: Config };
    expect(clientUrl).toBe(url);
    expect(config.errorPolicy).toBe('all');
    expect(typeof config.fetch).toBe('function');
    expect(typeof config.requestMiddleware).toBe('function');
  });

  it('the text sent after PERSISTED_DOCUMENT_NOT_FOUND goes through graphql-request too', async () => {
    script = [
      {
        status: 400,
        body: JSON.stringify({
          errors: [{ message: 'unknown id', extensions: { code: 'PERSISTED_DOCUMENT_NOT_FOUND' } }],
        }),
        headers: graphqlJson,
      },
      { status: 200, body: JSON.stringify({ data: emptyBooks }), headers: graphqlJson },
    ];
    expect((await client({ retries: 0 }).books({ first: 2 })).totalCount).toBe(0);
    expect(received.map((body) => Object.keys(body).sort())).toEqual([
      ['documentId', 'operationName', 'variables'],
      ['operationName', 'query', 'variables'],
    ]);
    expect(received[1]!.query).toBe(print(BooksDocument));
    expect(recorded.rawRequests).toHaveLength(received.length);
  });

  it("the caller's fetch gets the configured URL and a plain POST: method, headers, JSON body, signal", async () => {
    script = [{ status: 200, body: JSON.stringify({ data: emptyBooks }), headers: graphqlJson }];
    const calls: [unknown, RequestInit | undefined][] = [];
    const ledger = client({
      headers: { 'x-client': 'tests', accept: 'text/html' },
      fetch: async (input, init) => {
        calls.push([input, init]);
        return fetch(input, init);
      },
    });
    await ledger.books({ first: 1 });
    expect(calls).toHaveLength(1);
    const [input, init] = calls[0]!;
    expect(input).toBe(url);
    expect(Object.keys(init!).sort()).toEqual(['body', 'headers', 'method', 'signal']);
    expect(init!.method).toBe('POST');
    expect(init!.signal).toBeInstanceOf(AbortSignal);
    expect(JSON.parse(String(init!.body))).toEqual(received[0]);
    const headers = new Headers(init!.headers);
    expect(headers.get('content-type')).toBe('application/json');
    expect(headers.get('accept')).toBe('application/graphql-response+json, application/json');
    expect(headers.get('x-client')).toBe('tests');
    expect(headers.get('authorization')).toBe('Bearer t');
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('answers that are not GraphQL are classified as before', () => {
  it('an HTML error page with a 502: HTTP_ERROR with the status, retried (a query)', async () => {
    const page = { status: 502, body: htmlPage, headers: { 'content-type': 'text/html' } };
    script = [page, page];
    const error = await failure(client({ retries: 1 }).books({ first: 1 }));
    expect(error.code).toBe('HTTP_ERROR');
    expect(error.status).toBe(502);
    expect(error.errors).toEqual([]);
    expect(error.retryable).toBe(true);
    expect(error.attempts).toBe(2);
    expect(received).toHaveLength(2);
  });

  it('an HTML page with a 200: INVALID_RESPONSE with the status, not retried', async () => {
    script = [{ status: 200, body: htmlPage, headers: { 'content-type': 'text/html' } }];
    const error = await failure(client({ retries: 3 }).books({ first: 1 }));
    expect(error.code).toBe('INVALID_RESPONSE');
    expect(error.status).toBe(200);
    expect(error.retryable).toBe(false);
    expect(received).toHaveLength(1);
  });

  it('a 200 with no body at all: INVALID_RESPONSE', async () => {
    script = [{ status: 200, body: '' }];
    const error = await failure(client({ retries: 0 }).books({ first: 1 }));
    expect(error.code).toBe('INVALID_RESPONSE');
    expect(error.status).toBe(200);
  });

  it('a 200 whose errors are not a list: INVALID_RESPONSE', async () => {
    script = [
      {
        status: 200,
        body: JSON.stringify({ errors: { message: 'odd' } }),
        headers: { 'content-type': 'application/json' },
      },
    ];
    const error = await failure(client({ retries: 0 }).books({ first: 1 }));
    expect(error.code).toBe('INVALID_RESPONSE');
  });

  it('a GraphQL answer under another content type (text/plain) is still read as JSON', async () => {
    script = [
      { status: 200, body: JSON.stringify({ data: emptyBooks }), headers: { 'content-type': 'text/plain' } },
    ];
    expect((await client({ retries: 0 }).books({ first: 1 })).totalCount).toBe(0);
    script = [
      {
        status: 403,
        body: JSON.stringify({ errors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] }),
        headers: { 'content-type': 'text/plain', 'x-request-id': 'from-the-service' },
      },
    ];
    const error = await failure(client({ retries: 0 }).books({ first: 1 }));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.status).toBe(403);
    expect(error.requestId).toBe('from-the-service');
  });

  it('GraphQL errors beside data on a 200 reach the caller with both', async () => {
    script = [
      {
        status: 200,
        body: JSON.stringify({
          data: { books: null },
          errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        }),
        headers: graphqlJson,
      },
    ];
    const error = await failure(client({ retries: 2 }).books({ first: 1 }));
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.data).toEqual({ books: null });
    expect(error.errors[0]!.message).toBe('Unexpected error.');
    expect(received).toHaveLength(1);
  });
});

describe('throttling and unavailability', () => {
  it("a 429's Retry-After sets the backoff (bounded by retryMaxDelayMs), then the retry answers", async () => {
    script = [
      {
        status: 429,
        body: JSON.stringify({ errors: [{ message: 'slow down', extensions: { code: 'THROTTLED' } }] }),
        headers: { ...graphqlJson, 'retry-after': '1' },
      },
      { status: 200, body: JSON.stringify({ data: emptyBooks }), headers: graphqlJson },
    ];
    const retries: RetryEvent[] = [];
    const ledger = client({ retryMaxDelayMs: 40, onRetry: (event) => retries.push(event) });
    expect((await ledger.books({ first: 1 })).totalCount).toBe(0);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.delayMs).toBe(40);
    expect(retries[0]!.error.code).toBe('THROTTLED');
    expect(retries[0]!.error.status).toBe(429);
    expect(recorded.rawRequests).toHaveLength(2);
  });

  it('a 503 with an HTML body and Retry-After is retried by Retry-After, then surfaces as HTTP_ERROR', async () => {
    const page = {
      status: 503,
      body: htmlPage,
      headers: { 'content-type': 'text/html', 'retry-after': '2' },
    };
    script = [page, page];
    const retries: RetryEvent[] = [];
    const error = await failure(
      client({ retries: 1, retryMaxDelayMs: 30, onRetry: (event) => retries.push(event) }).books({
        first: 1,
      }),
    );
    expect(retries.map((r) => r.delayMs)).toEqual([30]);
    expect(error.code).toBe('HTTP_ERROR');
    expect(error.status).toBe(503);
  });
});
