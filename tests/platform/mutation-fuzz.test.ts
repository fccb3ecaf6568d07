/**
 * A schema-driven fuzz of every mutation, and of every query field's arguments (issue 3's
 * hardening, issue 10's audit). The printed schema is walked by introspection, so a field added
 * later is covered too. Each mutation gets a base input built from its input type, with the ids of
 * real objects (a co-op, its book, accounts, entries, a membership, a credit network) wherever a
 * field's name says which object it names, and then, one at a time, every leaf of that input
 * replaced by malformed values of its kind: wrong JSON types, huge strings, deeply nested lists,
 * amounts with too many decimals, negative zero, exponent notation, NaN, non-ASCII digits, ids
 * that are not UUIDs or name another type, dates that do not exist, instants finer than a
 * millisecond, integers out of range, cursors of garbage.
 *
 * Every answer must be a clear refusal: never a 5xx, never a masked internal error, every error
 * with a stable `extensions.code`, a payload's refusal as userErrors with codes; and a mutation
 * may write nothing: the row count of every table is the same after its variants as before (in
 * a database of this file's own, so that other files running meanwhile cannot disturb the counts).
 *
 * Last, the walk turned on tenants: every query field and every mutation sent with the fixture
 * co-op's real ids by another co-op's TREASURER and by a MEMBER of that other co-op (selecting
 * ids, names and amounts three levels deep) shows none of the fixture's ids or its name and writes
 * nothing, while its own treasurer is shown its data through at least 15 query fields (the control);
 * and each answers exactly as it does when every id is forged to the same shape with uuids that
 * name nothing (no existence oracle), for them and for a MEMBER of the fixture co-op itself,
 * while the own treasurer's reads tell the two apart.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { createAuthService } from '../../server/auth/index.js';
import { migrate, nativePool } from '../../server/platform/db/orm.js';
import { createLogger } from '../../server/platform/logger.js';
import { createOrm } from '../../server/services.js';
import { coopInput, createClass, join, setupCoop, today } from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import {
  connectPg,
  decodeGlobalId,
  encodeGlobalId,
  ledgerClient,
  newKey,
  rawGraphQL,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { leaksIn } from '../helpers/tokens.js';

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface InputField {
  name: string;
  type: TypeRef;
}
interface FullType {
  kind: string;
  name: string;
  inputFields: InputField[] | null;
  enumValues: { name: string }[] | null;
  fields: { name: string; args: InputField[]; type: TypeRef }[] | null;
}

const TYPE_REF =
  'kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }';

let server: TestServer;
let admin: LedgerClient;
let types: Map<string, FullType>;
/** Real ids by input field name (bookId, accountId, ...). */
const ids: Record<string, string> = {};
let db: Awaited<ReturnType<typeof connectPg>>;
let treasurerToken: string;
/** Another co-op's TREASURER and a MEMBER of it (a member token its treasurer issued). */
let strangers: { treasurer: string; member: string };
/** A MEMBER of the fixture co-op itself (another membership than the fixture's). */
let neighbourToken: string;
/** The fixture co-op's chart: account ids by code. */
let fixtureChart: Record<string, string>;
/** What of the fixture co-op no stranger may see: its raw ids and its name. */
const secrets = new Set<string>();

/**
 * A database of this file's own (migrated, with the run's ADMIN token registered, as the global
 * setup makes the run's): the row counts below see only this file's writes, whatever other files
 * or projects of the run write meanwhile.
 */
async function ownDatabase(): Promise<ScratchDatabase> {
  const scratch = await createScratchDatabase();
  const orm = await createOrm(scratch.url, { poolMax: 2 });
  try {
    await migrate(orm);
    await createAuthService(orm, await nativePool(orm), createLogger({ level: 'warn' })).bootstrap(
      inject('adminToken'),
    );
  } finally {
    await orm.close();
  }
  return scratch;
}

let scratch: ScratchDatabase;

