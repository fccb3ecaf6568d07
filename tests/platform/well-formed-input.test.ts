/**
 * Issue 10, item 1: strings that are not well-formed Unicode (a lone surrogate) or that hold NUL
 * are refused at the edge, in every input of every mutation, whether sent in the variables or
 * written in the query text, with a userError INVALID_INPUT naming the input path, and nothing is
 * posted; a query with such an argument answers a top-level BAD_USER_INPUT, never a 500.
 *
 * The attack first: a treasurer posts `"memo": "pay \ud800"` in the variables. Without the check it
 * was accepted, stored as U+FFFD, and the book's chain then failed verification for good.
 *
 * Every mutation of the schema is covered by enumeration (introspection), so a mutation added
 * later is tested too: each is sent with every required field filled and every string a lone
 * surrogate, and must answer its payload with INVALID_INPUT userErrors only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { coopInput } from '../helpers/coop.js';
import {
  type CreatedAccount,
  createAccounts,
  createBook,
  credit,
  debit,
  ledgerClient,
  newKey,
  rawGraphQL,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const LONE = 'pay \ud800';
const NUL_LITERAL = 'a\\u0000b'; // as written inside a GraphQL string literal in the query text

let server: TestServer;
let admin: LedgerClient;
let book: { id: string };
let cash: CreatedAccount;
let revenue: CreatedAccount;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  book = await createBook(admin);
  const accounts = await createAccounts(admin, book.id, [
    { code: '1000', type: 'ASSET' },
    { code: '4000', type: 'REVENUE' },
  ]);
  cash = accounts['1000'];
  revenue = accounts['4000'];
});

afterAll(async () => {
  await server?.stop();
});

async function entryCount(): Promise<string> {
  return (await admin.book({ id: book.id }))!.entryCount;
}

describe('the attack of issue 10: a lone surrogate in a memo', () => {
  it('is refused with INVALID_INPUT on `memo`, posts nothing, and the chain still verifies', async () => {
    const before = await entryCount();
    const payload = await admin.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('lone'),
      memo: LONE,
      lines: [debit(cash, '5.00'), credit(revenue, '5.00')],
    });
    expect(payload.entry).toBeNull();
    expect(payload.userErrors).toEqual([
      {
        code: 'INVALID_INPUT',
        field: 'memo',
        message: expect.stringMatching(/^memo is not well-formed Unicode/),
      },
    ]);
    expect(await entryCount()).toBe(before);
    const chain = await admin.verifyBookChain({ bookId: book.id });
    expect(chain?.ok).toBe(true);
  });

  it('a NUL in the variables is a userError INVALID_INPUT naming the field, and posts nothing', async () => {
    const before = await entryCount();
    const payload = await admin.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('nul-var'),
      memo: 'fine',
      metadata: [{ key: 'note', value: 'a\u0000b' }],
      lines: [debit(cash, '5.00'), credit(revenue, '5.00')],
    });
    expect(payload.entry).toBeNull();
    expect(payload.userErrors).toEqual([
      {
        code: 'INVALID_INPUT',
        field: 'metadata[0].value',
        message: expect.stringContaining('metadata[0].value holds the NUL character'),
      },
    ]);
    expect(await entryCount()).toBe(before);
  });

  it('a well-formed memo with an astral character (a surrogate pair) is stored and reads back exactly', async () => {
    const memo = 'pay \u{1F9FE} 💸';
    const payload = await admin.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('pair'),
      memo,
      lines: [debit(cash, '5.00'), credit(revenue, '5.00')],
    });
    expect(payload.userErrors).toEqual([]);
    expect((await admin.journalEntry({ id: payload.entry!.id }))?.memo).toBe(memo);
    expect((await admin.verifyBookChain({ bookId: book.id }))?.ok).toBe(true);
  });

  it('reports every bad string of the input at once, each by its path', async () => {
    const before = await entryCount();
    const payload = await admin.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('many'),
      memo: 'fine',
      metadata: [
        { key: 'ok', value: 'fine' },
        { key: '\udc00key', value: 'v' },
        { key: 'k', value: 'value \ud83d' },
      ],
      lines: [debit(cash, '5.00'), { ...credit(revenue, '5.00'), unit: 'USD\ud800' }],
    });
    expect(payload.entry).toBeNull();
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', 'lines[1].unit'],
      ['INVALID_INPUT', 'metadata[1].key'],
      ['INVALID_INPUT', 'metadata[2].value'],
    ]);
    expect(await entryCount()).toBe(before);
  });

  it('a batch with one bad string among valid entries posts none of them', async () => {
    const before = await entryCount();
    const entries = [0, 1, 2].map((i) => ({
      idempotencyKey: newKey(`batch-${i}`),
      memo: i === 2 ? LONE : `entry ${i}`,
      lines: [debit(cash, '1.00'), credit(revenue, '1.00')],
    }));
    const payload = await admin.postJournalEntries({ bookId: book.id, mode: 'INDEPENDENT', entries });
    expect(payload.postedCount).toBe(0);
    expect(payload.results).toEqual([]);
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'entries[2].memo']]);
    expect(await entryCount()).toBe(before);
  });
});

describe('NUL written in the query text (not in the variables)', () => {
  it('a memo literal holding \\u0000 is a userError INVALID_INPUT on `memo`, not a 500, and posts nothing', async () => {
    const before = await entryCount();
    const lines = `[{ accountId: "${cash.id}", side: DEBIT, amount: "2.00", unit: "USD" },
                    { accountId: "${revenue.id}", side: CREDIT, amount: "2.00", unit: "USD" }]`;
    const answer = await rawGraphQL(
      server.url,
      `mutation { postJournalEntry(input: { bookId: "${book.id}", idempotencyKey: "${newKey('nul')}",
         memo: "${NUL_LITERAL}", lines: ${lines} }) { entry { id } userErrors { code field message } } }`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    const payload = answer.body.data?.postJournalEntry as { entry: unknown; userErrors: unknown[] };
    expect(payload.entry).toBeNull();
    expect(payload.userErrors).toEqual([
      { code: 'INVALID_INPUT', field: 'memo', message: expect.stringContaining('NUL') },
    ]);
    expect(await entryCount()).toBe(before);
  });

  it('a query argument holding \\u0000 (the directory city filter) answers BAD_USER_INPUT naming it', async () => {
    const answer = await rawGraphQL(
      server.url,
      `{ coopDirectory(city: "${NUL_LITERAL}") { edges { cursor } } }`,
      {},
      { token: null },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('city holds the NUL character'),
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'city' }),
      }),
    ]);
  });
});

describe('queries with a lone surrogate in an argument', () => {
  it('coopDirectory(city:) in the variables answers BAD_USER_INPUT naming `city`', async () => {
    const answer = await rawGraphQL(
      server.url,
      'query ($city: String) { coopDirectory(city: $city) { edges { cursor } } }',
      { city: 'Spring\ud800field' },
      { token: null },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'city' });
    expect(answer.body.errors?.[0]?.message).toMatch(/^city is not well-formed Unicode/);
  });

  it('a nested field argument (DirectoryEntry.murmurationsProfile) answers the same', async () => {
    const listed = await admin.createCoop(coopInput({ publicListing: true }));
    expect(listed.userErrors).toEqual([]);
    const answer = await rawGraphQL(
      server.url,
      'query ($base: String) { coopDirectory(first: 1) { edges { node { murmurationsProfile(publicBaseUrl: $base) } } } }',
      { base: 'https://x.example/\udfff' },
    );
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'publicBaseUrl',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Every mutation, by introspection
// ---------------------------------------------------------------------------------------------

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

async function introspect(): Promise<Map<string, FullType>> {
  const answer = await rawGraphQL(
    server.url,
    `{ __schema { types { kind name enumValues { name } inputFields { name type { ${TYPE_REF} } }
         fields { name type { ${TYPE_REF} } args { name type { ${TYPE_REF} } } } } } }`,
  );
  const types = (answer.body.data as { __schema: { types: FullType[] } }).__schema.types;
  return new Map(types.map((t) => [t.name, t]));
}

/** A value of the type with every required field present and every String or ID a lone surrogate. */
function sample(type: TypeRef, types: Map<string, FullType>): unknown {
  if (type.kind === 'NON_NULL') return sample(type.ofType!, types);
  if (type.kind === 'LIST') return [sample(type.ofType!, types)];
  switch (type.name) {
    case 'String':
    case 'ID':
      return 'x\ud800';
    case 'Int':
      return 1;
    case 'Boolean':
      return true;
    case 'Decimal':
      return '1.00';
    case 'Date':
      return '2026-01-01';
    case 'DateTime':
      return '2026-01-01T00:00:00Z';
  }
  const full = types.get(type.name!)!;
  if (full.kind === 'ENUM') return full.enumValues![0]!.name;
  // Every field of an input object, the optional ones too, so optional strings are covered.
  return Object.fromEntries(full.inputFields!.map((f) => [f.name, sample(f.type, types)]));
}

