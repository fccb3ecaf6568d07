/**
 * The voting roll (issue 5) through real HTTP, the SDK and real PostgreSQL: who may vote on a
 * date. A member is on the roll on the days they are ACTIVE (at the end of the day) in a class that
 * votes; a person appears once, whatever shares or memberships they hold.
 *
 * One co-op, a dozen memberships with their histories laid out on a timeline of past dates, then
 * the roll is read on many dates and compared with (a) hand-written lists at the turning points
 * and (b) an expectation computed here from the timeline, on every fifth day and on every day
 * around each event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  addDays,
  type CoopFixture,
  changeState,
  createClass,
  daysAgo,
  join,
  pay,
  registerParty,
  setupCoop,
  today,
} from '../helpers/coop.js';
import { ledgerClient, newKey, rawGraphQL } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;

type State = 'APPLICANT' | 'CANDIDATE' | 'ACTIVE' | 'WITHDRAWN' | 'TERMINATED';

/** Day 0 of the timeline; every offset below is at most 400 days later, so no date is in the future. */
const BASE = daysAgo(400);
const on = (offset: number) => addDays(BASE, offset);

interface Plan {
  person: string;
  voting: boolean;
  /** [offset in days, state]; the first is joining (APPLICANT). */
  events: [number, State][];
}

/**
 * The timeline, in joining order: member numbers are 1, 2, 3, ... in this order. Jon rejoins on
 * the day his first membership ends (day 250); a rejoin dated before that is refused.
 */
const PLANS: Plan[] = [
  {
    person: 'Ann',
    voting: true,
    events: [
      [0, 'APPLICANT'],
      [10, 'CANDIDATE'],
      [20, 'ACTIVE'],
    ],
  },
  {
    person: 'Ben',
    voting: true,
    events: [
      [5, 'APPLICANT'],
      [15, 'ACTIVE'],
      [100, 'WITHDRAWN'],
    ],
  },
  {
    person: 'Cat',
    voting: true,
    events: [
      [30, 'APPLICANT'],
      [40, 'CANDIDATE'],
      [50, 'ACTIVE'],
      [150, 'TERMINATED'],
    ],
  },
  {
    person: 'Dan',
    voting: false,
    events: [
      [0, 'APPLICANT'],
      [10, 'ACTIVE'],
    ],
  },
  {
    person: 'Eve',
    voting: true,
    events: [
      [20, 'APPLICANT'],
      [30, 'ACTIVE'],
      [60, 'WITHDRAWN'],
    ],
  },
  { person: 'Fay', voting: true, events: [[200, 'APPLICANT']] },
  {
    person: 'Gus',
    voting: true,
    events: [
      [50, 'APPLICANT'],
      [50, 'ACTIVE'],
    ],
  },
  // Joined, active and gone the same day: not on the roll at the end of that day.
  {
    person: 'Hal',
    voting: true,
    events: [
      [70, 'APPLICANT'],
      [70, 'ACTIVE'],
      [70, 'WITHDRAWN'],
    ],
  },
  // Eve again, after her first membership ended.
  {
    person: 'Eve',
    voting: true,
    events: [
      [80, 'APPLICANT'],
      [90, 'CANDIDATE'],
      [120, 'ACTIVE'],
    ],
  },
  {
    person: 'Ivy Housing Co-op',
    voting: true,
    events: [
      [300, 'APPLICANT'],
      [310, 'ACTIVE'],
    ],
  },
  {
    person: 'Jon',
    voting: true,
    events: [
      [100, 'APPLICANT'],
      [100, 'ACTIVE'],
      [250, 'WITHDRAWN'],
    ],
  },
  {
    person: 'Jon',
    voting: true,
    events: [
      [250, 'APPLICANT'],
      [260, 'ACTIVE'],
    ],
  },
];

/** The expected roll on a date, from the timeline alone: member numbers. */
function expectedRoll(date: string): number[] {
  const seen = new Set<string>();
  const roll: number[] = [];
  PLANS.forEach((plan, i) => {
    let state: State | null = null;
    for (const [offset, s] of plan.events) if (on(offset) <= date) state = s;
    if (plan.voting && state === 'ACTIVE' && !seen.has(plan.person)) {
      seen.add(plan.person);
      roll.push(i + 1);
    }
  });
  return roll;
}

