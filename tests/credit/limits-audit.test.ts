/**
 * Credit limits at their edges, through real HTTP, the SDK and real PostgreSQL, each with the
 * arithmetic worked by hand: a payment exactly to the limit goes through and a cent more does not;
 * the soft limit warns strictly below its floor; a limit lowered below a balance lets the member
 * receive but not pay until back within it; an upper bound is reached exactly and not passed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let steward: LedgerClient;
let networkId: string;
let coops: CoopFixture[] = [];
let members: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  const network = await setupNetwork(
    server.url,
    ledgerClient(server.url),
    {
      name: 'Edge circuit',
      unit: { code: 'SRD', scale: 2 },
      policy: { defaultLimit: '100.00', softLimitPercent: 80, defaultUpperBound: '150.00' },
    },
    4,
  );
  ({ steward, networkId } = network);
  coops = network.coops;
  members = network.members;
});

afterAll(async () => {
  await server?.stop();
});

const pay = (from: number, to: number, amount: string) =>
  coops[from]!.treasurer.payInNetwork({
    payerId: members[from]!,
    payeeId: members[to]!,
    amount,
    idempotencyKey: newKey('pay'),
  });

async function balances(): Promise<string[]> {
  const net = await steward.creditNetwork({ id: networkId, first: 10 });
  const byId = new Map(net!.members.edges.map((e) => [e.node.id, e.node.balance!]));
  return members.map((id) => byId.get(id)!);
}

describe('limits at their edges', () => {
  it('the soft floor (-80.00) warns strictly below it; the limit (-100.00) is reached exactly, not passed', async () => {
    const atFloor = await pay(0, 1, '80.00');
    expect([atFloor.userErrors, atFloor.warning]).toEqual([[], null]);
    const belowFloor = await pay(0, 1, '0.01');
    expect(belowFloor.userErrors).toEqual([]);
    expect(belowFloor.warning).toMatch(/balance -80\.01 is below 80% of the credit limit/);
    const toLimit = await pay(0, 1, '19.99');
    expect(toLimit.userErrors).toEqual([]);
    const past = await pay(0, 1, '0.01');
    expect(past.userErrors.map((e) => [e.code, e.field])).toEqual([['BALANCE_BOUND_EXCEEDED', 'amount']]);
    expect((await balances()).slice(0, 2)).toEqual(['-100.00', '100.00']);
  });

  it('the upper bound (150.00) is reached exactly, not passed', async () => {
    // Member 1 holds 100.00; member 2 pays it 50.00 (to 150.00), then 0.01 more is refused.
    expect((await pay(2, 1, '50.00')).userErrors).toEqual([]);
    const past = await pay(3, 1, '0.01');
    expect(past.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect((await balances())[1]).toBe('150.00');
  });

  it('a limit lowered below the balance: the member receives, cannot pay, and pays again once within', async () => {
    // Member 2 is at -50.00; the steward lowers its limit to 20.00.
    const lowered = await steward.setCreditLimit({
      memberId: members[2]!,
      limit: '20.00',
      reason: 'audit: below the balance',
      idempotencyKey: newKey('lim'),
    });
    expect(lowered.userErrors).toEqual([]);
    expect(lowered.member!.limit).toBe('20.00');
    const cannot = await pay(2, 3, '0.01');
    expect(cannot.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect((await pay(3, 2, '25.00')).userErrors).toEqual([]);
    // -25.00 is still beyond -20.00: paying is still refused.
    expect((await pay(2, 3, '0.01')).userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect((await pay(3, 2, '5.00')).userErrors).toEqual([]);
    // At -20.00 exactly, within: nothing more may go out, and 5.00 in lets 5.00 out.
    expect((await pay(2, 3, '0.01')).userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect((await pay(3, 2, '5.00')).userErrors).toEqual([]);
    expect((await pay(2, 3, '5.00')).userErrors).toEqual([]);
    expect(await balances()).toEqual(['-100.00', '150.00', '-20.00', '-30.00']);
    const proof = await steward.networkBalanceProof({ networkId });
    expect(proof!.balanceProof).toMatchObject({ sum: '0.00', holds: true });
  });
});

describe('the zero-sum proof as of past instants', () => {
  it('gives the balances each payment left, inclusive of the instant, and nothing before the first', async () => {
    const network = await setupNetwork(
      server.url,
      ledgerClient(server.url),
      { name: 'Proof circuit', unit: { code: 'SRD', scale: 2 }, policy: { defaultLimit: '100.00' } },
      3,
    );
    const [a, b, c] = network.members as [string, string, string];
    const first = await network.coops[0]!.treasurer.payInNetwork({
      payerId: a,
      payeeId: b,
      amount: '30.00',
      idempotencyKey: newKey('pay'),
    });
    const second = await network.coops[0]!.treasurer.payInNetwork({
      payerId: a,
      payeeId: c,
      amount: '20.00',
      idempotencyKey: newKey('pay'),
    });
    expect([first.userErrors, second.userErrors]).toEqual([[], []]);
    const proof = async (asOf: string) =>
      (await network.steward.networkBalanceProof({ networkId: network.networkId, asOf }))!.balanceProof;
    const t1 = new Date(first.effectiveAt!);
    const t2 = new Date(second.effectiveAt!);
    expect(t2 >= t1).toBe(true);
    const before = await proof(new Date(t1.getTime() - 1).toISOString());
    expect([before.sum, before.positive, before.negative, before.holds]).toEqual([
      '0.00',
      '0.00',
      '0.00',
      true,
    ]);
    if (t2 > t1) {
      // After the first only: B +30, A -30.
      const between = await proof(t1.toISOString());
      expect([between.sum, between.positive, between.negative]).toEqual(['0.00', '30.00', '-30.00']);
    }
    // After both: A -50, B +30, C +20.
    const after = await proof(t2.toISOString());
    expect([after.sum, after.positive, after.negative, after.holds]).toEqual([
      '0.00',
      '50.00',
      '-50.00',
      true,
    ]);
    expect(after.accounts).toBe(4);
  });
});
