/**
 * An outside audit of clearing through real HTTP, the SDK and real PostgreSQL: hand-worked cases
 * whose optimum is known (the arithmetic in comments), in currencies of scale 0, 2 and 3 and at
 * the largest amounts an obligation may hold, and random networks whose cleared total is checked
 * against an independent exact optimum (a linear program over the obligations, solved by HiGHS).
 * Every committed clearing is checked against what the database then holds: no member's net
 * position moved, nothing cleared beyond what was outstanding, network balances untouched by set-off.
 */
import { Decimal } from 'decimal.js';
import highsLoader from 'highs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { graphqlAsAdmin } from '../helpers/auth.js';
import { setupNetwork } from '../helpers/credit.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const loadHighs = highsLoader as unknown as typeof highsLoader.default;
let highs: Awaited<ReturnType<typeof loadHighs>>;

let server: TestServer;
let admin: LedgerClient;
let steward: LedgerClient;
let networkId: string;
/** Member ids of A, B, C, D, E, F. */
let m: string[] = [];
let treasurers: LedgerClient[] = [];

beforeAll(async () => {
  highs = await loadHighs();
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const network = await setupNetwork(
    server.url,
    admin,
    {
      name: 'Audit circuit',
      unit: { code: 'SRD', scale: 3 },
      pegCurrency: 'EUR',
      pegRate: '1',
      currencies: [
        { code: 'EUR', scale: 2 },
        { code: 'JPY', scale: 0 },
        { code: 'KWD', scale: 3 },
        { code: 'USD', scale: 2 },
        { code: 'CHF', scale: 2 },
      ],
      policy: { defaultLimit: '100.000', softLimitPercent: 80, defaultUpperBound: '1000.000' },
    },
    6,
  );
  ({ networkId, steward } = network);
  m = network.members;
  treasurers = network.coops.map((c) => c.treasurer);
});

afterAll(async () => {
  await server?.stop();
});

type Row = readonly [debtor: number, creditor: number, amount: string, reference: string, dueOn?: string];

async function record(currency: string, rows: readonly Row[]) {
  const recorded = await steward.recordObligations({
    networkId,
    idempotencyKey: newKey('obl'),
    obligations: rows.map(([d, c, amount, reference, dueOn]) => ({
      debtorId: m[d]!,
      creditorId: m[c]!,
      currency,
      amount,
      dueOn: dueOn ?? '2026-01-31',
      reference: `${currency}-${reference}`,
    })),
  });
  expect(recorded.userErrors).toEqual([]);
  expect(recorded.rowErrors).toEqual([]);
  return recorded;
}

async function preview(currency: string, mode: 'SETOFF' | 'SETOFF_AND_LIQUIDITY' = 'SETOFF') {
  const answer = await steward.previewClearing({ networkId, currency, mode, first: 100 });
  expect(answer.userErrors).toEqual([]);
  return answer.preview!;
}

/** Open obligations of a currency by reference (without the currency prefix). */
async function outstanding(currency: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let after: string | undefined;
  for (;;) {
    const page = await steward.networkObligations({ networkId, currency, first: 100, after });
    for (const e of page!.obligations.edges)
      out[e.node.reference.slice(currency.length + 1)] = e.node.outstanding;
    if (!page!.obligations.pageInfo.hasNextPage) break;
    after = page!.obligations.pageInfo.endCursor!;
  }
  return out;
}

/** Each member's net position (owed to it less what it owes) from the obligations as they stand now. */
async function positions(currency: string): Promise<Map<string, string>> {
  const net = new Map<string, Decimal>();
  let after: string | undefined;
  for (;;) {
    const page = await steward.networkObligations({ networkId, currency, first: 100, after });
    for (const { node } of page!.obligations.edges) {
      net.set(node.creditorId, (net.get(node.creditorId) ?? new Decimal(0)).plus(node.outstanding));
      net.set(node.debtorId, (net.get(node.debtorId) ?? new Decimal(0)).minus(node.outstanding));
    }
    if (!page!.obligations.pageInfo.hasNextPage) break;
    after = page!.obligations.pageInfo.endCursor!;
  }
  return new Map([...net].map(([k, v]) => [k, v.toFixed()]));
}

async function balances(): Promise<string[]> {
  const net = await steward.creditNetwork({ id: networkId, first: 100 });
  const byId = new Map(net!.members.edges.map((e) => [e.node.id, e.node.balance!]));
  return m.map((id) => byId.get(id)!);
}

