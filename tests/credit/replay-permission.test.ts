/**
 * An idempotency key is no password: replaying someone else's key answers nothing the caller may
 * not do itself. Every step of a payment request checks who the caller is before it looks the key
 * up, so a member treasurer (or the other party) who sends a request's id with the key another
 * treasurer used reads UNKNOWN_PAYMENT_REQUEST, not the remembered answer (the request, its entry).
 * The same for a payment: a treasurer who does not act for the payer cannot replay its key.
 * Through real HTTP, the SDK and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let steward: LedgerClient;
const coops: CoopFixture[] = [];
const members: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  const network = await setupNetwork(
    server.url,
    ledgerClient(server.url),
    {
      name: 'Replay circuit',
      unit: { code: 'SRD', scale: 2 },
      policy: { defaultLimit: '100.00', softLimitPercent: 80 },
    },
    3,
  );
  ({ steward } = network);
  coops.push(...network.coops);
  members.push(...network.members);
});

afterAll(async () => {
  await server?.stop();
});

// members[0] is the payee, members[1] the payer, members[2] a third member of the same network.
const payee = () => coops[0]!.treasurer;
const payer = () => coops[1]!.treasurer;
const outsider = () => coops[2]!.treasurer;

async function request(amount = '5.00') {
  const made = await payee().createPaymentRequest({
    payeeId: members[0]!,
    payerId: members[1]!,
    amount,
    idempotencyKey: newKey('req'),
  });
  expect(made.userErrors).toEqual([]);
  return made.request!.id;
}

type Answer = {
  userErrors: { code: string }[];
  request?: unknown;
  entryId?: string | null;
  replayed?: boolean | null;
};

/** A refused replay: the caller learns nothing of the request or its entry. */
function refused(answer: Answer) {
  expect(answer.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_PAYMENT_REQUEST']);
  expect(answer.request ?? null).toBeNull();
  expect(answer.entryId ?? null).toBeNull();
}

describe("replaying another caller's idempotency key", () => {
  it('accept: neither a third member nor the payee reads the payer’s remembered answer', async () => {
    const requestId = await request();
    const key = newKey('acc');
    const accepted = await payer().acceptPaymentRequest({ requestId, idempotencyKey: key });
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.entryId).not.toBeNull();
    refused(await outsider().acceptPaymentRequest({ requestId, idempotencyKey: key }));
    refused(await payee().acceptPaymentRequest({ requestId, idempotencyKey: key }));
    // The payer's own replay still answers the first decision.
    const again = await payer().acceptPaymentRequest({ requestId, idempotencyKey: key });
    expect(again.userErrors).toEqual([]);
    expect(again.replayed).toBe(true);
    expect((again.request as { status: string }).status).toBe('PAID');
  });

  it('decline and cancel: only the party who may take the step replays it', async () => {
    const declinedId = await request();
    const declineKey = newKey('dec');
    const declined = await payer().declinePaymentRequest({
      requestId: declinedId,
      idempotencyKey: declineKey,
      reason: 'not ordered',
    });
    expect(declined.userErrors).toEqual([]);
    for (const other of [outsider(), payee()])
      refused(
        await other.declinePaymentRequest({
          requestId: declinedId,
          idempotencyKey: declineKey,
          reason: 'not ordered',
        }),
      );

    const cancelledId = await request();
    const cancelKey = newKey('can');
    const cancelled = await payee().cancelPaymentRequest({
      requestId: cancelledId,
      idempotencyKey: cancelKey,
    });
    expect(cancelled.userErrors).toEqual([]);
    for (const other of [outsider(), payer()])
      refused(await other.cancelPaymentRequest({ requestId: cancelledId, idempotencyKey: cancelKey }));
    const again = await payee().cancelPaymentRequest({ requestId: cancelledId, idempotencyKey: cancelKey });
    expect(again.replayed).toBe(true);
  });

  it('complete and release of a hold: the payer and a third member read nothing', async () => {
    const completedId = await request('7.00');
    const held = await payer().acceptPaymentRequest({
      requestId: completedId,
      idempotencyKey: newKey('acc'),
      hold: true,
    });
    expect(held.userErrors).toEqual([]);
    const completeKey = newKey('cmp');
    const completed = await payee().completePaymentRequest({
      requestId: completedId,
      idempotencyKey: completeKey,
    });
    expect(completed.userErrors).toEqual([]);
    for (const other of [outsider(), payer()])
      refused(await other.completePaymentRequest({ requestId: completedId, idempotencyKey: completeKey }));

    const releasedId = await request('8.00');
    await payer().acceptPaymentRequest({ requestId: releasedId, idempotencyKey: newKey('acc'), hold: true });
    const releaseKey = newKey('rel');
    const released = await payee().releasePaymentRequest({
      requestId: releasedId,
      idempotencyKey: releaseKey,
    });
    expect(released.userErrors).toEqual([]);
    for (const other of [outsider(), payer()])
      refused(await other.releasePaymentRequest({ requestId: releasedId, idempotencyKey: releaseKey }));
    // A steward may release a hold, so it may replay the payee's release.
    const bySteward = await steward.releasePaymentRequest({
      requestId: releasedId,
      idempotencyKey: releaseKey,
    });
    expect(bySteward.userErrors).toEqual([]);
    expect(bySteward.replayed).toBe(true);
  });

  it("payInNetwork: a treasurer who does not act for the payer cannot replay the payer's key", async () => {
    const key = newKey('pay');
    const input = { payerId: members[1]!, payeeId: members[0]!, amount: '2.00', idempotencyKey: key };
    const paid = await payer().payInNetwork(input);
    expect(paid.userErrors).toEqual([]);
    for (const other of [outsider(), payee()]) {
      const replay = await other.payInNetwork(input);
      expect(replay.userErrors.map((e) => [e.code, e.field])).toEqual([
        ['UNKNOWN_NETWORK_MEMBER', 'payerId'],
      ]);
      expect(replay.entryId ?? null).toBeNull();
    }
  });
});
