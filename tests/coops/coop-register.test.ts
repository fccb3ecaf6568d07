/**
 * The co-op register's writes through real HTTP and the SDK:
 *
 * - issue 11, item 7: `createMemberClass` and `registerParty` take an idempotency key like the
 *   other writes: the same key and input answer the first result (`replayed: true`) and create
 *   nothing; the same key with other input is IDEMPOTENCY_KEY_REUSED; the SDK retries a keyed
 *   call whose answer was lost, and the retry creates nothing twice. The key is optional: without
 *   one every call creates anew (and the SDK sends it once).
 * - issue 10, item 12: `registerParty` with `organizationCoopId` naming a co-op the caller cannot
 *   see (another tenant's, unlisted) answers exactly as a made-up id does.
 * - issue 11, item 5 (part): every input problem of a request is reported at once
 *   (`joinCoop` with two bad ids, `registerParty` and `createMemberClass` with several bad fields).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerClient, type LedgerClient, LedgerClientError } from '../../client-sdk/index.js';
import { type CoopFixture, createClass, registerParty, setupCoop, today } from '../helpers/coop.js';
import { encodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  coop = await setupCoop(server.url, admin);
});

afterAll(async () => {
  await server?.stop();
});

async function partyCount(fixture: CoopFixture): Promise<number> {
  let n = 0;
  for await (const _ of fixture.treasurer.iterateParties({ coopId: fixture.id })) n++;
  return n;
}

async function classCodes(fixture: CoopFixture): Promise<string[]> {
  return (await fixture.treasurer.coop({ id: fixture.id }))!.memberClasses.map((c) => c.code);
}

describe('createMemberClass with an idempotency key (issue 11, item 7)', () => {
  it('the same key and input answer the first class (replayed) and create nothing more', async () => {
    const key = newKey('class');
    const input = {
      coopId: coop.id,
      code: 'WORKER',
      name: 'Worker-owner',
      buyIn: '500.00',
      voting: true,
      idempotencyKey: key,
    };
    const first = await coop.treasurer.createMemberClass(input);
    expect(first.userErrors).toEqual([]);
    expect(first.replayed).toBe(false);
    const again = await coop.treasurer.createMemberClass(input);
    expect(again.userErrors).toEqual([]);
    expect(again.replayed).toBe(true);
    expect(again.memberClass).toEqual(first.memberClass);
    expect((await classCodes(coop)).filter((c) => c === 'WORKER')).toHaveLength(1);
  });

  it('the same key with another input is IDEMPOTENCY_KEY_REUSED and creates nothing', async () => {
    const key = newKey('class');
    const first = await coop.treasurer.createMemberClass({
      coopId: coop.id,
      code: 'SUPPORT',
      name: 'Supporter',
      buyIn: '10.00',
      voting: false,
      idempotencyKey: key,
    });
    expect(first.userErrors).toEqual([]);
    const other = await coop.treasurer.createMemberClass({
      coopId: coop.id,
      code: 'SUPPORT2',
      name: 'Supporter',
      buyIn: '10.00',
      voting: false,
      idempotencyKey: key,
    });
    expect(other.memberClass).toBeNull();
    expect(other.replayed).toBe(false);
    expect(other.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['IDEMPOTENCY_KEY_REUSED', 'idempotencyKey'],
    ]);
    expect(await classCodes(coop)).not.toContain('SUPPORT2');
  });

  it('a malformed key is INVALID_IDEMPOTENCY_KEY, reported with the other problems of the input', async () => {
    const payload = await coop.treasurer.createMemberClass({
      coopId: coop.id,
      code: 'bad code!',
      name: 'x',
      buyIn: '1.001',
      instalmentCount: 0,
      voting: true,
      idempotencyKey: 'has a space',
    });
    expect(payload.memberClass).toBeNull();
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_IDEMPOTENCY_KEY', 'idempotencyKey'],
      ['INVALID_INPUT', 'code'],
      ['INVALID_AMOUNT', 'buyIn'],
      ['INVALID_INPUT', 'instalmentCount'],
    ]);
  });
});

describe('registerParty with an idempotency key (issue 11, item 7)', () => {
  it('replays with the same key and input, refuses another input, and creates anew without a key', async () => {
    const before = await partyCount(coop);
    const key = newKey('party');
    const input = { coopId: coop.id, name: 'Rosa Parks', email: 'rosa@example.org', idempotencyKey: key };
    const first = await coop.treasurer.registerParty(input);
    expect(first.userErrors).toEqual([]);
    expect(first.replayed).toBe(false);
    const again = await coop.treasurer.registerParty(input);
    expect(again.replayed).toBe(true);
    expect(again.party).toEqual(first.party);
    const other = await coop.treasurer.registerParty({ ...input, email: 'rosa@other.example' });
    expect(other.party).toBeNull();
    expect(other.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await partyCount(coop)).toBe(before + 1);
    // Without a key nothing is remembered: the same input registers a second party.
    const { idempotencyKey: _, ...unkeyed } = input;
    const a = await coop.treasurer.registerParty(unkeyed);
    const b = await coop.treasurer.registerParty(unkeyed);
    expect([a.replayed, b.replayed]).toEqual([false, false]);
    expect(a.party!.id).not.toBe(b.party!.id);
    expect(await partyCount(coop)).toBe(before + 3);
  });

  it('concurrent requests with one key register one party; all answer it', async () => {
    const before = await partyCount(coop);
    const input = { coopId: coop.id, name: 'Concurrent Carla', idempotencyKey: newKey('race') };
    const answers = await Promise.all(Array.from({ length: 6 }, () => coop.treasurer.registerParty(input)));
    for (const a of answers) expect(a.userErrors).toEqual([]);
    expect(new Set(answers.map((a) => a.party!.id)).size).toBe(1);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(await partyCount(coop)).toBe(before + 1);
  });

  it('the SDK retries a keyed registerParty whose answer was lost; the retry replays, nothing is registered twice', async () => {
    const before = await partyCount(coop);
    let calls = 0;
    // The first request reaches the server and is processed; its answer is dropped on the way back.
    const lossy: typeof fetch = async (input, init) => {
      calls++;
      const response = await fetch(input, init);
      if (calls === 1) {
        await response.text();
        throw new TypeError('fetch failed (connection reset after the request was sent)');
      }
      return response;
    };
    const client = createLedgerClient({
      url: server.url,
      token: coop.treasurerToken,
      fetch: lossy,
      retries: 2,
      retryBaseDelayMs: 1,
    });
    const payload = await client.registerParty({
      coopId: coop.id,
      name: 'Lost Answer',
      idempotencyKey: newKey('lost'),
    });
    expect(calls).toBe(2);
    expect(payload.userErrors).toEqual([]);
    expect(payload.replayed).toBe(true);
    expect(await partyCount(coop)).toBe(before + 1);

    // Without a key the SDK does not retry: the lost answer surfaces as a network error.
    calls = 0;
    const error = await client.registerParty({ coopId: coop.id, name: 'Unkeyed' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LedgerClientError);
    expect((error as LedgerClientError).code).toBe('NETWORK_ERROR');
    expect(calls).toBe(1);
  });
});

describe('registerParty with organizationCoopId (issue 10, item 12)', () => {
  let unlisted: CoopFixture;
  let listed: CoopFixture;

  beforeAll(async () => {
    unlisted = await setupCoop(server.url, admin, { publicListing: false });
    listed = await setupCoop(server.url, admin, { publicListing: true });
  });

  const asOrganization = (fixture: CoopFixture, organizationCoopId: string) =>
    fixture.treasurer.registerParty({
      coopId: fixture.id,
      kind: 'ORGANIZATION',
      name: `Org ${randomUUID()}`,
      organizationCoopId,
    });

  it("another tenant's unlisted co-op answers exactly like a made-up id, and nothing is registered", async () => {
    const before = await partyCount(coop);
    const hidden = await asOrganization(coop, unlisted.id);
    const madeUp = await asOrganization(coop, encodeGlobalId('Coop', randomUUID()));
    expect(hidden.party).toBeNull();
    expect(hidden.userErrors).toEqual([
      { code: 'UNKNOWN_COOP', field: 'organizationCoopId', message: 'no such co-op' },
    ]);
    expect(madeUp).toEqual(hidden);
    expect(await partyCount(coop)).toBe(before);
  });

  it('a listed co-op, the caller’s own co-op, and (for an admin) any co-op may be named', async () => {
    const ofListed = await asOrganization(coop, listed.id);
    expect(ofListed.userErrors).toEqual([]);
    const ofOwn = await asOrganization(coop, coop.id);
    expect(ofOwn.userErrors).toEqual([]);
    const byAdmin = await admin.registerParty({
      coopId: coop.id,
      kind: 'ORGANIZATION',
      name: 'Federation member',
      organizationCoopId: unlisted.id,
    });
    expect(byAdmin.userErrors).toEqual([]);
    // What the treasurer reads of it: nothing of the co-op it may not read.
    const read = await coop.treasurer.party({ id: byAdmin.party!.id });
    expect(read?.organizationCoop).toBeNull();
  });
});

describe('every input problem at once (issue 11, item 5)', () => {
  it('joinCoop with two made-up ids reports both, each on its field', async () => {
    const payload = await coop.treasurer.joinCoop({
      coopId: coop.id,
      partyId: encodeGlobalId('Party', `${coop.bookUuid}:${randomUUID()}`),
      memberClassId: encodeGlobalId('MemberClass', `${coop.bookUuid}:${randomUUID()}`),
      appliedOn: today(),
      idempotencyKey: newKey('join'),
    });
    expect(payload.membership).toBeNull();
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['UNKNOWN_PARTY', 'partyId'],
      ['UNKNOWN_MEMBER_CLASS', 'memberClassId'],
    ]);
  });

  it('joinCoop with two malformed ids, a bad key and a future date reports all four', async () => {
    const payload = await coop.treasurer.joinCoop({
      coopId: coop.id,
      partyId: 'nope',
      memberClassId: 'nope either',
      appliedOn: '2999-01-01',
      idempotencyKey: 'a key with spaces',
    });
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_IDEMPOTENCY_KEY', 'idempotencyKey'],
      ['UNKNOWN_PARTY', 'partyId'],
      ['UNKNOWN_MEMBER_CLASS', 'memberClassId'],
      ['INVALID_DATE', 'appliedOn'],
    ]);
  });

  it('joinCoop with one unknown id still names just that one', async () => {
    const classId = await createClass(coop, {
      code: `C${Date.now()}`,
      name: 'Class',
      buyIn: '0.00',
      voting: true,
    });
    const payload = await coop.treasurer.joinCoop({
      coopId: coop.id,
      partyId: encodeGlobalId('Party', `${coop.bookUuid}:${randomUUID()}`),
      memberClassId: classId,
      appliedOn: today(),
      idempotencyKey: newKey('join'),
    });
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['UNKNOWN_PARTY', 'partyId']]);
    const partyId = await registerParty(coop, { name: 'Joins fine' });
    const ok = await coop.treasurer.joinCoop({
      coopId: coop.id,
      partyId,
      memberClassId: classId,
      appliedOn: today(),
      idempotencyKey: newKey('join'),
    });
    expect(ok.userErrors).toEqual([]);
  });

  it('registerParty with several bad fields reports each', async () => {
    const payload = await coop.treasurer.registerParty({
      coopId: coop.id,
      name: '   ',
      email: 'not an email',
      phone: 'p'.repeat(51),
      externalRef: '',
    });
    expect(payload.party).toBeNull();
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', 'name'],
      ['INVALID_INPUT', 'email'],
      ['INVALID_INPUT', 'phone'],
      ['INVALID_INPUT', 'externalRef'],
    ]);
  });
});