const setoffByReference = (p: Awaited<ReturnType<typeof preview>>, currency: string) =>
  Object.fromEntries(p.lines.edges.map((e) => [e.node.reference.slice(currency.length + 1), e.node.setoff]));

async function commit(currency: string, snapshotHash?: string) {
  const done = await steward.commitClearing({
    networkId,
    currency,
    snapshotHash,
    idempotencyKey: newKey('clr'),
  });
  expect(done.userErrors).toEqual([]);
  return done.clearing!;
}

describe('hand-worked clearings through the API', () => {
  it('two cycles sharing A -> B, where clearing the first cycle found is wrong: 40 of 60 yen (scale 0)', async () => {
    // A->B->C->A (3 arcs) and A->B->D->E->A (4 arcs), 10 yen each, share A->B. The greedy choice
    // clears the 3-arc cycle (30); the optimum clears the 4-arc one (40): B's net -10 and A's +10
    // then travel B->C->A, the 20 left.
    const before = await balances();
    await record('JPY', [
      [0, 1, '10', 'ab'],
      [1, 2, '10', 'bc'],
      [2, 0, '10', 'ca'],
      [1, 3, '10', 'bd'],
      [3, 4, '10', 'de'],
      [4, 0, '10', 'ea'],
    ]);
    const positionsBefore = await positions('JPY');
    const p = await preview('JPY');
    expect(p.currency).toEqual({ code: 'JPY', scale: 0 });
    expect([p.outstandingBefore, p.setoffTotal, p.outstandingAfter]).toEqual(['60', '40', '20']);
    expect([p.netInternalDebtBefore, p.netInternalDebtAfter, p.setoffPercent]).toEqual(['10', '10', '66.67']);
    expect(setoffByReference(p, 'JPY')).toEqual({ ab: '10', bd: '10', de: '10', ea: '10' });
    const done = await commit('JPY', p.snapshotHash);
    expect([done.setoffTotal, done.outstandingAfter]).toEqual(['40', '20']);
    expect(await outstanding('JPY')).toEqual({ ab: '0', bc: '10', ca: '10', bd: '0', de: '0', ea: '0' });
    expect(await positions('JPY')).toEqual(positionsBefore);
    expect(await balances()).toEqual(before);
    // Nothing is left to clear: a second commit is refused and changes nothing.
    const again = await steward.commitClearing({ networkId, currency: 'JPY', idempotencyKey: newKey('clr') });
    expect(again.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_CLEAR']);
  });

  it('parallel invoices both ways between a pair, at scale 3: each side cleared oldest due date first', async () => {
    // A owes B 1.000 (Feb), 0.001 (Jan), 2.500 (Mar) = 3.501; B owes A 2.000 (Jan), 1.000 (Apr) = 3.000.
    // Set-off is 3.000 each way (6.000). A's invoices: Jan 0.001, Feb 1.000, Mar 1.999 (0.501 left).
    await record('KWD', [
      [0, 1, '1.000', 'a-feb', '2026-02-01'],
      [0, 1, '0.001', 'a-jan', '2026-01-01'],
      [0, 1, '2.500', 'a-mar', '2026-03-01'],
      [1, 0, '2.000', 'b-jan', '2026-01-15'],
      [1, 0, '1', 'b-apr', '2026-04-01'],
    ]);
    const p = await preview('KWD');
    expect([p.outstandingBefore, p.setoffTotal, p.outstandingAfter]).toEqual(['6.501', '6.000', '0.501']);
    expect(setoffByReference(p, 'KWD')).toEqual({
      'a-jan': '0.001',
      'a-feb': '1.000',
      'a-mar': '1.999',
      'b-jan': '2.000',
      'b-apr': '1.000',
    });
    await commit('KWD', p.snapshotHash);
    expect(await outstanding('KWD')).toEqual({
      'a-feb': '0.000',
      'a-jan': '0.000',
      'a-mar': '0.501',
      'b-jan': '0.000',
      'b-apr': '0.000',
    });
  });

  it('a currency with no obligations: an empty preview, nothing to commit', async () => {
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'ISK', scale: 0 } });
    expect(added.userErrors).toEqual([]);
    const empty = await preview('ISK');
    expect([empty.obligationsConsidered, empty.outstandingBefore, empty.setoffTotal]).toEqual([0, '0', '0']);
    expect([empty.members, empty.lines.totalCount]).toEqual([[], 0]);
    const refused = await steward.commitClearing({
      networkId,
      currency: 'ISK',
      idempotencyKey: newKey('clr'),
    });
    expect(refused.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_CLEAR']);
    const liquidity = await steward.previewClearing({
      networkId,
      currency: 'ISK',
      mode: 'SETOFF_AND_LIQUIDITY',
    });
    expect(liquidity.userErrors.map((e) => e.code)).toEqual(['LIQUIDITY_NOT_AVAILABLE']);
  });

  it('invoices that cannot be cleared: a chain and a fan-in clear nothing, and commit says so', async () => {
    await record('USD', [
      [0, 1, '70.00', 'ab'],
      [1, 2, '50.00', 'bc'],
      [2, 3, '20.00', 'cd'],
      [4, 3, '5.00', 'ed'],
      [5, 3, '0.01', 'fd'],
    ]);
    const p = await preview('USD');
    expect([p.setoffTotal, p.outstandingAfter, p.lines.totalCount]).toEqual(['0.00', '145.01', 0]);
    const refused = await steward.commitClearing({
      networkId,
      currency: 'USD',
      idempotencyKey: newKey('clr'),
    });
    expect(refused.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_CLEAR']);
    expect(await outstanding('USD')).toEqual({
      ab: '70.00',
      bc: '50.00',
      cd: '20.00',
      ed: '5.00',
      fd: '0.01',
    });
  });
});

