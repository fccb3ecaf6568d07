/**
 * API tokens end to end: issued, listed and revoked through the API by an admin only; a revoked
 * token refused by every server within the cache window; an expired token refused; secrets never
 * stored (nor logged); last use recorded; every bad Authorization header answered with the same
 * 401; the per-token rate limit (THROTTLED, Retry-After, other tokens unaffected); and the first
 * start on an empty database printing an administrator token once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { buildSchema } from '../../schema/index.js';
import { TOKEN_CACHE_MS } from '../../server/auth/service.js';
import { createScratchDatabase } from '../helpers/database.js';
import { connectPg, createBook, ledgerClient, rawGraphQL, uniqueSuffix, waitFor } from '../helpers/ledger.js';
import { spawnServerProcess, startTestServer, type TestServer } from '../helpers/server.js';
import { expectRefusedToken, issueToken, secretOf, TOKEN_PATTERN, tokenIdOf } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let db: pg.Client;

const VIEWER = 'query { viewer { tokenId principalName grants { role scope } } }';

/** A request with exactly this Authorization header (null: none). */
async function withHeader(url: string, authorization: string | null) {
  return rawGraphQL(
    url,
    VIEWER,
    {},
    { token: null, headers: authorization === null ? {} : { authorization } },
  );
}

