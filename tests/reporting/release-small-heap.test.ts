/**
 * A release's frozen rows never sit in the service's heap all at once (issue 15): they are read a
 * chunk at a time through a cursor, hashed into the inputs' digest and sent to the worker process
 * in a compact form as they are read. A city of the issue's full size has about a million rows
 * and the service's heap is 128 MB (npm start); here a city of 300 co-ops with four measures a
 * month since January 2016 (158,700 frozen rows) is published by a process whose heap is capped at
 * 40 MB: it ran out of memory when the service held them all as objects, with a line of text each
 * for the digest (checked against the code before).
 *
 * The city's co-ops and one treasurer's report each are written with SQL (hundreds of co-ops
 * through the API would take minutes); its rollup (the co-op counted, its worker-owners, workers
 * who are not members and jobs, each month) is computed by the release itself.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  FrozenChunkEncoder,
  FrozenRowsReceived,
  type ReleaseSummary,
} from '../../server/reporting/release-compute.js';
import type { FrozenRow } from '../../server/reporting/store.js';
import { uniqueSuffix } from '../helpers/ledger.js';

const COOPS = 300;
const city = `Heapville ${uniqueSuffix()}`;
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  await pool.query(
    `with s as (select gen_random_uuid() as id, i from generate_series(1, $2::int) i),
     b as (insert into book (id, name, max_backdate_days, last_hash, created_at)
           select id, $1 || ' ' || i, 0, '', now() from s returning id)
     insert into coop (book_id, name, kind, naics_code, city, neighbourhood, founded_on, legal_form,
                       fiscal_year_start, base_currency, redemption_rule, data_sharing_consent,
                       data_sharing_consent_at, created_at, updated_at)
     select s.id, $1 || ' ' || s.i, case when s.i % 3 = 0 then 'CONSUMER' else 'WORKER' end,
            case when s.i % 2 = 0 then '311811' else '541511' end, $1,
            case when s.i % 4 < 2 then 'North' else 'South' end, date '2016-01-15', 'LLC', '01-01',
            'USD', 'HOLD', true, date '2016-01-01', now(), now()
       from s join b on b.id = s.id`,
    [city, COOPS],
  );
  await pool.query(
    `insert into reporting_profile (book_id, id, as_of, workers_not_members, worker_owners, gender, race,
       city_contracts_count, city_contracts_value, idempotency_key, request_hash, recorded_at, recorded_by)
     select book_id, gen_random_uuid(), date '2016-01-01', 2, 5, '{}', '{}', 0, 0, 'profile', 'hash', now(), 'test'
       from coop where city = $1`,
    [city],
  );
});
afterAll(async () => {
  await pool?.end();
});

describe('a release of a city larger than the service heap holds as row objects', () => {
  it('is published by a process whose heap could not hold its frozen rows at once', async () => {
    const fixture = path.join(import.meta.dirname, 'fixtures', 'small-heap-release.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--max-old-space-size=40', '--import', 'tsx', fixture, city],
      { timeout: 240_000, env: { ...process.env, DATABASE_URL: inject('databaseUrl') } },
    );
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { seq: number; summary: ReleaseSummary };
    expect(out.seq).toBe(1);
    expect(out.summary.contributors).toBe(COOPS);
    const { rows } = await pool.query(
      `select count(*)::int as rows, count(distinct book_id)::int as coops from reporting_frozen
        where city_key = lower($1)`,
      [city],
    );
    // Four measures of every co-op each month since 2016 frozen and read (the test's premise).
    expect(rows[0].coops).toBe(COOPS);
    expect(rows[0].rows).toBeGreaterThan(150_000);
  }, 300_000);

  it('sends rows to the worker compactly and gets every one back, in order', () => {
    const encoder = new FrozenChunkEncoder();
    const received = new FrozenRowsReceived();
    const all: FrozenRow[] = [];
    for (let chunk = 0; chunk < 3; chunk++) {
      const rows: FrozenRow[] = [];
      for (let i = 0; i < 50; i++)
        rows.push({
          bookId: `book-${(chunk * 50 + i) % 7}`,
          measure: i % 2 ? 'REVENUE' : 'COOPS',
          month: `2025-${String((i % 12) + 1).padStart(2, '0')}`,
          value: chunk * 1000 + i - 0.5,
          neighbourhood: `N${i % 3}`,
          sector: String(10 + (i % 4)),
          kind: i % 5 ? 'WORKER' : 'HOUSING',
          group: `g${i % 6}`,
        });
      const encoded = encoder.encode(rows);
      // A string crosses once: later chunks send only strings not seen before.
      if (chunk > 0) expect(encoded.strings).toEqual([]);
      received.add(structuredClone(encoded));
      all.push(...rows);
    }
    expect(received.count).toBe(150);
    expect([...received.rows()]).toEqual(all);
    // Iterable again (the worker reads them twice).
    expect([...received.rows()].length).toBe(150);
  });
});
