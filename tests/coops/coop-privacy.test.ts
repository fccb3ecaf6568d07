/**
 * Personal data of co-op members (issue 5) through real HTTP and real PostgreSQL: a person's Party
 * (name, email, phone, address) and their Membership are readable by the co-op's treasurer and by
 * the person (a MEMBER token on one of their own accounts), and by nobody else: not a city
 * analyst, a member of another co-op, another member of the same co-op, a MEMBER grant on an
 * account that is nobody's membership, the other co-op's treasurer, nor an anonymous caller.
 *
 * Every read path is tried (party, membership, node for both, the co-op's parties and memberships,
 * the voting roll, the member statement, myMemberships, the book's entries) and every mutation on
 * the person's co-op or membership (answered as unknown, changing nothing). The raw JSON text of
 * every answer to a refused caller is scanned for the person's name, email, phone and address,
 * also inside base64 (global ids, cursors).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  type CoopFixture,
  changeState,
  createClass,
  daysAgo,
  join,
  listMemberships,
  memberToken,
  setupCoop,
  today,
} from '../helpers/coop.js';
import { ledgerClient, newKey, type RawGraphQLAnswer, rawGraphQL, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken, leaksIn } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let coopA: CoopFixture;
let coopB: CoopFixture;
let classA: string;
let classB: string;

const tag = uniqueSuffix();
const alice = {
  name: `Alice Quixotic-${tag}`,
  email: `alice.${tag}@private.example`,
  phone: `+1-555-${tag}`,
  address: `${tag} Hidden Lane, Springfield`,
};
const bob = {
  name: `Bob Zanzibar-${tag}`,
  email: `bob.${tag}@private.example`,
  phone: `+1-556-${tag}`,
  address: `${tag} Quiet Road, Springfield`,
};
const secretsOf = (p: typeof alice) => [p.name, p.email, p.phone, p.address];

let alicePartyId: string;
let aliceMembershipId: string;
let aliceEntryId: string;
let bobMembershipId: string;
let carolMembershipId: string;
const tokens: Record<string, string | null> = {};

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  coopA = await setupCoop(server.url, admin, { city: 'Springfield' });
  coopB = await setupCoop(server.url, admin, { city: 'Springfield' });
  classA = await createClass(coopA, { code: 'WORKER', name: 'Worker', buyIn: '100.00', voting: true });
  classB = await createClass(coopB, { code: 'WORKER', name: 'Worker', buyIn: '100.00', voting: true });

  const joinedOn = daysAgo(30);
  const register = async (coop: CoopFixture, person: typeof alice) => {
    const party = await coop.treasurer.registerParty({ coopId: coop.id, ...person });
    expect(party.userErrors).toEqual([]);
    return party.party!.id;
  };
  alicePartyId = await register(coopA, alice);
  const a = await join(coopA, { classId: classA, appliedOn: joinedOn, partyId: alicePartyId });
  aliceMembershipId = a.membership.id;
  // An entry whose memo names the person: the book's entries are the treasurers' only.
  const paid = await coopA.treasurer.payInstalment({
    membershipId: aliceMembershipId,
    amount: '40.00',
    paidOn: daysAgo(29),
    method: 'BANK',
    idempotencyKey: newKey('pay'),
    memo: `instalment from ${alice.name} <${alice.email}>`,
  });
  expect(paid.userErrors).toEqual([]);
  aliceEntryId = paid.entry!.id;
  await changeState(coopA, aliceMembershipId, 'ACTIVE', daysAgo(28));

  const b = await join(coopA, { classId: classA, appliedOn: joinedOn, partyId: await register(coopA, bob) });
  bobMembershipId = b.membership.id;
  await changeState(coopA, bobMembershipId, 'ACTIVE', daysAgo(28));
  const c = await join(coopB, { classId: classB, appliedOn: joinedOn, name: `Carol ${tag}` });
  carolMembershipId = c.membership.id;

  tokens.treasurerA = coopA.treasurerToken;
  tokens.alice = await memberToken(admin, a.membership.accounts.shareCapital!.id);
  tokens.bob = await memberToken(admin, b.membership.accounts.internalCapital!.id);
  tokens.carol = await memberToken(admin, c.membership.accounts.shareCapital!.id);
  tokens.cashMember = await memberToken(admin, coopA.chart['1000']!);
  tokens.analyst = (
    await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Springfield' }] })
  ).token;
  tokens.treasurerB = coopB.treasurerToken;
  tokens.anonymous = null;
});

afterAll(async () => {
  await server?.stop();
});

const REFUSED = ['analyst', 'carol', 'bob', 'cashMember', 'treasurerB', 'anonymous'] as const;
type Caller = keyof typeof tokens;

const PARTY_FIELDS = 'id name email phone address externalRef';
const MEMBERSHIP_FIELDS = `id memberNumber state paidIn party { ${PARTY_FIELDS} }`;

/** Every read path to Alice's data, as [label, document, variables, path of the answer]. */
function readPaths(): [string, string, Record<string, unknown>][] {
  const on = today();
  return [
    [
      'party',
      `query($id: ID!) { party(id: $id) { ${PARTY_FIELDS} memberships { id } } }`,
      { id: alicePartyId },
    ],
    [
      'membership',
      `query($id: ID!) { membership(id: $id) { ${MEMBERSHIP_FIELDS} history { recordedBy } } }`,
      { id: aliceMembershipId },
    ],
    [
      'node(Party)',
      `query($id: ID!) { node(id: $id) { id ... on Party { ${PARTY_FIELDS} } } }`,
      { id: alicePartyId },
    ],
    [
      'node(Membership)',
      `query($id: ID!) { node(id: $id) { id ... on Membership { ${MEMBERSHIP_FIELDS} } } }`,
      { id: aliceMembershipId },
    ],
    [
      'coop.parties and coop.memberships',
      `query($id: ID!) { coop(id: $id) { id parties(first: 50) { edges { node { ${PARTY_FIELDS} } } }
         memberships(first: 50) { edges { node { ${MEMBERSHIP_FIELDS} } } } } }`,
      { id: coopA.id },
    ],
    [
      'node(Coop)',
      `query($id: ID!) { node(id: $id) { id ... on Coop { parties(first: 50) { edges { node { ${PARTY_FIELDS} } } } } } }`,
      { id: coopA.id },
    ],
    [
      'votingRoll',
      `query($id: ID!, $on: Date!) { votingRoll(coopId: $id, on: $on) { votes entries { party { ${PARTY_FIELDS} } membership { id } } } }`,
      { id: coopA.id, on },
    ],
    [
      'coop.votingRoll',
      `query($id: ID!, $on: Date!) { coop(id: $id) { votingRoll(on: $on) { entries { party { ${PARTY_FIELDS} } } } } }`,
      { id: coopA.id, on },
    ],
    [
      'memberStatement',
      `query($id: ID!, $from: Date!, $to: Date!) { memberStatement(membershipId: $id, from: $from, to: $to) {
         membership { ${MEMBERSHIP_FIELDS} } capitalClosing movements { memo } entries { memo } } }`,
      { id: aliceMembershipId, from: daysAgo(60), to: on },
    ],
    [
      'Membership.statement',
      `query($id: ID!, $from: Date!, $to: Date!) { membership(id: $id) { statement(from: $from, to: $to) { movements { memo } } } }`,
      { id: aliceMembershipId, from: daysAgo(60), to: on },
    ],
    ['myMemberships', `query { myMemberships { ${MEMBERSHIP_FIELDS} } }`, {}],
    ['journalEntry', 'query($id: ID!) { journalEntry(id: $id) { id memo } }', { id: aliceEntryId }],
    [
      'node(JournalEntry)',
      'query($id: ID!) { node(id: $id) { id ... on JournalEntry { memo } } }',
      { id: aliceEntryId },
    ],
    [
      'journalEntries',
      'query($id: ID!) { journalEntries(bookId: $id, first: 50) { edges { node { memo } } } }',
      { id: coopA.bookId },
    ],
  ];
}

