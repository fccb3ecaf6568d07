/**
 * A mutual-credit network through real HTTP, the SDK and real PostgreSQL (issue 14): four co-ops
 * join; payments within limits and refused past them; the soft-limit warning; payment requests
 * accepted, held and completed, declined, expired; the dynamic limit growing with sales up to its
 * cap, every change in the log; who sees what; obligations and an exact clearing (two overlapping
 * cycles sharing an arc) whose positions hold, checked in the database at commit; the zero-sum proof
 * at any instant; statistics recomputed from the journal; 200 concurrent payments on three
 * accounts keep the sum at zero and every balance within its bounds.
 */
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, setupCoop } from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let steward: LedgerClient;
let networkId: string;
const coops: CoopFixture[] = [];
const members: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const network = await setupNetwork(
    server.url,
    admin,
    {
      name: 'Test circuit',
      unit: { code: 'SRD', scale: 2 },
      pegCurrency: 'EUR',
      pegRate: '1',
      currencies: [{ code: 'EUR', scale: 2 }],
      policy: { defaultLimit: '100.00', softLimitPercent: 80, defaultUpperBound: '1000.00' },
    },
    4,
  );
  ({ networkId, steward } = network);
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

async function balances(): Promise<Record<number, string>> {
  const net = await steward.creditNetwork({ id: networkId, first: 100 });
  return Object.fromEntries(net!.members.edges.map((e) => [e.node.number, e.node.balance!]));
}

async function proof(asOf?: string) {
  const answer = await steward.networkBalanceProof({ networkId, ...(asOf ? { asOf } : {}) });
  return answer!.balanceProof;
}

