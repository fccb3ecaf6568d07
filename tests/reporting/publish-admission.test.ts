/**
 * Concurrent publishes of city reports (issue 15; an audit's finding: "denial of service by
 * replaying a publish"): each release is computed by a worker process of up to WORKER_HEAP_MB, and
 * nothing limited them, so N publishes fired at once started N workers.
 *
 * - One release of a city at a time, across the service's processes: while another session (another
 *   process's release) holds the city's publish lock, a publish is refused at once with
 *   RELEASE_IN_PROGRESS and nothing is kept; once it is free the publish is stored, and a replay of
 *   it answers RELEASE_UP_TO_DATE, as before, whoever holds the lock.
 * - In one process: a second publish of a city whose release is computing is refused at once.
 * - A process-wide cap: past `workersMax` releases a publish waits its turn (holding no lock), past
 *   `queueMax` waiting ones it is refused with THROTTLED (HTTP 503, Retry-After).
 * - A release that fails gives its lock and its slot back.
 *
 * No timing: a release is held still by holding its city's lock (the transaction lock its rollup
 * refresh takes first) from the test's own connection, and what the service does meanwhile is read
 * from pg_locks and the process's slots.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { Principal } from '../../server/core/index.js';
import { cityKeyOf } from '../../server/reporting/access.js';
import { createRelease } from '../../server/reporting/release.js';
import { releaseSlots } from '../../server/reporting/release-admission.js';
import { addMonths, postRevenue, setupCoop, today } from '../helpers/coop.js';
import { connectPg, ledgerClient, rawGraphQL, uniqueSuffix, waitFor } from '../helpers/ledger.js';
import { spawnServerProcess, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let db: pg.Client;
const suffix = uniqueSuffix();
const M2 = addMonths(today(), -2).slice(0, 7);
const M4 = addMonths(today(), -4).slice(0, 7);
const [ACROSS, HERE, QUEUED, FAILING, TWO, CUT] = [
  'Acrosston',
  'Heresville',
  'Queueburgh',
  'Failton',
  'Twoport',
  'Cutbridge',
].map((name) => `${name} ${suffix}`) as [string, string, string, string, string, string];
/** A city with no co-ops (refused before any of its figures is read). */
const EMPTY = `Emptydale ${suffix}`;
const initialLimits = releaseSlots.stats();

/** Three co-ops in one neighbourhood, consenting since before M2, with revenue in M2. */
async function buildCity(city: string): Promise<void> {
  const books: string[] = [];
  for (const revenue of ['1000.00', '1100.00', '1200.00']) {
    const fixture = await setupCoop(server.url, admin, {
      city,
      neighbourhood: 'Riverside',
      naicsCode: '311811',
      foundedOn: `${M4}-01`,
      dataSharingConsent: true,
    });
    await postRevenue(fixture, M2, revenue);
    books.push(fixture.bookUuid);
  }
  await db.query('update coop set data_sharing_consent_at = $2::date where book_id = any($1::uuid[])', [
    books,
    `${M4}-01`,
  ]);
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url, { token: server.adminToken });
  db = await connectPg();
  for (const city of [ACROSS, HERE, QUEUED, FAILING, TWO, CUT]) await buildCity(city);
});
afterEach(() => {
  releaseSlots.configure(initialLimits);
});
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

const publish = (city: string) => admin.publishCityReport({ city, currency: 'USD', throughMonth: M2 });
const codes = (p: { userErrors: { code: string; field?: string | null }[] }) =>
  p.userErrors.map((e) => [e.code, e.field]);

async function releaseSeqs(city: string): Promise<number[]> {
  const { rows } = await db.query('select seq from reporting_release where city_key = $1 order by seq', [
    cityKeyOf(city),
  ]);
  return rows.map((r) => r.seq);
}