interface TokenRow {
  id: string;
  principalName: string;
  label: string;
  grants: { role: string; scope: string }[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

async function listed(tokenId: string): Promise<TokenRow | undefined> {
  return ((await admin.apiTokens()) as TokenRow[]).find((t) => t.id === tokenId);
}

beforeAll(async () => {
  server = await startTestServer();
  admin = ledgerClient(server.url);
  db = await connectPg();
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

describe('issuing, listing and revoking through the API', () => {
  it('an admin issues a token shown once, lists it, and revokes it; the token then is refused', async () => {
    const book = await createBook(admin);
    const expiresAt = new Date(Date.now() + 3_600_000);
    const principalName = `treasurer ${uniqueSuffix()}`;
    const payload = await admin.issueApiToken({
      principalName,
      label: 'till',
      expiresAt: expiresAt.toISOString(),
      grants: [
        { role: 'TREASURER', scope: book.id },
        { role: 'CITY_ANALYST', scope: 'Lyon' },
      ],
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.token).toMatch(TOKEN_PATTERN);
    const token = payload.token!;
    const record = {
      id: tokenIdOf(token),
      principalName,
      label: 'till',
      grants: [
        { role: 'CITY_ANALYST', scope: 'Lyon' },
        { role: 'TREASURER', scope: book.id },
      ],
      createdAt: expect.any(String),
      expiresAt: expiresAt.toISOString(),
      revokedAt: null,
      lastUsedAt: null,
    };
    expect(payload.apiToken).toEqual(record);
    expect(await listed(record.id)).toEqual(record);

    // The token acts for its principal with its grants.
    const viewer = await withHeader(server.url, `Bearer ${token}`);
    expect(viewer.status).toBe(200);
    expect(viewer.body.data?.viewer).toEqual({
      tokenId: record.id,
      principalName,
      grants: expect.arrayContaining(record.grants),
    });

    // Nothing of the listing or the type can show a secret again.
    const apiTokenFields = Object.keys(
      (buildSchema().getType('ApiToken') as import('graphql').GraphQLObjectType).getFields(),
    );
    expect(apiTokenFields.sort()).toEqual(
      ['createdAt', 'expiresAt', 'grants', 'id', 'label', 'lastUsedAt', 'principalName', 'revokedAt'].sort(),
    );
    expect(JSON.stringify(await admin.apiTokens())).not.toContain(secretOf(token));

    const revoked = await admin.revokeApiToken({ tokenId: record.id });
    expect(revoked.userErrors).toEqual([]);
    expect(revoked.apiToken?.revokedAt).toEqual(expect.any(String));
    // The server that revoked it forgets it at once.
    expectRefusedToken(await withHeader(server.url, `Bearer ${token}`));
    // Revoking again keeps the first revocation time.
    const again = await admin.revokeApiToken({ tokenId: record.id });
    expect(again.apiToken?.revokedAt).toBe(revoked.apiToken?.revokedAt);
    expect((await listed(record.id))?.revokedAt).toBe(revoked.apiToken?.revokedAt);
  });

  it('rejects bad input as userErrors: grants, scopes, past expiry, unknown token ids', async () => {
    const issue = (input: Record<string, unknown>) =>
      rawGraphQL(
        server.url,
        'mutation($input: IssueApiTokenInput!) { issueApiToken(input: $input) { token apiToken { id } userErrors { code field } } }',
        { input: { principalName: `bad ${uniqueSuffix()}`, ...input } },
      );
    const cases: [Record<string, unknown>, string][] = [
      [{ grants: [] }, 'grants'],
      [{ grants: [{ role: 'ADMIN', scope: 'everything' }] }, 'grants[0].scope'],
      [{ grants: [{ role: 'TREASURER', scope: 'not a book' }] }, 'grants[0].scope'],
      [{ grants: [{ role: 'MEMBER', scope: 'not an account' }] }, 'grants[0].scope'],
      [{ grants: [{ role: 'CITY_ANALYST', scope: '' }] }, 'grants[0].scope'],
      [{ grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }], expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }], principalName: '   ' }, 'principalName'],
    ];
    for (const [input, field] of cases) {
      const answer = await issue(input);
      expect({ input, payload: answer.body.data?.issueApiToken }).toEqual({
        input,
        payload: { token: null, apiToken: null, userErrors: [{ code: 'INVALID_INPUT', field }] },
      });
    }
    for (const tokenId of ['00000000-0000-0000-0000-000000000000', 'nonsense']) {
      const payload = await admin.revokeApiToken({ tokenId });
      expect(payload.apiToken).toBeNull();
      expect(payload.userErrors.map((e) => e.code)).toEqual(['INVALID_INPUT']);
    }
  });

  it('only admins manage tokens: a scoped token gets FORBIDDEN and changes nothing', async () => {
    const scoped = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }] });
    const victim = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }] });
    const name = `escalated ${uniqueSuffix()}`;
    const attempts = [
      ['query { apiTokens { id } }', {}],
      [
        'mutation($input: IssueApiTokenInput!) { issueApiToken(input: $input) { token } }',
        { input: { principalName: name, grants: [{ role: 'ADMIN', scope: '' }] } },
      ],
      [
        'mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id } } }',
        { input: { tokenId: victim.tokenId } },
      ],
    ] as const;
    for (const [query, variables] of attempts) {
      const answer = await rawGraphQL(server.url, query, variables, { token: scoped.token });
      expect(answer.status).toBe(200);
      expect(answer.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(answer.body.data ?? null).toBeNull();
    }
    const { rows } = await db.query('select 1 from principal where name = $1', [name]);
    expect(rows).toEqual([]);
    expect((await listed(victim.tokenId))?.revokedAt).toBeNull();
    expect((await withHeader(server.url, `Bearer ${victim.token}`)).status).toBe(200);
  });
});

