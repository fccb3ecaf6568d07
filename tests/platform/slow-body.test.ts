/**
 * Slow bodies cannot block other tenants (issue 10, item 7): clients that declare a large body
 * (Content-Length 70000, over the 64 KiB large-request threshold) and trickle it a byte at a time.
 *
 * - Without a token a body over the threshold is refused before a byte of it is read (413), so
 *   anonymous clients never take a large-request slot.
 * - With a token, one token holds at most one of the two slots: another tenant's batch still gets
 *   through while that token trickles two bodies.
 * - A body slower than the minimum rate is cut with 408 BODY_TOO_SLOW, which frees its slot.
 *
 * Requests are written on raw sockets, so the test decides every byte and when it is sent.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LARGE_REQUEST_LIMITS } from '../../server/platform/http/app.js';
import {
  createAccount,
  createBook,
  credit,
  debit,
  ledgerClient,
  newKey,
  waitFor,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

const DECLARED = 70_000;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

interface RawRequest {
  answer: Promise<RawAnswer>;
  answered(): boolean;
}

/**
 * A POST /graphql on its own socket that declares `declared` bytes and then sends one byte every
 * `everyMs` (a space: JSON allows it), for as long as the server reads.
 */
function trickle(
  server: TestServer,
  {
    declared,
    token,
    requestId,
    everyMs = 100,
  }: { declared: number; token?: string; requestId: string; everyMs?: number },
): RawRequest {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(
    [
      'POST /graphql HTTP/1.1',
      `Host: 127.0.0.1:${server.port}`,
      'Content-Type: application/json',
      `Content-Length: ${declared}`,
      `x-request-id: ${requestId}`,
      ...(token ? [`Authorization: Bearer ${token}`] : []),
      '',
      '',
    ].join('\r\n'),
  );
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.writable && sent < declared - 1) {
      socket.write(' ');
      sent++;
    }
  }, everyMs);
  let done = false;
  let received = '';
  const answer = new Promise<RawAnswer>((resolve) => {
    const finish = () => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const headers = received.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? Number.NaN);
      const body = received.slice(end + 4);
      if (!(body.length >= length)) return false;
      done = true;
      clearInterval(timer);
      resolve({ status: Number(received.slice(9, 12)), headers, body });
      return true;
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      finish();
    });
    socket.on('close', () => {
      clearInterval(timer);
      if (!finish()) resolve({ status: 0, headers: '', body: received });
    });
  });
  cleanups.push(() => {
    clearInterval(timer);
    socket.destroy();
  });
  return { answer, answered: () => done };
}

function codeOf(answer: RawAnswer): unknown {
  return (JSON.parse(answer.body) as { errors: { extensions: { code: unknown } }[] }).errors[0]?.extensions
    .code;
}