/** Sessions holding (granted) or waiting for (not granted) the advisory lock named `name`. */
async function advisory(name: string, granted: boolean): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as n from pg_locks, hashtextextended($1, 15) as k
      where locktype = 'advisory' and objsubid = 1 and granted = $2
        and classid::bigint = (k >> 32) & 4294967295 and objid::bigint = k & 4294967295`,
    [name, granted],
  );
  return rows[0].n;
}
const cityLock = (city: string) => `reporting-city:${cityKeyOf(city)}`;

/**
 * A publish's answer, or 'waits' once a second session waits for the city's lock (the first is
 * held there by the test): whichever comes first; exactly one of them can ever happen.
 */
async function answerOrWait<T>(answer: Promise<T>, city: string): Promise<{ p: T } | 'waits'> {
  let stop = false;
  const waits = (async () => {
    while (!stop && (await advisory(cityLock(city), false)) < 2) await new Promise((r) => setTimeout(r, 25));
    return 'waits' as const;
  })();
  const first = await Promise.race([answer.then((p) => ({ p })), waits]);
  stop = true;
  return first;
}
const publishLock = (city: string) => `reporting-publish:${cityKeyOf(city)}`;

/** The city's transaction lock held from a connection of the test's own: its releases stop at their refresh. */
async function holdCity(city: string): Promise<{ free(): Promise<void> }> {
  const hold = await connectPg();
  await hold.query('begin');
  await hold.query('select pg_advisory_xact_lock(hashtextextended($1, 15))', [cityLock(city)]);
  return {
    free: async () => {
      await hold.query('commit');
      await hold.end();
    },
  };
}

describe('one release of a city at a time', () => {
  it('while another process computes the city, a publish is refused at once and nothing is kept', async () => {
    // Another process's release: its session holds the city's publish lock.
    const other = await connectPg();
    await other.query('select pg_advisory_lock(hashtextextended($1, 15))', [publishLock(ACROSS)]);
    const refused = await publish(ACROSS);
    expect(refused.release).toBeNull();
    expect(codes(refused)).toEqual([['RELEASE_IN_PROGRESS', 'city']]);
    expect(await releaseSeqs(ACROSS)).toEqual([]);
    // The other process ends (its connection with it): the city publishes.
    await other.end();
    const published = await publish(ACROSS);
    expect(codes(published)).toEqual([]);
    expect(published.release!.seq).toBe(1);
    // A replay answers as before, RELEASE_UP_TO_DATE, even while another session holds the lock.
    const again = await connectPg();
    await again.query('select pg_advisory_lock(hashtextextended($1, 15))', [publishLock(ACROSS)]);
    try {
      const replay = await publish(ACROSS);
      expect(codes(replay)).toEqual([['RELEASE_UP_TO_DATE', 'throughMonth']]);
      expect(replay.userErrors[0]!.message).toBe(`release 1 already covers ${M2}`);
    } finally {
      await again.end();
    }
    expect(await releaseSeqs(ACROSS)).toEqual([1]);
  });

  it('in one process: a publish of a city whose release is computing is refused at once; past the cap others wait, past the queue they are THROTTLED', async () => {
    releaseSlots.configure({ workersMax: 1, queueMax: 1 });
    const hold = await holdCity(HERE);
    const first = publish(HERE);
    try {
      // The first release waits for the city's lock.
      await waitFor(async () => (await advisory(cityLock(HERE), false)) === 1, { what: 'the first release' });
      // A second publish of the city answers at once (it would otherwise wait for the same lock).
      const second = await answerOrWait(publish(HERE), HERE);
      expect(second).not.toBe('waits');
      if (second === 'waits') return;
      expect(second.p.release).toBeNull();
      expect(codes(second.p)).toEqual([['RELEASE_IN_PROGRESS', 'city']]);
      // The first holds its slot and the city's publish lock (seen by every process).
      expect(releaseSlots.stats()).toMatchObject({ running: 1, waiting: 0 });
      expect(await advisory(publishLock(HERE), true)).toBe(1);

      // Another city waits for the only slot, holding nothing meanwhile.
      const queued = publish(QUEUED);
      await waitFor(() => releaseSlots.stats().waiting === 1, { what: 'a queued publish' });
      expect(releaseSlots.stats().running).toBe(1);
      expect(await advisory(publishLock(QUEUED), true)).toBe(0);
      expect(await advisory(cityLock(QUEUED), false)).toBe(0);
      // The queue is full: a third city is refused, as throttling (503 with Retry-After).
      const throttled = await rawGraphQL(
        server.url,
        'mutation($input: PublishCityReportInput!) { publishCityReport(input: $input) { release { seq } userErrors { code } } }',
        { input: { city: EMPTY, currency: 'USD', throughMonth: M2 } },
        { token: server.adminToken },
      );
      expect(throttled.status).toBe(503);
      expect(throttled.headers.get('retry-after')).toBe('60');
      expect(throttled.body.errors?.map((e) => e.extensions?.code)).toEqual(['THROTTLED']);
      expect(throttled.body.errors?.[0]?.message).toMatch(/release worker/);

      // The first goes on, then the queued one: both stored.
      await hold.free();
      const done = await first;
      expect(codes(done)).toEqual([]);
      expect(done.release!.seq).toBe(1);
      const next = await queued;
      expect(codes(next)).toEqual([]);
      expect(next.release!.seq).toBe(1);
    } finally {
      await hold.free().catch(() => {});
      await first.catch(() => {});
    }
    expect(releaseSlots.stats()).toMatchObject({ running: 0, waiting: 0 });
    for (const city of [HERE, QUEUED]) expect(await advisory(publishLock(city), true)).toBe(0);
    expect(await releaseSeqs(HERE)).toEqual([1]);
    expect(await releaseSeqs(EMPTY)).toEqual([]);
  });

  it('a release that fails gives its lock and its slot back: the next publish of the city is stored', async () => {
    const operator: Principal = {
      id: 'admission-test',
      name: 'admission test',
      tokenId: '',
      grants: [{ role: 'ADMIN', scope: '' }],
    };
    const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
    const failed = createRelease(
      { pool, clock: () => new Date() },
      { city: FAILING, currency: 'USD', throughMonth: M2, policy: null },
      operator,
      {
        afterCompute: async () => {
          throw new Error('planted failure after computing');
        },
      },
    );
    await expect(failed).rejects.toThrow('planted failure after computing');
    await pool.end();
    expect(releaseSlots.stats()).toMatchObject({ running: 0, waiting: 0 });
    expect(await advisory(publishLock(FAILING), true)).toBe(0);
    const published = await publish(FAILING);
    expect(codes(published)).toEqual([]);
    expect(published.release!.seq).toBe(1);
  });

  it('the connection holding the lock is cut while the release computes: the release is stored, the service goes on', async () => {
    const hold = await holdCity(CUT);
    const first = publish(CUT);
    try {
      await waitFor(async () => (await advisory(cityLock(CUT), false)) === 1, { what: 'the release' });
      const { rows } = await db.query(
        `select pg_terminate_backend(pid) as cut from pg_locks, hashtextextended($1, 15) as k
          where locktype = 'advisory' and objsubid = 1 and granted
            and classid::bigint = (k >> 32) & 4294967295 and objid::bigint = k & 4294967295`,
        [publishLock(CUT)],
      );
      expect(rows.map((r) => r.cut)).toEqual([true]);
      await waitFor(async () => (await advisory(publishLock(CUT), true)) === 0, { what: 'the lock to go' });
      await hold.free();
      const done = await first;
      expect(codes(done)).toEqual([]);
      expect(done.release!.seq).toBe(1);
    } finally {
      await hold.free().catch(() => {});
      await first.catch(() => {});
    }
    expect(releaseSlots.stats()).toMatchObject({ running: 0, waiting: 0 });
    // The service answers on: a replay as any replay.
    expect(codes(await publish(CUT))).toEqual([['RELEASE_UP_TO_DATE', 'throughMonth']]);
  });

  it('across two service processes: a publish here while the other process computes the city is refused at once', async () => {
    const other = await spawnServerProcess();
    const hold = await holdCity(TWO);
    try {
      const there = ledgerClient(other.url, { token: server.adminToken });
      const first = there.publishCityReport({ city: TWO, currency: 'USD', throughMonth: M2 });
      await waitFor(async () => (await advisory(cityLock(TWO), false)) === 1, {
        what: "the other process's release",
      });
      const here = await answerOrWait(publish(TWO), TWO);
      expect(here).not.toBe('waits');
      if (here === 'waits') return;
      expect(codes(here.p)).toEqual([['RELEASE_IN_PROGRESS', 'city']]);
      // Refused before waiting for a slot of this process.
      expect(releaseSlots.stats()).toMatchObject({ running: 0, waiting: 0 });
      await hold.free();
      const done = await first;
      expect(codes(done)).toEqual([]);
      expect(done.release!.seq).toBe(1);
      // The other process gave its lock back: here a replay answers as any replay does.
      expect(await advisory(publishLock(TWO), true)).toBe(0);
      const replay = await publish(TWO);
      expect(codes(replay)).toEqual([['RELEASE_UP_TO_DATE', 'throughMonth']]);
    } finally {
      await hold.free().catch(() => {});
      await other.stop();
    }
    expect(await releaseSeqs(TWO)).toEqual([1]);
  });
});