describe('refusal of revoked and expired tokens', () => {
  it(`another server refuses a revoked token within the cache window (${TOKEN_CACHE_MS} ms)`, async () => {
    const other = await startTestServer();
    try {
      const issued = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }] });
      // The other server has verified (and cached) the token.
      expect((await withHeader(other.url, `Bearer ${issued.token}`)).status).toBe(200);
      const revoked = await admin.revokeApiToken({ tokenId: issued.tokenId });
      expect(revoked.userErrors).toEqual([]);
      expectRefusedToken(await withHeader(server.url, `Bearer ${issued.token}`));
      await waitFor(async () => (await withHeader(other.url, `Bearer ${issued.token}`)).status === 401, {
        timeoutMs: TOKEN_CACHE_MS + 10_000,
        intervalMs: 100,
        what: 'the other server to refuse the revoked token',
      });
      expectRefusedToken(await withHeader(other.url, `Bearer ${issued.token}`));
    } finally {
      await other.stop();
    }
  });

  it('an expired token is refused from its expiry on, and not before', async () => {
    const expiresAt = new Date(Date.now() + 2_500);
    const issued = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }], expiresAt });
    const first = await withHeader(server.url, `Bearer ${issued.token}`);
    // Accepted, unless this machine was so slow that the expiry has already passed.
    if (first.status !== 200) expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    let refusedAt = 0;
    await waitFor(
      async () => {
        const answer = await withHeader(server.url, `Bearer ${issued.token}`);
        if (answer.status === 200) return false;
        refusedAt = Date.now();
        expectRefusedToken(answer);
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the token to expire' },
    );
    // Never refused before its expiry (the server and this test share a clock).
    expect(refusedAt).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect((await listed(issued.tokenId))?.revokedAt).toBeNull();
  });
});

describe('what is stored and recorded', () => {
  it('no table holds the token or its secret, only a hash of the secret; no log line holds it', async () => {
    const issued = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }] });
    expect((await withHeader(server.url, `Bearer ${issued.token}`)).status).toBe(200);
    const secret = secretOf(issued.token);
    const secretHex = Buffer.from(secret, 'base64url').toString('hex');

    const { rows: stored } = await db.query('select to_jsonb(t) as row from api_token t where id = $1', [
      issued.tokenId,
    ]);
    expect(stored).toHaveLength(1);
    const row = stored[0].row as Record<string, unknown>;
    expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    for (const value of Object.values(row)) {
      const text = String(value);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(issued.token);
      expect(text).not.toContain(secretHex);
    }

    // Every table of the database, every row as text.
    const { rows: tables } = await db.query<{ name: string }>(
      "select quote_ident(table_schema) || '.' || quote_ident(table_name) as name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'",
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['public.api_token', 'public.principal']),
    );
    for (const { name } of tables) {
      const { rows } = await db.query(
        `select count(*)::int as n from ${name} t where strpos(t::text, $1) > 0 or strpos(t::text, $2) > 0 or strpos(t::text, $3) > 0`,
        [secret, issued.token, secretHex],
      );
      expect({ table: name, rows: rows[0].n }).toEqual({ table: name, rows: 0 });
    }

    const logs = JSON.stringify(server.logs);
    expect(logs).not.toContain(secret);
  });

  it('lastUsedAt is set when the token is used', async () => {
    const issued = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }] });
    const before = await listed(issued.tokenId);
    expect(before?.lastUsedAt).toBeNull();
    expect((await withHeader(server.url, `Bearer ${issued.token}`)).status).toBe(200);
    let lastUsedAt: string | null = null;
    await waitFor(
      async () => {
        lastUsedAt = (await listed(issued.tokenId))?.lastUsedAt ?? null;
        return lastUsedAt !== null;
      },
      { what: 'lastUsedAt to be recorded' },
    );
    expect(new Date(lastUsedAt!).getTime()).toBeGreaterThanOrEqual(new Date(before!.createdAt).getTime());
  });
});

describe('bad Authorization headers', () => {
  it('every malformed, unknown or wrong token gets the same 401; no header is anonymous', async () => {
    const good = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }] });
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');
    const wrongSecret = good.token.slice(0, -1) + flip(good.token.at(-1)!);
    const unknownId = `slt_${randomBytes(16).toString('hex')}_${secretOf(good.token)}`;
    const headers = [
      'Basic x',
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      `Bearer ${good.token} ${good.token}`,
      `Bearer ${wrongSecret}`,
      `Bearer ${unknownId}`,
      `Bearer ${good.token}x`,
      `Bearer ${good.token.slice(0, -1)}`,
      `Bearer ${good.token.toUpperCase()}`,
      'Bearer slt_',
      `Token ${good.token}`,
      good.token,
      `Bearer ${"' or 1=1 --"}`,
    ];
    const bodies = new Set<string>();
    for (const header of headers) {
      const answer = await withHeader(server.url, header);
      expect({ header, status: answer.status }).toEqual({ header, status: 401 });
      expectRefusedToken(answer);
      bodies.add(JSON.stringify(answer.body));
    }
    // One body for all: nothing tells a malformed token from an unknown one or a wrong secret.
    expect(bodies.size).toBe(1);

    // The wrong secret did not lock out or poison the real token; no header is anonymous.
    const real = await withHeader(server.url, `Bearer ${good.token}`);
    expect(real.status).toBe(200);
    expect(real.body.data?.viewer).toMatchObject({ tokenId: good.tokenId });
    const anonymous = await withHeader(server.url, null);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ data: { viewer: null } });
  });
});