describe('networks, members and limits', () => {
  it("gives each member the policy's default limit and upper bound, logged as JOIN", async () => {
    const net = await steward.creditNetwork({ id: networkId, first: 10 });
    expect(net!.memberCount).toBe(4);
    expect(
      net!.members.edges.map((e) => [e.node.number, e.node.limit, e.node.upperBound, e.node.balance]),
    ).toEqual([
      [1, '100.00', '1000.00', '0.00'],
      [2, '100.00', '1000.00', '0.00'],
      [3, '100.00', '1000.00', '0.00'],
      [4, '100.00', '1000.00', '0.00'],
    ]);
    const history = await steward.networkMemberHistory({ networkId, memberId: members[0]!, first: 10 });
    expect(history!.member!.limitChanges.edges.map((e) => [e.node.source, e.node.limitAfter])).toEqual([
      ['JOIN', '100.00'],
    ]);
  });

  it('refuses a second join, a zero default limit and extra decimals, changing nothing', async () => {
    const again = await steward.joinCreditNetwork({
      networkId,
      coopId: coops[0]!.id,
      idempotencyKey: newKey('j'),
    });
    expect(again.userErrors.map((e) => e.code)).toEqual(['ALREADY_NETWORK_MEMBER']);
    const bad = await admin.createCreditNetwork({
      name: 'Bad',
      unit: { code: 'SRD', scale: 2 },
      policy: { defaultLimit: '0.00' },
    });
    expect(bad.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_AMOUNT', 'policy.defaultLimit']]);
    const decimals = await pay(0, 1, '1.001');
    expect(decimals.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_AMOUNT', 'amount']]);
  });
});

describe('payments', () => {
  it('pays within the limit, refuses past it (BALANCE_BOUND_EXCEEDED), warns below the soft limit', async () => {
    const first = await pay(0, 1, '70.00');
    expect(first.userErrors).toEqual([]);
    expect(first.warning).toBeNull();
    const soft = await pay(0, 1, '15.00');
    expect(soft.userErrors).toEqual([]);
    expect(soft.warning).toMatch(/below 80% of the credit limit/);
    const over = await pay(0, 1, '15.01');
    expect(over.userErrors.map((e) => [e.code, e.field])).toEqual([['BALANCE_BOUND_EXCEEDED', 'amount']]);
    expect((await balances())[1]).toBe('-85.00');
    expect((await proof()).holds).toBe(true);
  });

  it('replays a key with the same payment, refuses it with another (IDEMPOTENCY_KEY_REUSED)', async () => {
    const key = newKey('same');
    const a = await pay(2, 3, '5.00', key);
    const b = await pay(2, 3, '5.00', key);
    expect(b.replayed).toBe(true);
    expect(b.entryId).toBe(a.entryId);
    const c = await pay(2, 3, '6.00', key);
    expect(c.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it("a treasurer cannot pay from another member's account: it answers as unknown", async () => {
    const stolen = await coops[1]!.treasurer.payInNetwork({
      payerId: members[0]!,
      payeeId: members[1]!,
      amount: '1.00',
      idempotencyKey: newKey('x'),
    });
    expect(stolen.userErrors.map((e) => [e.code, e.field])).toEqual([['UNKNOWN_NETWORK_MEMBER', 'payerId']]);
  });

  it("a treasurer sees its own balance and history, not another member's", async () => {
    const own = await coops[0]!.treasurer.networkMemberHistory({
      networkId,
      memberId: members[0]!,
      first: 10,
    });
    expect(own!.member!.balance).toBe('-85.00');
    expect(own!.member!.history.edges.map((e) => [e.node.amount, e.node.creditKind])).toEqual([
      ['-70.00', 'PAYMENT'],
      ['-15.00', 'PAYMENT'],
    ]);
    const last = await coops[0]!.treasurer.networkMemberHistory({
      networkId,
      memberId: members[0]!,
      last: 1,
    });
    expect(last!.member!.history.edges.map((e) => e.node.amount)).toEqual(['-15.00']);
    const other = await coops[0]!.treasurer.networkMemberHistory({
      networkId,
      memberId: members[1]!,
      first: 10,
    });
    expect(other!.member!.balance).toBeNull();
    expect(other!.member!.history.edges).toEqual([]);
    expect(other!.member!.history.totalCount).toBe(0);
    const stranger = await setupCoop(server.url, admin);
    expect(await stranger.treasurer.creditNetwork({ id: networkId })).toBeNull();
  });
});

describe('payment requests', () => {
  it('accepted: the payer pays; declined: nothing moves; held then completed', async () => {
    const before = await balances();
    const req = await coops[3]!.treasurer.createPaymentRequest({
      payeeId: members[3]!,
      payerId: members[2]!,
      amount: '12.00',
      idempotencyKey: newKey('req'),
    });
    expect(req.request!.status).toBe('OPEN');
    const accepted = await coops[2]!.treasurer.acceptPaymentRequest({
      requestId: req.request!.id,
      idempotencyKey: newKey('acc'),
    });
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.request!.status).toBe('PAID');
    const again = await coops[2]!.treasurer.acceptPaymentRequest({
      requestId: req.request!.id,
      idempotencyKey: newKey('acc'),
    });
    expect(again.userErrors.map((e) => e.code)).toEqual(['PAYMENT_REQUEST_NOT_OPEN']);

    const declinedReq = await coops[3]!.treasurer.createPaymentRequest({
      payeeId: members[3]!,
      payerId: members[2]!,
      amount: '3.00',
      idempotencyKey: newKey('req'),
    });
    const declined = await coops[2]!.treasurer.declinePaymentRequest({
      requestId: declinedReq.request!.id,
      idempotencyKey: newKey('dec'),
      reason: 'not ordered',
    });
    expect(declined.request!.status).toBe('DECLINED');

    const heldReq = await coops[3]!.treasurer.createPaymentRequest({
      payeeId: members[3]!,
      payerId: members[2]!,
      amount: '20.00',
      idempotencyKey: newKey('req'),
    });
    const held = await coops[2]!.treasurer.acceptPaymentRequest({
      requestId: heldReq.request!.id,
      idempotencyKey: newKey('acc'),
      hold: true,
    });
    expect(held.request!.status).toBe('HELD');
    const during = await coops[2]!.treasurer.networkMemberHistory({
      networkId,
      memberId: members[2]!,
      first: 1,
    });
    expect(new Decimal(during!.member!.available!).toFixed(2)).toBe(
      new Decimal(before[3]!).minus(12).minus(20).toFixed(2),
    );
    const completed = await coops[3]!.treasurer.completePaymentRequest({
      requestId: heldReq.request!.id,
      idempotencyKey: newKey('cmp'),
    });
    expect(completed.userErrors).toEqual([]);
    expect(completed.request!.status).toBe('COMPLETED');
    const after = await balances();
    expect(new Decimal(after[3]!).minus(before[3]!).toFixed(2)).toBe('-32.00');
    expect(new Decimal(after[4]!).minus(before[4]!).toFixed(2)).toBe('32.00');
  });

  it('an expired request cannot be accepted (PAYMENT_REQUEST_EXPIRED) and reads EXPIRED', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const req = await coops[3]!.treasurer.createPaymentRequest({
      payeeId: members[3]!,
      payerId: members[2]!,
      amount: '1.00',
      expiresAt: soon,
      idempotencyKey: newKey('req'),
    });
    await new Promise((r) => setTimeout(r, 2000));
    const late = await coops[2]!.treasurer.acceptPaymentRequest({
      requestId: req.request!.id,
      idempotencyKey: newKey('acc'),
    });
    expect(late.userErrors.map((e) => e.code)).toEqual(['PAYMENT_REQUEST_EXPIRED']);
    expect((await coops[2]!.treasurer.paymentRequest({ id: req.request!.id }))!.status).toBe('EXPIRED');
  });
});

describe('credit-limit policy', () => {
  it('a dynamic limit grows with sales up to its cap, each change logged; a steward pins a limit', async () => {
    const set = await steward.setCreditPolicy({
      networkId,
      reason: 'reward trade',
      policy: {
        defaultLimit: '100.00',
        defaultUpperBound: '1000.00',
        dynamic: { salesPercent: '50', windowDays: 30, cap: '130.00' },
      },
    });
    expect(set.policy!.version).toBe(2);
    // Member 2 sold 85 + 5? No: member 2 received 70 + 15 = 85: 100 + 42.50 = 142.50, capped at 130.00.
    const applied = await steward.applyCreditPolicy({ networkId });
    const grown = applied.limitChanges.find((c) => c.memberId === members[1]);
    expect(grown).toMatchObject({ limitBefore: '100.00', limitAfter: '130.00', source: 'POLICY' });
    expect(grown!.reason).toMatch(/capped at 130.00/);
    // Member 4 received 5 + 12 + 20 = 37: 100 + 18.50 = 118.50.
    expect(applied.limitChanges.find((c) => c.memberId === members[3])!.limitAfter).toBe('118.50');
    expect((await steward.applyCreditPolicy({ networkId })).limitChanges).toEqual([]);
    const pinned = await steward.setCreditLimit({
      memberId: members[0]!,
      limit: '80.00',
      reason: 'late payments',
      idempotencyKey: newKey('lim'),
    });
    expect(pinned.member!.limitMode).toBe('MANUAL');
    expect(pinned.limitChange).toMatchObject({
      limitBefore: '100.00',
      limitAfter: '80.00',
      reason: 'late payments',
    });
    // A limit lowered below the balance (-85.00) stands: the member receives but cannot pay until back within.
    const refused = await pay(0, 1, '0.01');
    expect(refused.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
  });

  it('a dynamic limit grows as the member sells, without a steward applying the policy', async () => {
    const limitOf = async (i: number) =>
      (await steward.networkMemberHistory({ networkId, memberId: members[i]! }))!.member!;
    const before = await limitOf(3);
    expect(before.limit).toBe('118.50');
    expect(before.limitMode).toBe('POLICY');
    // Member 3 (index 2) pays member 4 10.00: its sales are 47.00, so 100 + 23.50 = 123.50 at once.
    const key = newKey('pay');
    const paid = await pay(2, 3, '10.00', key);
    expect(paid.userErrors).toEqual([]);
    const after = await limitOf(3);
    expect(after.limit).toBe('123.50');
    const change = after.limitChanges.edges.map((e) => e.node).find((c) => c.limitAfter === '123.50');
    expect(change).toMatchObject({
      limitBefore: '118.50',
      source: 'POLICY',
      changedBy: 'system:credit-policy',
    });
    expect(change!.reason).toMatch(/sales 47\.00 in the last 30 days/);
    // A replayed payment changes nothing; a payment to a capped member or a pinned one neither.
    const limitChangesOf = async (i: number) => (await limitOf(i)).limitChanges.totalCount;
    const counts = [await limitChangesOf(0), await limitChangesOf(1), await limitChangesOf(3)];
    const replay = await pay(2, 3, '10.00', key);
    expect(replay.replayed).toBe(true);
    expect((await pay(3, 0, '1.00')).userErrors).toEqual([]);
    expect((await pay(3, 1, '1.00')).userErrors).toEqual([]);
    expect([await limitChangesOf(0), await limitChangesOf(1), await limitChangesOf(3)]).toEqual(counts);
    expect((await limitOf(0)).limit).toBe('80.00');
    expect((await limitOf(1)).limit).toBe('130.00');
    // Nothing is left for the steward's call to do.
    expect((await steward.applyCreditPolicy({ networkId })).limitChanges).toEqual([]);
  });
});

describe('obligations and clearing', () => {
  it('clears two cycles sharing A -> B exactly (30 of 50: the shared arc clears once), positions unchanged', async () => {
    // Members 1..4 are A, B, C, D; A -> B is shared by the cycles A->B->C->A and A->B->D->A.
    const [a, b, c, d] = members as [string, string, string, string];
    const rows = [
      [a, b, '10.00', 'ab'],
      [b, c, '10.00', 'bc'],
      [c, a, '10.00', 'ca'],
      [b, d, '10.00', 'bd'],
      [d, a, '10.00', 'da'],
    ] as const;
    const recorded = await steward.recordObligations({
      networkId,
      idempotencyKey: newKey('obl'),
      obligations: rows.map(([debtorId, creditorId, amount, reference]) => ({
        debtorId,
        creditorId,
        currency: 'EUR',
        amount,
        dueOn: '2026-01-31',
        reference,
      })),
    });
    expect(recorded.userErrors).toEqual([]);
    expect(recorded.recorded).toBe(5);
    // A creditor cannot record what another owes it.
    const claim = await coops[1]!.treasurer.recordObligations({
      networkId,
      idempotencyKey: newKey('obl'),
      obligations: [
        {
          debtorId: a,
          creditorId: b,
          currency: 'EUR',
          amount: '1.00',
          dueOn: '2026-01-31',
          reference: 'fake',
        },
      ],
    });
    expect(claim.rowErrors.map((e) => [e.code, e.column])).toEqual([['NOT_OBLIGATION_DEBTOR', 'debtorId']]);
    const preview = (await steward.previewClearing({ networkId, currency: 'EUR', first: 10 })).preview!;
    // A is owed 20, owes 10 (+10); B owes 20, is owed 10 (-10). B -> A via C (2 arcs) or D (2 arcs): 30 set off of 50.
    expect(preview.outstandingBefore).toBe('50.00');
    expect(preview.setoffTotal).toBe('30.00');
    expect(preview.netInternalDebtBefore).toBe('10.00');
    for (const m of preview.members) expect(m.positionAfter).toBe(m.positionBefore);
    // The lines: what clears of each obligation, adding up to the set-off, never above what is outstanding.
    const lines = preview.lines.edges.map((e) => e.node);
    expect(preview.lines.totalCount).toBe(lines.length);
    expect(lines.reduce((sum, l) => sum.plus(l.setoff), new Decimal(0)).toFixed(2)).toBe('30.00');
    for (const l of lines) {
      expect(new Decimal(l.setoff).lte(l.outstanding)).toBe(true);
      expect(l.liquidity).toBe('0.00');
      expect(l.reference).not.toBe('');
    }
    // Paged two at a time, the lines come in obligation id order, each once.
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = (await steward.previewClearing({ networkId, currency: 'EUR', first: 2, after })).preview!;
      expect(page.snapshotHash).toBe(preview.snapshotHash);
      paged.push(...page.lines.edges.map((e) => e.node.obligationId));
      if (!page.lines.pageInfo.hasNextPage) break;
      after = page.lines.pageInfo.endCursor!;
    }
    const ids = lines.map((l) => l.obligationId);
    expect(paged).toEqual(ids);
    expect(ids.map((id) => decodeGlobalId(id).id)).toEqual(ids.map((id) => decodeGlobalId(id).id).sort());
    const committed = await steward.commitClearing({
      networkId,
      currency: 'EUR',
      snapshotHash: preview.snapshotHash,
      idempotencyKey: newKey('clr'),
    });
    expect(committed.userErrors).toEqual([]);
    expect(committed.clearing).toMatchObject({ setoffTotal: '30.00', outstandingAfter: '20.00' });
    const stale = await steward.commitClearing({
      networkId,
      currency: 'EUR',
      snapshotHash: preview.snapshotHash,
      idempotencyKey: newKey('clr'),
    });
    expect(stale.userErrors.map((e) => e.code)).toEqual(['CLEARING_STALE']);
    const open = await steward.networkObligations({ networkId, currency: 'EUR', first: 10 });
    const total = open!.obligations.edges.reduce((s, e) => s.plus(e.node.outstanding), new Decimal(0));
    expect(total.toFixed(2)).toBe('20.00');
  });

  it('the liquidity mode settles the rest with network credit within limits, shown apart', async () => {
    const preview = (
      await steward.previewClearing({ networkId, currency: 'EUR', mode: 'SETOFF_AND_LIQUIDITY' })
    ).preview!;
    expect(preview.setoffTotal).toBe('0.00');
    expect(new Decimal(preview.liquidityTotal).gt(0)).toBe(true);
    const before = await balances();
    const committed = await steward.commitClearing({
      networkId,
      currency: 'EUR',
      mode: 'SETOFF_AND_LIQUIDITY',
      idempotencyKey: newKey('liq'),
    });
    expect(committed.userErrors).toEqual([]);
    const after = await balances();
    const moved = Object.keys(after).reduce(
      (s, k) => s.plus(after[Number(k)]!).minus(before[Number(k)]!),
      new Decimal(0),
    );
    expect(moved.toFixed(2)).toBe('0.00');
    expect((await proof()).holds).toBe(true);
  });
});

describe('the zero-sum invariant and statistics', () => {
  it('holds under 200 concurrent payments on three accounts, every balance within its bounds', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => pay(1 + (i % 3), 1 + ((i + 1) % 3), `${1 + (i % 7)}.00`)),
    );
    for (const r of results)
      expect(r.userErrors.every((e) => e.code === 'BALANCE_BOUND_EXCEEDED')).toBe(true);
    const net = await steward.creditNetwork({ id: networkId, first: 10 });
    for (const e of net!.members.edges) {
      expect(new Decimal(e.node.balance!).gte(new Decimal(e.node.limit!).neg())).toBe(true);
      if (e.node.upperBound) expect(new Decimal(e.node.balance!).lte(e.node.upperBound)).toBe(true);
    }
    const p = await proof();
    expect(p).toMatchObject({ sum: '0.00', holds: true });
    expect(new Decimal(p.positive).plus(p.negative).toFixed(2)).toBe('0.00');
    expect((await proof('2020-01-01T00:00:00.000Z')).positive).toBe('0.00');
  });

  it('statistics reconcile with the journal', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const stats = (await steward.networkStatistics({ networkId, from: month, to: month }))!.statistics;
    let count = 0;
    let volume = new Decimal(0);
    const payables = new Map<string, Decimal>();
    const receivables = new Map<string, Decimal>();
    const bookId = (await steward.creditNetwork({ id: networkId }))!.bookId;
    for await (const entry of steward.iterateJournalEntries({ bookId })) {
      if (!['STANDARD', 'COMMIT'].includes(entry.kind)) continue;
      const meta = Object.fromEntries(entry.metadata.map((m) => [m.key, m.value]));
      if (meta['credit.kind'] === 'CLEARING' && meta['credit.liquidity'] !== 'true') {
        // What clearing cancelled (set-off and what network credit paid): debited to the members'
        // payables, credited to their receivables, per currency.
        for (const l of entry.lines) {
          const code = l.account.code;
          const [map, side] = code.endsWith('.P')
            ? [payables, 'DEBIT']
            : code.endsWith('.R')
              ? [receivables, 'CREDIT']
              : [null, null];
          if (!map) continue;
          const amount = new Decimal(l.amount).times(l.side === side ? 1 : -1);
          map.set(l.unit.code, (map.get(l.unit.code) ?? new Decimal(0)).plus(amount));
        }
      }
      if (meta['credit.kind'] !== 'PAYMENT') continue;
      count++;
      volume = volume.plus(
        entry.lines.filter((l) => l.side === 'DEBIT').reduce((s, l) => s.plus(l.amount), new Decimal(0)),
      );
    }
    expect(stats.paymentsTotal).toBe(count);
    expect(stats.volumeTotal).toBe(volume.toFixed(2));
    expect(stats.members).toBe(4);
    expect(stats.balances.reduce((s, b) => s + b.count, 0)).toBe(4);
    expect(stats.clearings.map((c) => [c.currency, c.clearings])).toEqual([['EUR', 2]]);
    // What clearing saved (cancelled without a payment) is what the journal moved off the invoices.
    const eur = stats.clearings[0]!;
    const cleared = new Decimal(eur.setoff).plus(eur.liquidity);
    expect(cleared.gt(0)).toBe(true);
    expect(payables.get('EUR')?.toFixed(2)).toBe(cleared.toFixed(2));
    expect(receivables.get('EUR')?.toFixed(2)).toBe(cleared.toFixed(2));
  });
});