const membershipIds: string[] = [];
const partyIds = new Map<string, string>();

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  coop = await setupCoop(server.url, admin);
  const voter = await createClass(coop, {
    code: 'WORKER',
    name: 'Worker-owner',
    buyIn: '100.00',
    voting: true,
    transferable: true,
  });
  const supporter = await createClass(coop, {
    code: 'SUPPORTER',
    name: 'Supporter',
    buyIn: '0',
    voting: false,
  });
  for (const plan of PLANS) {
    let partyId = partyIds.get(plan.person);
    if (!partyId) {
      partyId = await registerParty(coop, {
        name: plan.person,
        kind: plan.person.includes('Co-op') ? 'ORGANIZATION' : 'PERSON',
      });
      partyIds.set(plan.person, partyId);
    }
    const [[joinedOn], ...rest] = plan.events as [[number, State], ...[number, State][]];
    const joined = await join(coop, {
      classId: plan.voting ? voter : supporter,
      appliedOn: on(joinedOn),
      partyId,
    });
    expect(joined.membership.memberNumber).toBe(membershipIds.length + 1);
    membershipIds.push(joined.membership.id);
    for (const [offset, state] of rest) {
      await changeState(coop, joined.membership.id, state as Exclude<State, 'APPLICANT'>, on(offset));
    }
  }
  // Ann holds more shares than Gus (a transfer): still one vote each.
  await pay(coop, membershipIds[0]!, '100.00', on(21));
  await pay(coop, membershipIds[6]!, '100.00', on(51));
  const moved = await coop.treasurer.transferShares({
    fromMembershipId: membershipIds[6]!,
    toMembershipId: membershipIds[0]!,
    amount: '60.00',
    effectiveOn: on(52),
    idempotencyKey: newKey('transfer'),
  });
  expect(moved.userErrors).toEqual([]);
});

afterAll(async () => {
  await server?.stop();
});

async function rollOn(date: string) {
  const roll = await coop.treasurer.votingRoll({ coopId: coop.id, on: date });
  expect(roll, date).not.toBeNull();
  expect(roll!.on).toBe(date);
  expect(roll!.votes, `${date}: votes = entries`).toBe(roll!.entries.length);
  const parties = roll!.entries.map((e) => e.party.id);
  expect(new Set(parties).size, `${date}: a party appears once`).toBe(parties.length);
  return roll!;
}

async function numbersOn(date: string): Promise<number[]> {
  return (await rollOn(date)).entries.map((e) => e.memberNumber);
}