describe('network credit as liquidity, through a member at its limit and one at its upper bound', () => {
  it('A at its limit pays nothing; B pays 50 that settle B -> C and 10 of C -> D, D full at 10', async () => {
    // A pays D 100.000 SRD: A sits at its limit (-100), D at +100 with its upper bound set to 110.
    const paid = await treasurers[0]!.payInNetwork({
      payerId: m[0]!,
      payeeId: m[3]!,
      amount: '100.000',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors).toEqual([]);
    const bound = await steward.setCreditLimit({
      memberId: m[3]!,
      limit: '100.000',
      upperBound: '110.000',
      reason: 'audit: room for 10 more',
      idempotencyKey: newKey('lim'),
    });
    expect(bound.userErrors).toEqual([]);
    const before = await balances();
    // EUR: the chain A -> B -> C -> D (50, 50, 30) and E <-> F (10 each way, set off).
    await record('EUR', [
      [0, 1, '50.00', 'ab'],
      [1, 2, '50.00', 'bc'],
      [2, 3, '30.00', 'cd'],
      [4, 5, '10.00', 'ef'],
      [5, 4, '10.00', 'fe'],
    ]);
    // Set-off: 20 (E <-> F). Then, in network units: A can pay 0 (at its limit), B and C 100 each,
    // D can take 10. The most that settles: B pays 50 (settling B -> C), 10 of which C passes on
    // to D (settling 10 of C -> D): 50 + 10 = 60, with 50 network units moved.
    const p = await preview('EUR', 'SETOFF_AND_LIQUIDITY');
    expect([p.setoffTotal, p.liquidityTotal, p.liquidityUsed, p.outstandingAfter]).toEqual([
      '20.00',
      '60.00',
      '50.00',
      '70.00',
    ]);
    const byMember = new Map(p.members.map((x) => [x.memberId, x.networkPayment]));
    expect(m.map((id) => byMember.get(id) ?? null)).toEqual([
      '0.00',
      '50.00',
      '-40.00',
      '-10.00',
      '0.00',
      '0.00',
    ]);
    const done = await steward.commitClearing({
      networkId,
      currency: 'EUR',
      mode: 'SETOFF_AND_LIQUIDITY',
      snapshotHash: p.snapshotHash,
      idempotencyKey: newKey('clr'),
    });
    expect(done.userErrors).toEqual([]);
    expect(await outstanding('EUR')).toEqual({
      ab: '50.00',
      bc: '0.00',
      cd: '20.00',
      ef: '0.00',
      fe: '0.00',
    });
    const after = await balances();
    const moved = after.map((b, i) => new Decimal(b).minus(before[i]!).toFixed(3));
    expect(moved).toEqual(['0.000', '-50.000', '40.000', '10.000', '0.000', '0.000']);
    expect(after[3]).toBe('110.000');
    const proof = await steward.networkBalanceProof({ networkId });
    expect(proof!.balanceProof.holds).toBe(true);
  });
});

describe('a cycle through a member at its limit', () => {
  it('set-off moves no network unit: A at -100 of a 100 limit still clears its cycle', async () => {
    // A (member 0) sits at its limit since the liquidity case; D (member 3) at its upper bound.
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'HUF', scale: 2 } });
    expect(added.userErrors).toEqual([]);
    const before = await balances();
    expect([before[0], before[3]]).toEqual(['-100.000', '110.000']);
    await record('HUF', [
      [0, 1, '40.00', 'ab'],
      [1, 3, '40.00', 'bd'],
      [3, 0, '25.00', 'da'],
    ]);
    // The cycle clears by its smallest link, 25 x 3 = 75; A -> B 15 and B -> D 15 are left.
    const p = await preview('HUF');
    expect([p.setoffTotal, p.outstandingAfter]).toEqual(['75.00', '30.00']);
    await commit('HUF', p.snapshotHash);
    expect(await outstanding('HUF')).toEqual({ ab: '15.00', bd: '15.00', da: '0.00' });
    expect(await balances()).toEqual(before);
  });
});

