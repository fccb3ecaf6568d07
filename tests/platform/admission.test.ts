/**
 * Admission of large requests: at most `largeInFlightMax` large bodies are read at once, a bounded
 * queue waits unread, and past it the answer is 503 THROTTLED. Small requests are never held back.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, fetchWithToken } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    largeRequestLimits: { largeBodyBytes: 1024, largeInFlightMax: 1, largeQueueMax: 1 },
  });
});

afterAll(async () => {
  await server?.stop();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A POST whose body is written by the caller, so a test can hold it half-sent. */
function openPost(length: number): {
  req: http.ClientRequest;
  answer: Promise<Answer>;
  answered: () => boolean;
} {
  const url = new URL(server.url);
  let done = false;
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(length), ...authHeaders() },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => {
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
  });
  return { req, answer, answered: () => done };
}

/** A valid query padded with spaces to `length` bytes. */
function paddedQuery(length: number): string {
  const json = JSON.stringify({ query: '{ books(first: 1) { edges { cursor } } }' });
  return json.slice(0, -1) + ' '.repeat(length - json.length) + json.slice(-1);
}

describe('large request admission', () => {
  it('reads one large body at a time, queues one, refuses the next with THROTTLED, and never holds back small ones', async () => {
    const size = 4096;
    // A takes the only slot and stalls half-way through its body.
    const a = openPost(size);
    const aBody = paddedQuery(size);
    a.req.write(aBody.slice(0, 100));
    // Small requests pass while A holds the slot.
    const small = await fetchWithToken(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ books(first: 1) { edges { cursor } } }' }),
    });
    expect(small.status).toBe(200);
    // B waits in the queue (it is complete, and would be answered at once if admitted).
    const b = openPost(size);
    b.req.end(paddedQuery(size));
    // C finds the queue full.
    const c = openPost(size);
    c.req.end(paddedQuery(size));
    const cAnswer = await c.answer;
    expect(cAnswer.status).toBe(503);
    expect(cAnswer.headers['retry-after']).toBe('1');
    expect(JSON.parse(cAnswer.body).errors[0].extensions.code).toBe('THROTTLED');
    expect(b.answered()).toBe(false);
    expect(a.answered()).toBe(false);
    // When A finishes, B is admitted and answered.
    a.req.end(aBody.slice(100));
    const [aAnswer, bAnswer] = await Promise.all([a.answer, b.answer]);
    expect(aAnswer.status).toBe(200);
    expect(bAnswer.status).toBe(200);
    expect(JSON.parse(bAnswer.body).data.books.edges).toBeInstanceOf(Array);
  });
});