beforeAll(async () => {
  scratch = await ownDatabase();
  server = await startTestServer({ databaseUrl: scratch.url, config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  db = await connectPg(scratch.url);
  const coop = await setupCoop(server.url, admin, coopInput());
  treasurerToken = coop.treasurerToken;
  const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
  const joined = await join(coop, { classId, appliedOn: today() });
  const chart = Object.values(coop.chart);
  const posted = await admin.postJournalEntry({
    bookId: coop.bookId,
    idempotencyKey: newKey('fuzz'),
    lines: [
      { accountId: coop.chart['1000']!, side: 'DEBIT', amount: '5.00', unit: 'USD' },
      { accountId: chart[chart.length - 1]!, side: 'CREDIT', amount: '5.00', unit: 'USD' },
    ],
  });
  const network = await setupNetwork(
    server.url,
    admin,
    {
      name: `Fuzz net ${newKey('n')}`,
      unit: { code: 'SRD', scale: 2 },
      policy: { defaultLimit: '100.00', softLimitPercent: 80, defaultUpperBound: '1000.00' },
    },
    2,
  );
  Object.assign(ids, {
    coopId: coop.id,
    organizationCoopId: coop.id,
    bookId: coop.bookId,
    accountId: coop.chart['1000']!,
    counterAccountId: chart[chart.length - 1]!,
    parentId: coop.chart['1000']!,
    entryId: posted.entry?.id ?? '',
    membershipId: joined.membership.id,
    fromMembershipId: joined.membership.id,
    toMembershipId: joined.membership.id,
    partyId: joined.partyId,
    memberClassId: classId,
    networkId: network.networkId,
    memberId: network.members[0]!,
    payerId: network.members[0]!,
    debtorId: network.members[0]!,
    payeeId: network.members[1]!,
    creditorId: network.members[1]!,
  });
  const other = await setupCoop(server.url, admin, coopInput());
  const otherClass = await createClass(other, { code: 'W', name: 'Worker', buyIn: '0.00', voting: true });
  const otherMember = await join(other, { classId: otherClass, appliedOn: today() });
  const invited = await other.treasurer.issueMemberToken({ membershipId: otherMember.membership.id });
  expect(invited.userErrors).toEqual([]);
  strangers = { treasurer: other.treasurerToken, member: invited.token! };
  const neighbour = await join(coop, { classId, appliedOn: today() });
  const neighbourInvited = await coop.treasurer.issueMemberToken({ membershipId: neighbour.membership.id });
  expect(neighbourInvited.userErrors).toEqual([]);
  neighbourToken = neighbourInvited.token!;
  fixtureChart = coop.chart;
  secrets.add(coop.name);
  for (const id of [...Object.values(ids), ...Object.values(coop.chart)]) {
    secrets.add(id);
    try {
      const decoded = decodeGlobalId(id);
      secrets.add(decoded.bookId);
      secrets.add(decoded.id);
    } catch {}
  }
  const answer = await rawGraphQL(
    server.url,
    `{ __schema { types { kind name enumValues { name } inputFields { name type { ${TYPE_REF} } }
       fields { name type { ${TYPE_REF} } args { name type { ${TYPE_REF} } } } } } }`,
  );
  types = new Map(
    (answer.body.data as { __schema: { types: FullType[] } }).__schema.types.map((t) => [t.name, t]),
  );
}, 120_000);

afterAll(async () => {
  await db?.end();
  await server?.stop();
  await scratch?.drop();
});

function named(type: TypeRef): string {
  return type.ofType ? named(type.ofType) : type.name!;
}

const RANDOM_UUID = '0190f0e0-0000-7000-8000-000000000001';

/**
 * A well-formed value of the type: real ids where the field's name says which, plausible scalars.
 * `minimal`: only the required fields of input objects (so that a check of one optional field is
 * not hidden behind another's refusal, e.g. a line naming its account both by id and by code).
 */
function sample(field: string, type: TypeRef, minimal: boolean): unknown {
  if (type.kind === 'NON_NULL') return sample(field, type.ofType!, minimal);
  if (type.kind === 'LIST') {
    const item = sample(field, type.ofType!, minimal);
    // Journal lines: a balanced pair on two accounts.
    if (field === 'lines' && item && typeof item === 'object' && 'side' in item)
      return [
        { ...item, side: 'DEBIT', accountId: ids.accountId },
        { ...item, side: 'CREDIT', accountId: ids.counterAccountId },
      ];
    return [item];
  }
  switch (type.name) {
    case 'ID':
      return ids[field] ?? encodeGlobalId('Book', RANDOM_UUID);
    case 'String':
      return /key$/i.test(field) ? newKey('fuzz') : /code$/i.test(field) || field === 'unit' ? 'USD' : 'fuzz';
    case 'Int':
      return 1;
    case 'Boolean':
      return false;
    case 'Decimal':
      return '1.00';
    case 'Date':
      return today();
    case 'DateTime':
      return new Date().toISOString();
  }
  const full = types.get(type.name!)!;
  if (full.kind === 'ENUM') return full.enumValues![0]!.name;
  return Object.fromEntries(
    full
      .inputFields!.filter((f) => !minimal || f.type.kind === 'NON_NULL' || f.name === 'accountId')
      .map((f) => [f.name, sample(f.name, f.type, minimal)]),
  );
}

/** Whether the object or list holding the leaf at `path` exists in `value` (the leaf may not). */
function parentExists(value: unknown, path: Path): boolean {
  let at = value;
  for (const step of path.slice(0, -1)) {
    if (at === null || typeof at !== 'object' || !(step in (at as object))) return false;
    at = (at as Record<string | number, unknown>)[step];
  }
  return at !== null && typeof at === 'object';
}

type Path = (string | number)[];

interface Leaf {
  path: Path;
  /** The named type at the leaf (String, Decimal, an enum's name, an input object's name). */
  typeName: string;
  list: boolean;
  base: unknown;
}

function leaves(value: unknown, type: TypeRef, path: Path, out: Leaf[]): void {
  const inner = type.kind === 'NON_NULL' ? type.ofType! : type;
  const full = types.get(named(inner));
  out.push({ path, typeName: named(inner), list: inner.kind === 'LIST', base: value });
  if (inner.kind === 'LIST') {
    leaves((value as unknown[])[0], inner.ofType!, [...path, 0], out);
    return;
  }
  if (full?.kind === 'INPUT_OBJECT') {
    for (const f of full.inputFields!)
      leaves((value as Record<string, unknown>)[f.name], f.type, [...path, f.name], out);
  }
}

function withValue(base: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(base) ? [...base] : { ...(base as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head!] = withValue(copy[head!], rest, value);
  return copy;
}

function nested(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Raw parts of a real global id, with its typename kept and the uuid(s) made malformed. */
function idVariants(base: string): [string, unknown][] {
  let typename = 'Book';
  let bookId = RANDOM_UUID;
  try {
    const decoded = decodeGlobalId(base);
    typename = decoded.typename;
    bookId = decoded.bookId;
  } catch {}
  return [
    ['not base64', 'not-an-id!'],
    ['empty', ''],
    ['a raw uuid', RANDOM_UUID],
    ['typename only', encodeGlobalId(typename, '')],
    ['raw id not a uuid', encodeGlobalId(typename, 'nope')],
    ['scoped id, book not a uuid', encodeGlobalId(typename, `nope:${RANDOM_UUID}`)],
    ['scoped id, id not a uuid', encodeGlobalId(typename, `${bookId}:nope`)],
    ['scoped id, three parts', encodeGlobalId(typename, `${bookId}:${RANDOM_UUID}:${RANDOM_UUID}`)],
    ['uuid with SQL', encodeGlobalId(typename, `${bookId}' or '1'='1`)],
    ['uuid in braces', encodeGlobalId(typename, `{${bookId}}`)],
    ['uuid without dashes', encodeGlobalId(typename, bookId.replaceAll('-', ''))],
    ['nil uuid', encodeGlobalId(typename, '00000000-0000-0000-0000-000000000000')],
    ['another type', encodeGlobalId('Principal', bookId)],
    ['a NUL', encodeGlobalId(typename, `${bookId}\u0000`)],
    ['huge', 'A'.repeat(100_000)],
    ['a number', 12],
  ];
}

const COMMON: [string, unknown][] = [
  ['an object', { a: 1 }],
  ['a list', ['x']],
  ['a list nested 200 deep', nested(200)],
  ['true', true],
];

function variants(leaf: Leaf): [string, unknown][] {
  if (leaf.list)
    return [
      ['a string for a list', 'x'],
      ['a number for a list', 1],
      ['a list nested 200 deep', nested(200)],
      // As many items as fit well under the body limit: a list without a limit, or one checked
      // item by item against the database, shows here.
      ['a list of 3,000 items', Array.from({ length: 3000 }, () => (leaf.base as unknown[])[0])],
    ];
  switch (leaf.typeName) {
    case 'ID':
      return [...idVariants(String(leaf.base)), ...COMMON];
    case 'String':
      return [
        ...(/^(after|before)$/.test(String(leaf.path.at(-1)))
          ? ([
              ['a cursor of garbage', Buffer.from('garbage').toString('base64')],
              ['a cursor of JSON', Buffer.from('{"id":"x","n":1e999}').toString('base64')],
              ['a cursor with a NUL', Buffer.from('\u0000:x').toString('base64')],
              ['a cursor of an id', encodeGlobalId('Account', `${RANDOM_UUID}:nope`)],
            ] as [string, unknown][])
          : []),
        ['a huge string', 'x'.repeat(300_000)],
        ['a number', 7],
        ['a float', 1.5],
        ['a NUL', 'a\u0000b'],
        ['a lone surrogate', 'a\udc00'],
        ...COMMON,
      ];
    case 'Decimal':
      return [
        ['too many decimals', '1.001'],
        ['max-scale-plus-one decimals', `1.${'0'.repeat(18)}1`],
        ['negative zero', '-0'],
        ['negative zero with scale', '-0.00'],
        ['exponent', '1e3'],
        ['exponent capital', '1E3'],
        ['NaN', 'NaN'],
        ['Infinity', 'Infinity'],
        ['empty', ''],
        ['spaces', ' 1.00 '],
        ['plus sign', '+1.00'],
        ['hex', '0x10'],
        ['underscore', '1_000.00'],
        ['comma', '1,00'],
        ['arabic digits', '١٢٣'],
        ['fullwidth digits', '１２'],
        ['61 digits', '9'.repeat(61)],
        ['40 integer digits', `${'9'.repeat(40)}.00`],
        ['JSON number', 1],
        ['JSON float', 1.5],
        ['JSON exponent', 1e21],
        ...COMMON,
      ];
    case 'Int':
      return [
        ['2^31', 2 ** 31],
        ['-2^31-1', -(2 ** 31) - 1],
        ['2^53+1', 2 ** 53 + 1],
        ['a float', 1.5],
        ['a string', '1'],
        ['negative', -1],
        ['huge negative', -(2 ** 31)],
        ...COMMON,
      ];
    case 'Boolean':
      return [['a string', 'true'], ['a number', 1], ...COMMON.filter(([l]) => l !== 'true')];
    case 'Date':
      return [
        ['Feb 30', '2026-02-30'],
        ['no padding', '2026-1-1'],
        ['compact', '20260101'],
        ['year 0', '0000-01-01'],
        ['year 3000', '3000-01-01'],
        ['an instant', '2026-01-01T00:00:00Z'],
        ['a number', 20260101],
        ['arabic digits', '٢٠٢٦-٠١-٠١'],
        ...COMMON,
      ];
    case 'DateTime':
      return [
        ['finer than a ms', '2026-01-01T00:00:00.0001Z'],
        ['no zone', '2026-01-01T00:00:00'],
        ['hour 24', '2026-01-01T24:00:00Z'],
        ['Feb 30', '2026-02-30T00:00:00Z'],
        ['year 9999', '9999-12-31T23:59:59Z'],
        ['year 0', '0000-01-01T00:00:00Z'],
        ['offset 23:59', '2026-01-01T00:00:00+23:59'],
        ['now', 'now'],
        ['a number', 0],
        ...COMMON,
      ];
  }
  const full = types.get(leaf.typeName)!;
  if (full.kind === 'ENUM')
    return [
      ['unknown value', 'NOPE'],
      ['lower case', full.enumValues![0]!.name.toLowerCase()],
      ['a number', 0],
      ...COMMON,
    ];
  return [
    ['a string for an object', 'x'],
    ['null', null],
    ['a number', 1],
    ['a list of objects', [leaf.base, leaf.base]],
  ];
}

/** Variants of a leaf that a service may accept as they are (odd but well-formed values). */
function mayBeAccepted(leaf: Leaf, label: string): boolean {
  // An optional input object set to null is a legitimate value, and so is a year in range.
  if (label === 'a list of 3,000 items') return true;
  if (label === 'null' || label === 'year 3000' || label === 'year 9999' || label === 'offset 23:59')
    return true;
  // "-0" is zero (server/core/money.ts parseAmount normalises the sign away), taken where zero is.
  if (label.startsWith('negative zero')) return true;
  // Percentages and weights are not money: they have no unit, hence no scale to exceed.
  const field = String(leaf.path[leaf.path.length - 1]);
  return label === 'too many decimals' && /Percent$|^weight$|^multiplier$/.test(field);
}

async function rowCounts(): Promise<Record<string, number>> {
  const { rows } = await db.query<{ t: string }>(
    `select quote_ident(table_name) as t from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const union = rows.map((r) => `select '${r.t}' as t, count(*)::int as n from ${r.t}`).join(' union all ');
  const counts = await db.query<{ t: string; n: number }>(union);
  return Object.fromEntries(counts.rows.map((r) => [r.t, r.n]));
}

/** Tables a refusal may write: the refusal kept under its key (issue 10, item 4; payment requests' steps, d63c816). */
const KEPT = new Set(['journal_refusal', 'credit_request_refusal']);

const BAD_CODES = new Set(['INTERNAL_SERVER_ERROR', 'UNEXPECTED', 'INTERNAL']);

/** The value written as a GraphQL literal of `type` (enum values bare), for the query text. */
function literal(value: unknown, type: TypeRef | null): string {
  const inner = type?.kind === 'NON_NULL' ? type.ofType : type;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => literal(v, inner?.kind === 'LIST' ? inner.ofType : null)).join(', ')}]`;
  if (typeof value === 'object') {
    const full = inner ? types.get(named(inner)) : undefined;
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${literal(v, full?.inputFields?.find((f) => f.name === k)?.type ?? null)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'string' && inner?.kind === 'ENUM' && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value))
    return value;
  // JSON's string escapes are GraphQL's (a lone surrogate or a NUL is written as \uXXXX).
  return JSON.stringify(value);
}

interface FuzzOptions {
  /** Who sends (default: the run's ADMIN). */
  token?: () => string;
  /** Write the input into the query text instead of the variables. */
  inText?: boolean;
}

async function fuzz(
  options: FuzzOptions,
): Promise<{ sent: number; failures: string[]; codes: Map<string, number> }> {
  {
    const mutations = types.get('Mutation')!.fields!;
    expect(mutations.length).toBeGreaterThanOrEqual(60);
    const failures: string[] = [];
    let sent = 0;
    /** How often each code answered (top-level errors and userErrors): what the fuzz reached. */
    const codes = new Map<string, number>();
    const seen = (code: unknown) => codes.set(String(code), (codes.get(String(code)) ?? 0) + 1);
    for (const mutation of mutations) {
      const inputType = mutation.args[0]!.type;
      const full = sample('input', inputType, false);
      const all: Leaf[] = [];
      leaves(full, inputType, [], all);
      const minimal = sample('input', inputType, true);
      const doc = `mutation ($input: ${named(inputType)}!) { ${mutation.name}(input: $input) { userErrors { code field message } } }`;
      const send = (input: unknown) =>
        options.inText
          ? rawGraphQL(
              server.url,
              `mutation { ${mutation.name}(input: ${literal(input, inputType)}) { userErrors { code field message } } }`,
              {},
              { token: options.token?.() },
            )
          : rawGraphQL(server.url, doc, { input }, { token: options.token?.() });
      const before = await rowCounts();
      let counts = before;
      const accepted: string[] = [];
      const runs = all.flatMap((leaf) => [
        { leaf, base: full, form: '' },
        ...(parentExists(minimal, leaf.path) && leaf.path.length > 0
          ? [{ leaf, base: minimal, form: ' [minimal]' }]
          : []),
      ]);
      for (const { leaf, base, form } of runs) {
        for (const [label, value] of variants(leaf)) {
          if (leaf.path.length === 0 && label === 'null') continue;
          const input = withValue(base, leaf.path, value);
          const what = `${mutation.name} ${leaf.path.join('.') || 'input'} (${leaf.typeName})${form}: ${label}`;
          sent += 1;
          let answer: Awaited<ReturnType<typeof rawGraphQL>>;
          try {
            answer = await send(input);
          } catch (error) {
            failures.push(`${what}: no JSON answer (${(error as Error).message})`);
            continue;
          }
          if (answer.status >= 500) {
            failures.push(`${what}: status ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
            continue;
          }
          const errors = answer.body.errors ?? [];
          for (const e of errors) seen(e.extensions?.code);
          for (const e of errors) {
            const code = e.extensions?.code;
            if (typeof code !== 'string' || BAD_CODES.has(code) || /unexpected error/i.test(e.message))
              failures.push(`${what}: error ${JSON.stringify(e).slice(0, 300)}`);
          }
          const payload = (answer.body.data as Record<string, { userErrors: { code: string }[] }> | null)?.[
            mutation.name
          ];
          for (const u of payload?.userErrors ?? []) seen(u.code);
          if (errors.length === 0 && !payload) failures.push(`${what}: neither errors nor a payload`);
          else if (payload?.userErrors.some((u) => typeof u.code !== 'string' || u.code === ''))
            failures.push(`${what}: a userError without a code ${JSON.stringify(payload.userErrors)}`);
          else if (payload && payload.userErrors.length === 0) {
            // No refusal in the payload (a batch may hold its refusals per item): nothing may
            // have been written.
            const now = await rowCounts();
            const changed = Object.keys(now).filter((t) => now[t] !== counts[t] && !KEPT.has(t));
            if (changed.length > 0) {
              if (mayBeAccepted(leaf, label)) accepted.push(what);
              else failures.push(`${what}: accepted, wrote ${changed.join(', ')}`);
            }
            counts = now;
          }
        }
      }
      const after = await rowCounts();
      if (accepted.length === 0) {
        const changed = Object.keys(after).filter((t) => after[t] !== before[t] && !KEPT.has(t));
        if (changed.length > 0)
          failures.push(
            `${mutation.name}: rows written to ${changed.map((t) => `${t} ${before[t]} -> ${after[t]}`).join(', ')}`,
          );
      }
    }
    return { sent, codes, failures };
  }
}

/** The fuzz reached the scalars and the use cases (not only GraphQL's own checks). */
function expectReached(codes: Map<string, number>): void {
  for (const code of [
    'INVALID_AMOUNT',
    'INVALID_DATE',
    'INVALID_INPUT',
    'UNKNOWN_ACCOUNT',
    'IDEMPOTENCY_KEY_REUSED',
  ])
    expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
}

describe('every mutation, every leaf of its input, malformed: a coded refusal (never a 5xx or a masked error), nothing written', () => {
  it('sent by the ADMIN, in the variables', async () => {
    const { sent, failures, codes } = await fuzz({});
    expectReached(codes);
    expect(sent).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
  }, 600_000);

  it("sent by the co-op's TREASURER, in the variables", async () => {
    const { sent, failures } = await fuzz({ token: () => treasurerToken });
    expect(sent).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
  }, 600_000);

  it('sent by the ADMIN, written in the query text', async () => {
    const { sent, failures, codes } = await fuzz({ inText: true });
    expectReached(codes);
    expect(sent).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
  }, 600_000);
});

function typeText(type: TypeRef): string {
  if (type.kind === 'NON_NULL') return `${typeText(type.ofType!)}!`;
  if (type.kind === 'LIST') return `[${typeText(type.ofType!)}]`;
  return type.name!;
}

describe('every query field, every leaf of its arguments, malformed', () => {
  it('answers data or a coded error, never a 5xx or a masked error (ADMIN, then TREASURER)', async () => {
    const fields = types.get('Query')!.fields!.filter((f) => f.args.length > 0);
    expect(fields.length).toBeGreaterThanOrEqual(40);
    const failures: string[] = [];
    let sent = 0;
    for (const token of [undefined, treasurerToken]) {
      for (const field of fields) {
        const out = types.get(named(field.type))!;
        const selection = ['OBJECT', 'INTERFACE', 'UNION'].includes(out.kind) ? '{ __typename }' : '';
        const doc = `query (${field.args.map((a) => `$${a.name}: ${typeText(a.type)}`).join(', ')}) { ${field.name}(${field.args
          .map((a) => `${a.name}: $${a.name}`)
          .join(', ')}) ${selection} }`;
        const full = Object.fromEntries(field.args.map((a) => [a.name, sample(a.name, a.type, false)]));
        const minimal = Object.fromEntries(
          field.args
            .filter((a) => a.type.kind === 'NON_NULL')
            .map((a) => [a.name, sample(a.name, a.type, true)]),
        );
        const all: Leaf[] = [];
        for (const a of field.args) leaves(full[a.name], a.type, [a.name], all);
        for (const leaf of all) {
          for (const base of [full, minimal]) {
            if (base === minimal && !parentExists(minimal, leaf.path)) continue;
            for (const [label, value] of variants(leaf)) {
              const what = `${field.name} ${leaf.path.join('.')} (${leaf.typeName})${base === minimal ? ' [minimal]' : ''}${token ? ' [treasurer]' : ''}: ${label}`;
              sent += 1;
              let answer: Awaited<ReturnType<typeof rawGraphQL>>;
              try {
                answer = await rawGraphQL(server.url, doc, withValue(base, leaf.path, value) as never, {
                  token,
                });
              } catch (error) {
                failures.push(`${what}: no JSON answer (${(error as Error).message})`);
                continue;
              }
              if (answer.status >= 500) {
                failures.push(
                  `${what}: status ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
                );
                continue;
              }
              for (const e of answer.body.errors ?? []) {
                const code = e.extensions?.code;
                if (typeof code !== 'string' || BAD_CODES.has(code) || /unexpected error/i.test(e.message))
                  failures.push(`${what}: error ${JSON.stringify(e).slice(0, 300)}`);
              }
            }
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
  }, 600_000);
});

/**
 * A selection of the type's fields without required arguments, `depth` levels deep (ids,
 * names and amounts: what a leak would show), with connections' nodes.
 */
function selection(type: TypeRef, depth: number): string {
  const full = types.get(named(type))!;
  if (full.kind === 'SCALAR' || full.kind === 'ENUM') return '';
  if (full.kind !== 'OBJECT' || depth === 0) return '{ __typename }';
  const parts = ['__typename'];
  for (const f of full.fields ?? []) {
    if (f.args.some((a) => a.type.kind === 'NON_NULL')) continue;
    const inner = types.get(named(f.type))!;
    if (inner.kind === 'SCALAR' || inner.kind === 'ENUM') parts.push(f.name);
    else if (depth > 1 && inner.kind === 'OBJECT') parts.push(`${f.name} ${selection(f.type, depth - 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

/** The fixture's id a field's `id` argument names (`coop(id:)` a co-op, `node(id:)` an account). */
function idOf(field: string): string {
  const by: Record<string, string> = {
    journalEntry: 'entryId',
    creditNetwork: 'networkId',
    node: 'accountId',
  };
  return ids[by[field] ?? `${field}Id`] ?? ids.bookId!;
}

/** Each query field sent with the fixture co-op's ids by `token`: the fields whose answer shows them. */
async function showingSecrets(token: string, failures: string[], who: string): Promise<string[]> {
  const showing: string[] = [];
  for (const field of types.get('Query')!.fields!) {
    const answer = await send('query', field, token);
    const what = `${who}: query ${field.name}`;
    if (answer.status >= 500) failures.push(`${what}: status ${answer.status}`);
    for (const e of answer.body.errors ?? [])
      if (
        ['GRAPHQL_VALIDATION_FAILED', 'INTERNAL_SERVER_ERROR'].includes(String(e.extensions?.code)) ||
        /limit/.test(e.message)
      )
        failures.push(`${what}: ${e.message}`);
    if (leaksIn(answer.body, secrets).length > 0) showing.push(field.name);
  }
  return showing;
}

type Field = FullType['fields'] extends (infer F)[] | null ? F : never;

function argsOf(field: Field): Record<string, unknown> {
  return Object.fromEntries(
    field.args.map((a) => [a.name, a.name === 'id' ? idOf(field.name) : sample(a.name, a.type, false)]),
  );
}

function send(kind: 'query' | 'mutation', field: Field, token: string, args = argsOf(field)) {
  const declared = field.args.map((a) => `$${a.name}: ${typeText(a.type)}`).join(', ');
  const passed = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const doc = `${kind} ${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''} ${selection(field.type, 3)} }`;
  return rawGraphQL(server.url, doc, args, { token });
}

describe("another co-op's TREASURER and MEMBER, with the fixture co-op's real ids in every argument", () => {
  it('every query field and every mutation answers without its ids, its name, or any write', async () => {
    const failures: string[] = [];
    // The control: the co-op's own treasurer is shown its data through many fields.
    const own = await showingSecrets(treasurerToken, failures, 'own treasurer');
    expect(own.length, own.join(', ')).toBeGreaterThanOrEqual(15);
    const before = await rowCounts();
    for (const [who, token] of Object.entries(strangers)) {
      const shown = await showingSecrets(token, failures, who);
      if (shown.length > 0) failures.push(`${who}: shown by ${shown.join(', ')}`);
      for (const field of types.get('Mutation')!.fields!) {
        const answer = await send('mutation', field, token);
        const what = `${who}: mutation ${field.name}`;
        if (answer.status >= 500) failures.push(`${what}: status ${answer.status}`);
        const leaked = leaksIn(answer.body, secrets);
        if (leaked.length > 0) failures.push(`${what}: leaked ${leaked.join(', ')}`);
      }
    }
    const after = await rowCounts();
    const changed = Object.keys(after).filter((t) => after[t] !== before[t] && !KEPT.has(t));
    if (changed.length > 0) failures.push(`rows written to ${changed.join(', ')}`);
    expect(failures).toEqual([]);
  }, 300_000);

  it('answer exactly as they do for ids of the same shape that name nothing (no existence oracle)', async () => {
    // Every uuid of the fixture's ids mapped to a fresh one, inside global ids too.
    const fakeUuid = new Map<string, string>();
    const fake = (text: string) =>
      text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
        if (!fakeUuid.has(u)) fakeUuid.set(u, randomUUID());
        return fakeUuid.get(u)!;
      });
    const fakeGlobal = new Map<string, string>();
    for (const id of [...Object.values(ids), ...Object.values(fixtureChart)]) {
      const decoded = Buffer.from(id, 'base64').toString('utf8');
      fakeGlobal.set(id, Buffer.from(fake(decoded), 'utf8').toString('base64'));
    }
    /** The answer with the fake ids put back as the real ones, and without its request id. */
    const normalised = (body: unknown) => {
      let text = JSON.stringify(body).replace(/"requestId":"[^"]*"/g, '"requestId":"-"');
      for (const [real, forged] of fakeGlobal) text = text.replaceAll(forged, real);
      for (const [real, forged] of fakeUuid) text = text.replaceAll(forged, real);
      return text;
    };
    /** The fields whose answer to `token` tells the real ids from the forged ones. */
    const telling = async (token: string, kinds: readonly ('query' | 'mutation')[]) => {
      const found: string[] = [];
      for (const kind of kinds) {
        for (const field of types.get(kind === 'query' ? 'Query' : 'Mutation')!.fields!) {
          if (field.args.length === 0) continue;
          const real = argsOf(field);
          let forgedText = JSON.stringify(real);
          for (const [id, forged] of fakeGlobal) forgedText = forgedText.replaceAll(id, forged);
          const forged = JSON.parse(forgedText) as Record<string, unknown>;
          const [a, b] = [await send(kind, field, token, real), await send(kind, field, token, forged)];
          if (a.status !== b.status || normalised(a.body) !== normalised(b.body))
            found.push(
              `${kind} ${field.name}: ${normalised(a.body).slice(0, 200)} <> ${normalised(b.body).slice(0, 200)}`,
            );
        }
      }
      return found;
    };
    // The control: the co-op's own treasurer's reads tell them apart.
    expect((await telling(treasurerToken, ['query'])).length).toBeGreaterThanOrEqual(10);
    const failures: string[] = [];
    for (const [who, token] of Object.entries({ ...strangers, neighbour: neighbourToken }))
      failures.push(...(await telling(token, ['query', 'mutation'])).map((f) => `${who}: ${f}`));
    expect(failures).toEqual([]);
  }, 300_000);
});
