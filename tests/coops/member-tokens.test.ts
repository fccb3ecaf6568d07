/**
 * Member tokens through real HTTP, the SDK and real PostgreSQL: a co-op's treasurer invites a
 * member (issueMemberToken), and with that token the person reads their own membership, party,
 * schedule and statement and nothing of other members; the treasurer lists the co-op's member
 * tokens (no secrets) and revokes one, which is then refused with 401.
 *
 * And the refusals: another co-op's treasurer cannot issue a token for this co-op's membership
 * (UNKNOWN_MEMBERSHIP, nothing created), list them, or revoke them (the answer of an unknown
 * token, nothing revoked); no treasurer revokes an admin's, a treasurer's or another tenant's
 * token through revokeMemberToken; a MEMBER and a CITY_ANALYST can call none of it.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { TOKEN_CACHE_MS } from '../../server/auth/service.js';
import {
  type CoopFixture,
  createClass,
  daysAgo,
  type Joined,
  join,
  pay,
  setupCoop,
  today,
} from '../helpers/coop.js';
import {
  connectPg,
  decodeGlobalId,
  ledgerClient,
  rawGraphQL,
  uniqueSuffix,
  waitFor,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectRefusedToken, issueToken, secretOf, TOKEN_PATTERN, tokenIdOf } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let db: pg.Client;
let coopA: CoopFixture;
let coopB: CoopFixture;
let alice: Joined;
let bob: Joined;
let carol: Joined;

const tag = uniqueSuffix();
const ALICE = `Alice Invited-${tag}`;

const VIEWER = 'query { viewer { tokenId } }';

/** A token's answer to a plain request: 200 while it is live, 401 once it is refused. */
const viewerWith = (token: string) => rawGraphQL(server.url, VIEWER, {}, { token });

async function revokedAt(tokenId: string): Promise<Date | null> {
  const { rows } = await db.query('select revoked_at from api_token where id = $1', [tokenId]);
  expect(rows).toHaveLength(1);
  return rows[0].revoked_at;
}

/**
 * Grants and revoked tokens that name accounts of a co-op's book (what issuing or revoking there
 * would change; other test files work in other books meanwhile).
 */
async function memberTokenState(bookUuid: string) {
  const { rows } = await db.query(
    `select (select count(*)::int from role_grant where scope_id like $1::text || ':%') as grants,
            (select count(*)::int from api_token t where t.revoked_at is not null and exists (
               select 1 from role_grant g where g.principal_id = t.principal_id and g.scope_id like $1::text || ':%')) as revoked`,
    [bookUuid],
  );
  return rows[0];
}

