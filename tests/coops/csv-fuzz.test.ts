/**
 * Hostile CSV files for the imports of the API area (importMembersCsv MEMBERS and PAYMENTS,
 * importJournalCsv), generated from a seed: fragments of valid rows mixed with quotes, separators,
 * bare CRs, BOMs, blank lines, formula-looking cells, amounts in every malformed form, unicode and
 * very long cells. Every answer is a coded refusal (userErrors or rowErrors with codes) or an
 * import; never a 5xx or a masked error; a refused file imports nothing.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, createClass, join, registerParty, setupCoop, today } from '../helpers/coop.js';
import { connectPg, ledgerClient, newKey, rawGraphQL, seededRandom } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let db: pg.Client;
const PAYEE = 'fuzz-payee';

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  db = await connectPg();
  coop = await setupCoop(server.url, admin);
  await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
  const classId = await createClass(coop, { code: 'S', name: 'Supporter', buyIn: '10.00', voting: false });
  // The payments' valid member cell is this member's external_ref: its number (1) is not, as the
  // members files may give another member the external_ref "1" (a hostile cell), which makes "1"
  // ambiguous and every payment naming it refused.
  const partyId = await registerParty(coop, { name: 'Payee', externalRef: PAYEE });
  await join(coop, { classId, appliedOn: today(), partyId });
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

const CELLS = [
  'Ada',
  'W',
  'S',
  today(),
  '2026-02-30',
  '1',
  '00001',
  '10.00',
  '1e3',
  '-0',
  '1.001',
  'NaN',
  ' 5.00',
  '999999999999999999999.00',
  'bank',
  'cash',
  'CASH',
  'active',
  'candidate',
  'withdrawn',
  'person',
  'organization',
  '=HYPERLINK("http://x")',
  '+1',
  '@SUM(A1)',
  '"quoted, with comma"',
  '"a ""quote"""',
  '"unclosed',
  'a"b',
  '\r',
  'é',
  '😀',
  '\u202e',
  '\u200b',
  'x'.repeat(5000),
  '',
  '1000',
  '4000',
  'debit',
  '1',
  'e1',
];
type Kind = 'MEMBERS' | 'PAYMENTS' | 'JOURNAL';

/** Each kind's columns, with a valid value for row `n` of the file. */
const VALID: Record<Kind, [string, (n: number) => string][]> = {
  MEMBERS: [
    ['name', (n) => `Member ${n} ${newKey('n')}`],
    ['class', (n) => (n % 2 ? 'W' : 'S')],
    ['applied_on', () => today()],
    ['kind', () => 'person'],
    ['external_ref', () => newKey('ref')],
    ['status', (n) => ['applicant', 'candidate', 'active'][n % 3]!],
    ['status_on', () => today()],
    ['email', (n) => `m${n}@example.org`],
  ],
  PAYMENTS: [
    ['member', () => PAYEE],
    ['paid_on', () => today()],
    ['amount', () => '0.01'],
    ['method', (n) => (n % 2 ? 'bank' : 'cash')],
    ['reference', (n) => `payment ${n}`],
  ],
  // Rows in pairs: row 2k debits 1010, row 2k+1 credits 4000, both of entry k.
  JOURNAL: [
    ['entry', (n) => `e${Math.floor(n / 2)}`],
    ['date', () => today()],
    ['account_code', (n) => (n % 2 ? '4000' : '1010')],
    ['debit', (n) => (n % 2 ? '' : '2.50')],
    ['credit', (n) => (n % 2 ? '2.50' : '')],
    ['memo', () => 'fuzz'],
  ],
};

