/**
 * Graceful behaviour of the service as a real child process on a real PostgreSQL that the test
 * stops, restarts and cuts off (a dedicated embedded cluster per test, never the run's database):
 * - SIGTERM drains in-flight requests, then closes the pool and the embedded PostgreSQL cleanly;
 * - a restart after SIGKILL recovers without manual steps (orphaned PostgreSQL, stale lock file,
 *   a start killed half-way, an interrupted initdb);
 * - while the database is down every request fails with UNAVAILABLE and /readyz answers 503; when
 *   it is back requests succeed without a restart, and a mutation that failed is posted exactly
 *   once when sent again with its key; terminated sessions are replaced the same way;
 * - idempotency records survive restarts of the service and of PostgreSQL;
 * - a request whose client went away before it was decided is not posted.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LedgerClientError, PostJournalEntryInput } from '../../client-sdk/index.js';
import { repoRoot } from '../../server/platform/config.js';
import { type EmbeddedPostgres, isAlive, startEmbeddedPostgres } from '../../server/platform/db/embedded.js';
import { DB_APPLICATION_NAME } from '../../server/platform/db/orm.js';
import { UNAVAILABLE_MESSAGE } from '../../server/platform/http/app.js';
import { createLogger } from '../../server/platform/logger.js';
import { builtArgs } from '../helpers/build.js';
import {
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  expectClientError,
  ledgerClient,
  newKey,
  rawGraphQL,
  waitFor,
} from '../helpers/ledger.js';
import { holdBookLock } from '../helpers/locks.js';
import { type ServerProcess, spawnServerProcess, startTestServer } from '../helpers/server.js';

const logger = createLogger({ level: 'warn' });
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A fresh folder the `postgres` user can traverse (the tests run as root on CI). */
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-reliability-'));
  await fs.chmod(dir, 0o755);
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

async function spawnTracked(options: Parameters<typeof spawnServerProcess>[0]): Promise<ServerProcess> {
  const server = await spawnServerProcess({ readyTimeoutMs: 60_000, ...options });
  cleanups.push(async () => {
    server.kill('SIGCONT');
    await server.stop();
  });
  return server;
}

/**
 * A cluster initialised once for this file (initdb and the "ledger" database, then shut down
 * cleanly): the tests that start a PostgreSQL of their own begin from a copy of it instead of an
 * initdb each (about 1 s of CPU and 2 to 4 s of wall time here). What they test starts after that:
 * the service's own initialisation of an empty folder is tested where it starts its embedded
 * PostgreSQL itself (databaseUrl ''). `cp -a` keeps the owner: as root, PostgreSQL runs as "postgres".
 */
let template: Promise<string> | undefined;
let templateDir: string | undefined;

afterAll(async () => {
  if (templateDir) await fs.rm(templateDir, { recursive: true, force: true });
});

function initialisedCluster(): Promise<string> {
  template ??= (async () => {
    templateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-reliability-template-'));
    await fs.chmod(templateDir, 0o755);
    const dataDir = path.join(templateDir, 'data');
    const cluster = await startEmbeddedPostgres({
      dataDir,
      logger,
      database: 'ledger',
      settings: { fsync: 'off' },
    });
    await cluster.stop();
    return dataDir;
  })();
  return template;
}

async function startCluster(dataDir: string, port?: number): Promise<EmbeddedPostgres> {
  if (!existsSync(dataDir)) {
    const copied = spawnSync('cp', ['-a', await initialisedCluster(), dataDir], { encoding: 'utf8' });
    if (copied.status !== 0) throw new Error(`could not copy the initialised cluster: ${copied.stderr}`);
  }
  const cluster = await startEmbeddedPostgres({
    dataDir,
    logger,
    database: 'ledger',
    settings: { fsync: 'off' },
    ...(port === undefined ? {} : { port }),
  });
  cleanups.push(() => cluster.stop());
  return cluster;
}

/** `state` of global/pg_control: 1 is "shut down" (clean), 6 "in production" (still running or crashed). */
function controlState(dataDir: string): number {
  // ControlFileData: system_identifier (8 bytes), pg_control_version (4), catalog_version_no (4), state.
  return readFileSync(path.join(dataDir, 'global', 'pg_control')).readInt32LE(16);
}
const DB_SHUTDOWNED = 1;

