/**
 * Payment requests and payments after a refusal, replayed, and under concurrency, through real
 * HTTP, the SDK and real PostgreSQL: a key refused once answers that refusal again and never posts
 * later, whatever the payer's balance has become; a request declined, cancelled or expired never
 * posts; concurrent payments, acceptances and holds on one payer never take it past its limit.
 */
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

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
      name: 'Refusal circuit',
      unit: { code: 'SRD', scale: 2 },
      policy: { defaultLimit: '100.00', softLimitPercent: 80 },
    },
    5,
  );
  ({ steward, networkId } = network);
  coops.push(...network.coops);
  members.push(...network.members);
});

afterAll(async () => {
  await server?.stop();
});

const pay = (from: number, to: number, amount: string, key = newKey('pay')) =>
  coops[from]!.treasurer.payInNetwork({
    payerId: members[from]!,
    payeeId: members[to]!,
    amount,
    idempotencyKey: key,
  });

async function balance(i: number): Promise<string> {
  const net = await steward.creditNetwork({ id: networkId, first: 100 });
  return net!.members.edges.find((e) => e.node.id === members[i])!.node.balance!;
}

async function request(payer: number, payee: number, amount: string) {
  const made = await coops[payee]!.treasurer.createPaymentRequest({
    payeeId: members[payee]!,
    payerId: members[payer]!,
    amount,
    idempotencyKey: newKey('req'),
  });
  expect(made.userErrors).toEqual([]);
  return made.request!.id;
}