async function ask(
  caller: Caller,
  query: string,
  variables: Record<string, unknown>,
): Promise<RawGraphQLAnswer> {
  return rawGraphQL(server.url, query, variables, { token: tokens[caller] });
}

/** The register and the book of co-op A as its treasurer sees them. */
async function stateOfA(): Promise<string> {
  const [memberships, trial, chain, party] = await Promise.all([
    listMemberships(server.url, coopA.treasurerToken, coopA.id),
    coopA.treasurer.trialBalance({ bookId: coopA.bookId }),
    coopA.treasurer.verifyBookChain({ bookId: coopA.bookId }),
    coopA.treasurer.party({ id: alicePartyId }),
  ]);
  expect(trial!.balanced).toBe(true);
  expect(chain!.ok).toBe(true);
  return JSON.stringify({ memberships, trial, head: chain!.headHash, n: chain!.entriesChecked, party });
}

describe('who reads a person’s data', () => {
  it('the co-op’s treasurer reads it through every path', async () => {
    for (const [label, query, variables] of readPaths()) {
      if (label === 'myMemberships') continue;
      const answer = await ask('treasurerA', query, variables);
      expect(answer.body.errors, label).toBeUndefined();
      expect(leaksIn(answer.body, [alice.name]), label).toEqual([alice.name]);
    }
    const party = await coopA.treasurer.party({ id: alicePartyId });
    expect(party).toMatchObject({ ...alice, kind: 'PERSON' });
    expect(party!.memberships.map((m) => m.id)).toEqual([aliceMembershipId]);
    const roll = await coopA.treasurer.votingRoll({ coopId: coopA.id, on: today() });
    expect(roll!.entries.map((e) => e.party.name)).toEqual([alice.name, bob.name]);
  });

  it('the person reads their own party, membership and statement, and nothing of anyone else', async () => {
    const own = ledgerClient(server.url, { token: tokens.alice });
    expect(await own.party({ id: alicePartyId })).toMatchObject(alice);
    const m = await own.membership({ id: aliceMembershipId });
    expect(m).toMatchObject({ id: aliceMembershipId, paidIn: '40.00', state: 'ACTIVE', party: alice });
    // Not the Coop object (the treasurers'), only its public profile.
    expect(m!.coop).toBeNull();
    expect(m!.coopProfile.name).toBe(coopA.name);
    const mine = await own.myMemberships();
    expect(mine.map((x) => [x.id, x.party.name])).toEqual([[aliceMembershipId, alice.name]]);
    const statement = await own.memberStatement({
      membershipId: aliceMembershipId,
      from: daysAgo(60),
      to: today(),
    });
    expect(statement!.capitalClosing).toBe('40.00');
    expect(statement!.movements.map((v) => v.event)).toEqual(['SUBSCRIPTION', 'INSTALMENT']);
    // The full entries (the co-op's bank account on the other side) are the treasurers'.
    expect(statement!.entries).toBeNull();
    for (const [label, query, variables] of readPaths()) {
      const answer = await ask('alice', query, variables);
      const text = JSON.stringify(answer.body);
      expect(leaksIn(answer.body, secretsOf(bob)), `${label}: ${text}`).toEqual([]);
      if (
        [
          'party',
          'membership',
          'node(Party)',
          'node(Membership)',
          'memberStatement',
          'myMemberships',
        ].includes(label)
      )
        expect(text, label).toContain(alice.email);
    }
    expect(await own.membership({ id: bobMembershipId })).toBeNull();
    expect(await own.coop({ id: coopA.id })).toBeNull();
    expect(await own.votingRoll({ coopId: coopA.id, on: today() })).toBeNull();
  });

  it.each(REFUSED)('%s reads none of it, through any path', async (caller) => {
    for (const [label, query, variables] of readPaths()) {
      const answer = await ask(caller, query, variables);
      const text = JSON.stringify(answer.body);
      expect(leaksIn(answer.body, secretsOf(alice)), `${caller} ${label}: ${text}`).toEqual([]);
      if (caller === 'anonymous') {
        expect(answer.body.errors?.[0]?.extensions?.code, `${label}: ${text}`).toBe('UNAUTHENTICATED');
        continue;
      }
      const data = answer.body.data ?? {};
      switch (label) {
        case 'myMemberships': {
          const own = (data.myMemberships as { id: string }[]).map((x) => x.id);
          expect(own, text).toEqual(
            caller === 'bob' ? [bobMembershipId] : caller === 'carol' ? [carolMembershipId] : [],
          );
          break;
        }
        case 'journalEntries':
          // Refused outright, or nothing listed.
          if (answer.body.errors) expect(answer.body.errors[0]?.extensions?.code, text).toBe('FORBIDDEN');
          else expect((data.journalEntries as { edges: unknown[] }).edges, text).toEqual([]);
          break;
        default:
          expect(answer.body.errors, `${label}: ${text}`).toBeUndefined();
          expect(Object.values(data), `${label}: ${text}`).toEqual([null]);
      }
    }
  });

  it.each(REFUSED)(
    '%s changes nothing of the co-op or the membership: every mutation answers as unknown',
    async (caller) => {
      const before = await stateOfA();
      const on = today();
      const mutations: [string, string, Record<string, unknown>, string][] = [
        [
          'payInstalment',
          'mutation($input: PayInstalmentInput!) { payInstalment(input: $input) { membership { id } entry { id } userErrors { code } } }',
          {
            membershipId: aliceMembershipId,
            amount: '1.00',
            paidOn: on,
            method: 'CASH',
            idempotencyKey: newKey('p'),
          },
          'UNKNOWN_MEMBERSHIP',
        ],
        [
          'repayRedemption',
          'mutation($input: RepayRedemptionInput!) { repayRedemption(input: $input) { membership { id } userErrors { code } } }',
          {
            membershipId: aliceMembershipId,
            amount: '1.00',
            paidOn: on,
            method: 'CASH',
            idempotencyKey: newKey('r'),
          },
          'UNKNOWN_MEMBERSHIP',
        ],
        [
          'changeMembershipState',
          'mutation($input: ChangeMembershipStateInput!) { changeMembershipState(input: $input) { membership { id state } userErrors { code } } }',
          {
            membershipId: aliceMembershipId,
            toState: 'WITHDRAWN',
            effectiveOn: on,
            idempotencyKey: newKey('s'),
          },
          'UNKNOWN_MEMBERSHIP',
        ],
        [
          'transferShares',
          'mutation($input: TransferSharesInput!) { transferShares(input: $input) { membership { id } userErrors { code } } }',
          {
            fromMembershipId: aliceMembershipId,
            toMembershipId: bobMembershipId,
            amount: '1.00',
            effectiveOn: on,
            idempotencyKey: newKey('t'),
          },
          'UNKNOWN_MEMBERSHIP',
        ],
        [
          'importMembersCsv PAYMENTS',
          'mutation($input: ImportMembersCsvInput!) { importMembersCsv(input: $input) { imported rowErrors { row } userErrors { code } } }',
          {
            coopId: coopA.id,
            kind: 'PAYMENTS',
            csv: `member,paid_on,amount\n1,${on},1.00\n`,
            idempotencyKey: newKey('i'),
          },
          'UNKNOWN_COOP',
        ],
        [
          'importMembersCsv MEMBERS',
          'mutation($input: ImportMembersCsvInput!) { importMembersCsv(input: $input) { imported rowErrors { row } userErrors { code } } }',
          {
            coopId: coopA.id,
            kind: 'MEMBERS',
            csv: `name,class,applied_on\nMallory,WORKER,${on}\n`,
            idempotencyKey: newKey('i'),
          },
          'UNKNOWN_COOP',
        ],
        [
          'joinCoop',
          'mutation($input: JoinCoopInput!) { joinCoop(input: $input) { membership { id } userErrors { code } } }',
          {
            coopId: coopA.id,
            partyId: alicePartyId,
            memberClassId: classA,
            appliedOn: on,
            idempotencyKey: newKey('j'),
          },
          'UNKNOWN_COOP',
        ],
        [
          'registerParty',
          'mutation($input: RegisterPartyInput!) { registerParty(input: $input) { party { id } userErrors { code } } }',
          { coopId: coopA.id, name: 'Mallory' },
          'UNKNOWN_COOP',
        ],
        [
          'updateCoop',
          'mutation($input: UpdateCoopInput!) { updateCoop(input: $input) { coop { id } userErrors { code } } }',
          { coopId: coopA.id, name: 'Taken over' },
          'UNKNOWN_COOP',
        ],
        [
          'createMemberClass',
          'mutation($input: CreateMemberClassInput!) { createMemberClass(input: $input) { memberClass { id } userErrors { code } } }',
          { coopId: coopA.id, code: 'EVIL', name: 'Evil', buyIn: '0', voting: true },
          'UNKNOWN_COOP',
        ],
      ];
      for (const [label, query, input, code] of mutations) {
        const answer = await ask(caller, query, { input });
        const text = JSON.stringify(answer.body);
        expect(leaksIn(answer.body, secretsOf(alice)), `${label}: ${text}`).toEqual([]);
        if (caller === 'anonymous') {
          expect(answer.body.errors?.[0]?.extensions?.code, `${label}: ${text}`).toBe('UNAUTHENTICATED');
          continue;
        }
        expect(answer.body.errors, `${label}: ${text}`).toBeUndefined();
        const payload = Object.values(answer.body.data!)[0] as Record<string, unknown> & {
          userErrors: { code: string }[];
        };
        expect(
          payload.userErrors.map((e) => e.code),
          `${label}: ${text}`,
        ).toEqual([code]);
        for (const [field, value] of Object.entries(payload)) {
          if (field === 'userErrors' || field === 'imported' || field === 'rowErrors') continue;
          expect(value, `${label}.${field}`).toBeNull();
        }
      }
      expect(await stateOfA(), caller).toBe(before);
    },
  );

  it('the other co-op’s treasurer cannot pull the person in through their own co-op', async () => {
    const before = await stateOfA();
    const otherTreasurer = coopB.treasurer;
    const joined = await otherTreasurer.joinCoop({
      coopId: coopB.id,
      partyId: alicePartyId,
      memberClassId: classB,
      appliedOn: today(),
      idempotencyKey: newKey('join'),
    });
    expect(joined.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_PARTY']);
    expect(leaksIn(joined, secretsOf(alice))).toEqual([]);
    const moved = await otherTreasurer.transferShares({
      fromMembershipId: carolMembershipId,
      toMembershipId: aliceMembershipId,
      amount: '1.00',
      effectiveOn: today(),
      idempotencyKey: newKey('transfer'),
    });
    expect(moved.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_MEMBERSHIP']);
    // Another co-op's class with this co-op's party is unknown too.
    const crossed = await otherTreasurer.joinCoop({
      coopId: coopB.id,
      partyId: alicePartyId,
      memberClassId: classA,
      appliedOn: today(),
      idempotencyKey: newKey('join'),
    });
    // Both ids are foreign: both are reported (every input problem at once, issue 11).
    expect(crossed.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['UNKNOWN_PARTY', 'partyId'],
      ['UNKNOWN_MEMBER_CLASS', 'memberClassId'],
    ]);
    expect(await stateOfA()).toBe(before);
    // Its own co-op lists its own people only.
    const own = await listMemberships(server.url, coopB.treasurerToken, coopB.id);
    expect(own.map((m) => m.party.name)).toEqual([`Carol ${tag}`]);
  });
});
