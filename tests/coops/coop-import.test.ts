/**
 * Bulk import of members and payments from CSV (issue 5) through real HTTP, the SDK and real
 * PostgreSQL, all or nothing per file:
 * - MEMBERS: a good file lands completely (a party and a membership per row, each with its
 *   subscription entry; status and status_on honoured; external_ref stored), a replay posts
 *   nothing, and a file with ONE bad row lands nothing and names that row (the file's line: the
 *   header is line 1, a quoted field may span lines) and column;
 * - PAYMENTS: every payment of a good file is posted (members named by number and by external_ref),
 *   cumulative payments beyond what a member owes name the row and land nothing;
 * - CSV details: quoted fields with commas, doubled quotes and line breaks, CRLF, a byte-order
 *   mark, columns in any order and case;
 * - scripts/import-members.ts, run as a child process against the test server.
 * After every import the co-op's book is compared with the entries expected by hand.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { builtArgs } from '../helpers/build.js';
import {
  addDays,
  type CoopFixture,
  changeState,
  createClass,
  daysAgo,
  ExpectedBook,
  listMemberships,
  setupCoop,
  today,
} from '../helpers/coop.js';
import { ledgerClient, newKey, rawGraphQL } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let book: ExpectedBook;
let tmp: string;

const D = daysAgo(100);
const HEADER = 'name,class,applied_on,kind,email,phone,address,external_ref,status,status_on';
const BUY_IN: Record<string, string> = { WORKER: '900.00', SUPPORTER: '50.00' };

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  coop = await setupCoop(server.url, admin);
  book = new ExpectedBook(coop.treasurer, coop.bookId);
  await createClass(coop, {
    code: 'WORKER',
    name: 'Worker-owner',
    buyIn: '900.00',
    instalmentCount: 3,
    voting: true,
  });
  await createClass(coop, { code: 'SUPPORTER', name: 'Supporter', buyIn: '50.00', voting: false });
  tmp = mkdtempSync(joinPath(tmpdir(), 'coop-import-'));
});

afterAll(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function importCsv(kind: 'MEMBERS' | 'PAYMENTS', csv: string, idempotencyKey = newKey('import')) {
  return coop.treasurer.importMembersCsv({ coopId: coop.id, kind, csv, idempotencyKey });
}

async function partyCount(): Promise<number> {
  const answer = await rawGraphQL(
    server.url,
    'query($id: ID!) { coop(id: $id) { parties(first: 100) { edges { node { id } } } } }',
    { id: coop.id },
    { token: coop.treasurerToken },
  );
  const found = answer.body.data?.coop as { parties: { edges: unknown[] } } | null | undefined;
  expect(found).toBeTruthy();
  return found!.parties.edges.length;
}

/** The register and the book as they stand, to compare before and after a refused file. */
async function state(): Promise<string> {
  const [memberships, parties, ledger] = await Promise.all([
    listMemberships(server.url, coop.treasurerToken, coop.id),
    partyCount(),
    book.check('state'),
  ]);
  return JSON.stringify({ memberships, parties, ledger });
}

/** Posts the subscription entry of member `n` of a class to the expected book. */
function subscribed(n: number, cls: string): void {
  const no = String(n).padStart(5, '0');
  book.post([
    [`1150-${no}`, 'DEBIT', BUY_IN[cls]!],
    [`3010-${no}`, 'CREDIT', BUY_IN[cls]!],
  ]);
}

function paid(n: number, amount: string, method: 'CASH' | 'BANK'): void {
  const no = String(n).padStart(5, '0');
  book.post([
    [method === 'CASH' ? '1000' : '1010', 'DEBIT', amount],
    [`3000-${no}`, 'CREDIT', amount],
    [`3010-${no}`, 'DEBIT', amount],
    [`1150-${no}`, 'CREDIT', amount],
  ]);
}

async function byNumber(n: number) {
  const m = (await listMemberships(server.url, coop.treasurerToken, coop.id)).find(
    (x) => x.memberNumber === n,
  );
  expect(m, `member ${n}`).toBeDefined();
  return (await coop.treasurer.membership({ id: m!.id }))!;
}

