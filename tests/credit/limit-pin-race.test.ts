/**
 * A steward's pinned limit against the dynamic policy's growth racing it (issue 14): growth after
 * a sale (growWithSales) must not overwrite a limit a steward pinned while it waited for the
 * member's account. The steward's transaction is played here with the store functions
 * setCreditLimit uses (the account locked, its bounds set, the member's limit mode MANUAL), held
 * open until the growth waits on the account, then committed. Real PostgreSQL, network via the SDK.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { growWithSales } from '../../server/credit/members.js';
import { currentPolicies } from '../../server/credit/networks.js';
import { setLimitMode } from '../../server/credit/store.js';
import { setAccountBounds } from '../../server/ledger/index.js';
import type { TxClient } from '../../server/platform/transaction.js';
import { setupNetwork } from '../helpers/credit.js';
import { decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
});

afterAll(async () => {
  await server?.stop();
});

describe("a steward's pin and the policy's growth at once", () => {
  it('the pin committed while growth waited on the account stands', async () => {
    const network = await setupNetwork(
      server.url,
      ledgerClient(server.url),
      { name: 'Pin circuit', unit: { code: 'SRD', scale: 2 }, policy: { defaultLimit: '100.00' } },
      2,
    );
    const [payer] = network.coops;
    const [payerId, payeeId] = network.members as [string, string];
    // The payee sells 100 under a fixed policy; then the policy turns dynamic (+50% of sales), so
    // growth would take the payee's limit from 100 to 150.
    const paid = await payer!.treasurer.payInNetwork({
      payerId,
      payeeId,
      amount: '100.00',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors).toEqual([]);
    const policy = await network.steward.setCreditPolicy({
      networkId: network.networkId,
      reason: 'grow with sales',
      policy: { defaultLimit: '100.00', dynamic: { salesPercent: '50', windowDays: 30, cap: '1000.00' } },
    });
    expect(policy.userErrors).toEqual([]);

    const bookId = network.bookUuid;
    const memberId = decodeGlobalId(payeeId).id;
    const deps = server.services.credit.deps;
    const steward = new pg.Client({ connectionString: inject('databaseUrl') });
    await steward.connect();
    try {
      const { rows } = await steward.query(
        'select account_id from credit_member where book_id = $1 and id = $2',
        [bookId, memberId],
      );
      const accountId = rows[0].account_id as string;
      // The steward pins the payee's limit at 50: account locked, bounds set, mode MANUAL, not yet committed.
      await steward.query('begin');
      await steward.query('select 1 from account where book_id = $1 and id = $2 for update', [
        bookId,
        accountId,
      ]);
      await setAccountBounds(steward as unknown as TxClient, bookId, accountId, '-50', null);
      await setLimitMode(steward as unknown as TxClient, bookId, memberId, 'MANUAL');
      const { rows: me } = await steward.query('select pg_backend_pid() as pid');
      // Growth after a sale starts now: it reads the member (still POLICY to it) and waits on the account.
      const dynamic = (await currentPolicies(deps, [bookId])).get(bookId)!.policy;
      const growth = growWithSales(deps, bookId, dynamic, 2, [memberId]);
      for (let i = 0; i < 500; i++) {
        await steward.query('select pg_stat_clear_snapshot()');
        const { rows: waiting } = await steward.query(
          'select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))',
          [me[0].pid],
        );
        if (waiting[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await steward.query('commit');
      expect(await growth).toBe(0);
    } finally {
      await steward.end();
    }
    const view = await network.steward.creditNetwork({ id: network.networkId, first: 10 });
    const payee = view!.members.edges.find((e) => e.node.id === payeeId)!.node;
    expect([payee.limit, payee.limitMode]).toEqual(['50.00', 'MANUAL']);
  });
});
