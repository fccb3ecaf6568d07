/**
 * Callers without a valid token share a per-address budget (RATE_LIMIT_PER_SECOND, bursts of
 * twice that); callers with a valid token never draw on it. A token the server has not verified
 * recently costs a lookup, so it waits like the others while its address is over the budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWithToken } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 5 } });
});

afterAll(async () => {
  await server?.stop();
});

const query = JSON.stringify({ query: '{ viewer { principalName } }' });

async function send(
  token: string | null,
): Promise<{ status: number; code: unknown; retryAfter: string | null }> {
  const res = await fetchWithToken(
    server.url,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: query },
    { token },
  );
  const body = (await res.json()) as { errors?: { extensions?: { code?: unknown } }[] };
  return {
    status: res.status,
    code: body.errors?.[0]?.extensions?.code,
    retryAfter: res.headers.get('retry-after'),
  };
}

describe('requests without a valid token', () => {
  it('are throttled per address once the burst is spent, while a valid token still gets through', async () => {
    const bad = `slt_${'0'.repeat(32)}_${'x'.repeat(43)}`;
    // A token this server has just verified is checked from its cache and is not held back.
    expect((await send(server.adminToken)).status).toBe(200);
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await send(i % 2 === 0 ? bad : null));
    const throttled = answers.filter((a) => a.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    for (const a of throttled) {
      expect(a.code).toBe('THROTTLED');
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
    }
    // Before the budget ran out, a bad token was refused as such and no token was served anonymously.
    expect(answers[0]).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(answers[1]).toMatchObject({ status: 200 });
    const admin = await send(server.adminToken);
    expect(admin.status).toBe(200);
  });
});
