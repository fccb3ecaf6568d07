/**
 * The README's Configuration and Limits sections must match the code they describe; its GraphQL
 * examples (and the SDK's) must be valid against the schema, its First steps must run as written,
 * and every command it names must exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, getNamedType, isObjectType, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TOKEN_CACHE_MS } from '../../server/auth/service.js';
import { ERROR_CODES } from '../../server/core/errors.js';
import { CONFIG_VARIABLES, DEFAULT_BODY_LIMIT_BYTES, repoRoot } from '../../server/platform/config.js';
import { DB_CONNECT_TIMEOUT_MS } from '../../server/platform/db/orm.js';
import { CSRF_HEADERS, GRAPHQL_LIMITS, READINESS_TIMEOUT_MS } from '../../server/platform/http/app.js';
import { QUERY_CELLS_MAX } from '../../server/reporting/query.js';
import { DRAIN_TIMEOUT_MS } from '../../server/service.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const section = (title: string) => readme.split(`\n## ${title}\n`)[1]?.split('\n## ')[0] ?? '';
/** The section with line breaks folded, for sentences that may be re-wrapped. */
const prose = (title: string) => section(title).replace(/\s+/g, ' ');

describe('README', () => {
  it('has the two quick-start commands', () => {
    const quickStart = section('Quick start');
    expect(quickStart).toContain('npm install && npm start');
    expect(quickStart).toContain('npm install && npm test');
    expect(quickStart).toContain('http://localhost:4000/graphql');
  });

  it('documents every configuration variable with its default', () => {
    const table = section('Configuration');
    for (const variable of CONFIG_VARIABLES) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${variable.name}\` |`));
      expect(row, variable.name).toBeDefined();
      if (!variable.default.startsWith('(')) expect(row).toContain(`\`${variable.default}\``);
    }
    expect(table).toContain(String(DEFAULT_BODY_LIMIT_BYTES));
  });

  it('states the limits the server enforces', () => {
    const limits = section('Limits');
    const row = (name: string) => limits.split('\n').find((line) => line.startsWith(`| ${name} |`)) ?? '';
    expect(row('Query depth')).toContain(`| ${GRAPHQL_LIMITS.maxDepth} |`);
    expect(row('Aliases')).toContain(`| ${GRAPHQL_LIMITS.maxAliases} per operation |`);
    expect(row('Tokens')).toContain(`| ${GRAPHQL_LIMITS.maxTokens} per document |`);
    expect(row('Directives')).toContain(`| ${GRAPHQL_LIMITS.maxDirectives} per operation |`);
    expect(row('Cost')).toContain(`| ${GRAPHQL_LIMITS.maxCost} |`);
    expect(row('Cost')).toContain(`times its selections`);
    expect(row('Cost')).toContain(`${GRAPHQL_LIMITS.depthCostFactor} times`);
    for (const header of CSRF_HEADERS) expect(limits).toContain(`\`${header}\``);
  });

  it('lists every error code of the API in the Errors table', () => {
    const errors = section('The ledger').split('\n### Errors\n')[1]?.split('\n### ')[0] ?? '';
    const table = errors.split('\n').filter((line) => line.startsWith('| `'));
    const missing = ERROR_CODES.filter((code) => !table.some((row) => row.includes(`\`${code}\``)));
    expect(missing).toEqual([]);
    expect(errors).toContain(`a \`cityReport\` of more than ${QUERY_CELLS_MAX.toLocaleString('en')} cells`);
  });

  it('states the health and shutdown timeouts', () => {
    const health = prose('Health endpoints');
    expect(health).toContain(`gives up after ${READINESS_TIMEOUT_MS / 1000} s`);
    expect(health).toContain(`up to ${DRAIN_TIMEOUT_MS / 1000} s`);
  });

  it('states the bounds of the Reliability section', () => {
    const reliability = prose('Reliability');
    expect(reliability).toContain(`bounded by ${DB_CONNECT_TIMEOUT_MS / 1000} s (\`DB_CONNECT_TIMEOUT_MS\``);
    expect(reliability).toContain(`a token not verified in the last ${TOKEN_CACHE_MS / 1000} s`);
    expect(reliability).toContain(`in-flight requests (up to ${DRAIN_TIMEOUT_MS / 1000} s)`);
    expect(reliability).toContain('Idempotency keys are kept forever');
  });
});

