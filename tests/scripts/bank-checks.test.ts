/**
 * The bank test's verdict must be able to say no: its checks, run against a real journal with
 * outcomes that disagree with it (an acknowledged op missing, a rejected one present, an entry
 * nobody sent, a bad read), report each disagreement; with truthful outcomes they pass.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { runChecks } from '../../scripts/bank/checks.js';
import { Prng } from '../../scripts/bank/prng.js';
import { type Bank, createBank, newStats, type OpRecord, rawIds } from '../../scripts/bank/workload.js';
import { ledgerClient, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let client: LedgerClient;
let db: pg.Pool;
let bank: Bank;

beforeAll(async () => {
  server = await startTestServer();
  client = ledgerClient(server.url);
  db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
  bank = await createBank(client, `checks-${uniqueSuffix()}`, 3, new Prng(1));
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

/** Posts a payment of `amount` from account 0 to account 1 and returns its record as acknowledged. */
async function pay(key: string, amount: string): Promise<OpRecord> {
  const [payee, payer] = bank.accounts;
  const lines = [
    { accountId: payee!.id, side: 'DEBIT' as const, amount },
    { accountId: payer!.id, side: 'CREDIT' as const, amount },
  ];
  const payload = await client.postJournalEntry({
    bookId: bank.bookId,
    idempotencyKey: key,
    lines: lines.map((line) => ({ ...line, unit: 'USD' })),
  });
  expect(payload.userErrors).toEqual([]);
  return {
    key,
    kind: 'PAYMENT',
    lines,
    outcome: 'ok',
    entryId: rawIds(payload.entry!.id).id,
    attempts: 1,
    unknownAttempts: 0,
  };
}

describe('the bank test checks', () => {
  it('pass when the outcomes tell the truth, and name every disagreement when they do not', async () => {
    const honest = await pay('a', '10.00');
    const clean = await runChecks(db, client, bank, [honest], newStats());
    expect(clean.rows.filter((row) => !row.ok)).toEqual([]);
    expect(clean.tally).toMatchObject({ acknowledged: 1, lost: 0, duplicated: 0, violations: 0 });

    const rejectedButPosted = { ...(await pay('b', '2.00')), outcome: 'rejected' as const, code: 'X' };
    await pay('c', '3.00'); // posted, never recorded
    const lost: OpRecord = { ...honest, key: 'd', entryId: '00000000-0000-7000-8000-000000000000' };
    const stats = newStats();
    stats.readViolations.push('read 1: balances sum to 1.00');
    const { rows, tally } = await runChecks(db, client, bank, [honest, rejectedButPosted, lost], stats);
    const failed = rows.filter((row) => !row.ok).map((row) => row.name);
    expect(failed).toEqual([
      'every acknowledged op is in the journal',
      'no op is in the journal twice',
      'every rejected op is absent from the journal',
      'every read of all balances summed to zero within bounds',
      'each balance equals the sum of the acknowledged ops',
    ]);
    expect(tally.lost).toBe(1);
    expect(tally.duplicated).toBe(1);
    expect(tally.violations).toBeGreaterThanOrEqual(5);
  });

  it('name a stored day total that no longer matches the lines (the audit query)', async () => {
    const honest = await pay('e', '1.00');
    const payee = rawIds(bank.accounts[0]!.id);
    // One day's row (the latest), whatever the number of days the payments span.
    const oneDay = `book_id = $1 and account_id = $2
      and day = (select max(day) from account_day_total where book_id = $1 and account_id = $2)`;
    const changed = await db.query(`update account_day_total set debits = debits + 5 where ${oneDay}`, [
      payee.bookId,
      payee.id,
    ]);
    expect(changed.rowCount).toBe(1);
    try {
      const { rows } = await runChecks(db, client, bank, [honest], newStats());
      const audit = rows.find((row) => row.name.startsWith('the audit finds nothing'))!;
      expect(audit).toMatchObject({ ok: false, problems: 1 });
      expect(audit.detail).toMatch(/ DAY_DEBITS \d{4}-\d\d-\d\d stored \d+\.\d\d, lines \d+\.\d\d$/);
    } finally {
      await db.query(`update account_day_total set debits = debits - 5 where ${oneDay}`, [
        payee.bookId,
        payee.id,
      ]);
    }
  });
});