async function tokensLabelled(label: string): Promise<number> {
  const { rows } = await db.query('select count(*)::int as n from api_token where label = $1', [label]);
  return rows[0].n;
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  db = await connectPg();
  coopA = await setupCoop(server.url, admin);
  coopB = await setupCoop(server.url, admin);
  const classA = await createClass(coopA, {
    code: 'WORKER',
    name: 'Worker',
    buyIn: '100.00',
    instalmentCount: 2,
    voting: true,
  });
  const classB = await createClass(coopB, { code: 'WORKER', name: 'Worker', buyIn: '100.00', voting: true });
  alice = await join(coopA, {
    classId: classA,
    appliedOn: daysAgo(40),
    name: ALICE,
    email: `alice.${tag}@private.example`,
  });
  await pay(coopA, alice.membership.id, '50.00', daysAgo(30));
  bob = await join(coopA, { classId: classA, appliedOn: daysAgo(20), name: `Bob ${tag}` });
  carol = await join(coopB, { classId: classB, appliedOn: daysAgo(10), name: `Carol ${tag}` });
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

describe('a treasurer invites a member', () => {
  it('issues a token with which the person reads their own membership, party, schedule and statement only', async () => {
    const issued = await coopA.treasurer.issueMemberToken({
      membershipId: alice.membership.id,
      label: 'Alice, phone',
    });
    expect(issued.userErrors).toEqual([]);
    expect(issued.token).toMatch(TOKEN_PATTERN);
    const token = issued.token!;
    expect(issued.memberToken).toMatchObject({
      id: tokenIdOf(token),
      label: 'Alice, phone',
      membership: { id: alice.membership.id, memberNumber: alice.membership.memberNumber },
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });

    // What an admin sees: a principal named without personal data, MEMBER grants on the member's
    // five accounts and nothing else.
    const record = (await admin.apiTokens()).find((t) => t.id === tokenIdOf(token))!;
    expect(record.principalName).toBe(`member ${alice.membership.memberNumber} of ${coopA.name}`);
    expect(record.principalName).not.toContain(ALICE);
    const accounts = alice.membership.accounts;
    const own = [
      accounts.shareCapital,
      accounts.subscriptionReceivable,
      accounts.subscribedUnpaid,
      accounts.internalCapital,
      accounts.redemptionPayable,
    ].map((a) => a!.id);
    expect(record.grants.map((g) => g.role)).toEqual(['MEMBER', 'MEMBER', 'MEMBER', 'MEMBER', 'MEMBER']);
    expect(record.grants.map((g) => g.scope).sort()).toEqual([...own].sort());

    const person = ledgerClient(server.url, { token });
    const mine = await person.myMemberships();
    expect(mine.map((m) => m.id)).toEqual([alice.membership.id]);
    const membership = await person.membership({ id: alice.membership.id });
    expect(membership).toMatchObject({ id: alice.membership.id, paidIn: '50.00', outstanding: '50.00' });
    expect(membership!.schedule.map((i) => [i.amount, i.paid])).toEqual([
      ['50.00', '50.00'],
      ['50.00', '0.00'],
    ]);
    expect(membership!.history.map((e) => e.toState)).toEqual(['APPLICANT']);
    const party = await person.party({ id: alice.partyId });
    expect(party).toMatchObject({ id: alice.partyId, name: ALICE });
    const statement = await person.memberStatement({
      membershipId: alice.membership.id,
      from: daysAgo(60),
      to: today(),
    });
    expect(statement).not.toBeNull();
    expect(statement!.capitalClosing).toBe('50.00');
    expect(statement!.accounts).toHaveLength(5);

    // Nothing of other members, nor the co-op's private side.
    expect(await person.membership({ id: bob.membership.id })).toBeNull();
    expect(await person.party({ id: bob.partyId })).toBeNull();
    expect(
      await person.memberStatement({ membershipId: bob.membership.id, from: daysAgo(60), to: today() }),
    ).toBeNull();
    expect(await person.membership({ id: carol.membership.id })).toBeNull();
    expect(await person.coop({ id: coopA.id })).toBeNull();
    expect(await person.memberTokens({ coopId: coopA.id })).toBeNull();
  });

  it('labels a token with the issuer when no label is given, and refuses a past expiry', async () => {
    const issued = await coopA.treasurer.issueMemberToken({ membershipId: bob.membership.id });
    expect(issued.userErrors).toEqual([]);
    expect(issued.memberToken?.label).toBe(`issued by ${coopA.treasurerPrincipalId}`);

    const before = await memberTokenState(coopA.bookUuid);
    const past = await coopA.treasurer.issueMemberToken({
      membershipId: bob.membership.id,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(past.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'expiresAt']]);
    expect(past.token).toBeNull();
    expect(await memberTokenState(coopA.bookUuid)).toEqual(before);
  });

  it('lists the member tokens without secrets, and revokes one: it is then refused', async () => {
    const issued = await coopA.treasurer.issueMemberToken({
      membershipId: alice.membership.id,
      label: 'to revoke',
    });
    expect(issued.userErrors).toEqual([]);
    const token = issued.token!;
    const tokenId = issued.memberToken!.id;
    expect((await viewerWith(token)).status).toBe(200);

    const listed = await coopA.treasurer.memberTokens({ coopId: coopA.id });
    expect(listed).not.toBeNull();
    expect(listed!.find((t) => t.id === tokenId)).toMatchObject({
      label: 'to revoke',
      membership: { id: alice.membership.id },
      revokedAt: null,
    });
    // Only tokens of this co-op's members: not the treasurer's own, not another co-op's.
    expect(
      listed!.every(
        (t) => t.membership === null || decodeGlobalId(t.membership.id).bookId === coopA.bookUuid,
      ),
    ).toBe(true);
    expect(listed!.map((t) => t.id)).not.toContain(tokenIdOf(coopA.treasurerToken));
    expect(JSON.stringify(listed)).not.toContain(secretOf(token));

    const revoked = await coopA.treasurer.revokeMemberToken({ coopId: coopA.id, tokenId });
    expect(revoked.userErrors).toEqual([]);
    expect(revoked.memberToken).toMatchObject({ id: tokenId, revokedAt: expect.any(String) });
    await waitFor(async () => (await viewerWith(token)).status === 401, {
      timeoutMs: TOKEN_CACHE_MS + 10_000,
      intervalMs: 100,
      what: 'the revoked member token to be refused',
    });
    expectRefusedToken(await viewerWith(token));

    // Revoking again keeps the first revocation time; the listing shows it.
    const again = await coopA.treasurer.revokeMemberToken({ coopId: coopA.id, tokenId });
    expect(again.memberToken?.revokedAt).toBe(revoked.memberToken?.revokedAt);
    const after = await coopA.treasurer.memberTokens({ coopId: coopA.id });
    expect(after!.find((t) => t.id === tokenId)?.revokedAt).toBe(revoked.memberToken?.revokedAt);
  });
});

describe('refusals', () => {
  it("another co-op's treasurer cannot issue, list or revoke this co-op's member tokens", async () => {
    const live = await coopA.treasurer.issueMemberToken({ membershipId: alice.membership.id, label: 'live' });
    expect(live.userErrors).toEqual([]);
    const liveId = live.memberToken!.id;

    const before = await memberTokenState(coopA.bookUuid);
    const issued = await coopB.treasurer.issueMemberToken({
      membershipId: alice.membership.id,
      label: 'stolen',
    });
    expect(issued.userErrors.map((e) => [e.code, e.field])).toEqual([['UNKNOWN_MEMBERSHIP', 'membershipId']]);
    expect(issued.token).toBeNull();
    expect(issued.memberToken).toBeNull();
    expect(await tokensLabelled('stolen')).toBe(0);

    expect(await coopB.treasurer.memberTokens({ coopId: coopA.id })).toBeNull();
    const ownList = await coopB.treasurer.memberTokens({ coopId: coopB.id });
    expect(ownList!.map((t) => t.id)).not.toContain(liveId);

    // The answer for a live token of A is the answer for a token id that names nothing.
    const unknown = await coopB.treasurer.revokeMemberToken({
      coopId: coopB.id,
      tokenId: '01234567-89ab-7def-8123-456789abcdef',
    });
    expect(unknown.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'tokenId']]);
    for (const coopId of [coopB.id, coopA.id]) {
      const answer = await coopB.treasurer.revokeMemberToken({ coopId, tokenId: liveId });
      expect(answer).toEqual(unknown);
    }
    expect(await revokedAt(liveId)).toBeNull();
    expect(await memberTokenState(coopA.bookUuid)).toEqual(before);
    expect((await viewerWith(live.token!)).status).toBe(200);
  });

  it("a treasurer cannot revoke an admin's, a treasurer's or another tenant's token through revokeMemberToken", async () => {
    const adminToken = await issueToken(admin, { grants: [{ role: 'ADMIN', scope: '' }] });
    const carolToken = await coopB.treasurer.issueMemberToken({ membershipId: carol.membership.id });
    expect(carolToken.userErrors).toEqual([]);
    // A MEMBER grant on A's account together with another grant is not a member token of A.
    const mixed = await issueToken(admin, {
      grants: [
        { role: 'MEMBER', scope: alice.membership.accounts.shareCapital!.id },
        { role: 'CITY_ANALYST', scope: 'Springfield' },
      ],
    });
    const victims = [
      adminToken.tokenId,
      tokenIdOf(coopA.treasurerToken),
      tokenIdOf(coopB.treasurerToken),
      carolToken.memberToken!.id,
      mixed.tokenId,
    ];
    for (const tokenId of victims) {
      const answer = await coopA.treasurer.revokeMemberToken({ coopId: coopA.id, tokenId });
      expect({
        tokenId,
        errors: answer.userErrors.map((e) => [e.code, e.field]),
        token: answer.memberToken,
      }).toEqual({ tokenId, errors: [['INVALID_INPUT', 'tokenId']], token: null });
      expect(await revokedAt(tokenId)).toBeNull();
    }
    const listed = await coopA.treasurer.memberTokens({ coopId: coopA.id });
    expect(listed!.map((t) => t.id).filter((id) => victims.includes(id))).toEqual([]);
    expect((await viewerWith(adminToken.token)).status).toBe(200);
  });

  it('a MEMBER and a CITY_ANALYST cannot issue, list or revoke member tokens', async () => {
    const target = await coopA.treasurer.issueMemberToken({
      membershipId: bob.membership.id,
      label: 'target',
    });
    expect(target.userErrors).toEqual([]);
    const member = await coopA.treasurer.issueMemberToken({
      membershipId: alice.membership.id,
      label: 'member',
    });
    expect(member.userErrors).toEqual([]);
    const analyst = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Springfield' }] });

    for (const [who, token] of [
      ['member', member.token!],
      ['city analyst', analyst.token],
    ] as const) {
      const client = ledgerClient(server.url, { token });
      const before = await memberTokenState(coopA.bookUuid);
      // Even for the member's own membership.
      const issued = await client.issueMemberToken({ membershipId: alice.membership.id });
      expect({ who, errors: issued.userErrors.map((e) => [e.code, e.field]), token: issued.token }).toEqual({
        who,
        errors: [['UNKNOWN_MEMBERSHIP', 'membershipId']],
        token: null,
      });
      const revoked = await client.revokeMemberToken({ coopId: coopA.id, tokenId: target.memberToken!.id });
      expect({ who, errors: revoked.userErrors.map((e) => [e.code, e.field]) }).toEqual({
        who,
        errors: [['INVALID_INPUT', 'tokenId']],
      });
      expect({ who, list: await client.memberTokens({ coopId: coopA.id }) }).toEqual({ who, list: null });
      expect(await memberTokenState(coopA.bookUuid)).toEqual(before);
    }
    expect(await revokedAt(target.memberToken!.id)).toBeNull();
  });
});