describe('the largest amounts an obligation may hold', () => {
  it('a cycle of 999999999999999999.99 CHF a link, with a second invoice on one link, clears exactly', async () => {
    const big = '999999999999999999.99';
    await record('CHF', [
      [0, 1, big, 'ab'],
      [1, 2, big, 'bc'],
      [2, 0, big, 'ca'],
      [2, 0, '0.01', 'ca-small'],
    ]);
    const p = await preview('CHF');
    // 3 x 999999999999999999.99 + 0.01 outstanding. C owes A 0.01 more than A owes B: A's +0.01 and
    // C's -0.01 stay, so 0.01 of C -> A is left and 3 x 999999999999999999.99 clears.
    expect([p.outstandingBefore, p.setoffTotal, p.outstandingAfter]).toEqual([
      '2999999999999999999.98',
      '2999999999999999999.97',
      '0.01',
    ]);
    const positionsBefore = await positions('CHF');
    const done = await commit('CHF', p.snapshotHash);
    expect(done.setoffTotal).toBe('2999999999999999999.97');
    const left = await outstanding('CHF');
    expect([left.ab, left.bc]).toEqual(['0.00', '0.00']);
    expect(new Decimal(left.ca!).plus(left['ca-small']!).toFixed(2)).toBe('0.01');
    expect(await positions('CHF')).toEqual(positionsBefore);
  });
  it('set-offs that sum past what one line carries (recorded a batch at a time) still commit', async () => {
    // A owes B, and B owes A, 600000000000000000.00 GBP twice each, each invoice in a request of its
    // own: every recorded line holds one invoice. Clearing sets off 2400000000000000000.00, and each
    // member's payable and receivable move by 1200000000000000000.00: 19 integer digits, more than
    // one line may carry, so the clearing's entry must split them.
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'GBP', scale: 2 } });
    expect(added.userErrors).toEqual([]);
    const six = '600000000000000000.00';
    for (const row of [
      [0, 1, six, 'ab1'],
      [0, 1, six, 'ab2'],
      [1, 0, six, 'ba1'],
      [1, 0, six, 'ba2'],
    ] as const)
      await record('GBP', [row]);
    const p = await preview('GBP');
    expect([p.setoffTotal, p.outstandingAfter]).toEqual(['2400000000000000000.00', '0.00']);
    const done = await commit('GBP', p.snapshotHash);
    expect(done.setoffTotal).toBe('2400000000000000000.00');
    expect(Object.values(await outstanding('GBP'))).toEqual(['0.00', '0.00', '0.00', '0.00']);
  });

  it('a clearing whose totals pass 10^20 (102 invoices of the largest amount) commits and reads back exactly', async () => {
    // 34 invoices of 999999999999999999.99 AUD on each link of A -> B -> C -> A: every member is
    // owed and owes 33999999999999999999.66 (inside the ledger's 10^20 running totals), and the
    // network's outstanding is 101999999999999999998.98, past 10^20. Everything clears.
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'AUD', scale: 2 } });
    expect(added.userErrors).toEqual([]);
    const big = '999999999999999999.99';
    await record(
      'AUD',
      Array.from({ length: 102 }, (_, k) => [k % 3, (k + 1) % 3, big, `r${k}`] as const),
    );
    const p = await preview('AUD');
    expect([p.outstandingBefore, p.setoffTotal, p.outstandingAfter]).toEqual([
      '101999999999999999998.98',
      '101999999999999999998.98',
      '0.00',
    ]);
    const done = await commit('AUD', p.snapshotHash);
    expect([done.outstandingBefore, done.setoffTotal, done.outstandingAfter]).toEqual([
      '101999999999999999998.98',
      '101999999999999999998.98',
      '0.00',
    ]);
    const listed = await steward.networkClearings({ networkId, first: 100 });
    const again = listed!.clearings.edges.find((e) => e.node.id === done.id)!.node;
    expect(again.setoffTotal).toBe('101999999999999999998.98');
    expect(new Set(Object.values(await outstanding('AUD')))).toEqual(new Set(['0.00']));
  });
});

