/**
 * The service as a process, and the drain it does on SIGTERM: usage, bad configuration, an
 * unreachable database, draining in-flight requests, and a restart on its embedded PostgreSQL after
 * a SIGKILL. Moved out of infra.test.ts, which the vitest project "lean" runs a second time with
 * every request of its in-process servers on the lean route (LEDGER_TEST_HTTP_PATH, read only by
 * tests/helpers/server.ts): nothing here starts an in-process service, so that second run repeated
 * these tests exactly (the child processes never read LEDGER_TEST_HTTP_PATH).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../server/platform/logger.js';
import { closeServer } from '../../server/service.js';
import { graphqlAsAdmin } from '../helpers/auth.js';
import { builtArgs } from '../helpers/build.js';
import {
  connectPg,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  ledgerClient,
  newKey,
  waitFor,
} from '../helpers/ledger.js';
import { holdBookLock } from '../helpers/locks.js';
import { spawnServerProcess } from '../helpers/server.js';

const _json = { 'content-type': 'application/json' };

const graphql = graphqlAsAdmin;

describe('draining', () => {
  it('answers in-flight requests, refuses new connections, and bounds the wait', async () => {
    const logger = createLogger({ level: 'silent' });
    const server = createServer((req, res) => {
      const delayMs = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms'));
      setTimeout(() => res.end('done'), delayMs);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    // An idle keep-alive connection must not hold the drain.
    await (await fetch(`${base}/?ms=0`)).text();

    let serving = 0;
    server.on('request', () => serving++);
    const inFlight = fetch(`${base}/?ms=400`).then((response) => response.text());
    await waitFor(() => serving === 1, { what: 'the in-flight request to arrive' });
    const closing = closeServer(server, logger, 5_000);
    await waitFor(() => !server.listening, { what: 'the server to stop listening' });
    await expect(fetch(`${base}/?ms=0`)).rejects.toThrow();
    expect(await inFlight).toBe('done');
    // The drain ended with the in-flight request, not at the 5 s bound (no connection is left).
    await closing;
    expect(await new Promise((resolve) => server.getConnections((_e, n) => resolve(n)))).toBe(0);

    // A request slower than the bound is cut off.
    const slowServer = createServer((_req, res) => {
      setTimeout(() => res.end('late'), 10_000);
    });
    slowServer.listen(0, '127.0.0.1');
    await once(slowServer, 'listening');
    const slow = fetch(`http://127.0.0.1:${(slowServer.address() as { port: number }).port}/`).then(
      (response) => response.text(),
    );
    await waitFor(
      async () =>
        (await new Promise<number>((resolve) => slowServer.getConnections((_e, n) => resolve(n)))) === 1,
      { what: 'the slow request to arrive' },
    );
    // The bound (300 ms) cuts the 10 s request off: it fails instead of answering 'late'.
    await closeServer(slowServer, logger, 300);
    expect(slowServer.listening).toBe(false);
    await expect(slow).rejects.toThrow();
  });
});

describe('the server process', () => {
  it('prints usage with --help', async () => {
    const result = spawnSync(process.execPath, [...builtArgs('server/main.ts'), '--help'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    for (const name of ['PORT', 'HOST', 'DATABASE_URL', 'DATA_DIR', 'LOG_LEVEL', 'BODY_LIMIT_BYTES']) {
      expect(result.stdout).toContain(name);
    }
  });

  it('exits 1 with a plain message on bad configuration', async () => {
    const result = spawnSync(process.execPath, builtArgs('server/main.ts'), {
      encoding: 'utf8',
      env: { ...process.env, PORT: 'eighty' },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PORT="eighty" is invalid');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('exits non-zero with a clear message when the database is unreachable', async () => {
    const result = spawnSync(process.execPath, builtArgs('server/main.ts'), {
      encoding: 'utf8',
      env: { ...process.env, PORT: '0', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' },
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^Startup failed: .+/m);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const child = await spawnServerProcess();
    const ledger = ledgerClient(child.url);
    const book = await createBook(ledger);
    const cash = await createAccount(ledger, book.id, { code: 'cash', type: 'ASSET' });
    const equity = await createAccount(ledger, book.id, { code: 'equity', type: 'EQUITY' });
    // A payment held in flight: the book's chain head is locked from outside, so it waits.
    const lock = await holdBookLock(inject('databaseUrl'), book.id);
    let exited = false;
    try {
      const key = newKey('in-flight');
      let settled = false;
      const payment = ledger
        .postJournalEntry({
          bookId: book.id,
          idempotencyKey: key,
          lines: [debit(cash, '7.00'), credit(equity, '7.00')],
        })
        .finally(() => {
          settled = true;
        });
      await waitFor(async () => (await lock.waiters()) > 0, { what: 'the payment to wait for the lock' });
      void child.exited.then(() => {
        exited = true;
      });
      child.kill('SIGTERM');
      await waitFor(
        () => exited || child.output().includes('"msg":"stopping: draining in-flight requests"'),
        {
          what: 'the service to start draining',
        },
      );
      // New connections are refused at once, while the process waits for the payment.
      await expect(fetch(`${child.baseUrl}/healthz`)).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect([exited, settled]).toEqual([false, false]);
      await lock.release();
      // Answered after the signal, and posted.
      const answer = await payment;
      expect(answer.userErrors).toEqual([]);
      expect(answer.entry?.lines.map((line) => line.amount)).toEqual(['7.00', '7.00']);
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(child.output()).toContain('"msg":"stopped"');
      const db = await connectPg();
      try {
        const { rows } = await db.query<{ n: string }>(
          'select count(*) as n from journal_entry where book_id = $1 and idempotency_key = $2',
          [decodeGlobalId(book.id).id, key],
        );
        expect(rows[0]!.n).toBe('1');
      } finally {
        await db.end();
      }
    } finally {
      await lock.release();
      if (!exited) await child.stop();
    }
  });

  it('restarts on its embedded PostgreSQL after being killed with SIGKILL', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-restart-test-'));
    // As root PostgreSQL runs as "postgres", which must traverse the folder.
    await fs.chmod(dir, 0o755);
    const env = { DATA_DIR: path.join(dir, 'data') };
    try {
      const first = await spawnServerProcess({ databaseUrl: '', env, readyTimeoutMs: 60_000 });
      expect(first.output()).toContain('embedded PostgreSQL ready');
      first.kill('SIGKILL');
      await first.exited;

      const second = await spawnServerProcess({ databaseUrl: '', env, readyTimeoutMs: 60_000 });
      try {
        expect(second.output()).toMatch(
          /stopping a PostgreSQL left running by a crashed process|stale postmaster\.pid/,
        );
        expect(second.output()).not.toContain('initialising the embedded PostgreSQL');
        const { body } = await graphql(second.url, '{ __typename }');
        expect(body).toEqual({ data: { __typename: 'Query' } });
      } finally {
        expect(await second.stop()).toEqual({ code: 0, signal: null });
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    // Two starts of an embedded PostgreSQL (an initdb included): slow on a busy machine.
  }, 120_000);
});
