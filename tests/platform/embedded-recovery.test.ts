/**
 * The service watches over its embedded PostgreSQL (issue 10, item 10), with real processes and a
 * dedicated embedded cluster per test (never the run's database):
 * - after its postmaster is killed (SIGKILL), the same service process starts it again on the
 *   same data folder and port, /readyz comes back to 200, and what was posted is still there;
 * - when it cannot be started again, /healthz answers 503 and the process exits with code 1, so
 *   a supervisor restarts it.
 * Before the fix /readyz stayed 503 and /healthz 200 for good: nothing restarted anything.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../server/platform/config.js';
import { isAlive, postmasterPidOf } from '../../server/platform/db/embedded.js';
import { createLogger } from '../../server/platform/logger.js';
import { type RunningService, startService } from '../../server/service.js';
import {
  createAccount,
  createBook,
  credit,
  debit,
  ledgerClient,
  newKey,
  waitFor,
} from '../helpers/ledger.js';
import { type ServerProcess, spawnServerProcess } from '../helpers/server.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A fresh folder the `postgres` user can traverse (the tests run as root on CI). */
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-embedded-recovery-'));
  await fs.chmod(dir, 0o755);
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function spawnEmbedded(dataDir: string): Promise<ServerProcess> {
  const server = await spawnServerProcess({
    databaseUrl: '',
    env: { DATA_DIR: dataDir },
    readyTimeoutMs: 60_000,
  });
  cleanups.push(async () => {
    await server.stop();
  });
  return server;
}

async function status(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

/** Every JSON line of `output` has at most one "pid" key (pino keeps both when a field repeats one). */
function linesWithTwoPids(output: string): string[] {
  return output.split('\n').filter((line) => (line.match(/"pid":/g) ?? []).length > 1);
}

describe('the embedded PostgreSQL killed under a running service', () => {
  it('is started again by the same process on the same port; what was posted is there', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const server = await spawnEmbedded(dataDir);
    const ledger = ledgerClient(server.url);
    const book = await createBook(ledger);
    const cash = await createAccount(ledger, book.id, { code: 'cash', type: 'ASSET' });
    const equity = await createAccount(ledger, book.id, { code: 'equity', type: 'EQUITY' });
    const first = {
      bookId: book.id,
      idempotencyKey: newKey('before-kill'),
      lines: [debit(cash, '3.00'), credit(equity, '3.00')],
    };
    const posted = await ledger.postJournalEntry(first);
    expect(posted.userErrors).toEqual([]);

    const postmaster = postmasterPidOf(dataDir)!;
    expect(isAlive(postmaster)).toBe(true);
    process.kill(postmaster, 'SIGKILL');
    await waitFor(() => !isAlive(postmaster), { what: 'the postmaster to die' });

    await waitFor(
      async () => {
        const again = postmasterPidOf(dataDir);
        return (
          again !== undefined &&
          again !== postmaster &&
          isAlive(again) &&
          (await status(`${server.baseUrl}/readyz`)).status === 200
        );
      },
      { timeoutMs: 60_000, what: 'a new postmaster and /readyz 200' },
    );
    // The same service process, never restarted from outside.
    expect(isAlive(server.pid)).toBe(true);
    expect(await status(`${server.baseUrl}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });

    // Sessions of the old cluster may still sit in the pool: those answer UNAVAILABLE once each.
    let replay: Awaited<ReturnType<typeof ledger.postJournalEntry>> | undefined;
    await waitFor(
      async () => {
        replay = await ledger.postJournalEntry(first).catch((error: { code?: string }) => {
          expect(error.code).toBe('UNAVAILABLE');
          return undefined;
        });
        return replay !== undefined;
      },
      { what: 'a request to succeed after the restart' },
    );
    expect(replay!.replayed).toBe(true);
    expect(replay!.entry!.id).toBe(posted.entry!.id);
    const next = await ledger.postJournalEntry({ ...first, idempotencyKey: newKey('after-kill') });
    expect(next.userErrors).toEqual([]);
    expect((await ledger.accountBalance({ accountId: cash.id }))!.posted).toBe('6.00');

    const output = server.output();
    expect(output).toContain(
      'the embedded PostgreSQL exited unexpectedly (killed by SIGKILL); restarting it',
    );
    expect(output).toContain('restarted the embedded PostgreSQL');
    // The PostgreSQL child's pid is logged under its own key, never a second "pid".
    expect(output).toContain('"postgresPid":');
    expect(linesWithTwoPids(output)).toEqual([]);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('when it cannot be started again, the process exits with code 1 for its supervisor', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const server = await spawnEmbedded(dataDir);
    const postmaster = postmasterPidOf(dataDir)!;
    // The data folder goes away (a lost volume): a restart must not initialise an empty one.
    await fs.rename(dataDir, `${dataDir}.lost`);
    process.kill(postmaster, 'SIGKILL');
    expect(await server.exited).toEqual({ code: 1, signal: null });
    const output = server.output();
    expect(output).toContain('could not be restarted after 5 tries');
    expect(output).toContain('the service cannot recover; stopping and exiting with code 1');
    expect(output).not.toContain('initialising the embedded PostgreSQL data folder", "dataDir');
    expect(await fs.stat(dataDir).catch(() => null)).toBeNull();
  }, 120_000);
});

describe('health while the embedded PostgreSQL is down', () => {
  it('/readyz is 503 while it restarts; /healthz turns 503 once the process cannot recover', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const config = {
      ...loadConfig({ ADMIN_TOKEN: inject('adminToken') }),
      port: 0,
      dataDir,
      databaseUrl: undefined,
    };
    let fatal: Error | undefined;
    const service: RunningService = await startService(config, createLogger({ level: 'silent' }), {
      onFatal: (error) => {
        fatal = error;
      },
    });
    cleanups.push(() => service.stop());
    const base = service.url.replace(/\/graphql$/, '');
    expect(await status(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });

    const postmaster = postmasterPidOf(dataDir)!;
    await fs.rename(dataDir, `${dataDir}.lost`);
    process.kill(postmaster, 'SIGKILL');

    // While it tries (several seconds of attempts): not ready, still live.
    await waitFor(
      async () => {
        const ready = await status(`${base}/readyz`);
        return (
          ready.status === 503 &&
          /is being restarted/.test(String((ready.body as { reason?: string }).reason))
        );
      },
      { what: '/readyz to say the embedded PostgreSQL is being restarted' },
    );
    await waitFor(async () => (await status(`${base}/healthz`)).status === 503, {
      timeoutMs: 60_000,
      what: '/healthz to fail',
    });
    const health = await status(`${base}/healthz`);
    expect(health.body).toEqual({
      status: 'failing',
      reason: expect.stringMatching(
        /^the embedded PostgreSQL \(killed by SIGKILL\) could not be restarted after 5 tries: /,
      ),
    });
    expect((await status(`${base}/readyz`)).status).toBe(503);
    expect(fatal?.message).toBe((health.body as { reason: string }).reason);
  }, 120_000);
});