/** Seeded pseudo-random numbers in [0, 1): the same networks every run. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** The largest set-off as an LP over the obligations themselves: x_k in [0, amount_k], every net unchanged. */
function lpSetoff(rows: readonly { d: number; c: number; cents: number }[]): number {
  const members = [...new Set(rows.flatMap((r) => [r.d, r.c]))];
  const lp = [
    'Maximize',
    ` obj: ${rows.map((_, k) => `x${k}`).join(' + ')}`,
    'Subject To',
    ...members.map(
      (i) =>
        ` n${i}: 0${rows.map((r, k) => (r.c === i ? ` - x${k}` : r.d === i ? ` + x${k}` : '')).join('')} = 0`,
    ),
    'Bounds',
    ...rows.map((r, k) => ` 0 <= x${k} <= ${r.cents}`),
    'End',
  ].join('\n');
  const solution = highs.solve(lp);
  expect(solution.Status).toBe('Optimal');
  return Math.round(solution.ObjectiveValue);
}

describe('random networks against an independent exact optimum (HiGHS)', () => {
  it.each([11, 12, 13])(
    'seed %i: the cleared total is the LP optimum, positions hold, no line exceeds its invoice',
    async (seed) => {
      const currency = ['SEK', 'NOK', 'DKK'][seed - 11]!;
      const added = await steward.addNetworkCurrency({ networkId, currency: { code: currency, scale: 2 } });
      expect(added.userErrors).toEqual([]);
      const next = random(seed);
      const rows: { d: number; c: number; cents: number }[] = [];
      for (let k = 0; k < 40; k++) {
        const d = Math.floor(next() * 6);
        const c = (d + 1 + Math.floor(next() * 5)) % 6;
        rows.push({ d, c, cents: 1 + Math.floor(next() * 50_000) });
      }
      await record(
        currency,
        rows.map(
          (r, k) => [r.d, r.c, (r.cents / 100).toFixed(2), `r${k}`, `2026-0${1 + (k % 9)}-15`] as const,
        ),
      );
      const positionsBefore = await positions(currency);
      const balancesBefore = await balances();
      const p = await preview(currency);
      const optimum = lpSetoff(rows);
      expect(new Decimal(p.setoffTotal).times(100).toNumber()).toBe(optimum);
      const invoices = await outstanding(currency);
      for (const { node } of p.lines.edges) {
        expect(new Decimal(node.setoff).gte(0)).toBe(true);
        expect(new Decimal(node.setoff).lte(invoices[node.reference.slice(4)]!)).toBe(true);
      }
      await commit(currency, p.snapshotHash);
      expect(await positions(currency)).toEqual(positionsBefore);
      expect(await balances()).toEqual(balancesBefore);
      const left = await outstanding(currency);
      const cleared = Object.keys(invoices).reduce(
        (s, ref) => s.plus(invoices[ref]!).minus(left[ref]!),
        new Decimal(0),
      );
      expect(cleared.toFixed(2)).toBe(p.setoffTotal);
      // What is left is acyclic: nothing more clears.
      expect((await preview(currency)).setoffTotal).toBe('0.00');
    },
  );
});