/** The READMEs a newcomer reads, relative to the repository. */
const READMES = ['README.md', 'client-sdk/README.md', 'client-sdk/examples/dashboard/README.md'];
const readmeText = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
/** The fenced blocks of one language in a markdown text, in order. */
const blocks = (markdown: string, language: string) =>
  [...markdown.matchAll(new RegExp(`^\`\`\`${language}\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1] ?? '');

describe('README commands and examples', () => {
  it('every ```graphql block of the READMEs is valid against schema/schema.graphql', () => {
    const schema = buildSchema(readmeText('schema/schema.graphql'));
    let count = 0;
    for (const file of READMES) {
      for (const block of blocks(readmeText(file), 'graphql')) {
        count++;
        const errors = validate(schema, parse(block)).map((error) => error.message);
        expect(errors, `${file}:\n${block}`).toEqual([]);
      }
    }
    expect(count).toBeGreaterThanOrEqual(4);
  });

  it("the Reading section's table gives the order of every connection of the schema", () => {
    const schema = buildSchema(readmeText('schema/schema.graphql'));
    const reading = section('The ledger').split('\n### Reading\n')[1]?.split('\n### ')[0] ?? '';
    const rows = reading.split('\n').filter((line) => line.startsWith('| `'));
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (!getNamedType(field.type).name.endsWith('Connection')) continue;
        const listed =
          type.name === 'Query'
            ? rows.some((row) => row.includes(`\`${field.name}\``) || row.includes(`\`${field.name}(`))
            : rows.some((row) => row.includes(`\`${type.name}.${field.name}\``));
        if (!listed) missing.push(`${type.name}.${field.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every `npm run X` names a script of package.json and every `npx tsx <file>` a file', () => {
    const scripts = Object.keys(JSON.parse(readmeText('package.json')).scripts as Record<string, string>);
    for (const file of READMES) {
      const text = readmeText(file);
      for (const [, name] of text.matchAll(/npm run ([\w:-]+)/g))
        expect(scripts, `${file}: npm run ${name}`).toContain(name);
      for (const [, source] of text.matchAll(/npx tsx ([\w./-]+\.ts)/g)) {
        expect(existsSync(path.join(repoRoot, source ?? '')), `${file}: npx tsx ${source}`).toBe(true);
      }
    }
  });
});

/** The fields of the First steps' answers that the test reads. */
interface StepData {
  createBook: { book: { id: string } };
  postJournalEntry: { replayed: boolean; entry: { seq: string } | null; userErrors: { code: string }[] };
  account: unknown;
  trialBalance: { balanced: boolean; units: unknown[] };
  verifyBookChain: unknown;
}

describe("README's First steps, run as written", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function send(query: string, variables: Record<string, unknown> = {}) {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: StepData; errors?: unknown[] };
    expect(body.errors, query).toBeUndefined();
    return body.data as StepData;
  }
  /** Every userErrors list anywhere in an answer. */
  const userErrors = (data: unknown): unknown[] =>
    data && typeof data === 'object'
      ? Object.entries(data).flatMap(([key, value]) =>
          key === 'userErrors' && Array.isArray(value) ? value : userErrors(value),
        )
      : [];

  it('creates the book and accounts, posts the sale once, and reads 12.50 on each side', async () => {
    const steps = blocks(section('First steps: a book, an entry, its balances'), 'graphql');
    expect(steps).toHaveLength(4);
    const [createBook, accounts, sale, balances] = steps as [string, string, string, string];
    const created = await send(createBook);
    expect(userErrors(created)).toEqual([]);
    const book = created.createBook.book.id as string;
    expect(userErrors(await send(accounts, { book }))).toEqual([]);
    const posted = await send(sale, { book });
    expect(userErrors(posted)).toEqual([]);
    expect(posted.postJournalEntry).toMatchObject({ replayed: false, entry: { seq: '1' } });
    // As the README says: again, a replay; another amount under the key, refused; unbalanced, refused.
    const again = await send(sale, { book });
    expect(again.postJournalEntry).toMatchObject({ replayed: true, entry: { seq: '1' } });
    const other = await send(sale.replaceAll('"12.50"', '"13.00"'), { book });
    expect(other.postJournalEntry.userErrors[0]?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const unbalanced = await send(sale.replace('"sale-0001"', '"sale-0002"').replace('"12.50"', '"12.00"'), {
      book,
    });
    expect(unbalanced.postJournalEntry.userErrors[0]?.code).toBe('UNBALANCED_ENTRY');
    const read = await send(balances, { book });
    expect(read.account).toMatchObject({ name: 'Cash', balance: { posted: '12.50', available: '12.50' } });
    expect(read.trialBalance.balanced).toBe(true);
    expect(read.trialBalance.units).toEqual([
      { unit: { code: 'EUR' }, debitBalanceTotal: '12.50', creditBalanceTotal: '12.50' },
    ]);
    expect(read.verifyBookChain).toEqual({ ok: true, entriesChecked: 1 });
  });

  it("the Logs section's access line has every field the service logs for such a request", async () => {
    const example = JSON.parse(blocks(section('Logs'), 'json')[0] ?? '{}') as Record<string, unknown>;
    await send(
      'mutation LogLine { createBook(input: { name: "Log", units: [{ code: "EUR", scale: 2 }] }) { book { id } } }',
    );
    // The access line is written when the answer has been sent: wait for it, not for a time.
    const line = await vi.waitFor(() => {
      const found = server.logs.find((entry) => entry.msg === 'request' && entry.operation === 'LogLine');
      expect(found).toBeDefined();
      return found;
    });
    const missing = Object.keys(line ?? {}).filter((key) => !(key in example));
    expect(missing).toEqual([]);
  });
});
