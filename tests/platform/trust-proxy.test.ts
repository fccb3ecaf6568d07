/**
 * TRUST_PROXY: whose X-Forwarded-For gives the client address that the per-address rate limit
 * counts and the access log records. Unset, the connection's address is the client's whatever a
 * client sends; with trusted proxies, each forwarded client has its own budget, and only the hops
 * the setting trusts are believed. Checked on both ways a request is served: POST /graphql (the
 * service's own stage runner, see `handle` in server/platform/http/app.ts) and any other route
 * (express's router), anonymous so that the per-address budget applies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Config, ConfigError, loadConfig } from '../../server/platform/config.js';
import { waitFor } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** A server whose anonymous callers get a burst of 2 requests per address (1 a second). */
async function serverWith(trustProxy: string): Promise<TestServer> {
  const server = await startTestServer({
    config: { rateLimitPerSecond: 1, trustProxy: loadConfig({ TRUST_PROXY: trustProxy }).trustProxy },
  });
  servers.push(server);
  return server;
}

type Route = 'graphql' | 'healthz';
const ROUTES: Route[] = ['graphql', 'healthz'];

let sequence = 0;

/** An anonymous request with the given X-Forwarded-For; its status and its access line's `ip`. */
async function send(
  server: TestServer,
  route: Route,
  forwardedFor: string | undefined,
): Promise<{ status: number; ip: unknown }> {
  const requestId = `trust-proxy-${++sequence}`;
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (forwardedFor !== undefined) headers['x-forwarded-for'] = forwardedFor;
  const res =
    route === 'graphql'
      ? await fetch(server.url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ viewer { principalName } }' }),
        })
      : await fetch(`${server.baseUrl}/healthz`, { headers });
  await res.arrayBuffer();
  const line = () => server.logs.find((l) => l.requestId === requestId && l.msg === 'request');
  await waitFor(() => line() !== undefined, { what: `the access log line of ${requestId}` });
  return { status: res.status, ip: line()!.ip };
}

/** Sends requests (forwarded as `forwardedFor(i)`) until one is throttled; the answers up to it. */
async function untilThrottled(
  server: TestServer,
  route: Route,
  forwardedFor: (i: number) => string,
): Promise<{ status: number; ip: unknown }[]> {
  const answers = [];
  for (let i = 0; i < 20; i++) {
    const answer = await send(server, route, forwardedFor(i));
    answers.push(answer);
    if (answer.status === 429) return answers;
  }
  throw new Error(`20 requests on ${route} and none throttled`);
}

describe.each(ROUTES)('the client address on %s', (route) => {
  it('is the connection’s by default: a new X-Forwarded-For per request still spends one budget', async () => {
    const server = await serverWith('');
    const answers = await untilThrottled(server, route, (i) => `198.51.100.${i + 1}`);
    for (const answer of answers) expect(answer.ip).toBe('127.0.0.1');
  });

  it('is the forwarded one with TRUST_PROXY=loopback: two forwarded clients, two budgets', async () => {
    const server = await serverWith('loopback');
    const first = await untilThrottled(server, route, () => '203.0.113.7');
    // The first client is out of budget; the second has its own.
    const second = await send(server, route, '203.0.113.8');
    expect(second.status).toBe(200);
    expect(second.ip).toBe('203.0.113.8');
    for (const answer of first) expect(answer.ip).toBe('203.0.113.7');
    // Without the header, a caller on the proxy's own address is the proxy's client.
    expect((await send(server, route, undefined)).ip).toBe('127.0.0.1');
  });

  it('is the last hop with TRUST_PROXY=1, whatever a client puts before it', async () => {
    const server = await serverWith('1');
    // One client, however it varies what it puts before the hop the proxy adds, has one budget...
    const spoofing = await untilThrottled(server, route, (i) => `192.0.2.${i + 1}, 203.0.113.9`);
    // ...and another client behind the same proxy has its own.
    const other = await send(server, route, '192.0.2.200, 203.0.113.10');
    expect(other.status).toBe(200);
    expect(other.ip).toBe('203.0.113.10');
    for (const answer of spoofing) expect(answer.ip).toBe('203.0.113.9');
  });
});

describe('TRUST_PROXY', () => {
  const trustProxyOf = (value: string): Config['trustProxy'] => loadConfig({ TRUST_PROXY: value }).trustProxy;

  it('trusts nothing when unset, and reads hops, addresses, ranges and names', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(trustProxyOf('')).toBe(false);
    expect(trustProxyOf('1')).toBe(1);
    expect(trustProxyOf('10')).toBe(10);
    expect(trustProxyOf('Loopback, 10.0.0.0/8, ::1, fd00::/8,192.0.2.1')).toEqual([
      'loopback',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      '192.0.2.1',
    ]);
    expect(trustProxyOf('linklocal,uniquelocal')).toEqual(['linklocal', 'uniquelocal']);
  });

  it.each([
    ['true', 'not every address'],
    ['*', 'not every address'],
    ['TRUE', 'not every address'],
    ['abc', 'expected a number of proxy hops (1..10), or comma-separated proxy addresses'],
    ['0', 'expected a number of proxy hops between 1 and 10 (leave it unset to trust none)'],
    ['11', 'expected a number of proxy hops between 1 and 10'],
    ['10.0.0.0/33', 'CIDR ranges'],
    ['10.0.0.0/0', 'CIDR ranges'],
  ])('refuses TRUST_PROXY=%s naming the variable and the value', (value, expected) => {
    let error: unknown;
    try {
      loadConfig({ TRUST_PROXY: value });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, issues } = error as ConfigError;
    expect(issues).toHaveLength(1);
    expect(message).toContain(`TRUST_PROXY=${JSON.stringify(value)} is invalid`);
    expect(message).toContain(expected);
  });

  it('names the bad entry of a list', () => {
    expect(() => loadConfig({ TRUST_PROXY: '127.0.0.1, Proxy.example.org' })).toThrow(
      'TRUST_PROXY="Proxy.example.org" is invalid',
    );
  });
});
