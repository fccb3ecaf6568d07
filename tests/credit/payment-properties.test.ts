/**
 * Random payment sequences through the SDK and real PostgreSQL (issue 14's property tests): with
 * tight limits (50.00 below zero, 80.00 above) many payments are refused. One at a time, each
 * answer is the one a model of the balances predicts (refused with BALANCE_BOUND_EXCEEDED exactly
 * when the payer would go below its limit or the payee above its upper bound); in concurrent
 * bursts, whatever was accepted adds up to the balances. After every step the network sums to
 * zero and no account is outside its bounds. Seeded, so a failure replays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { fromMinor, ledgerClient, newKey, seededRandom, toMinor } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MEMBERS = 4;
const LIMIT = 5_000n; // 50.00 in minor units
const UPPER = 8_000n; // 80.00

let server: TestServer;
let steward: LedgerClient;
let networkId: string;
const coops: CoopFixture[] = [];
const members: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  const network = await setupNetwork(
    server.url,
    ledgerClient(server.url),
    {
      name: 'Random circuit',
      unit: { code: 'SRD', scale: 2 },
      policy: {
        defaultLimit: fromMinor(LIMIT, 2),
        softLimitPercent: 80,
        defaultUpperBound: fromMinor(UPPER, 2),
      },
    },
    MEMBERS,
  );
  ({ networkId, steward } = network);
  coops.push(...network.coops);
  members.push(...network.members);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

/** Balances in minor units by member index, read through the API; checks the sum and the bounds. */
async function readBalances(): Promise<bigint[]> {
  const net = await steward.creditNetwork({ id: networkId, first: 100 });
  const byId = new Map(net!.members.edges.map((e) => [e.node.id, e.node]));
  const balances = members.map((id) => toMinor(byId.get(id)!.balance!, 2));
  expect(balances.reduce((s, b) => s + b, 0n)).toBe(0n);
  for (const b of balances) {
    expect(b >= -LIMIT).toBe(true);
    expect(b <= UPPER).toBe(true);
  }
  return balances;
}

function randomPayment(random: () => number) {
  const from = Math.floor(random() * MEMBERS);
  const to = (from + 1 + Math.floor(random() * (MEMBERS - 1))) % MEMBERS;
  // 0.01 to 40.00: some fit, some cross a bound.
  const amount = 1n + BigInt(Math.floor(random() * 4_000));
  return { from, to, amount };
}

const pay = (p: { from: number; to: number; amount: bigint }) =>
  coops[p.from]!.treasurer.payInNetwork({
    payerId: members[p.from]!,
    payeeId: members[p.to]!,
    amount: fromMinor(p.amount, 2),
    idempotencyKey: newKey('pay'),
  });

describe('random payment sequences', () => {
  it('one at a time: every answer is the one the bounds predict, the sum stays zero', async () => {
    const random = seededRandom(1414);
    const model = await readBalances();
    let refused = 0;
    for (let step = 0; step < 60; step++) {
      const p = randomPayment(random);
      const fits = model[p.from]! - p.amount >= -LIMIT && model[p.to]! + p.amount <= UPPER;
      const answer = await pay(p);
      if (fits) {
        expect(answer.userErrors).toEqual([]);
        model[p.from] = model[p.from]! - p.amount;
        model[p.to] = model[p.to]! + p.amount;
      } else {
        expect(answer.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
        refused++;
      }
      if (step % 10 === 9) expect(await readBalances()).toEqual(model);
    }
    expect(await readBalances()).toEqual(model);
    // The sequence is worth something only if both answers occurred.
    expect(refused).toBeGreaterThan(5);
    expect(refused).toBeLessThan(55);
  });

  it('in concurrent bursts of 12: what was accepted adds up to the balances, within bounds', async () => {
    for (const seed of [7, 99, 2026]) {
      const random = seededRandom(seed);
      const model = await readBalances();
      for (let burst = 0; burst < 4; burst++) {
        const payments = Array.from({ length: 12 }, () => randomPayment(random));
        const answers = await Promise.all(payments.map(pay));
        answers.forEach((answer, i) => {
          const p = payments[i]!;
          if (answer.userErrors.length === 0) {
            model[p.from] = model[p.from]! - p.amount;
            model[p.to] = model[p.to]! + p.amount;
          } else expect(answer.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
        });
        expect(await readBalances()).toEqual(model);
      }
    }
  });
});