const GOOD_MEMBERS = [
  HEADER,
  `Ada Lovelace,WORKER,${D},person,ada@example.org,555-0101,"12 Main St, Apt 3",EXT-1,active,${addDays(D, 10)}`,
  `"Harbour ""Food"" Co-op, Ltd",SUPPORTER,${addDays(D, 1)},organization,info@harbour.example,,,EXT-2,Candidate,${addDays(D, 5)}`,
  `Bo Diddley,WORKER,${addDays(D, 2)},,,,,EXT-3,,`,
  // A quoted address over two lines: this record is lines 5 and 6 of the file.
  `Cy Young,SUPPORTER,${addDays(D, 3)},PERSON,,,"Line one\nLine two",,applicant,`,
  '',
].join('\n');

describe('MEMBERS', () => {
  let goodKey: string;

  it('a good file lands completely: parties, memberships, states, external refs, subscription entries', async () => {
    await book.check('empty');
    goodKey = newKey('members');
    const result = await importCsv('MEMBERS', GOOD_MEMBERS, goodKey);
    expect(result).toEqual({
      imported: true,
      replayed: false,
      rows: 4,
      membershipsCreated: 4,
      paymentsPosted: 0,
      rowErrors: [],
      userErrors: [],
    });
    subscribed(1, 'WORKER');
    subscribed(2, 'SUPPORTER');
    subscribed(3, 'WORKER');
    subscribed(4, 'SUPPORTER');
    await book.check('after the good file');

    const listed = await listMemberships(server.url, coop.treasurerToken, coop.id);
    expect(listed.map((m) => [m.memberNumber, m.state, m.party.name, m.party.externalRef])).toEqual([
      [1, 'ACTIVE', 'Ada Lovelace', 'EXT-1'],
      [2, 'CANDIDATE', 'Harbour "Food" Co-op, Ltd', 'EXT-2'],
      [3, 'APPLICANT', 'Bo Diddley', 'EXT-3'],
      [4, 'APPLICANT', 'Cy Young', null],
    ]);
    expect(await partyCount()).toBe(4);

    const ada = await byNumber(1);
    expect(ada).toMatchObject({
      appliedOn: D,
      stateSince: addDays(D, 10),
      subscribed: '900.00',
      outstanding: '900.00',
      paidIn: '0.00',
      memberClass: { code: 'WORKER' },
      party: {
        kind: 'PERSON',
        email: 'ada@example.org',
        phone: '555-0101',
        address: '12 Main St, Apt 3',
      },
    });
    expect(ada.history.map((e) => [e.fromState, e.toState, e.effectiveOn, e.recordedBy])).toEqual([
      [null, 'APPLICANT', D, coop.treasurerPrincipalId],
      ['APPLICANT', 'ACTIVE', addDays(D, 10), coop.treasurerPrincipalId],
    ]);
    expect(ada.history[0]!.entry).not.toBeNull();
    expect(ada.schedule.map((i) => i.amount)).toEqual(['300.00', '300.00', '300.00']);

    const harbour = await byNumber(2);
    expect(harbour).toMatchObject({
      state: 'CANDIDATE',
      stateSince: addDays(D, 5),
      appliedOn: addDays(D, 1),
      party: { kind: 'ORGANIZATION', email: 'info@harbour.example', phone: '', address: '' },
    });
    const bo = await byNumber(3);
    expect(bo).toMatchObject({ state: 'APPLICANT', stateSince: addDays(D, 2), appliedOn: addDays(D, 2) });
    expect(bo.history.map((e) => e.toState)).toEqual(['APPLICANT']);
    const cy = await byNumber(4);
    expect(cy.party).toMatchObject({ address: 'Line one\nLine two', externalRef: null });
    const statement = await coop.treasurer.memberStatement({ membershipId: cy.id, from: D, to: today() });
    expect(
      statement!.entries!.map((e) => [
        e.effectiveAt.slice(0, 10),
        e.lines.map((l) => [l.account.code, l.side, l.amount]),
      ]),
    ).toEqual([
      [
        addDays(D, 3),
        [
          ['1150-00004', 'DEBIT', '50.00'],
          ['3010-00004', 'CREDIT', '50.00'],
        ],
      ],
    ]);
  });

  it('the same file with the same key is a replay: nothing new; another file with that key is refused', async () => {
    const before = await state();
    const replay = await importCsv('MEMBERS', GOOD_MEMBERS, goodKey);
    expect(replay).toEqual({
      imported: true,
      replayed: true,
      rows: 4,
      membershipsCreated: 4,
      paymentsPosted: 0,
      rowErrors: [],
      userErrors: [],
    });
    const other = await importCsv('MEMBERS', GOOD_MEMBERS.replace('Bo Diddley', 'Bo Jackson'), goodKey);
    expect(other.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(other.imported).toBe(false);
    expect(await state()).toBe(before);
  });

  // Three good rows (lines 2-4) with fresh external refs; each variant spoils one thing.
  const rows = (overrides: Record<number, string> = {}, header = HEADER) => {
    const lines = [
      header,
      `Dee Dee,WORKER,${D},person,dee@example.org,,,NEW-1,active,${addDays(D, 1)}`,
      `Eli,SUPPORTER,${D},,,,,NEW-2,,`,
      `Flo,WORKER,${D},,flo@example.org,,,NEW-3,candidate,${addDays(D, 2)}`,
    ];
    for (const [line, text] of Object.entries(overrides)) lines[Number(line) - 1] = text;
    return `${lines.join('\n')}\n`;
  };
  const future = addDays(today(), 30);
  const bad: [string, string, { row: number; column: string | null; code: string }][] = [
    [
      'unknown class',
      rows({ 3: `Eli,NOPE,${D},,,,,NEW-2,,` }),
      { row: 3, column: 'class', code: 'UNKNOWN_MEMBER_CLASS' },
    ],
    [
      'impossible date',
      rows({ 3: 'Eli,SUPPORTER,2023-02-29,,,,,NEW-2,,' }),
      { row: 3, column: 'applied_on', code: 'INVALID_DATE' },
    ],
    [
      'not a date',
      rows({ 3: 'Eli,SUPPORTER,12/01/2023,,,,,NEW-2,,' }),
      { row: 3, column: 'applied_on', code: 'INVALID_DATE' },
    ],
    [
      'future date',
      rows({ 3: `Eli,SUPPORTER,${future},,,,,NEW-2,,` }),
      { row: 3, column: 'applied_on', code: 'INVALID_DATE' },
    ],
    [
      'future status_on',
      rows({ 4: `Flo,WORKER,${D},,flo@example.org,,,NEW-3,candidate,${future}` }),
      { row: 4, column: 'status_on', code: 'INVALID_DATE' },
    ],
    [
      'status_on before applied_on',
      rows({ 4: `Flo,WORKER,${D},,flo@example.org,,,NEW-3,candidate,${addDays(D, -1)}` }),
      { row: 4, column: 'status_on', code: 'INVALID_DATE' },
    ],
    [
      'bad email',
      rows({ 4: `Flo,WORKER,${D},,flo-at-example.org,,,NEW-3,,` }),
      { row: 4, column: 'email', code: 'INVALID_INPUT' },
    ],
    [
      'external_ref twice in the file',
      rows({ 4: `Flo,WORKER,${D},,flo@example.org,,,NEW-1,,` }),
      { row: 4, column: 'external_ref', code: 'INVALID_INPUT' },
    ],
    [
      'external_ref already in the co-op',
      rows({ 3: `Eli,SUPPORTER,${D},,,,,EXT-2,,` }),
      { row: 3, column: 'external_ref', code: 'INVALID_INPUT' },
    ],
    [
      'unknown status',
      rows({ 3: `Eli,SUPPORTER,${D},,,,,NEW-2,member,` }),
      { row: 3, column: 'status', code: 'INVALID_INPUT' },
    ],
    [
      'unknown kind',
      rows({ 3: `Eli,SUPPORTER,${D},robot,,,,NEW-2,,` }),
      { row: 3, column: 'kind', code: 'INVALID_INPUT' },
    ],
    [
      'empty name',
      rows({ 3: `,SUPPORTER,${D},,,,,NEW-2,,` }),
      { row: 3, column: 'name', code: 'INVALID_INPUT' },
    ],
    [
      'a field missing',
      rows({ 3: `Eli,SUPPORTER,${D},,,,NEW-2,,` }),
      { row: 3, column: null, code: 'INVALID_CSV' },
    ],
    [
      'a field too many',
      rows({ 2: `Dee Dee,WORKER,${D},person,dee@example.org,,,NEW-1,active,${addDays(D, 1)},x` }),
      { row: 2, column: null, code: 'INVALID_CSV' },
    ],
    [
      'unterminated quote',
      rows({ 3: `"Eli,SUPPORTER,${D},,,,,NEW-2,,` }),
      { row: 3, column: null, code: 'INVALID_CSV' },
    ],
    [
      'a quote inside an unquoted field',
      rows({ 3: `Eli "the" Kid,SUPPORTER,${D},,,,,NEW-2,,` }),
      { row: 3, column: null, code: 'INVALID_CSV' },
    ],
    [
      'unknown column',
      rows(
        {
          2: `Dee Dee,WORKER,${D},person,dee@example.org,,,NEW-1,active,${addDays(D, 1)},x`,
          3: `Eli,SUPPORTER,${D},,,,,NEW-2,,,y`,
          4: `Flo,WORKER,${D},,flo@example.org,,,NEW-3,candidate,${addDays(D, 2)},z`,
        },
        `${HEADER},nickname`,
      ),
      { row: 1, column: 'nickname', code: 'INVALID_CSV' },
    ],
    [
      'missing required column',
      ['name,class,kind', 'Dee Dee,WORKER,person', 'Eli,SUPPORTER,', 'Flo,WORKER,'].join('\n'),
      { row: 1, column: 'applied_on', code: 'INVALID_CSV' },
    ],
    [
      'a bad row after a record spanning two lines',
      [
        HEADER,
        `Dee Dee,WORKER,${D},person,dee@example.org,,"Flat 2\nHigh Street",NEW-1,,`,
        `Eli,NOPE,${D},,,,,NEW-2,,`,
        `Flo,WORKER,${D},,,,,NEW-3,,`,
      ].join('\n'),
      { row: 4, column: 'class', code: 'UNKNOWN_MEMBER_CLASS' },
    ],
    [
      'CRLF line ends and a byte-order mark',
      `\uFEFF${rows({ 4: `Flo,NOPE,${D},,,,,NEW-3,,` }).replaceAll('\n', '\r\n')}`,
      { row: 4, column: 'class', code: 'UNKNOWN_MEMBER_CLASS' },
    ],
  ];

  it.each(bad)(
    'a file with one bad row (%s) lands nothing and names the row and column',
    async (_name, csv, expected) => {
      const before = await state();
      const result = await importCsv('MEMBERS', csv);
      expect(result.userErrors).toEqual([]);
      expect(result.imported).toBe(false);
      expect(result.replayed).toBe(false);
      expect([result.membershipsCreated, result.paymentsPosted]).toEqual([0, 0]);
      expect(result.rowErrors.map((e) => ({ row: e.row, column: e.column, code: e.code }))).toEqual([
        expected,
      ]);
      expect(result.rowErrors[0]!.message.length).toBeGreaterThan(0);
      expect(await state()).toBe(before);
    },
  );

  it('a file listing several bad rows names each of them, and lands nothing', async () => {
    const before = await state();
    const result = await importCsv(
      'MEMBERS',
      rows({ 2: `Dee Dee,NOPE,${D},,,,,NEW-1,,`, 4: `Flo,WORKER,${future},,,,,NEW-3,,` }),
    );
    expect(result.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [2, 'class', 'UNKNOWN_MEMBER_CLASS'],
      [4, 'applied_on', 'INVALID_DATE'],
    ]);
    expect(await state()).toBe(before);
  });

  it('CRLF, a byte-order mark, columns in another order and case: lands completely', async () => {
    const csv = `\uFEFF${[
      'External_Ref,NAME,Class,Applied_On,Email,Status',
      `BOM-1,"Gil ""Gilly"" Scott, Jr.",WORKER,${addDays(D, 4)},gil@example.org,ACTIVE`,
      `BOM-2,Hana,SUPPORTER,${addDays(D, 4)},,`,
    ].join('\r\n')}\r\n`;
    const result = await importCsv('MEMBERS', csv);
    expect(result).toMatchObject({ imported: true, rows: 2, membershipsCreated: 2, rowErrors: [] });
    subscribed(5, 'WORKER');
    subscribed(6, 'SUPPORTER');
    await book.check('after the CRLF file');
    const listed = await listMemberships(server.url, coop.treasurerToken, coop.id);
    expect(listed.slice(4).map((m) => [m.memberNumber, m.state, m.party.name, m.party.externalRef])).toEqual([
      [5, 'ACTIVE', 'Gil "Gilly" Scott, Jr.', 'BOM-1'],
      [6, 'APPLICANT', 'Hana', 'BOM-2'],
    ]);
    const gil = await byNumber(5);
    // status_on defaults to applied_on.
    expect([gil.appliedOn, gil.stateSince, gil.party.email]).toEqual([
      addDays(D, 4),
      addDays(D, 4),
      'gil@example.org',
    ]);
  });

  it('the file the bad variants were made from lands once nothing is spoilt', async () => {
    const result = await importCsv('MEMBERS', rows());
    expect(result).toMatchObject({ imported: true, rows: 3, membershipsCreated: 3, rowErrors: [] });
    subscribed(7, 'WORKER');
    subscribed(8, 'SUPPORTER');
    subscribed(9, 'WORKER');
    await book.check('after the base file');
    const listed = await listMemberships(server.url, coop.treasurerToken, coop.id);
    expect(listed.slice(6).map((m) => [m.memberNumber, m.state, m.party.externalRef])).toEqual([
      [7, 'ACTIVE', 'NEW-1'],
      [8, 'APPLICANT', 'NEW-2'],
      [9, 'CANDIDATE', 'NEW-3'],
    ]);
  });
});

