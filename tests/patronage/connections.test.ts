/**
 * Patronage's connections as Relay clients expect them (issue 11, item 4), through real HTTP and
 * the SDK: a co-op's runs (newest first), its records (in recording order, with the member and
 * period filters), a run's allocations and a preview's (by member number). Each list's order is
 * known by construction (records recorded one at a time in a shuffled member order, runs committed
 * and reversed in turn), and `walk` checks it forward and backward two at a time, `totalCount` on
 * every page, a window between two cursors, and the refusals (the same BAD_USER_INPUT as every
 * other connection). The SDK's iterators walk runs and records both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { expectClientError, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { activeMember, type Member, month, patronageCoop, record, setPolicy } from './helpers.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let members: Member[];
/** Record ids in recording order, with their member and month. */
let records: { id: string; member: Member; month: number }[];
/** Run ids newest first. */
let runIds: string[];
const ALLOCATED_ON = '2026-02-15';

interface Page<K> {
  totalCount: number;
  edges: { cursor: string; node: K }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor?: string | null;
    endCursor?: string | null;
  };
}
type Args = { first?: number; last?: number; after?: string; before?: string };

/**
 * Walks a connection (fetched by `fetch` with first/last/after/before) forward and backward two at
 * a time, and checks each page against `expected` (the keys of the nodes in the list's order).
 */
async function walk<K>(fetch: (args: Args) => Promise<Page<K>>, expected: K[]): Promise<void> {
  const n = expected.length;
  expect(n).toBeGreaterThanOrEqual(5);
  const keys = (p: Page<K>) => p.edges.map((e) => e.node);
  const checked = async (args: Args) => {
    const p = await fetch(args);
    expect(p.totalCount, JSON.stringify(args)).toBe(n);
    expect(p.pageInfo.startCursor ?? null).toBe(p.edges[0]?.cursor ?? null);
    expect(p.pageInfo.endCursor ?? null).toBe(p.edges.at(-1)?.cursor ?? null);
    return p;
  };

  const whole = await checked({ first: 100 });
  expect(keys(whole)).toEqual(expected);
  expect(whole.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  const cursors = whole.edges.map((e) => e.cursor);

  const forward: K[] = [];
  let after: string | undefined;
  for (let i = 0; i <= n; i++) {
    const p = await checked(after === undefined ? { first: 2 } : { first: 2, after });
    expect(p.pageInfo.hasPreviousPage).toBe(after !== undefined);
    forward.push(...keys(p));
    expect(p.pageInfo.hasNextPage).toBe(forward.length < n);
    if (!p.pageInfo.hasNextPage) break;
    after = p.pageInfo.endCursor!;
  }
  expect(forward).toEqual(expected);

  const backward: K[] = [];
  let before: string | undefined;
  for (let i = 0; i <= n; i++) {
    const p = await checked(before === undefined ? { last: 2 } : { last: 2, before });
    expect(p.pageInfo.hasNextPage).toBe(before !== undefined);
    backward.unshift(...keys(p));
    expect(p.pageInfo.hasPreviousPage).toBe(backward.length < n);
    if (!p.pageInfo.hasPreviousPage) break;
    before = p.pageInfo.startCursor!;
  }
  expect(backward).toEqual(expected);

  expect(keys(await checked({ last: 2, before: cursors[3]! }))).toEqual(expected.slice(1, 3));
  expect(keys(await checked({ first: 100, after: cursors[0]!, before: cursors[4]! }))).toEqual(
    expected.slice(1, 4),
  );
  expect(keys(await checked({ last: 100, after: cursors[0]!, before: cursors[4]! }))).toEqual(
    expected.slice(1, 4),
  );
  const beyond = await checked({ first: 2, after: cursors[n - 1]! });
  expect(beyond.edges).toEqual([]);
  expect(beyond.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

  // Refused as every connection refuses them: sizes out of 1..100, both sizes, foreign cursors.
  const foreign = Buffer.from(JSON.stringify(['a', 'b'])).toString('base64url');
  const notAKey = Buffer.from(JSON.stringify(['not a key'])).toString('base64url');
  for (const bad of [
    { first: 0 },
    { first: 101 },
    { last: 0 },
    { last: 101 },
    { first: 2, last: 2 },
    { last: 2, before: foreign },
    { first: 2, after: 'not a cursor' },
    { first: 2, after: notAKey },
  ])
    expect((await expectClientError(fetch(bad))).code, JSON.stringify(bad)).toBe('BAD_USER_INPUT');
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const setup = await patronageCoop(server.url, admin, { fiscalYearStart: '01-01' });
  coop = setup.coop;
  members = [];
  for (const name of ['Ada', 'Ben', 'Cleo', 'Dev', 'Eve', 'Fay'])
    members.push(await activeMember(coop, setup.classId, `${name} Worker`, '2024-06-01'));
  await setPolicy(coop, {
    measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
    reservePercent: '30',
    revolvingYears: 5,
  });
  // Recorded one at a time, members out of number order: the list's order is this order.
  records = [];
  for (const m of [2, 1]) {
    for (const i of [4, 0, 5, 2, 1, 3]) {
      const member = members[i]!;
      await record(coop, [
        { member, measure: 'HOURS', ...month(2025, m), quantity: `${10 * (i + 1) + m}.00` },
      ]);
      const page = await coop.treasurer.patronageRecords({
        coopId: coop.id,
        membershipId: member.id,
        last: 1,
      });
      records.push({ id: page.edges[0]!.node.id, member, month: m });
    }
  }
  // Five runs of 2025: each but the last reversed before the next is committed.
  runIds = [];
  for (let i = 0; i < 5; i++) {
    if (i > 0) {
      const reversed = await coop.treasurer.reversePatronageAllocation({
        runId: runIds[0]!,
        idempotencyKey: newKey('reverse'),
      });
      expect(reversed.userErrors).toEqual([]);
    }
    const committed = await coop.treasurer.commitPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      surplus: `${1000 + i}.00`,
      allocatedOn: ALLOCATED_ON,
      idempotencyKey: newKey('run'),
    });
    expect(committed.userErrors).toEqual([]);
    runIds.unshift(committed.run!.id);
  }
});