describe('large bodies and slots', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The rate rule is kept out of this case (a minute's grace): only slots are under test.
    server = await startTestServer({ bodyRate: { graceMs: 60_000 } });
  });
  afterAll(() => server?.stop());

  it("refuses anonymous large bodies unread, lets one token hold only its share of the slots, and another tenant's batch gets through", async () => {
    expect(DECLARED).toBeGreaterThan(LARGE_REQUEST_LIMITS.largeBodyBytes);
    const share = LARGE_REQUEST_LIMITS.largeInFlightPerTokenMax;
    expect(LARGE_REQUEST_LIMITS.largeInFlightMax).toBe(3);
    expect(share).toBe(2);

    // Three anonymous tricklers: each refused at once, none holds a slot.
    const anonymous = [1, 2, 3].map((i) => trickle(server, { declared: DECLARED, requestId: `anon-${i}` }));
    for (const request of anonymous) {
      const answer = await request.answer;
      expect(answer.status).toBe(413);
      expect(codeOf(answer)).toBe('PAYLOAD_TOO_LARGE');
      expect(JSON.parse(answer.body).errors[0].extensions.limitBytes).toBe(
        LARGE_REQUEST_LIMITS.largeBodyBytes,
      );
      expect(answer.headers).toMatch(/connection: close/i);
    }

    // A tenant with a valid token trickles one large body more than its share: those of its share
    // take slots, the last must wait for its token's share although a slot is free.
    const admin = ledgerClient(server.url);
    const attacker = await issueToken(admin, { grants: [{ role: 'ADMIN', scope: '' }] });
    const admitted = [];
    for (let i = 1; i <= share; i++) {
      admitted.push(trickle(server, { declared: DECLARED, token: attacker.token, requestId: `slot-a${i}` }));
      await waitFor(
        () => server.logs.some((l) => l.requestId === `slot-a${i}` && l.msg === 'large request admitted'),
        { what: `trickler ${i} to be admitted` },
      );
    }
    const over = trickle(server, { declared: DECLARED, token: attacker.token, requestId: 'slot-over' });
    await waitFor(
      () =>
        server.logs.some((l) => l.requestId === 'slot-over' && l.msg === 'large request waiting for a slot'),
      { what: "the trickler over the token's share to wait" },
    );

    // Another tenant's batch (over 64 KiB) is admitted to the other slot and posted.
    const book = await createBook(admin);
    const cash = await createAccount(admin, book.id, { code: 'cash', type: 'ASSET' });
    const equity = await createAccount(admin, book.id, { code: 'equity', type: 'EQUITY' });
    const entries = Array.from({ length: 400 }, (_, i) => ({
      idempotencyKey: newKey(`slow-body-${i}`),
      memo: `batch entry ${i} of another tenant`,
      lines: [debit(cash, '1.00'), credit(equity, '1.00')],
    }));
    expect(JSON.stringify(entries).length).toBeGreaterThan(LARGE_REQUEST_LIMITS.largeBodyBytes);
    const batch = await admin.postJournalEntries({ bookId: book.id, mode: 'ATOMIC', entries });
    expect(batch.userErrors).toEqual([]);
    expect(batch.postedCount).toBe(400);
    expect(
      server.logs.some(
        (l) =>
          l.msg === 'request' &&
          l.operation === 'PostJournalEntries' &&
          l.status === 200 &&
          l.outcome === 'ok',
      ),
    ).toBe(true);

    // Still trickling, none of the attacker's requests was answered.
    for (const request of [...admitted, over]) expect(request.answered()).toBe(false);
  });
});

describe('minimum body rate', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ bodyRate: { graceMs: 500, minBytesPerSecond: 8192 } });
  });
  afterAll(() => server?.stop());

  it('cuts a body slower than the minimum rate with 408 BODY_TOO_SLOW and frees its slot', async () => {
    const admin = ledgerClient(server.url);
    const tenant = await issueToken(admin, { grants: [{ role: 'ADMIN', scope: '' }] });
    const slow = trickle(server, { declared: DECLARED, token: tenant.token, requestId: 'rate-1' });
    const answer = await slow.answer;
    expect(answer.status).toBe(408);
    expect(codeOf(answer)).toBe('BODY_TOO_SLOW');
    expect(JSON.parse(answer.body).errors[0]).toMatchObject({
      message: expect.stringMatching(/arrived too slowly .* send it at 8192 bytes per second or faster/),
      extensions: { minBytesPerSecond: 8192 },
    });
    expect(answer.headers).toMatch(/connection: close/i);

    // The same token's next large request gets the slot back and is answered.
    const query = JSON.stringify({ query: '{ viewer { principalName } }' });
    const padded = `${query.slice(0, -1)}${' '.repeat(DECLARED - query.length)}}`;
    const next = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.token}` },
      body: padded,
    });
    expect(next.status).toBe(200);
    expect(await next.json()).toEqual({ data: { viewer: { principalName: tenant.principalName } } });

    // Small bodies too: an anonymous one trickled is cut the same way.
    const small = await trickle(server, { declared: 1000, requestId: 'rate-2' }).answer;
    expect(small.status).toBe(408);
    expect(codeOf(small)).toBe('BODY_TOO_SLOW');
    const line = server.logs.find((l) => l.requestId === 'rate-2' && l.msg === 'request');
    expect(line).toMatchObject({ status: 408, outcome: 'BODY_TOO_SLOW' });
  });
});