describe('rate limit per token', () => {
  it('a burst over the limit gets 429 THROTTLED with Retry-After; other tokens are unaffected', async () => {
    const limited = await startTestServer({ config: { rateLimitPerSecond: 5 } });
    try {
      const busy = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }] });
      const quiet = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Lyon' }] });
      const burst = await Promise.all(
        Array.from({ length: 30 }, () => withHeader(limited.url, `Bearer ${busy.token}`)),
      );
      const ok = burst.filter((a) => a.status === 200);
      const throttled = burst.filter((a) => a.status === 429);
      expect(ok.length + throttled.length).toBe(30);
      // The bucket holds two seconds' worth (10) to begin with: those always pass.
      expect(ok.length).toBeGreaterThanOrEqual(10);
      expect(throttled.length).toBeGreaterThan(0);
      for (const answer of throttled) {
        expect(answer.body).toEqual({
          errors: [{ message: expect.any(String), extensions: { code: 'THROTTLED' } }],
        });
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      // Other tokens have buckets of their own.
      for (const token of [quiet.token, limited.adminToken]) {
        for (let i = 0; i < 5; i++) {
          expect((await withHeader(limited.url, `Bearer ${token}`)).status).toBe(200);
        }
      }
    } finally {
      await limited.stop();
    }
  });
});

describe('bootstrap on an empty database', () => {
  it('prints an administrator token once on first start; it works; a restart prints none', async () => {
    const scratch = await createScratchDatabase();
    try {
      const first = await spawnServerProcess({ databaseUrl: scratch.url, adminToken: null });
      let token: string;
      try {
        const output = first.output();
        expect(output).toContain('No administrator token existed');
        const tokens = output.match(/slt_[0-9a-f]{32}_[A-Za-z0-9_-]{43}/g) ?? [];
        expect(tokens).toHaveLength(1);
        token = tokens[0]!;

        const viewer = await withHeader(first.url, `Bearer ${token}`);
        expect(viewer.status).toBe(200);
        expect(viewer.body.data?.viewer).toMatchObject({ grants: [{ role: 'ADMIN', scope: '' }] });
        const bootstrapAdmin = ledgerClient(first.url, { token });
        const listing = await bootstrapAdmin.apiTokens();
        expect(listing.map((t) => ({ id: t.id, label: t.label, revokedAt: t.revokedAt }))).toEqual([
          { id: tokenIdOf(token), label: 'bootstrap', revokedAt: null },
        ]);
        // It can do what only an admin can.
        const book = await bootstrapAdmin.createBook({
          name: 'first book',
          units: [{ code: 'EUR', scale: 2 }],
        });
        expect(book.userErrors).toEqual([]);
        // The run's admin token means nothing in this database.
        expectRefusedToken(await withHeader(first.url, `Bearer ${server.adminToken}`));
      } finally {
        await first.stop();
      }

      const second = await spawnServerProcess({ databaseUrl: scratch.url, adminToken: null });
      try {
        expect(second.output()).not.toContain('No administrator token existed');
        expect(second.output()).not.toMatch(/slt_[0-9a-f]{32}_/);
        expect((await withHeader(second.url, `Bearer ${token}`)).status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      await scratch.drop();
    }
  });
});