afterAll(async () => {
  await server?.stop();
});

describe('patronage connections', () => {
  it('patronageRuns: newest first, both ways, counted', async () => {
    await walk(async (args) => {
      const p = await coop.treasurer.patronageRuns({ coopId: coop.id, ...args });
      return { ...p, edges: p.edges.map((e) => ({ cursor: e.cursor, node: e.node.id })) };
    }, runIds);
  });

  it('patronageRecords: recording order, both ways, counted with and without filters', async () => {
    const fetcher =
      (filter: { membershipId?: string; from?: string; to?: string }) =>
      async (args: Args): Promise<Page<string>> => {
        const p = await coop.treasurer.patronageRecords({ coopId: coop.id, ...filter, ...args });
        return { ...p, edges: p.edges.map((e) => ({ cursor: e.cursor, node: e.node.id })) };
      };
    await walk(
      fetcher({}),
      records.map((r) => r.id),
    );
    // February's records only (the first six recorded), through the period filter.
    await walk(
      fetcher({ from: '2025-02-01', to: '2025-02-28' }),
      records.filter((r) => r.month === 2).map((r) => r.id),
    );
    // One member's: two records, counted as two whatever the page.
    const ada = members[0]!;
    const adas = records.filter((r) => r.member === ada).map((r) => r.id);
    const last = await fetcher({ membershipId: ada.id })({ last: 1 });
    expect(last.totalCount).toBe(2);
    expect(last.edges.map((e) => e.node)).toEqual(adas.slice(1));
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
  });

  it("a run's allocations: by member number, both ways, counted", async () => {
    const numbers = members.map((m) => m.number).sort((x, y) => x - y);
    for (const id of [runIds[0]!, runIds[4]!])
      await walk(async (args) => {
        const run = await coop.treasurer.patronageRun({ id, ...args });
        const p = run!.allocations;
        return { ...p, edges: p.edges.map((e) => ({ cursor: e.cursor, node: e.node.memberNumber })) };
      }, numbers);
  });

  it("a preview's allocations: by member number, both ways, counted", async () => {
    const numbers = members.map((m) => m.number).sort((x, y) => x - y);
    await walk(async (args) => {
      const answer = await coop.treasurer.previewPatronageAllocation({
        coopId: coop.id,
        fiscalYear: 2025,
        surplus: '1000.00',
        allocatedOn: ALLOCATED_ON,
        ...args,
      });
      expect(answer.userErrors).toEqual([]);
      const p = answer.preview!.allocations;
      return { ...p, edges: p.edges.map((e) => ({ cursor: e.cursor, node: e.node.memberNumber })) };
    }, numbers);
  });

  it('the iterators walk runs and records either way, a page at a time', async () => {
    const runs: string[] = [];
    for await (const r of coop.treasurer.iteratePatronageRuns({ coopId: coop.id, first: 2 })) runs.push(r.id);
    expect(runs).toEqual(runIds);
    const oldestFirst: string[] = [];
    for await (const r of coop.treasurer.iteratePatronageRuns(
      { coopId: coop.id, first: 2 },
      { backward: true },
    ))
      oldestFirst.push(r.id);
    expect(oldestFirst).toEqual([...runIds].reverse());
    const recorded: string[] = [];
    for await (const r of coop.treasurer.iteratePatronageRecords(
      { coopId: coop.id, first: 5 },
      { backward: true },
    ))
      recorded.push(r.id);
    expect(recorded).toEqual(records.map((r) => r.id).reverse());
  });

  it('a caller who may not read the co-op gets an empty page counting nothing, and bad arguments refused alike', async () => {
    // Another co-op's treasurer.
    const other = await patronageCoop(server.url, admin, { fiscalYearStart: '01-01' });
    const outsider = other.coop.treasurer;
    const runs = await outsider.patronageRuns({ coopId: coop.id, last: 2 });
    expect(runs).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false } });
    const recs = await outsider.patronageRecords({ coopId: coop.id, first: 2 });
    expect(recs).toMatchObject({ totalCount: 0, edges: [] });
    expect((await expectClientError(outsider.patronageRuns({ coopId: coop.id, first: 0 }))).code).toBe(
      'BAD_USER_INPUT',
    );
    expect(
      (await expectClientError(outsider.patronageRecords({ coopId: coop.id, first: 1, last: 1 }))).code,
    ).toBe('BAD_USER_INPUT');
    // Another co-op's membership id names none of this co-op's records.
    const stranger = await activeMember(other.coop, other.classId, 'Gus Outsider', '2024-06-01');
    const none = await coop.treasurer.patronageRecords({
      coopId: coop.id,
      membershipId: stranger.id,
      first: 5,
    });
    expect(none).toMatchObject({ totalCount: 0, edges: [] });
  });
});
