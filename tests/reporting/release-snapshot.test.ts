/**
 * A release is computed outside its transaction (issue 15): its inputs are read in a snapshot,
 * the protection and the audit run with no transaction and no lock held, and the release is
 * written under the city's lock only when the same reads give the same inputs. A co-op that
 * withdraws its consent while the release is computed is left out of it: the release is computed
 * again from the new inputs, never stored from the stale ones.
 *
 * The use case is called directly (with its test hook between computing and writing) on the
 * test server's database; the city is built through HTTP and the SDK.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Principal } from '../../server/core/index.js';
import { cityKeyOf } from '../../server/reporting/access.js';
import { createRelease } from '../../server/reporting/release.js';
import type { ReleaseSummary } from '../../server/reporting/release-compute.js';
import { addMonths, type CoopFixture, postRevenue, setupCoop, today } from '../helpers/coop.js';
import { ledgerClient, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let pool: pg.Pool;
const city = `Snapshotville ${uniqueSuffix()}`;
const month = (offset: number) => addMonths(today(), offset).slice(0, 7);
const MONTHS = [month(-3), month(-2), month(-1)];
const coops: CoopFixture[] = [];
const operator: Principal = {
  id: 'release-test',
  name: 'release test',
  tokenId: '',
  grants: [{ role: 'ADMIN', scope: '' }],
};

beforeAll(async () => {
  server = await startTestServer();
  const admin = ledgerClient(server.url, { token: server.adminToken });
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  for (const revenue of [1000, 1100, 1200, 1300, 1400]) {
    const fixture = await setupCoop(server.url, admin, {
      city,
      neighbourhood: 'Riverside',
      naicsCode: '311811',
      foundedOn: `${MONTHS[0]}-01`,
      dataSharingConsent: true,
    });
    coops.push(fixture);
    for (const m of MONTHS) {
      const amount = revenue.toFixed(2);
      await postRevenue(fixture, m, amount);
    }
  }
  // Consent from before the first month.
  await pool.query('update coop set data_sharing_consent_at = $2::date where book_id = any($1::uuid[])', [
    coops.map((c) => c.bookUuid),
    `${MONTHS[0]}-01`,
  ]);
});
afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

describe('a release computed outside its transaction', () => {
  it('holds no lock while computing, and is computed again when its inputs changed meanwhile', async () => {
    const attempts: number[] = [];
    const lockFree: boolean[] = [];
    const release = await createRelease(
      { pool, clock: () => new Date() },
      { city, currency: 'USD', throughMonth: null, policy: null },
      operator,
      {
        afterCompute: async (attempt) => {
          attempts.push(attempt);
          // Nobody holds the city's lock now: another transaction takes it at once.
          const client = await pool.connect();
          try {
            await client.query('begin');
            const { rows } = await client.query(
              'select pg_try_advisory_xact_lock(hashtextextended($1, 15)) as taken',
              [`reporting-city:${cityKeyOf(city)}`],
            );
            lockFree.push(rows[0].taken === true);
            // The first time: a co-op withdraws its consent while the release is computed.
            if (attempt === 1)
              await client.query('update coop set data_sharing_consent = false where book_id = $1', [
                coops[0]!.bookUuid,
              ]);
            await client.query('commit');
          } finally {
            client.release();
          }
        },
      },
    );
    expect('code' in release ? release.message : null).toBeNull();
    if ('code' in release) return;
    expect(attempts).toEqual([1, 2]);
    expect(lockFree).toEqual([true, true]);
    // Computed from the inputs it was stored with: four co-ops, not the five of the first snapshot.
    expect((release.summary as ReleaseSummary).contributors).toBe(4);
    const { rows } = await pool.query(
      'select count(distinct book_id)::int as coops, count(*)::int as rows from reporting_frozen where city_key = $1',
      [cityKeyOf(city)],
    );
    expect(rows[0].coops).toBe(4);
    // One release stored, the frozen figures of the snapshots rolled back.
    const releases = await pool.query('select seq from reporting_release where city_key = $1', [
      cityKeyOf(city),
    ]);
    expect(releases.rows.map((r) => r.seq)).toEqual([1]);
  });
});
