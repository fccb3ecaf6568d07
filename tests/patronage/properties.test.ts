/**
 * Property test of committed runs through HTTP, the SDK and PostgreSQL (issue 13): for random
 * members, hours and wages, weights, cash share and surplus (up to the largest amount the ledger
 * allows, 18 integer digits), the committed run's allocations sum exactly to the member pool,
 * pools to the surplus, cash is at least the cash share rounded up, cash + retained = allocation,
 * the book's 3900 holds exactly the surplus and the trial balance balances. Each case is a fresh
 * co-op; the cases are few because each takes a few dozen requests.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { activeMember, patronageCoop, record, setPolicy } from './helpers.js';

let server: TestServer;
let admin: LedgerClient;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
});

afterAll(async () => {
  await server?.stop();
});

describe('committed runs', () => {
  it('are exact to the cent and leave the trial balance holding', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 9n }), fc.bigInt({ min: 1n, max: 10n ** 15n })), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 20, max: 100 }),
        fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 40 })),
        fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 20n - 1n }), fc.bigInt({ min: 1n, max: 10_000n })),
        async (members, hoursWeight, cashPercent, [reserve, community], surplusCents) => {
          const { coop, classId } = await patronageCoop(server.url, admin);
          await setPolicy(coop, {
            measures: [
              { code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: String(hoursWeight) },
              {
                code: 'WAGES',
                kind: 'WAGES',
                unit: { code: 'USD', scale: 2 },
                weight: String(100 - hoursWeight),
              },
            ],
            reservePercent: String(reserve),
            communityPercent: String(community),
            cashPercent: String(cashPercent),
            revolvingYears: 5,
          });
          const records = [];
          for (const [i, [hours, wages]] of members.entries()) {
            const m = await activeMember(coop, classId, `Member ${i}`, '2025-01-01');
            const span = { from: '2025-01-01', to: '2025-12-31' };
            records.push({
              member: m,
              measure: 'HOURS',
              ...span,
              quantity: new Decimal(hours.toString()).div(100).toFixed(2),
            });
            records.push({
              member: m,
              measure: 'WAGES',
              ...span,
              quantity: new Decimal(wages.toString()).div(100).toFixed(2),
            });
          }
          await record(coop, records);
          const surplus = new Decimal(surplusCents.toString()).div(100).toFixed(2);
          const committed = await coop.treasurer.commitPatronageAllocation({
            coopId: coop.id,
            fiscalYear: 2025,
            surplus,
            allocatedOn: '2026-01-31',
            idempotencyKey: newKey('run'),
          });
          expect(committed.userErrors).toEqual([]);
          const run = committed.run!;
          const page = await coop.treasurer.patronageRun({ id: run.id, first: 100 });
          const lines = page!.allocations.edges.map((e) => e.node);
          const sum = (xs: string[]) => xs.reduce((s, x) => s.plus(x), new Decimal(0));
          expect(sum(lines.map((l) => l.allocation)).toFixed(2)).toBe(run.memberPool);
          expect(sum([run.reserve, run.community, run.memberPool]).toFixed(2)).toBe(surplus);
          for (const l of lines) {
            expect(new Decimal(l.cash).plus(l.retained).toFixed(2)).toBe(l.allocation);
            const minimum = new Decimal(l.allocation)
              .times(cashPercent)
              .div(100)
              .toDecimalPlaces(2, Decimal.ROUND_UP);
            expect(new Decimal(l.cash).gte(minimum)).toBe(true);
          }
          const trial = await coop.treasurer.trialBalance({ bookId: coop.bookId });
          expect(trial!.balanced).toBe(true);
          const line3900 = trial!.lines.find((l) => l.account.code === '3900')!;
          expect([line3900.debits, line3900.credits]).toEqual([surplus, '0.00']);
          const credited = trial!.lines
            .filter(
              (l) => ['3300', '2350', '2300'].includes(l.account.code) || l.account.code.startsWith('3100-'),
            )
            .map((l) => l.credits);
          expect(sum(credited).toFixed(2)).toBe(surplus);
          const verified = await coop.treasurer.verifyPatronageRun({ id: run.id });
          expect([verified!.inputsHashMatches, verified!.figuresMatch]).toEqual([true, true]);
        },
      ),
      { numRuns: 6 },
    );
  }, 300_000);
});
