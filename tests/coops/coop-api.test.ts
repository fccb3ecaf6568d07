/**
 * Co-ops and their members through the API (issue 5): real HTTP, the SDK, real PostgreSQL.
 *
 * An admin creates a co-op (its book and chart come with it), a TREASURER token on the co-op's
 * book does the rest: classes, a person, joining, the buy-in schedule, instalments (an
 * overpayment, a replay, a reused key), an illegal transition. Then the public side: the directory
 * lists only co-ops that opted in, answers without a token and never shows private fields, and
 * the Murmurations profile route serves listed co-ops only.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateCoopInput, LedgerClient } from '../../client-sdk/index.js';
import { builtArgs } from '../helpers/build.js';
import { decodeGlobalId, ledgerClient, newKey, rawGraphQL, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let treasurer: LedgerClient;
let anonymous: LedgerClient;

const today = () => new Date().toISOString().slice(0, 10);

function coopInput(overrides: Partial<CreateCoopInput> = {}): CreateCoopInput {
  return {
    name: `Bread & Roses Bakery ${uniqueSuffix()}`,
    kind: 'WORKER',
    naicsCode: '311811',
    city: 'Springfield',
    neighbourhood: 'Old Mill',
    latitude: '45.501700',
    longitude: '-73.567300',
    foundedOn: '2019-05-01',
    legalForm: 'worker cooperative corporation',
    baseCurrency: { code: 'USD', scale: 2 },
    description: 'A worker-owned bakery.',
    website: 'https://bread.example',
    ...overrides,
  };
}

async function createCoop(overrides: Partial<CreateCoopInput> = {}) {
  const payload = await admin.createCoop(coopInput(overrides));
  expect(payload.userErrors).toEqual([]);
  return payload.coop!;
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  anonymous = ledgerClient(server.url, { token: null });
});

afterAll(async () => {
  await server?.stop();
});

describe('a co-op and a member through the SDK', () => {
  let coopId: string;
  let workerClassId: string;
  let membershipId: string;

  it('an admin creates a co-op: its book, currency and default chart come with it', async () => {
    const coop = await createCoop({ dataSharingConsent: true, redemptionRule: 'HOLD' });
    coopId = coop.id;
    expect(coop).toMatchObject({
      kind: 'WORKER',
      city: 'Springfield',
      foundedOn: '2019-05-01',
      fiscalYearStart: '01-01',
      baseCurrency: { code: 'USD', scale: 2 },
      redemptionRule: 'HOLD',
      dataSharingConsent: true,
      publicListing: false,
      latitude: '45.501700',
    });
    expect(coop.dataSharingConsentAt).not.toBeNull();
    // A co-op is its book: the same raw id.
    expect(decodeGlobalId(coop.book.id).bookId).toBe(decodeGlobalId(coop.id).bookId);
    const purposes = coop.chartOfAccounts.map((a) => a.purpose);
    expect(purposes).toEqual(
      expect.arrayContaining([
        'CASH',
        'BANK',
        'MEMBER_SHARE_CAPITAL',
        'MEMBER_INTERNAL_CAPITAL',
        'COLLECTIVE_RESERVE',
      ]),
    );
    expect(coop.chartOfAccounts.find((a) => a.purpose === 'CASH')!.account.code).toBe('1000');

    // The treasurer's token: a TREASURER grant on the co-op's book (raw uuid or Book id).
    const issued = await issueToken(admin, {
      grants: [{ role: 'TREASURER', scope: decodeGlobalId(coop.id).bookId }],
    });
    treasurer = ledgerClient(server.url, { token: issued.token });
    expect((await treasurer.coop({ id: coopId }))?.name).toBe(coop.name);
    expect((await treasurer.coops({ first: 10 })).edges.map((e) => e.node.id)).toEqual([coopId]);
  });

  it('createCoop is for admins; bad input is a userError', async () => {
    const refused = await rawGraphQL(
      server.url,
      'mutation($input: CreateCoopInput!) { createCoop(input: $input) { coop { id } } }',
      { input: coopInput() },
      {
        token: (
          await issueToken(admin, { grants: [{ role: 'TREASURER', scope: decodeGlobalId(coopId).bookId }] })
        ).token,
      },
    );
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await admin.createCoop(coopInput({ naicsCode: 'bakery' }));
    expect(bad.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'naicsCode']]);
    const future = await admin.createCoop(coopInput({ foundedOn: '2999-01-01' }));
    expect(future.userErrors.map((e) => e.code)).toEqual(['INVALID_DATE']);
  });

  it('a consent given before the co-op is recorded keeps its own date; only with the consent, within the co-op’s life', async () => {
    const earlier = await createCoop({ dataSharingConsent: true, dataSharingConsentOn: '2020-03-15' });
    expect(earlier.dataSharingConsentAt).toBe('2020-03-15T00:00:00.000Z');
    const cases: [Partial<CreateCoopInput>, string][] = [
      [{ dataSharingConsentOn: '2020-03-15' }, 'INVALID_INPUT'],
      [{ dataSharingConsent: false, dataSharingConsentOn: '2020-03-15' }, 'INVALID_INPUT'],
      [{ dataSharingConsent: true, dataSharingConsentOn: '2019-04-30' }, 'INVALID_DATE'],
      [{ dataSharingConsent: true, dataSharingConsentOn: '2999-01-01' }, 'INVALID_DATE'],
    ];
    for (const [overrides, code] of cases) {
      const refused = await admin.createCoop(coopInput(overrides));
      expect(
        refused.userErrors.map((e) => [e.code, e.field]),
        JSON.stringify(overrides),
      ).toEqual([[code, 'dataSharingConsentOn']]);
    }
  });

  it('the Date scalar takes YYYY-MM-DD calendar dates only', async () => {
    for (const foundedOn of ['2019-02-30', '2019-5-1', '2019-05-01T00:00:00Z', '20190501']) {
      const answer = await rawGraphQL(
        server.url,
        'mutation($input: CreateCoopInput!) { createCoop(input: $input) { coop { id } } }',
        { input: coopInput({ foundedOn }) },
      );
      expect(answer.body.errors?.[0]?.extensions?.code, foundedOn).toBe('INVALID_DATE');
    }
  });

  it('the treasurer updates the co-op, adds member classes and registers a person', async () => {
    const updated = await treasurer.updateCoop({
      coopId,
      neighbourhood: 'Riverside',
      fiscalYearStart: '07-01',
    });
    expect(updated.userErrors).toEqual([]);
    expect(updated.coop).toMatchObject({
      neighbourhood: 'Riverside',
      fiscalYearStart: '07-01',
      city: 'Springfield',
    });

    const worker = await treasurer.createMemberClass({
      coopId,
      code: 'WORKER',
      name: 'Worker-owner',
      buyIn: '1000.00',
      instalmentCount: 4,
      instalmentIntervalMonths: 1,
      voting: true,
    });
    expect(worker.userErrors).toEqual([]);
    expect(worker.memberClass).toMatchObject({
      buyIn: '1000.00',
      instalmentCount: 4,
      voting: true,
      transferable: false,
    });
    workerClassId = worker.memberClass!.id;
    const again = await treasurer.createMemberClass({
      coopId,
      code: 'WORKER',
      name: 'x',
      buyIn: '1.00',
      voting: false,
    });
    expect(again.userErrors.map((e) => e.code)).toEqual(['DUPLICATE_MEMBER_CLASS']);
    const tooPrecise = await treasurer.createMemberClass({
      coopId,
      code: 'X',
      name: 'x',
      buyIn: '1.001',
      voting: false,
    });
    expect(tooPrecise.userErrors.map((e) => e.code)).toEqual(['INVALID_AMOUNT']);

    const coop = await treasurer.coop({ id: coopId });
    expect(coop?.memberClasses.map((c) => c.code)).toEqual(['WORKER']);
  });

  it('a person joins: the subscription entry, the member accounts and the schedule', async () => {
    const party = await treasurer.registerParty({
      coopId,
      name: 'Rosa Parks',
      email: 'rosa@example.org',
      phone: '555-0100',
    });
    expect(party.userErrors).toEqual([]);
    const appliedOn = today();
    const key = newKey('join');
    const joined = await treasurer.joinCoop({
      coopId,
      partyId: party.party!.id,
      memberClassId: workerClassId,
      appliedOn,
      idempotencyKey: key,
    });
    expect(joined.userErrors).toEqual([]);
    expect(joined.replayed).toBe(false);
    const m = joined.membership!;
    membershipId = m.id;
    expect(m).toMatchObject({
      memberNumber: 1,
      state: 'APPLICANT',
      appliedOn,
      subscribed: '1000.00',
      paidIn: '0.00',
      outstanding: '1000.00',
      shareCapital: '0.00',
      party: { name: 'Rosa Parks', email: 'rosa@example.org' },
      memberClass: { code: 'WORKER' },
    });
    expect(m.accounts.shareCapital?.code).toBe('3000-00001');
    expect(joined.entry?.lines.map((l) => [l.account.code, l.side, l.amount])).toEqual([
      ['1150-00001', 'DEBIT', '1000.00'],
      ['3010-00001', 'CREDIT', '1000.00'],
    ]);

    const replay = await treasurer.joinCoop({
      coopId,
      partyId: party.party!.id,
      memberClassId: workerClassId,
      appliedOn,
      idempotencyKey: key,
    });
    expect(replay).toMatchObject({ replayed: true, userErrors: [], membership: { id: m.id } });
    expect(replay.entry?.id).toBe(joined.entry?.id);
    const twice = await treasurer.joinCoop({
      coopId,
      partyId: party.party!.id,
      memberClassId: workerClassId,
      appliedOn,
      idempotencyKey: newKey('join'),
    });
    expect(twice.userErrors.map((e) => e.code)).toEqual(['ALREADY_MEMBER']);

    const full = await treasurer.membership({ id: m.id });
    expect(full?.schedule.map((i) => [i.number, i.amount, i.paid])).toEqual([
      [1, '250.00', '0.00'],
      [2, '250.00', '0.00'],
      [3, '250.00', '0.00'],
      [4, '250.00', '0.00'],
    ]);
    expect(full?.schedule[0]?.status).toBe('DUE');
    expect(full?.schedule[1]?.status).toBe('UPCOMING');
    expect(full?.history.map((e) => [e.fromState, e.toState])).toEqual([[null, 'APPLICANT']]);
    expect(full?.history[0]?.entry?.id).toBe(joined.entry?.id);
  });

  it('instalments: a payment, a replay, a reused key, an overpayment', async () => {
    const key = newKey('pay');
    const input = {
      membershipId,
      amount: '300.00',
      paidOn: today(),
      method: 'BANK' as const,
      idempotencyKey: key,
    };
    const paid = await treasurer.payInstalment(input);
    expect(paid.userErrors).toEqual([]);
    expect(paid.replayed).toBe(false);
    expect(paid.membership).toMatchObject({
      paidIn: '300.00',
      outstanding: '700.00',
      shareCapital: '300.00',
    });
    expect(paid.entry?.lines.map((l) => [l.account.code, l.side, l.amount])).toEqual([
      ['1010', 'DEBIT', '300.00'],
      ['3000-00001', 'CREDIT', '300.00'],
      ['3010-00001', 'DEBIT', '300.00'],
      ['1150-00001', 'CREDIT', '300.00'],
    ]);

    const replay = await treasurer.payInstalment(input);
    expect(replay).toMatchObject({ replayed: true, userErrors: [], entry: { id: paid.entry!.id } });
    expect(replay.membership?.paidIn).toBe('300.00');

    const reused = await treasurer.payInstalment({ ...input, amount: '301.00' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(reused.membership).toBeNull();

    const over = await treasurer.payInstalment({ ...input, amount: '700.01', idempotencyKey: newKey('pay') });
    expect(over.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['PAYMENT_EXCEEDS_OUTSTANDING', 'amount'],
    ]);

    const schedule = (await treasurer.membership({ id: membershipId }))!.schedule;
    expect(schedule.map((i) => [i.paid, i.status])).toEqual([
      ['250.00', 'PAID'],
      ['50.00', 'PARTLY_PAID'],
      ['0.00', 'UPCOMING'],
      ['0.00', 'UPCOMING'],
    ]);

    const statement = await treasurer.memberStatement({ membershipId, from: '2000-01-01', to: today() });
    expect(statement?.capitalClosing).toBe('300.00');
    expect(statement?.entries?.length).toBe(2);
    expect(statement?.movements.map((v) => v.event)).toEqual(['SUBSCRIPTION', 'INSTALMENT']);
  });

  it('illegal transitions are refused with ILLEGAL_TRANSITION; legal ones are recorded', async () => {
    const active = await treasurer.changeMembershipState({
      membershipId,
      toState: 'ACTIVE',
      effectiveOn: today(),
      idempotencyKey: newKey('state'),
      note: 'probation waived',
    });
    expect(active.userErrors).toEqual([]);
    expect(active.membership?.state).toBe('ACTIVE');
    const back = await treasurer.changeMembershipState({
      membershipId,
      toState: 'CANDIDATE',
      effectiveOn: today(),
      idempotencyKey: newKey('state'),
    });
    expect(back.userErrors.map((e) => [e.code, e.field])).toEqual([['ILLEGAL_TRANSITION', 'toState']]);
    expect((await treasurer.membership({ id: membershipId }))?.state).toBe('ACTIVE');
    const roll = await treasurer.votingRoll({ coopId, on: today() });
    expect(roll?.votes).toBe(1);
    expect(roll?.entries.map((e) => e.membership.id)).toEqual([membershipId]);
  });

  it('another co-op’s treasurer, a city analyst and anonymous callers see none of it', async () => {
    const other = await createCoop();
    const otherTreasurer = ledgerClient(server.url, {
      token: (
        await issueToken(admin, { grants: [{ role: 'TREASURER', scope: decodeGlobalId(other.id).bookId }] })
      ).token,
    });
    const analyst = ledgerClient(server.url, {
      token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Springfield' }] })).token,
    });
    for (const client of [otherTreasurer, analyst]) {
      expect(await client.coop({ id: coopId })).toBeNull();
      expect(await client.membership({ id: membershipId })).toBeNull();
      expect(await client.votingRoll({ coopId, on: today() })).toBeNull();
      expect(await client.memberStatement({ membershipId, from: '2000-01-01', to: today() })).toBeNull();
      const pay = await client.payInstalment({
        membershipId,
        amount: '1.00',
        paidOn: today(),
        method: 'CASH',
        idempotencyKey: newKey('pay'),
      });
      expect(pay.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_MEMBERSHIP']);
    }
    const nodeAnswer = await rawGraphQL(
      server.url,
      'query($id: ID!) { node(id: $id) { id } }',
      { id: membershipId },
      {
        token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Springfield' }] })).token,
      },
    );
    expect(nodeAnswer.body).toEqual({ data: { node: null } });
    const anon = await rawGraphQL(
      server.url,
      'query($id: ID!) { membership(id: $id) { id } }',
      { id: membershipId },
      { token: null },
    );
    expect(anon.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('the public directory', () => {
  let listed: { id: string; name: string };
  let unlisted: { id: string; name: string };
  const city = `Dirville ${uniqueSuffix()}`;

  beforeAll(async () => {
    listed = await createCoop({
      city,
      publicListing: true,
      dataSharingConsent: true,
      name: `A listed ${uniqueSuffix()}`,
    });
    unlisted = await createCoop({ city, publicListing: false, name: `B unlisted ${uniqueSuffix()}` });
    // A co-op without a website: its profile URL becomes primary_url.
    await createCoop({
      city,
      publicListing: true,
      website: '',
      kind: 'HOUSING',
      name: `C listed ${uniqueSuffix()}`,
    });
  });

  it('lists only co-ops that opted in, to anonymous callers too, by name', async () => {
    const page = await anonymous.coopDirectory({ city: city.toUpperCase(), first: 10 });
    const names = page.edges.map((e) => e.node.name);
    expect(names).toHaveLength(2);
    expect(names[0]).toBe(listed.name);
    expect(names).not.toContain(unlisted.name);
    const housing = await anonymous.coopDirectory({ city, kind: 'HOUSING' });
    expect(housing.edges.map((e) => e.node.kind)).toEqual(['HOUSING']);
    const all: string[] = [];
    for await (const entry of anonymous.iterateCoopDirectory({ city, first: 1 })) all.push(entry.name);
    expect(all).toEqual(names);
  });

  it('never shows private fields, and anonymous callers cannot reach the Coop object', async () => {
    for (const field of [
      'dataSharingConsent',
      'publicListing',
      'memberships { edges { cursor } }',
      'book { id }',
    ]) {
      const answer = await rawGraphQL(
        server.url,
        `query { coopDirectory(first: 5) { edges { node { name ${field} } } } }`,
        {},
        { token: null },
      );
      expect(answer.body.errors?.[0]?.message, field).toMatch(/Cannot query field/);
    }
    const coop = await rawGraphQL(
      server.url,
      'query($id: ID!) { coop(id: $id) { name } }',
      { id: listed.id },
      { token: null },
    );
    expect(coop.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('gives each listed co-op a Murmurations profile, in the API and on a public route', async () => {
    const page = await anonymous.coopDirectory({ city, publicBaseUrl: 'https://ledger.example' });
    const [withSite, withoutSite] = page.edges.map((e) => e.node);
    const profile = JSON.parse(withSite!.murmurationsProfile);
    expect(profile).toEqual({
      linked_schemas: ['solidarity_economy_initiatives-v0.2.0'],
      ld_uri: `urn:uuid:${decodeGlobalId(listed.id).bookId}`,
      name: listed.name,
      description: 'A worker-owned bakery.',
      primary_url: 'https://bread.example',
      website: 'https://bread.example',
      locality: city,
      geolocation: { lat: 45.5017, lon: -73.5673 },
      tags: expect.arrayContaining(['cooperative', 'worker cooperative', 'naics:311811']),
    });
    expect(JSON.parse(withoutSite!.murmurationsProfile).primary_url).toBe(
      `https://ledger.example${withoutSite!.profilePath}`,
    );

    const response = await fetch(`${server.baseUrl}${withSite!.profilePath}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(profile);

    const unlistedId = decodeGlobalId(unlisted.id).bookId;
    for (const path of [`/directory/coops/${unlistedId}.json`, '/directory/coops/not-a-uuid.json']) {
      expect((await fetch(`${server.baseUrl}${path}`)).status, path).toBe(404);
    }
  });

  it('scripts/export-directory.ts writes one profile per listed co-op and an index', async () => {
    const out = mkdtempSync(join(tmpdir(), 'directory-'));
    try {
      // Asynchronously: the server answering the script runs in this process.
      const child = spawn(
        process.execPath,
        [...builtArgs('scripts/export-directory.ts'), '--url', server.url, '--out', out, '--city', city],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const [code] = await once(child, 'exit');
      expect(code, stderr).toBe(0);
      const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
      expect(index.schema).toBe('solidarity_economy_initiatives-v0.2.0');
      expect(index.coops).toHaveLength(2);
      expect(readdirSync(out).sort()).toEqual(
        [...index.coops.map((c: { file: string }) => c.file), 'index.json'].sort(),
      );
      const first = JSON.parse(readFileSync(join(out, index.coops[0].file), 'utf8'));
      expect(first).toMatchObject({
        name: listed.name,
        locality: city,
        linked_schemas: ['solidarity_economy_initiatives-v0.2.0'],
      });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('a listing can be withdrawn by the treasurer', async () => {
    const issued = await issueToken(admin, {
      grants: [{ role: 'TREASURER', scope: decodeGlobalId(listed.id).bookId }],
    });
    const own = ledgerClient(server.url, { token: issued.token });
    const off = await own.updateCoop({ coopId: listed.id, publicListing: false });
    expect(off.userErrors).toEqual([]);
    const page = await anonymous.coopDirectory({ city });
    expect(page.edges.map((e) => e.node.name)).not.toContain(listed.name);
    const path = `/directory/coops/${decodeGlobalId(listed.id).bookId}.json`;
    expect((await fetch(`${server.baseUrl}${path}`)).status).toBe(404);
  });
});