describe('after a refusal', () => {
  it('a payment refused past the limit, replayed once the payer has credit, answers the refusal again', async () => {
    const key = newKey('pay');
    const refused = await pay(0, 1, '150.00', key);
    expect(refused.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    // Member 0 is paid 100: 150 would now fit within its limit.
    expect((await pay(2, 0, '100.00')).userErrors).toEqual([]);
    const replayed = await pay(0, 1, '150.00', key);
    expect(replayed.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect(await balance(0)).toBe('100.00');
  });

  it('an acceptance refused past the limit, replayed once the payer has credit, answers the refusal again', async () => {
    // Member 3 (balance 0, limit 100) is asked for 150 and accepts: refused.
    const id = await request(3, 4, '150.00');
    const key = newKey('acc');
    const refused = await coops[3]!.treasurer.acceptPaymentRequest({ requestId: id, idempotencyKey: key });
    expect(refused.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect((await pay(1, 3, '60.00')).userErrors).toEqual([]);
    // The same acceptance sent again (a client retrying what it thinks was lost) must not post
    // now: the key's first decision was a refusal.
    const replayed = await coops[3]!.treasurer.acceptPaymentRequest({ requestId: id, idempotencyKey: key });
    expect(replayed.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect(await balance(3)).toBe('60.00');
    // A new decision (a new key) is the payer's choice to try again: it may pay.
    const again = await coops[3]!.treasurer.acceptPaymentRequest({
      requestId: id,
      idempotencyKey: newKey('acc'),
    });
    expect(again.userErrors).toEqual([]);
    expect(again.request!.status).toBe('PAID');
    expect(await balance(3)).toBe('-90.00');
  });

  it("a refused acceptance's key given for another request, or with a hold, is a reused key", async () => {
    const id = await request(4, 2, '500.00');
    const key = newKey('acc');
    const refused = await coops[4]!.treasurer.acceptPaymentRequest({ requestId: id, idempotencyKey: key });
    expect(refused.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    const other = await request(4, 2, '1.00');
    const elsewhere = await coops[4]!.treasurer.acceptPaymentRequest({
      requestId: other,
      idempotencyKey: key,
    });
    expect(elsewhere.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const held = await coops[4]!.treasurer.acceptPaymentRequest({
      requestId: id,
      idempotencyKey: key,
      hold: true,
    });
    expect(held.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    // The payee, who may not accept, learns nothing from the key.
    const payee = await coops[2]!.treasurer.acceptPaymentRequest({ requestId: id, idempotencyKey: key });
    expect(payee.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_PAYMENT_REQUEST']);
  });

  it('a declined or cancelled request never posts, by its own key or any other', async () => {
    const declined = await request(1, 2, '5.00');
    const decline = newKey('dec');
    expect(
      (await coops[1]!.treasurer.declinePaymentRequest({ requestId: declined, idempotencyKey: decline }))
        .userErrors,
    ).toEqual([]);
    const cancelled = await request(1, 2, '5.00');
    expect(
      (
        await coops[2]!.treasurer.cancelPaymentRequest({
          requestId: cancelled,
          idempotencyKey: newKey('can'),
        })
      ).userErrors,
    ).toEqual([]);
    const before = await balance(1);
    for (const id of [declined, cancelled]) {
      const late = await coops[1]!.treasurer.acceptPaymentRequest({
        requestId: id,
        idempotencyKey: newKey('acc'),
      });
      expect(late.userErrors.map((e) => e.code)).toEqual(['PAYMENT_REQUEST_NOT_OPEN']);
      const held = await coops[1]!.treasurer.acceptPaymentRequest({
        requestId: id,
        idempotencyKey: newKey('acc'),
        hold: true,
      });
      expect(held.userErrors.map((e) => e.code)).toEqual(['PAYMENT_REQUEST_NOT_OPEN']);
    }
    const reused = await coops[1]!.treasurer.acceptPaymentRequest({
      requestId: declined,
      idempotencyKey: decline,
    });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await balance(1)).toBe(before);
  });
});

describe('concurrent payments, acceptances and holds on one payer', () => {
  it('never take it past its limit: what went through adds up to its balance and reservations', async () => {
    // A fresh payer (limit 100, balance 0): 12 payments, 12 acceptances and 6 holds of 10 at once.
    const network = await setupNetwork(
      server.url,
      ledgerClient(server.url),
      { name: 'Race circuit', unit: { code: 'SRD', scale: 2 }, policy: { defaultLimit: '100.00' } },
      3,
    );
    const [payer, payee] = network.coops as [CoopFixture, CoopFixture];
    const [payerId, payeeId, thirdId] = network.members as [string, string, string];
    const requests = await Promise.all(
      Array.from({ length: 18 }, async () => {
        const made = await payee.treasurer.createPaymentRequest({
          payeeId,
          payerId,
          amount: '10.00',
          idempotencyKey: newKey('req'),
        });
        return made.request!.id;
      }),
    );
    const answers = await Promise.all([
      ...Array.from({ length: 12 }, () =>
        payer.treasurer.payInNetwork({
          payerId,
          payeeId: thirdId,
          amount: '10.00',
          idempotencyKey: newKey('pay'),
        }),
      ),
      ...requests.map((requestId, i) =>
        payer.treasurer.acceptPaymentRequest({ requestId, idempotencyKey: newKey('acc'), hold: i >= 12 }),
      ),
    ]);
    const codes = answers.flatMap((a) => a.userErrors.map((e) => e.code));
    expect(new Set(codes)).toEqual(new Set(['BALANCE_BOUND_EXCEEDED']));
    const through = answers.filter((a) => a.userErrors.length === 0).length;
    expect(through).toBe(10);
    const view = await network.steward.creditNetwork({ id: network.networkId, first: 10 });
    const own = view!.members.edges.find((e) => e.node.id === payerId)!.node;
    const others = view!.members.edges
      .filter((e) => e.node.id !== payerId)
      .map((e) => new Decimal(e.node.balance!));
    // Paid and held together use the whole limit: the balance less what is reserved is -100.
    expect(own.available).toBe('-100.00');
    expect(
      new Decimal(own.balance!).plus(others.reduce((s, b) => s.plus(b), new Decimal(0))).toFixed(2),
    ).toBe('0.00');
    const proof = await network.steward.networkBalanceProof({ networkId: network.networkId });
    expect(proof!.balanceProof.holds).toBe(true);
  });
});