describe('commits racing, replayed and made stale', () => {
  it('two commits at once with different keys: one clears, the other finds nothing; a replay answers the first', async () => {
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'PLN', scale: 2 } });
    expect(added.userErrors).toEqual([]);
    await record('PLN', [
      [0, 1, '30.00', 'ab'],
      [1, 2, '30.00', 'bc'],
      [2, 0, '30.00', 'ca'],
    ]);
    const keys = [newKey('clr'), newKey('clr')];
    const answers = await Promise.all(
      keys.map((idempotencyKey) => steward.commitClearing({ networkId, currency: 'PLN', idempotencyKey })),
    );
    const codes = answers.map((a) => a.userErrors.map((e) => e.code).join(','));
    expect(codes.sort()).toEqual(['', 'NOTHING_TO_CLEAR']);
    const winner = answers.findIndex((a) => a.userErrors.length === 0);
    expect(answers[winner]!.clearing!.setoffTotal).toBe('90.00');
    const replay = await steward.commitClearing({
      networkId,
      currency: 'PLN',
      idempotencyKey: keys[winner]!,
    });
    expect(replay.replayed).toBe(true);
    expect(replay.clearing!.id).toBe(answers[winner]!.clearing!.id);
    const reused = await steward.commitClearing({
      networkId,
      currency: 'PLN',
      mode: 'SETOFF_AND_LIQUIDITY',
      idempotencyKey: keys[winner]!,
    });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await outstanding('PLN')).toEqual({ ab: '0.00', bc: '0.00', ca: '0.00' });
  });

  it('a commit racing a new obligation clears either before it or with it, never beyond what is outstanding', async () => {
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'CZK', scale: 2 } });
    expect(added.userErrors).toEqual([]);
    await record('CZK', [
      [0, 1, '10.00', 'ab'],
      [1, 0, '10.00', 'ba'],
    ]);
    const [committed, recorded] = await Promise.all([
      steward.commitClearing({ networkId, currency: 'CZK', idempotencyKey: newKey('clr') }),
      steward.recordObligations({
        networkId,
        idempotencyKey: newKey('obl'),
        obligations: [
          {
            debtorId: m[1]!,
            creditorId: m[0]!,
            currency: 'CZK',
            amount: '5.00',
            dueOn: '2026-01-01',
            reference: 'CZK-ba2',
          },
        ],
      }),
    ]);
    expect(committed.userErrors).toEqual([]);
    expect(recorded.userErrors).toEqual([]);
    const left = await outstanding('CZK');
    // Before the new invoice: ab against ba, 20, ba2 left whole. With it: ab (10) against ba2 (5,
    // older) and 5 of ba, 20 again. Either way 5 of B's debts to A is left, none of A's.
    expect(committed.clearing!.setoffTotal).toBe('20.00');
    expect(new Decimal(left.ab!).plus(left.ba!).plus(left.ba2!).toFixed(2)).toBe('5.00');
    expect(left.ab).toBe('0.00');
  });

  it('a payment between a liquidity preview and its commit makes the preview stale', async () => {
    // EUR is the unit's peg. Left from above: A -> B 50 (A at its limit), C -> D 20 (D full).
    // E owes F 10 more, and E may pay it in network units.
    await record('EUR', [[4, 5, '10.00', 'ef2']]);
    const p = await preview('EUR', 'SETOFF_AND_LIQUIDITY');
    expect([p.setoffTotal, p.liquidityTotal]).toEqual(['0.00', '10.00']);
    const paid = await treasurers[4]!.payInNetwork({
      payerId: m[4]!,
      payeeId: m[5]!,
      amount: '1.000',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors).toEqual([]);
    const stale = await steward.commitClearing({
      networkId,
      currency: 'EUR',
      mode: 'SETOFF_AND_LIQUIDITY',
      snapshotHash: p.snapshotHash,
      idempotencyKey: newKey('clr'),
    });
    expect(stale.userErrors.map((e) => e.code)).toEqual(['CLEARING_STALE']);
    expect((await outstanding('EUR')).ef2).toBe('10.00');
    // Previewed again, the same commit goes through.
    const fresh = await preview('EUR', 'SETOFF_AND_LIQUIDITY');
    const done = await steward.commitClearing({
      networkId,
      currency: 'EUR',
      mode: 'SETOFF_AND_LIQUIDITY',
      snapshotHash: fresh.snapshotHash,
      idempotencyKey: newKey('clr'),
    });
    expect(done.userErrors).toEqual([]);
    expect((await outstanding('EUR')).ef2).toBe('0.00');
  });
});

describe('obligations from CSV', () => {
  it('a file with a BOM, CRLF, columns in another order, quoted and unicode references records exactly', async () => {
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'RON', scale: 2 } });
    expect(added.userErrors).toEqual([]);
    const net = await steward.creditNetwork({ id: networkId, first: 10 });
    const number = new Map(net!.members.edges.map((e) => [e.node.id, e.node.number]));
    const n = (i: number) => number.get(m[i]!)!;
    const csv =
      '\uFEFFReference,Amount,Currency,Due_On,Creditor,Debtor\r\n' +
      `"RON-a,b ""1""",10.50,RON,2026-03-01,${n(1)},${n(0)}\r\n` +
      `RON-café-€-😀,10.5,RON,2026-02-01,${n(0)},${n(1)}\r\n`;
    const key = newKey('csv');
    const imported = await steward.importObligationsCsv({ networkId, csv, idempotencyKey: key });
    expect(imported.userErrors).toEqual([]);
    expect(imported.rowErrors).toEqual([]);
    expect(imported.recorded).toBe(2);
    const again = await steward.importObligationsCsv({ networkId, csv, idempotencyKey: key });
    expect([again.recorded, again.replayed]).toEqual([2, true]);
    expect(await outstanding('RON')).toEqual({ 'a,b "1"': '10.50', 'café-€-😀': '10.50' });
    const p = await preview('RON');
    expect(p.setoffTotal).toBe('21.00');
    expect(p.lines.edges.map((e) => e.node.reference).sort()).toEqual(['RON-a,b "1"', 'RON-café-€-😀']);
    // The same invoice again, in a file of its own: refused, naming the line and column.
    const twice = await steward.importObligationsCsv({
      networkId,
      csv: `debtor,creditor,currency,amount,due_on,reference\n${n(1)},${n(0)},RON,1.00,2026-02-01,RON-café-€-😀\n`,
      idempotencyKey: newKey('csv'),
    });
    expect(twice.recorded).toBe(0);
    expect([...twice.userErrors.map((e) => e.code), ...twice.rowErrors.map((e) => e.code)]).toEqual([
      'DUPLICATE_OBLIGATION',
    ]);
  });
});