describe('PAYMENTS', () => {
  const GOOD_PAYMENTS = [
    'member,paid_on,amount,method,reference',
    `1,${addDays(D, 20)},300.00,bank,"Instalment 1, Ada"`,
    `EXT-3,${addDays(D, 21)},150.00,cash,`,
    `EXT-1,${addDays(D, 50)},300.00,,`,
    `4,${addDays(D, 22)},50.00,CASH,"cash ""in hand"""`,
  ].join('\r\n');
  let key: string;

  it('a good file posts every payment, members named by number and by external_ref', async () => {
    key = newKey('payments');
    const result = await importCsv('PAYMENTS', GOOD_PAYMENTS, key);
    expect(result).toEqual({
      imported: true,
      replayed: false,
      rows: 4,
      membershipsCreated: 0,
      paymentsPosted: 4,
      rowErrors: [],
      userErrors: [],
    });
    paid(1, '300.00', 'BANK');
    paid(3, '150.00', 'CASH');
    paid(1, '300.00', 'BANK');
    paid(4, '50.00', 'CASH');
    await book.check('after the payments');
    expect(book.net('1010')).toBe('600.00');
    expect(book.net('1000')).toBe('200.00');

    const ada = await byNumber(1);
    expect([ada.paidIn, ada.outstanding, ada.shareCapital]).toEqual(['600.00', '300.00', '600.00']);
    expect(ada.schedule.map((i) => i.status)).toEqual(['PAID', 'PAID', 'OVERDUE']);
    const statement = await coop.treasurer.memberStatement({ membershipId: ada.id, from: D, to: today() });
    expect(statement!.movements.map((v) => [v.event, v.memo, v.effectiveAt.slice(0, 10)])).toEqual([
      ['SUBSCRIPTION', 'Share subscription, member 1', D],
      ['INSTALMENT', 'Instalment 1, Ada', addDays(D, 20)],
      ['INSTALMENT', 'Buy-in instalment, member 1', addDays(D, 50)],
    ]);
    const bo = await byNumber(3);
    expect([bo.paidIn, bo.outstanding]).toEqual(['150.00', '750.00']);
    const cy = await byNumber(4);
    expect([cy.paidIn, cy.outstanding]).toEqual(['50.00', '0.00']);
    const cyStatement = await coop.treasurer.memberStatement({ membershipId: cy.id, from: D, to: today() });
    expect(cyStatement!.movements.at(-1)?.memo).toBe('cash "in hand"');
  });

  it('a replay posts nothing', async () => {
    const before = await state();
    const replay = await importCsv('PAYMENTS', GOOD_PAYMENTS, key);
    expect(replay).toMatchObject({ imported: true, replayed: true, paymentsPosted: 4 });
    expect(await state()).toBe(before);
  });

  it('cumulative payments beyond what a member owes name the row and land nothing', async () => {
    const before = await state();
    // Ada owes 300.00: 200.00 (by external_ref) then 100.01 (by number) is 0.01 too much.
    const result = await importCsv(
      'PAYMENTS',
      [
        'member,paid_on,amount',
        `EXT-1,${addDays(D, 60)},200.00`,
        `3,${addDays(D, 60)},100.00`,
        `1,${addDays(D, 61)},100.01`,
      ].join('\n'),
    );
    expect(result.imported).toBe(false);
    expect(result.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [4, 'amount', 'PAYMENT_EXCEEDS_OUTSTANDING'],
    ]);
    expect(result.rowErrors[0]!.message).toContain('100.00');
    expect(await state()).toBe(before);
    expect((await byNumber(3)).paidIn).toBe('150.00');
  });

  it.each([
    ['unknown member', `EXT-404,${D},1.00,bank,`, 'member', 'UNKNOWN_MEMBERSHIP'],
    ['unknown member number', `99,${D},1.00,bank,`, 'member', 'UNKNOWN_MEMBERSHIP'],
    ['not an amount', `1,${D},ten,bank,`, 'amount', 'INVALID_AMOUNT'],
    ['too many decimals', `1,${D},1.001,bank,`, 'amount', 'INVALID_AMOUNT'],
    ['negative amount', `1,${D},-5.00,bank,`, 'amount', 'INVALID_AMOUNT'],
    ['zero amount', `1,${D},0.00,bank,`, 'amount', 'INVALID_AMOUNT'],
    ['unknown method', `1,${D},1.00,cheque,`, 'method', 'INVALID_INPUT'],
    ['future date', `1,${addDays(today(), 2)},1.00,bank,`, 'paid_on', 'INVALID_DATE'],
    ['bad date', `1,2023-13-01,1.00,bank,`, 'paid_on', 'INVALID_DATE'],
  ])('a payments file with one bad row (%s) lands nothing', async (_name, row, column, code) => {
    const before = await state();
    const result = await importCsv(
      'PAYMENTS',
      [
        'member,paid_on,amount,method,reference',
        `3,${addDays(D, 30)},10.00,bank,ok`,
        row,
        `EXT-3,${addDays(D, 30)},5.00,cash,`,
      ].join('\n'),
    );
    expect(result.imported).toBe(false);
    expect(result.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([[3, column, code]]);
    expect(await state()).toBe(before);
  });

  it('payments to a member who left are refused', async () => {
    await changeState(coop, (await byNumber(6)).id, 'WITHDRAWN', addDays(D, 30));
    // Hana (SUPPORTER) had paid nothing: leaving cancels her subscription.
    book.post([
      ['3010-00006', 'DEBIT', '50.00'],
      ['1150-00006', 'CREDIT', '50.00'],
    ]);
    const before = await state();
    const result = await importCsv('PAYMENTS', `member,paid_on,amount\nBOM-2,${addDays(D, 31)},10.00\n`);
    expect(result.imported).toBe(false);
    // The row is named as a payment to a member who left (and, the subscription being cancelled,
    // as more than is owed).
    expect(result.rowErrors[0]).toMatchObject({ row: 2, column: 'member', code: 'MEMBERSHIP_ENDED' });
    expect(result.rowErrors.every((e) => e.row === 2)).toBe(true);
    expect(await state()).toBe(before);
  });

  it('payments exactly up to what is owed, by external_ref and number in one file, land', async () => {
    const result = await importCsv(
      'PAYMENTS',
      ['member,paid_on,amount', `EXT-1,${addDays(D, 60)},200.00`, `1,${addDays(D, 61)},100.00`].join('\n'),
    );
    expect(result).toMatchObject({ imported: true, paymentsPosted: 2 });
    paid(1, '200.00', 'BANK');
    paid(1, '100.00', 'BANK');
    await book.check('after paying Ada off');
    const ada = await byNumber(1);
    expect([ada.paidIn, ada.outstanding]).toEqual(['900.00', '0.00']);
    expect(ada.schedule.map((i) => i.status)).toEqual(['PAID', 'PAID', 'PAID']);
  });
});

