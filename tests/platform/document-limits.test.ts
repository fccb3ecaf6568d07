/**
 * Deeply nested documents and values are refused with a clear error, never a 500 (issue 10,
 * item 8). graphql's parser is recursive: before the fix a list literal nested 100,000 deep
 * overflowed its stack (500 INTERNAL_SERVER_ERROR). The token and nesting limits are now checked
 * by an iterative pass of the lexer before the parser runs: 400 GRAPHQL_PARSE_FAILED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_LIMITS } from '../../server/platform/http/app.js';
import { fetchWithToken } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(() => server?.stop());

interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function post(body: string): Promise<Answer> {
  const response = await fetchWithToken(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const nestedList = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const query = (q: string, variables?: string) =>
  `{"query":${JSON.stringify(q)}${variables === undefined ? '' : `,"variables":${variables}`}}`;

describe('nesting in the query text', () => {
  it('answers a list literal nested 100,000 deep with 400 GRAPHQL_PARSE_FAILED: the token limit stops it', async () => {
    const answer = await post(query(`{ __type(name: ${nestedList(100_000)}) { name } }`));
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors).toEqual([
      {
        message: `Syntax Error: Token limit of ${GRAPHQL_LIMITS.maxTokens} exceeded.`,
        extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      },
    ]);
  });

  it(`refuses nesting deeper than ${GRAPHQL_LIMITS.maxNesting} within the token limit, deep enough to overflow the parser`, async () => {
    // 2,400 levels are 4,800 tokens, under the token limit, and past the parser's stack.
    const depth = 2400;
    expect(depth * 2 + 10).toBeLessThan(GRAPHQL_LIMITS.maxTokens);
    const answer = await post(query(`{ __type(name: ${nestedList(depth)}) { name } }`));
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(answer.body.errors?.[0]?.message).toBe(
      `Syntax Error: Nesting limit of ${GRAPHQL_LIMITS.maxNesting} exceeded: brackets, braces and parentheses nest ${depth + 2} deep.`,
    );
    // The same for selections nested past the limit (also refused before the depth rule runs).
    const selections = await post(query(`${'{ a '.repeat(1000)}${'}'.repeat(1000)}`));
    expect(selections.status).toBe(400);
    expect(selections.body.errors?.[0]?.message).toMatch(/Nesting limit of 100 exceeded/);
  });

  it('parses a document nested exactly to the limit (then the schema decides)', async () => {
    // `{ __type(` opens 2; the list adds the rest.
    const answer = await post(
      query(`{ __type(name: ${nestedList(GRAPHQL_LIMITS.maxNesting - 2)}) { name } }`),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(answer.body.errors?.[0]?.message).toMatch(/String cannot represent a non string value/);
    const over = await post(query(`{ __type(name: ${nestedList(GRAPHQL_LIMITS.maxNesting - 1)}) { name } }`));
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.message).toMatch(/Nesting limit/);
  });

  it('still answers an ordinary syntax error as before (GRAPHQL_PARSE_FAILED)', async () => {
    const answer = await post(query('{ __type(name: "Query" { name } }'));
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(answer.body.errors?.[0]?.message).toMatch(/^Syntax Error: Expected/);
  });
});

describe('nesting in JSON variables and extensions', () => {
  it('answers variables nested 100,000 deep with a clear error, and the server stays up', async () => {
    const deepArray = nestedList(100_000);
    const deepObject = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    for (const [name, value] of [
      ['array', deepArray],
      ['object', deepObject],
    ] as const) {
      const answer = await post(query('query($n: String!) { __type(name: $n) { name } }', `{"n":${value}}`));
      expect(answer.status, name).toBeLessThan(500);
      // A request error about the variable (its code is the error vocabulary's to choose).
      expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED'], name).toContain(
        answer.body.errors?.[0]?.extensions?.code,
      );
      expect(answer.body.errors?.[0]?.message, name).toMatch(/String cannot represent a non string value/);
    }
    // In extensions (ignored) and in an unused variable, the request is answered.
    const ignored = await post(
      `{"query":"{ __typename }","variables":{"unused":${deepObject}},"extensions":{"x":${deepArray}}}`,
    );
    expect(ignored).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });
});