describe('the voting roll', () => {
  it('the timeline was recorded as planned', async () => {
    for (const [i, plan] of PLANS.entries()) {
      const m = (await coop.treasurer.membership({ id: membershipIds[i]! }))!;
      expect(
        m.history.map((e) => [e.toState, e.effectiveOn]),
        `member ${i + 1}`,
      ).toEqual(plan.events.map(([offset, state]) => [state, on(offset)]));
      expect(m.party.name).toBe(plan.person);
      expect(m.memberClass.voting).toBe(plan.voting);
    }
  });

  it('is empty before any membership began, and while members are only applicants or candidates', async () => {
    expect(await numbersOn(on(-365))).toEqual([]);
    expect(await numbersOn(on(-1))).toEqual([]);
    // Ann applicant, Dan active but in a class that does not vote.
    expect(await numbersOn(on(0))).toEqual([]);
    // Ann a candidate (probation): not yet.
    expect(await numbersOn(on(14))).toEqual([]);
  });

  it('lists each member on the days they are active, and not after they left', async () => {
    expect(await numbersOn(on(15))).toEqual([2]);
    expect(await numbersOn(on(19))).toEqual([2]);
    expect(await numbersOn(on(20))).toEqual([1, 2]);
    expect(await numbersOn(on(30))).toEqual([1, 2, 5]);
    expect(await numbersOn(on(49))).toEqual([1, 2, 5]);
    expect(await numbersOn(on(50))).toEqual([1, 2, 3, 5, 7]);
    // Eve withdrew on day 60: off the roll at the end of that day.
    expect(await numbersOn(on(59))).toEqual([1, 2, 3, 5, 7]);
    expect(await numbersOn(on(60))).toEqual([1, 2, 3, 7]);
    // Hal joined, was made active and withdrew on day 70: never on it.
    expect(await numbersOn(on(70))).toEqual([1, 2, 3, 7]);
    expect(await numbersOn(on(99))).toEqual([1, 2, 3, 7]);
    expect(await numbersOn(on(100))).toEqual([1, 3, 7, 11]);
    // Cat terminated on day 150.
    expect(await numbersOn(on(149))).toEqual([1, 3, 7, 9, 11]);
    expect(await numbersOn(on(150))).toEqual([1, 7, 9, 11]);
  });

  it('a member who left and rejoined is on the roll once, on the dates of the second membership', async () => {
    const eve = partyIds.get('Eve')!;
    const eveOn = async (date: string) =>
      (await rollOn(date)).entries.filter((e) => e.party.id === eve).map((e) => e.membership.id);
    expect(await eveOn(on(30))).toEqual([membershipIds[4]]);
    expect(await eveOn(on(60))).toEqual([]);
    expect(await eveOn(on(80))).toEqual([]);
    expect(await eveOn(on(90))).toEqual([]);
    expect(await eveOn(on(119))).toEqual([]);
    expect(await eveOn(on(120))).toEqual([membershipIds[8]]);
    expect(await eveOn(today())).toEqual([membershipIds[8]]);
  });

  it('one member, one vote: a member who left and rejoined is on the roll for one membership at a time', async () => {
    // Jon: first membership active from day 100 to 250, the second applied on day 250, active from 260.
    const jon = partyIds.get('Jon')!;
    for (const [offset, expected] of [
      [99, []],
      [100, [11]],
      [249, [11]],
      [250, []],
      [259, []],
      [260, [12]],
    ] as const) {
      const roll = await rollOn(on(offset));
      const jons = roll.entries.filter((e) => e.party.id === jon);
      expect(
        jons.map((e) => e.memberNumber),
        `day ${offset}`,
      ).toEqual(expected);
    }
    const roll = await rollOn(on(210));
    expect(roll.votes).toBe(roll.entries.length);
    expect(roll.entries.map((e) => e.party.name)).toEqual(['Ann', 'Gus', 'Eve', 'Jon']);
  });

  it('a non-voting member is never on it; shares held do not add votes', async () => {
    const dan = membershipIds[3]!;
    for (let offset = -5; offset <= 400; offset += 5) {
      const roll = await rollOn(on(offset));
      expect(roll.entries.some((e) => e.membership.id === dan)).toBe(false);
    }
    const ann = (await coop.treasurer.membership({ id: membershipIds[0]! }))!;
    const gus = (await coop.treasurer.membership({ id: membershipIds[6]! }))!;
    expect([ann.shareCapital, gus.shareCapital]).toEqual(['160.00', '40.00']);
    const roll = await rollOn(today());
    expect(roll.entries.filter((e) => e.membership.id === ann.id)).toHaveLength(1);
    expect(roll.entries.filter((e) => e.membership.id === gus.id)).toHaveLength(1);
  });

  it('today: the members active now, an organisation included', async () => {
    const roll = await rollOn(today());
    expect(roll.entries.map((e) => [e.memberNumber, e.party.name, e.party.kind, e.memberClass.code])).toEqual(
      [
        [1, 'Ann', 'PERSON', 'WORKER'],
        [7, 'Gus', 'PERSON', 'WORKER'],
        [9, 'Eve', 'PERSON', 'WORKER'],
        [10, 'Ivy Housing Co-op', 'ORGANIZATION', 'WORKER'],
        [12, 'Jon', 'PERSON', 'WORKER'],
      ],
    );
    expect(roll.entries.map((e) => e.membership.state)).toEqual([
      'ACTIVE',
      'ACTIVE',
      'ACTIVE',
      'ACTIVE',
      'ACTIVE',
    ]);
  });

  it('matches the expectation computed from the timeline on every fifth day and around every event', async () => {
    const dates = new Set<string>();
    for (let offset = -10; offset <= 400; offset += 5) dates.add(on(offset));
    for (const plan of PLANS)
      for (const [offset] of plan.events) for (const d of [-1, 0, 1]) dates.add(on(offset + d));
    dates.add(today());
    let checked = 0;
    for (const date of [...dates].sort()) {
      if (date > today()) continue;
      expect(await numbersOn(date), date).toEqual(expectedRoll(date));
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('Coop.votingRoll answers the same; a bad date is refused', async () => {
    const answer = await rawGraphQL(
      server.url,
      'query($id: ID!, $on: Date!) { coop(id: $id) { votingRoll(on: $on) { votes entries { memberNumber } } } }',
      { id: coop.id, on: on(120) },
      { token: coop.treasurerToken },
    );
    expect(answer.body).toEqual({
      data: {
        coop: {
          votingRoll: {
            votes: 5,
            entries: [1, 3, 7, 9, 11].map((memberNumber) => ({ memberNumber })),
          },
        },
      },
    });
    const bad = await rawGraphQL(
      server.url,
      'query($id: ID!, $on: Date!) { votingRoll(coopId: $id, on: $on) { votes } }',
      { id: coop.id, on: '2024-02-30' },
      { token: coop.treasurerToken },
    );
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('INVALID_DATE');
  });
});
