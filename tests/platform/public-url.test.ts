/**
 * Public links never come from request headers (issue 10, item 11): a directory profile's
 * `primary_url` is built on PUBLIC_URL, or is relative when it is not configured. Before the fix
 * `Host: evil.example` put `http://evil.example/...` (quotes and `<script>` included) into it.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalId, ledgerClient } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const HOSTILE_HOST = 'evil.example"><script>alert(1)</script>';

/** GET with a Host header of the caller's choosing (fetch does not let a caller set Host). */
function getWithHost(
  server: TestServer,
  path: string,
  host: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, path, headers: { host }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A listed co-op without a website (its profile URL becomes primary_url); returns its uuid. */
async function listedCoopWithoutWebsite(server: TestServer): Promise<string> {
  const admin = ledgerClient(server.url);
  const payload = await admin.createCoop({
    name: `Public URL co-op ${Date.now()}`,
    kind: 'WORKER',
    naicsCode: '311811',
    city: 'Springfield',
    foundedOn: '2010-01-01',
    legalForm: 'worker cooperative corporation',
    baseCurrency: { code: 'USD', scale: 2 },
    publicListing: true,
    website: '',
  });
  expect(payload.userErrors).toEqual([]);
  return decodeGlobalId(payload.coop!.id).bookId;
}

describe('without PUBLIC_URL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { publicUrl: null } });
  });
  afterAll(() => server?.stop());

  it('gives a relative primary_url, whatever the Host header says', async () => {
    const id = await listedCoopWithoutWebsite(server);
    const path = `/directory/coops/${id}.json`;
    for (const host of [HOSTILE_HOST, 'evil.example', `127.0.0.1:${server.port}`]) {
      const answer = await getWithHost(server, path, host);
      expect(answer.status, host).toBe(200);
      expect(JSON.parse(answer.body).primary_url, host).toBe(path);
      expect(answer.body, host).not.toContain('evil');
    }
  });
});

describe('with PUBLIC_URL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { publicUrl: 'https://ledger.example.org/books' } });
  });
  afterAll(() => server?.stop());

  it('builds primary_url on PUBLIC_URL, whatever the Host header says', async () => {
    const id = await listedCoopWithoutWebsite(server);
    const path = `/directory/coops/${id}.json`;
    for (const host of [HOSTILE_HOST, 'evil.example']) {
      const answer = await getWithHost(server, path, host);
      expect(answer.status, host).toBe(200);
      expect(JSON.parse(answer.body).primary_url, host).toBe(`https://ledger.example.org/books${path}`);
      expect(answer.body, host).not.toContain('evil');
    }
  });
});
