/**
 * Patronage CSV records whose member is written with leading zeros (issue 13's follow-up), through
 * real HTTP, the SDK and real PostgreSQL. Read as the members' payments CSV reads them: an
 * external_ref written exactly as the cell names its member first; otherwise a cell of digits is
 * the member number it spells, leading zeros aside ("0001" is member 1, as a register printing
 * numbers padded writes it); a text that is one member's number and another's external_ref is
 * still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, changeState, join, registerParty } from '../helpers/coop.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { activeMember, patronageCoop, setPolicy } from './helpers.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
const numbers: number[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const setup = await patronageCoop(server.url, admin);
  coop = setup.coop;
  // Member 1 has no reference, member 2's reference is "03", member 3's is "2".
  numbers.push((await activeMember(coop, setup.classId, 'Ama Zero', '2024-01-01')).number);
  for (const [name, externalRef] of [
    ['Bea Zero', '03'],
    ['Cal Zero', '2'],
  ] as const) {
    const partyId = await registerParty(coop, { name, externalRef });
    const joined = await join(coop, { classId: setup.classId, appliedOn: '2024-01-01', partyId });
    await changeState(coop, joined.membership.id, 'ACTIVE', '2024-01-01');
    numbers.push(joined.membership.memberNumber);
  }
  await setPolicy(coop, {
    measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
    reservePercent: '0',
    revolvingYears: 3,
  });
});

afterAll(async () => {
  await server?.stop();
});

const importRows = (rows: string[]) =>
  coop.treasurer.importPatronageCsv({
    coopId: coop.id,
    csv: ['member,measure,period_start,period_end,quantity', ...rows, ''].join('\n'),
    idempotencyKey: newKey('csv'),
  });

describe('patronage CSV: member numbers with leading zeros', () => {
  it('the numbers are 1, 2 and 3', () => {
    expect(numbers).toEqual([1, 2, 3]);
  });

  it('"0001" is member 1, "03" is the reference of member 2 (not member 3), "02" is member 2', async () => {
    const result = await importRows([
      '0001,HOURS,2025-01-01,2025-01-31,1.00',
      '03,HOURS,2025-02-01,2025-02-28,3.00',
      '02,HOURS,2025-03-01,2025-03-31,2.00',
    ]);
    expect(result.rowErrors).toEqual([]);
    expect([result.imported, result.recorded]).toEqual([true, 3]);
    const { preview, userErrors } = await coop.treasurer.previewPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      surplus: '60.00',
    });
    expect(userErrors).toEqual([]);
    expect(
      preview!.allocations.edges.map(({ node }) => [
        node.memberNumber,
        node.patronage.map((m) => m.counted).join(),
        node.allocation,
      ]),
    ).toEqual([
      [1, '1.00', '10.00'],
      [2, '5.00', '50.00'],
    ]);
  });

  it('"2" is still refused (member 2 and member 3\'s reference); "0", "000" and 30 digits name nobody', async () => {
    const result = await importRows([
      '2,HOURS,2025-04-01,2025-04-30,1.00',
      '0,HOURS,2025-04-01,2025-04-30,1.00',
      '000,HOURS,2025-05-01,2025-05-31,1.00',
      `${'0'.repeat(29)}1,HOURS,2025-06-01,2025-06-30,1.00`,
      `${'9'.repeat(30)},HOURS,2025-06-01,2025-06-30,1.00`,
    ]);
    expect([result.imported, result.recorded]).toEqual([false, 0]);
    expect(result.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [2, 'member', 'INVALID_INPUT'],
      [3, 'member', 'UNKNOWN_MEMBERSHIP'],
      [4, 'member', 'UNKNOWN_MEMBERSHIP'],
      [6, 'member', 'UNKNOWN_MEMBERSHIP'],
    ]);
  });
});