function quoted(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** A file of valid rows in which each cell is hostile with probability 1/6, sometimes broken whole. */
function randomCsv(kind: Kind, random: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const columns = VALID[kind];
  const rows = kind === 'JOURNAL' ? 2 * (1 + Math.floor(random() * 3)) : 1 + Math.floor(random() * 6);
  const lines = [columns.map(([name]) => name).join(',')];
  for (let n = 0; n < rows; n++)
    lines.push(
      columns
        .map(([, valid]) =>
          random() < 1 / 6 ? (random() < 0.5 ? quoted(pick(CELLS)) : pick(CELLS)) : valid(n),
        )
        .join(','),
    );
  let csv = lines.join(random() < 0.5 ? '\n' : '\r\n');
  const damage = random();
  if (damage < 0.05) csv = `\uFEFF${csv}`;
  else if (damage < 0.1) csv = `${csv}\n,,,\n\n`;
  else if (damage < 0.15) csv = csv.replace(',', ',"');
  else if (damage < 0.2) csv = csv.toUpperCase();
  return csv;
}

const BAD = new Set(['INTERNAL_SERVER_ERROR']);

/** The co-op's entries, parties and memberships, as one figure. */
async function written(): Promise<string> {
  const { rows } = await db.query(
    `select (select count(*) from journal_entry where book_id = $1) || '/' ||
            (select count(*) from party where book_id = $1) || '/' ||
            (select count(*) from membership where book_id = $1) as n`,
    [coop.bookUuid],
  );
  return rows[0].n as string;
}

async function fuzzImport(
  name: Kind,
  send: (csv: string, key: string) => Promise<Awaited<ReturnType<typeof rawGraphQL>>>,
  field: string,
  seed: number,
): Promise<string[]> {
  const random = seededRandom(seed);
  const failures: string[] = [];
  let imported = 0;
  const codes = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const csv = randomCsv(name, random);
    const before = await written();
    const answer = await send(csv, newKey('csvfuzz'));
    const what = `${name} #${i} ${JSON.stringify(csv).slice(0, 160)}`;
    if (answer.status >= 500) {
      failures.push(`${what}: status ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      continue;
    }
    for (const e of answer.body.errors ?? [])
      if (typeof e.extensions?.code !== 'string' || BAD.has(e.extensions.code as string))
        failures.push(`${what}: ${JSON.stringify(e).slice(0, 200)}`);
    const payload = (answer.body.data as Record<string, Record<string, unknown>> | null)?.[field];
    if (!payload) {
      if (!answer.body.errors?.length) failures.push(`${what}: no payload`);
      continue;
    }
    const refusals = [
      ...((payload.userErrors as { code: string }[]) ?? []),
      ...((payload.rowErrors as { code: string }[]) ?? []),
    ];
    if (refusals.some((r) => typeof r.code !== 'string' || r.code === ''))
      failures.push(`${what}: a refusal without a code`);
    if (refusals.length > 0 && payload.imported !== false) failures.push(`${what}: refused yet imported`);
    if (payload.imported !== true && (await written()) !== before)
      failures.push(`${what}: not imported, yet wrote`);
    if (payload.imported === true) imported += 1;
    for (const r of refusals) codes.add(r.code);
  }
  // The files reached past the CSV syntax into the rows, and some imported.
  expect(imported, name).toBeGreaterThan(0);
  expect(codes.size, `${name}: ${[...codes]}`).toBeGreaterThan(3);
  return failures;
}

describe('random hostile CSV files', () => {
  it('importMembersCsv (MEMBERS and PAYMENTS) and importJournalCsv answer coded refusals or imports', async () => {
    const members = (kind: 'MEMBERS' | 'PAYMENTS') => (csv: string, key: string) =>
      rawGraphQL(
        server.url,
        `mutation ($input: ImportMembersCsvInput!) { importMembersCsv(input: $input) {
           imported rowErrors { code row message } userErrors { code field } } }`,
        { input: { coopId: coop.id, kind, idempotencyKey: key, csv } },
        { token: coop.treasurerToken },
      );
    const journal = (csv: string, key: string) =>
      rawGraphQL(
        server.url,
        `mutation ($input: ImportJournalCsvInput!) { importJournalCsv(input: $input) {
           imported rowErrors { code row column message } userErrors { code field } } }`,
        { input: { bookId: coop.bookId, idempotencyKey: key, csv } },
        { token: coop.treasurerToken },
      );
    const failures = [
      ...(await fuzzImport('MEMBERS', members('MEMBERS'), 'importMembersCsv', 1)),
      ...(await fuzzImport('PAYMENTS', members('PAYMENTS'), 'importMembersCsv', 2)),
      ...(await fuzzImport('JOURNAL', journal, 'importJournalCsv', 3)),
    ];
    expect(failures).toEqual([]);
    expect((await admin.auditBook({ bookId: coop.bookId }))!.ok).toBe(true);
  }, 300_000);
});