function postmasterPid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  return Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
}

async function setupBook(url: string) {
  const ledger = ledgerClient(url);
  const book = await createBook(ledger);
  const cash = await createAccount(ledger, book.id, { code: 'cash', type: 'ASSET' });
  const equity = await createAccount(ledger, book.id, { code: 'equity', type: 'EQUITY' });
  const entry = (key: string, amount = '1.00'): PostJournalEntryInput => ({
    bookId: book.id,
    idempotencyKey: key,
    lines: [debit(cash, amount), credit(equity, amount)],
  });
  return { ledger, book, cash, equity, entry };
}

async function entriesWithKey(databaseUrl: string, bookId: string, key: string): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ n: string }>(
      'select count(*) as n from journal_entry where book_id = $1 and idempotency_key = $2',
      [decodeGlobalId(bookId).id, key],
    );
    return Number(rows[0]!.n);
  } finally {
    await db.end();
  }
}

describe('SIGTERM', () => {
  /** The URL of the embedded PostgreSQL a service process started (from its log and data folder). */
  function embeddedUrl(server: ServerProcess): string {
    const line = server
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"embedded PostgreSQL ready"'));
    if (!line) throw new Error(`the service did not start an embedded PostgreSQL:\n${server.output()}`);
    const { dataDir, port } = JSON.parse(line) as { dataDir: string; port: number };
    const { user, password } = JSON.parse(
      readFileSync(path.join(dataDir, 'ledger-embedded.json'), 'utf8'),
    ) as {
      user: string;
      password: string;
    };
    return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/ledger`;
  }

  /** Requests the service has read whole and is executing (yoga's debug line, one per request). */
  /** Requests the service started executing: through yoga, or the lean route for persisted documents. */
  function requestsStarted(server: ServerProcess): number {
    const output = server.output();
    return (
      output.split('"args":["Processing GraphQL Parameters"]').length -
      1 +
      output.split('"msg":"served by the lean route"').length -
      1
    );
  }

  it('drains in-flight requests, then closes the pool and the embedded PostgreSQL cleanly', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const env = { DATA_DIR: dataDir };
    // At debug level the service logs each request it starts executing: the test knows which are in flight.
    const server = await spawnTracked({ databaseUrl: '', env: { ...env, LOG_LEVEL: 'debug' } });
    const { ledger, book, cash, entry } = await setupBook(server.url);
    const pid = postmasterPid(dataDir);
    expect(pid).toBeDefined();

    // The book's chain head is held locked from outside, so its payments wait in PostgreSQL: twenty
    // are in flight (read whole, executing) when SIGTERM arrives, and stay so for a while after it.
    const lock = await holdBookLock(embeddedUrl(server), book.id);
    cleanups.push(() => lock.release());
    const inFlight = Array.from({ length: 20 }, (_, i) => entry(newKey(`drain-${i}`), `${i + 1}.00`));
    const started = requestsStarted(server);
    // Each outcome with the instant it came: a payload, or the error the SDK threw.
    let settledCount = 0;
    const sent = inFlight.map((input) =>
      ledger
        .postJournalEntry(input)
        .then(
          (payload) => ({ payload, error: undefined, at: Date.now() }),
          (error: unknown) => ({ payload: undefined, error, at: Date.now() }),
        )
        .finally(() => {
          settledCount++;
        }),
    );
    await waitFor(() => requestsStarted(server) === started + inFlight.length, {
      what: 'the service to be executing every in-flight request',
    });
    await waitFor(async () => (await lock.waiters()) > 0, { what: 'a payment to wait for the lock' });

    const signalledAt = Date.now();
    let exited = false;
    void server.exited.then(() => {
      exited = true;
    });
    server.kill('SIGTERM');
    await waitFor(() => exited || server.output().includes('"msg":"stopping: draining in-flight requests"'), {
      what: 'the service to start draining',
    });
    // Sent after the signal: the service no longer accepts connections, so these are not answered.
    const late = Array.from({ length: 5 }, (_, i) => entry(newKey(`late-${i}`), `${i + 21}.00`));
    for (const result of await Promise.allSettled(late.map((input) => ledger.postJournalEntry(input)))) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'NETWORK_ERROR' });
    }
    // Draining: the process waits for the in-flight payments, which cannot finish while the lock is held.
    await sleep(500);
    expect(exited).toBe(false);
    expect(settledCount).toBe(0);
    await lock.release();

    // Every in-flight payment is answered, after the signal, posted; then the process exits 0.
    const settled = await Promise.all(sent);
    expect(settled.map((o) => o.error)).toEqual(inFlight.map(() => undefined));
    const answers = settled.map((o) => o.payload!);
    for (const [i, payload] of answers.entries()) {
      expect(payload.userErrors).toEqual([]);
      expect(payload.replayed).toBe(false);
      expect(payload.entry).not.toBeNull();
      expect(settled[i]!.at).toBeGreaterThan(signalledAt);
    }
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain('"msg":"stopped"');
    // PostgreSQL was shut down, not left running or killed: no lock file, control file says so.
    expect(pid !== undefined && isAlive(pid)).toBe(false);
    expect(postmasterPid(dataDir)).toBeUndefined();
    expect(controlState(dataDir)).toBe(DB_SHUTDOWNED);

    // A new process on the same folder. Resending every request with its key: the answered ones
    // replay their entry, the unanswered ones post now, each exactly once.
    const second = await spawnTracked({ databaseUrl: '', env });
    const again = ledgerClient(second.url);
    for (const [i, input] of inFlight.entries()) {
      const payload = await again.postJournalEntry(input);
      expect(payload.userErrors).toEqual([]);
      expect(payload.replayed).toBe(true);
      expect(payload.entry!.id).toBe(answers[i]!.entry!.id);
    }
    for (const input of late) {
      const payload = await again.postJournalEntry(input);
      expect(payload.userErrors).toEqual([]);
      expect(payload.replayed).toBe(false);
      expect((await again.postJournalEntry(input)).replayed).toBe(true);
    }
    const all = [...inFlight, ...late];
    const total = all.reduce((sum, input) => sum + Number(input.lines[0]!.amount), 0);
    expect((await again.accountBalance({ accountId: cash.id }))!.posted).toBe(`${total}.00`);
    expect((await again.book({ id: book.id }))!.entryCount).toBe(String(all.length));
    // Two starts of an embedded PostgreSQL, an initdb and a drain: on a busy machine, well over 30 s.
  }, 120_000);
});

describe('restart after SIGKILL', () => {
  it('recovers without manual steps: orphaned PostgreSQL, stale lock file, a start killed half-way', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const env = { DATA_DIR: dataDir };
    const first = await spawnTracked({ databaseUrl: '', env });
    const { book, entry } = await setupBook(first.url);
    const input = entry(newKey('kill'));
    const original = await ledgerClient(first.url).postJournalEntry(input);
    expect(original.userErrors).toEqual([]);
    const replays = async (server: ServerProcess) => {
      const payload = await ledgerClient(server.url).postJournalEntry(input);
      expect(payload.replayed).toBe(true);
      expect(payload.entry!.id).toBe(original.entry!.id);
      expect((await ledgerClient(server.url).book({ id: book.id }))!.entryCount).toBe('1');
    };

    // 1. The service dies; its PostgreSQL (own process group) is left running, orphaned.
    const orphan = postmasterPid(dataDir)!;
    first.kill('SIGKILL');
    await first.exited;
    expect(isAlive(orphan)).toBe(true);
    const second = await spawnTracked({ databaseUrl: '', env });
    expect(second.output()).toContain('stopping a PostgreSQL left running by a crashed process');
    expect(isAlive(orphan)).toBe(false);
    await replays(second);

    // 2. Both die at once: a lock file naming a dead postmaster, a cluster that needs recovery.
    const postmaster = postmasterPid(dataDir)!;
    second.kill('SIGKILL');
    process.kill(postmaster, 'SIGKILL');
    await second.exited;
    await waitFor(() => !isAlive(postmaster), { what: 'the postmaster to die' });
    expect(postmasterPid(dataDir)).toBe(postmaster);
    // And an initdb of a dead process left its staging folder beside the data folder.
    await fs.mkdir(`${dataDir}.init-999999999`);
    const third = await spawnTracked({ databaseUrl: '', env });
    expect(third.output()).toContain('stale postmaster.pid');
    expect(existsSync(`${dataDir}.init-999999999`)).toBe(false);
    await replays(third);
    third.kill('SIGKILL');
    await third.exited;

    // 3. A start killed half-way: PostgreSQL started, migrations or bootstrap not done.
    const half = spawnHalfStarted(env);
    await waitFor(() => half.output().includes('embedded PostgreSQL ready'), {
      timeoutMs: 60_000,
      what: 'the embedded PostgreSQL of the half-started service',
    });
    half.child.kill('SIGKILL');
    await half.exited;
    const fourth = await spawnTracked({ databaseUrl: '', env });
    await replays(fourth);
    expect(await fourth.stop()).toEqual({ code: 0, signal: null });
  }, 120_000);
});

/** The service started by hand (spawnServerProcess waits for readiness, this must not). */
function spawnHalfStarted(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, builtArgs('server/main.ts'), {
    cwd: repoRoot,
    env: { ...process.env, ...env, DATABASE_URL: '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  return { child, exited, output: () => output };
}

describe('while the database is down', () => {
  it('answers UNAVAILABLE and 503 from /readyz, then resumes without a restart; a failed mutation posts once with its key', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    let cluster = await startCluster(dataDir);
    const server = await spawnTracked({ databaseUrl: cluster.url });
    const { ledger, book, cash, entry } = await setupBook(server.url);
    // A second token, never used yet: its first request needs a database lookup.
    const issued = await ledger.issueApiToken({
      principalName: 'reader',
      grants: [{ role: 'ADMIN', scope: '' }],
    });
    expect(issued.userErrors).toEqual([]);
    const freshToken = issued.token!;
    const input = entry(newKey('down'), '5.00');

    await cluster.stop();

    expect((await expectClientError(ledger.book({ id: book.id }))).code).toBe('UNAVAILABLE');
    expect((await expectClientError(ledger.trialBalance({ bookId: book.id }))).code).toBe('UNAVAILABLE');
    const failed = await expectClientError(ledger.postJournalEntry(input));
    expect(failed.code).toBe('UNAVAILABLE');
    expect(failed.retryable).toBe(true);
    const lookup = await rawGraphQL(server.url, '{ viewer { principalName } }', {}, { token: freshToken });
    expect(lookup.status).toBe(503);
    expect(lookup.body.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready' });

    // Back on the same port: the same process serves again once its pool reconnects.
    cluster = await startCluster(dataDir, cluster.port);
    await waitFor(async () => (await fetch(`${server.baseUrl}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      what: '/readyz to answer 200',
    });
    const posted = await ledger.postJournalEntry(input);
    expect(posted.userErrors).toEqual([]);
    expect(posted.replayed).toBe(false);
    expect((await ledger.postJournalEntry(input)).replayed).toBe(true);
    expect(await entriesWithKey(cluster.url, book.id, input.idempotencyKey)).toBe(1);
    expect((await ledger.accountBalance({ accountId: cash.id }))!.posted).toBe('5.00');
    expect(
      (await rawGraphQL(server.url, '{ viewer { principalName } }', {}, { token: freshToken })).status,
    ).toBe(200);

    // Idempotency records survive an immediate stop of PostgreSQL (crash recovery) too.
    process.kill(cluster.pid, 'SIGQUIT');
    await waitFor(() => !isAlive(cluster.pid), { what: 'PostgreSQL to quit' });
    cluster = await startCluster(dataDir, cluster.port);
    await waitFor(async () => (await fetch(`${server.baseUrl}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      what: '/readyz to answer 200',
    });
    // The pool may still hold sessions of the old server: those answer UNAVAILABLE once each.
    let replay: Awaited<ReturnType<typeof ledger.postJournalEntry>> | undefined;
    await waitFor(
      async () => {
        replay = await ledger.postJournalEntry(input).catch((error: unknown) => {
          expect((error as LedgerClientError).code).toBe('UNAVAILABLE');
          return undefined;
        });
        return replay !== undefined;
      },
      { what: 'a request to succeed after the restart of PostgreSQL' },
    );
    expect(replay!.replayed).toBe(true);
    expect(replay!.entry!.id).toBe(posted.entry!.id);
    expect(server.output()).not.toContain('"level":60');
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('replaces terminated sessions: UNAVAILABLE at worst, then answers again, same process', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const cluster = await startCluster(dataDir);
    const server = await spawnTracked({ databaseUrl: cluster.url, env: { DB_POOL_MAX: '4' } });
    const { ledger, book, entry } = await setupBook(server.url);
    await Promise.all(Array.from({ length: 8 }, () => ledger.book({ id: book.id })));

    const db = new pg.Client({ connectionString: cluster.url });
    await db.connect();
    cleanups.push(() => db.end());
    const { rows } = await db.query<{ n: string }>(
      `select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and application_name = $1`,
      [DB_APPLICATION_NAME],
    );
    // The service's sessions carry its application_name, so they can be told from others.
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);

    const input = entry(newKey('terminated'));
    let answer: Awaited<ReturnType<typeof ledger.postJournalEntry>> | undefined;
    await waitFor(
      async () => {
        answer = await ledger.postJournalEntry(input).catch((error: unknown) => {
          expect((error as LedgerClientError).code).toBe('UNAVAILABLE');
          return undefined;
        });
        return answer !== undefined;
      },
      { what: 'a request to succeed after its sessions were terminated' },
    );
    expect(answer!.userErrors).toEqual([]);
    expect(await entriesWithKey(cluster.url, book.id, input.idempotencyKey)).toBe(1);
    expect((await ledger.book({ id: book.id }))!.entryCount).toBe('1');
    expect(isAlive(server.pid)).toBe(true);
  });
});

describe('a client that went away', () => {
  it('is not posted for: its retry decides, and is answered once', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const cluster = await startCluster(dataDir);
    const server = await spawnTracked({ databaseUrl: cluster.url });
    const { ledger, book, entry } = await setupBook(server.url);
    const input = entry(newKey('gone'));

    // The server is paused, so the request waits in its socket; the client gives up and leaves.
    server.kill('SIGSTOP');
    const controller = new AbortController();
    const abandoned = ledger.postJournalEntry(input, { signal: controller.signal });
    // Written to the socket before the abort (the connection is made by the kernel while paused).
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    expect((await expectClientError(abandoned)).code).toBe('ABORTED');
    server.kill('SIGCONT');

    // The server reads the request late, after its client has gone: it must not post it.
    await waitFor(
      async () =>
        server.output().includes('not posted: the client went away') ||
        (await entriesWithKey(cluster.url, book.id, input.idempotencyKey)) > 0,
      { what: 'the server to decide the abandoned request' },
    );
    expect(await entriesWithKey(cluster.url, book.id, input.idempotencyKey)).toBe(0);

    const retried = await ledger.postJournalEntry(input);
    expect(retried.userErrors).toEqual([]);
    expect(retried.replayed).toBe(false);
    expect(await entriesWithKey(cluster.url, book.id, input.idempotencyKey)).toBe(1);
  });
});

describe('a connection failure under any field', () => {
  it('answers UNAVAILABLE (retry), not an internal error, also below a mutation that posted', async () => {
    const broken = () => {
      throw new Error('Connection terminated unexpectedly');
    };
    const entryType = new GraphQLObjectType({
      name: 'Entry',
      fields: {
        id: { type: GraphQLString, resolve: () => 'e1' },
        account: { type: GraphQLString, resolve: broken },
      },
    });
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          refused: {
            type: GraphQLString,
            resolve: () =>
              Promise.reject(
                Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
              ),
          },
        },
      }),
      mutation: new GraphQLObjectType({
        name: 'Mutation',
        fields: { post: { type: entryType, resolve: () => ({}) } },
      }),
    });
    const server = await startTestServer({ schema });
    cleanups.push(() => server.stop());
    const nested = await rawGraphQL(server.url, 'mutation { post { id account } }');
    expect(nested.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ['UNAVAILABLE', UNAVAILABLE_MESSAGE],
    ]);
    expect(nested.body.data).toEqual({ post: { id: 'e1', account: null } });
    const refused = await rawGraphQL(server.url, '{ refused }');
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    expect(server.logs.some((line) => line.msg === 'unexpected error (masked for the client)')).toBe(false);
  });
});
