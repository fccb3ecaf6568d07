/**
 * scripts/lib/long-fetch.ts: the fetch the CLIs use for calls that may wait longer than the global
 * fetch's 300 s headers timeout (city-report publish of a full-size city). It must behave as fetch
 * does for the SDK: status, headers and body as sent, a slow answer waited for, an abort honoured.
 * (The 300 s itself is not waited for here.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerClient } from '../../client-sdk/index.js';
import { fetchWithoutTimeouts } from '../../scripts/lib/long-fetch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let slow: http.Server;
let slowUrl: string;
let server: TestServer;

beforeAll(async () => {
  slow = http.createServer((request, response) => {
    if (request.url === '/never') return;
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      setTimeout(() => {
        response.writeHead(201, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
        response.end(JSON.stringify({ method: request.method, got: Buffer.concat(chunks).toString() }));
      }, 1_000);
    });
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  server = await startTestServer();
});
afterAll(async () => {
  slow?.closeAllConnections();
  await new Promise((resolve) => slow?.close(resolve));
  await server?.stop();
});

describe('fetchWithoutTimeouts', () => {
  it('waits for a slow answer and gives its status, headers and body', async () => {
    const response = await fetchWithoutTimeouts(`${slowUrl}/slow`, { method: 'POST', body: 'héllo' });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ method: 'POST', got: 'héllo' });
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('given up')), 200);
    await expect(fetchWithoutTimeouts(`${slowUrl}/never`, { signal: controller.signal })).rejects.toThrow(
      'given up',
    );
  });

  it('carries the SDK calls to the service', async () => {
    const client = createLedgerClient({
      url: server.url,
      token: server.adminToken,
      fetch: fetchWithoutTimeouts,
    });
    expect(await client.cityReportReleases({ city: 'Nowhere at all' })).toEqual([]);
  });
});