describe('scripts/import-members.ts', () => {
  /** Runs the script (asynchronously: the server answering it runs in this process). */
  async function runScript(
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (!('LEDGER_TOKEN' in env)) delete childEnv.LEDGER_TOKEN;
    const child = spawn(process.execPath, [...builtArgs('scripts/import-members.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'exit');
    return { code, stdout, stderr };
  }

  function file(name: string, text: string): string {
    const path = joinPath(tmp, name);
    writeFileSync(path, text);
    return path;
  }

  const common = () => ['--url', server.url, '--coop', coop.id];

  it('a good file: exit 0, a summary, and the members exist; the same file again is a replay', async () => {
    const path = file(
      'good.csv',
      [
        'name,class,applied_on,external_ref,status',
        `Ivo Script,WORKER,${addDays(D, 40)},CLI-1,active`,
        `"Jo, the Scripted",SUPPORTER,${addDays(D, 41)},CLI-2,`,
      ].join('\n'),
    );
    const run = await runScript([...common(), '--kind', 'members', '--file', path], {
      LEDGER_TOKEN: coop.treasurerToken,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('imported');
    expect(run.stdout).toMatch(/rows:\s+2\n/);
    expect(run.stdout).toMatch(/memberships created:\s+2\n/);
    expect(run.stdout).toMatch(/payments posted:\s+0\n/);
    expect(run.stdout).toMatch(/replayed:\s+no\n/);
    subscribed(10, 'WORKER');
    subscribed(11, 'SUPPORTER');
    await book.check('after the script');
    const listed = await listMemberships(server.url, coop.treasurerToken, coop.id);
    expect(listed.slice(9).map((m) => [m.memberNumber, m.state, m.party.name, m.party.externalRef])).toEqual([
      [10, 'ACTIVE', 'Ivo Script', 'CLI-1'],
      [11, 'APPLICANT', 'Jo, the Scripted', 'CLI-2'],
    ]);

    const before = await state();
    const again = await runScript([...common(), '--file', path, '--token', coop.treasurerToken]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/replayed:\s+yes\n/);
    expect(again.stdout).toMatch(/memberships created:\s+2\n/);
    expect(await state()).toBe(before);
  });

  it('a payments file: exit 0 and the payment is posted', async () => {
    const path = file('payments.csv', `member,paid_on,amount,method\nCLI-1,${addDays(D, 45)},123.45,cash\n`);
    const run = await runScript([
      ...common(),
      '--kind',
      'payments',
      '--file',
      path,
      '--token',
      coop.treasurerToken,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/payments posted:\s+1\n/);
    paid(10, '123.45', 'CASH');
    await book.check('after the payments script');
    expect((await byNumber(10)).paidIn).toBe('123.45');
  });

  it('a bad file: exit 1, a table naming the row, column and code, and nothing lands', async () => {
    const before = await state();
    const path = file(
      'bad.csv',
      [
        'name,class,applied_on,external_ref',
        `Kai,WORKER,${addDays(D, 40)},CLI-3`,
        `Lu,BOGUS,${addDays(D, 40)},CLI-4`,
        `Mo,WORKER,${future()},CLI-5`,
      ].join('\n'),
    );
    const run = await runScript([...common(), '--file', path, '--token', coop.treasurerToken]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('NOT imported');
    const table = run.stdout.split('\n').filter((l) => /^\d+\s/.test(l));
    expect(table).toHaveLength(2);
    expect(table[0]).toMatch(/^3\s+class\s+UNKNOWN_MEMBER_CLASS\s+.*BOGUS/);
    expect(table[1]).toMatch(/^4\s+applied_on\s+INVALID_DATE\s+/);
    expect(await state()).toBe(before);
  });

  it('usage errors, an unreadable file, an unknown co-op and a refused token: exit 2 with a message', async () => {
    const path = file('tiny.csv', `name,class,applied_on\nNed,WORKER,${D}\n`);
    const token = ['--token', coop.treasurerToken];
    const [help, noCoop, noFile, badKind, noToken, unknownOption, missing] = await Promise.all([
      runScript(['--help']),
      runScript(['--url', server.url, '--file', path, ...token]),
      runScript([...common(), ...token]),
      runScript([...common(), '--file', path, '--kind', 'people', ...token]),
      runScript([...common(), '--file', path]),
      runScript([...common(), '--file', path, '--frobnicate', ...token]),
      runScript([...common(), '--file', joinPath(tmp, 'does-not-exist.csv'), ...token]),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage:');
    expect(noCoop.code).toBe(2);
    expect(noCoop.stderr).toContain('--coop is required');
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('--file is required');
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain('--kind must be members or payments');
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('LEDGER_TOKEN');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain('frobnicate');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');

    const other = await setupCoop(server.url, admin);
    const [unknown, refused] = await Promise.all([
      runScript(['--url', server.url, '--coop', other.id, '--file', path, ...token]),
      runScript([...common(), '--file', path, '--token', 'slt_not_a_token']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('UNKNOWN_COOP');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refused');
    // The other co-op got nothing, and neither did this one.
    expect(await listMemberships(server.url, other.treasurerToken, other.id)).toEqual([]);
    expect(
      (await listMemberships(server.url, coop.treasurerToken, coop.id)).map((m) => m.party.name),
    ).not.toContain('Ned');
  });

  function future(): string {
    return addDays(today(), 10);
  }
});