describe('a liquidity clearing racing payments of the same members', () => {
  it('whichever comes first, no limit is passed, every position holds and the sum stays zero', async () => {
    const race = await setupNetwork(
      server.url,
      admin,
      {
        name: 'Race clearing',
        unit: { code: 'SRD', scale: 2 },
        pegCurrency: 'EUR',
        pegRate: '1',
        currencies: [{ code: 'EUR', scale: 2 }],
        policy: { defaultLimit: '100.00' },
      },
      3,
    );
    const [a, b, c] = race.members as [string, string, string];
    const recorded = await race.steward.recordObligations({
      networkId: race.networkId,
      idempotencyKey: newKey('obl'),
      obligations: [
        {
          debtorId: a,
          creditorId: b,
          currency: 'EUR',
          amount: '80.00',
          dueOn: '2026-01-01',
          reference: 'ab',
        },
        {
          debtorId: b,
          creditorId: c,
          currency: 'EUR',
          amount: '80.00',
          dueOn: '2026-01-01',
          reference: 'bc',
        },
      ],
    });
    expect(recorded.userErrors).toEqual([]);
    // A may pay 100 in network units; it also pays C 10 twenty times at once with the clearing.
    const [cleared, ...paid] = await Promise.all([
      race.steward.commitClearing({
        networkId: race.networkId,
        currency: 'EUR',
        mode: 'SETOFF_AND_LIQUIDITY',
        idempotencyKey: newKey('clr'),
      }),
      ...Array.from({ length: 20 }, () =>
        race.coops[0]!.treasurer.payInNetwork({
          payerId: a,
          payeeId: c,
          amount: '10.00',
          idempotencyKey: newKey('pay'),
        }),
      ),
    ]);
    expect(cleared!.userErrors).toEqual([]);
    const payments = paid.filter((p) => p.userErrors.length === 0).length;
    for (const p of paid)
      expect(p.userErrors.map((e) => e.code)).toEqual(p.userErrors.length ? ['BALANCE_BOUND_EXCEEDED'] : []);
    // A's 100 of credit went to the clearing (each unit settles 2 obligations) and to payments.
    const used = new Decimal(cleared!.clearing!.liquidityUsed);
    expect(used.plus(payments * 10).lte(100)).toBe(true);
    expect(cleared!.clearing!.liquidityTotal).toBe(used.times(2).toFixed(2));
    const view = await race.steward.creditNetwork({ id: race.networkId, first: 10 });
    const bal = new Map(view!.members.edges.map((e) => [e.node.id, new Decimal(e.node.balance!)]));
    expect(bal.get(a)!.toFixed(2)).toBe(
      used
        .plus(payments * 10)
        .neg()
        .toFixed(2),
    );
    expect(bal.get(b)!.toFixed(2)).toBe('0.00');
    expect(bal.get(c)!.toFixed(2)).toBe(used.plus(payments * 10).toFixed(2));
    // With no payment before it the clearing uses 80; else what the payments left of A's credit.
    expect(payments * 10 + used.toNumber()).toBe(Math.min(100, payments * 10 + 80));
    const proof = await race.steward.networkBalanceProof({ networkId: race.networkId });
    expect(proof!.balanceProof.holds).toBe(true);
  });
});