function named(type: TypeRef): string {
  return type.ofType ? named(type.ofType) : type.name!;
}

describe('every mutation of the schema', () => {
  it('refuses an input full of lone surrogates with INVALID_INPUT userErrors only (no top-level error, nothing created)', async () => {
    const types = await introspect();
    const mutations = types.get('Mutation')!.fields!;
    // The schema has at least the mutations of the README; a mutation added later is covered as well.
    expect(mutations.length).toBeGreaterThanOrEqual(22);
    const failures: string[] = [];
    for (const mutation of mutations) {
      expect(
        mutation.args.map((a) => a.name),
        mutation.name,
      ).toEqual(['input']);
      const inputType = mutation.args[0]!.type;
      const input = sample(inputType, types);
      const payloadType = types.get(named(mutation.type))!;
      const scalars = payloadType.fields!.filter((f) => f.name !== 'userErrors').map((f) => f.name);
      const answer = await rawGraphQL(
        server.url,
        `mutation ($input: ${named(inputType)}!) { ${mutation.name}(input: $input) { userErrors { code field message } ${scalars
          .map((f) => {
            const t = types.get(named(payloadType.fields!.find((x) => x.name === f)!.type))!;
            return t.kind === 'OBJECT' ? `${f} { __typename }` : f;
          })
          .join(' ')} } }`,
        { input },
      );
      const payload = (
        answer.body.data as Record<string, { userErrors: { code: string; field: string | null }[] }> | null
      )?.[mutation.name];
      if (answer.status !== 200 || answer.body.errors || !payload) {
        failures.push(`${mutation.name}: ${answer.status} ${JSON.stringify(answer.body.errors)}`);
        continue;
      }
      const codes = new Set(payload.userErrors.map((e) => e.code));
      if (payload.userErrors.length === 0 || codes.size !== 1 || !codes.has('INVALID_INPUT'))
        failures.push(`${mutation.name}: userErrors ${JSON.stringify(payload.userErrors)}`);
      if (payload.userErrors.some((e) => e.field === null))
        failures.push(`${mutation.name}: a userError without a field`);
      // Nothing was created: every other field of the payload is empty.
      for (const [field, value] of Object.entries(payload as Record<string, unknown>)) {
        if (field === 'userErrors') continue;
        if (
          !(value === null || value === false || value === 0 || (Array.isArray(value) && value.length === 0))
        )
          failures.push(`${mutation.name}: ${field} = ${JSON.stringify(value)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a CSV cell with a lone surrogate refuses the whole import on `csv`, importing no one', async () => {
    const created = await admin.createCoop(coopInput());
    const coopId = created.coop!.id;
    const klass = await admin.createMemberClass({
      coopId,
      code: 'W',
      name: 'Worker',
      buyIn: '0.00',
      voting: true,
    });
    expect(klass.userErrors).toEqual([]);
    const payload = await admin.importMembersCsv({
      coopId,
      kind: 'MEMBERS',
      idempotencyKey: newKey('csv'),
      csv: `name,class,applied_on\nAda,W,2026-01-02\nBob \ud800,W,2026-01-02\n`,
    });
    expect(payload.imported).toBe(false);
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'csv']]);
    expect((await admin.coopParties({ coopId, first: 10 }))?.edges).toEqual([]);
  });
});