describe("a preview's lines paged both ways", () => {
  it('backward pages (last, before) give the forward order reversed, each line once', async () => {
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'BGN', scale: 2 } });
    expect(added.userErrors).toEqual([]);
    await record(
      'BGN',
      Array.from({ length: 7 }, (_, k) => [k % 6, (k + 1) % 6, `${k + 1}.00`, `r${k}`] as const),
    );
    const forward = (await preview('BGN')).lines.edges.map((e) => e.node.obligationId);
    expect(forward.length).toBeGreaterThan(3);
    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const query: string = `{ previewClearing(networkId: "${networkId}", currency: "BGN") { preview { lines(last: 2${
        before ? `, before: "${before}"` : ''
      }) { totalCount pageInfo { hasPreviousPage startCursor } edges { node { obligationId } } } } } }`;
      const { body } = await graphqlAsAdmin(server.url, query);
      expect(body.errors).toBeUndefined();
      const lines = (
        body.data!.previewClearing as {
          preview: {
            lines: {
              totalCount: number;
              pageInfo: { hasPreviousPage: boolean; startCursor: string };
              edges: { node: { obligationId: string } }[];
            };
          };
        }
      ).preview.lines;
      expect(lines.totalCount).toBe(forward.length);
      backward.unshift(...lines.edges.map((e) => e.node.obligationId));
      if (!lines.pageInfo.hasPreviousPage) break;
      before = lines.pageInfo.startCursor;
    }
    expect(backward).toEqual(forward);
  });
});

describe("obligations past what the ledger's running totals hold", () => {
  it("are refused as a whole, naming the request's obligations, not an internal entry line", async () => {
    const added = await steward.addNetworkCurrency({ networkId, currency: { code: 'MXN', scale: 2 } });
    expect(added.userErrors).toEqual([]);
    // 101 invoices of 999999999999999999.99: B's receivable would total past 10^20.
    const refused = await steward.recordObligations({
      networkId,
      idempotencyKey: newKey('obl'),
      obligations: Array.from({ length: 101 }, (_, k) => ({
        debtorId: m[0]!,
        creditorId: m[1]!,
        currency: 'MXN',
        amount: '999999999999999999.99',
        dueOn: '2026-01-31',
        reference: `MXN-${k}`,
      })),
    });
    expect(refused.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_AMOUNT', 'obligations']]);
    expect(refused.recorded).toBe(0);
    expect(await outstanding('MXN')).toEqual({});
  });
});

describe('the liquidity mode and credit already reserved by a hold', () => {
  it('a payer with 60 of its 100 held pays at most 40 in the clearing; after the hold is released, 80', async () => {
    const held = await setupNetwork(
      server.url,
      admin,
      {
        name: 'Hold clearing',
        unit: { code: 'SRD', scale: 2 },
        pegCurrency: 'EUR',
        pegRate: '1',
        currencies: [{ code: 'EUR', scale: 2 }],
        policy: { defaultLimit: '100.00' },
      },
      3,
    );
    const [a, b, c] = held.members as [string, string, string];
    const asked = await held.coops[2]!.treasurer.createPaymentRequest({
      payerId: a,
      payeeId: c,
      amount: '60.00',
      idempotencyKey: newKey('req'),
    });
    const hold = await held.coops[0]!.treasurer.acceptPaymentRequest({
      requestId: asked.request!.id,
      idempotencyKey: newKey('acc'),
      hold: true,
    });
    expect(hold.request!.status).toBe('HELD');
    const recorded = await held.steward.recordObligations({
      networkId: held.networkId,
      idempotencyKey: newKey('obl'),
      obligations: [
        {
          debtorId: a,
          creditorId: b,
          currency: 'EUR',
          amount: '80.00',
          dueOn: '2026-01-01',
          reference: 'ab',
        },
      ],
    });
    expect(recorded.userErrors).toEqual([]);
    const p = (
      await held.steward.previewClearing({
        networkId: held.networkId,
        currency: 'EUR',
        mode: 'SETOFF_AND_LIQUIDITY',
      })
    ).preview!;
    expect([p.liquidityTotal, p.liquidityUsed, p.outstandingAfter]).toEqual(['40.00', '40.00', '40.00']);
    const released = await held.coops[2]!.treasurer.releasePaymentRequest({
      requestId: asked.request!.id,
      idempotencyKey: newKey('rel'),
    });
    expect(released.userErrors).toEqual([]);
    const after = (
      await held.steward.previewClearing({
        networkId: held.networkId,
        currency: 'EUR',
        mode: 'SETOFF_AND_LIQUIDITY',
      })
    ).preview!;
    expect([after.liquidityTotal, after.outstandingAfter]).toEqual(['80.00', '0.00']);
  });
});
