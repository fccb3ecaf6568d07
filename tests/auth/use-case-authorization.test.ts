/**
 * The use cases check their caller themselves, below the API: every mutating use case of
 * LedgerService, CoopService and AuthService is called directly (no HTTP, no scope-auth) with
 * principals that may not write the book: the treasurer of another book, a member of this one, a
 * city analyst. Each is refused with the answer of an unknown book, account, entry, co-op,
 * membership or token (the same code and field the API gives) and nothing changes in either book; the
 * book's own treasurer then succeeds with the same request, recorded under their id. Admin-only use
 * cases (creating a book or a co-op, issuing and revoking tokens) throw ForbiddenError for anyone
 * but an admin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoopRecord, MembershipRecord, MemberTokenRecord } from '../../server/coops/index.js';
import {
  type EntryInput,
  ForbiddenError,
  LedgerError,
  type Principal,
  systemPrincipal,
} from '../../server/core/index.js';
import type { OpResult } from '../../server/ledger/index.js';
import { daysAgo } from '../helpers/coop.js';
import { orThrow as ok, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const run = uniqueSuffix();
const SYSTEM = systemPrincipal('use-case-authorization-test');

function posted(result: OpResult): Extract<OpResult, { ok: true }>['entry'] {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message} (${result.error.field})`);
  return result.entry;
}

function principal(name: string, grants: Principal['grants']): Principal {
  return { id: `${name}-${run}`, name, tokenId: '', grants };
}

/** Everything a write to the book could change. */
async function snapshot(bookId: string): Promise<Record<string, unknown>> {
  const { rows } = await server.services.ledger.pool.query(
    `select (select entry_seq::text from book where id = $1) as entry_seq,
            (select last_hash from book where id = $1) as last_hash,
            (select count(*)::int from journal_entry where book_id = $1) as entries,
            (select count(*)::int from journal_line where book_id = $1) as lines,
            (select count(*)::int from account where book_id = $1) as accounts,
            (select count(*)::int from account where book_id = $1 and closed_at is not null) as closed_accounts,
            (select coalesce(sum(posted_debits), 0)::text from account where book_id = $1) as posted_debits,
            (select coalesce(sum(pending_debits), 0)::text from account where book_id = $1) as pending_debits,
            (select count(*)::int from pending_open where book_id = $1) as pending_open,
            (select count(*)::int from member_class where book_id = $1) as member_classes,
            (select count(*)::int from party where book_id = $1) as parties,
            (select count(*)::int from membership where book_id = $1) as memberships,
            (select count(*)::int from membership_event where book_id = $1) as membership_events,
            (select count(*)::int from coop_import where book_id = $1) as imports,
            (select updated_at from coop where book_id = $1) as coop_updated_at,
            (select count(*)::int from role_grant where role = 'MEMBER' and scope_id like $1::text || ':%') as member_grants,
            (select count(*)::int from api_token t where t.revoked_at is not null and exists (
               select 1 from role_grant g where g.principal_id = t.principal_id and g.scope_id like $1::text || ':%')) as revoked_member_tokens,
            (select description from coop where book_id = $1) as coop_description`,
    [bookId],
  );
  return rows[0]!;
}

function coopInput(name: string) {
  return {
    name,
    kind: 'WORKER' as const,
    naicsCode: '311811',
    city: 'Springfield',
    foundedOn: '2019-05-01',
    legalForm: 'LCA cooperative',
    baseCurrency: { code: 'USD', scale: 2 },
    redemptionRule: 'HOLD' as const,
  };
}

type Refusal = { code: string; field: string | null } | { code: string; field: string | null }[];

/** The refusal a use case answered, as plain data: a LedgerError, a failed OpResult or a batch of them. */
function refusalOf(result: unknown): Refusal | 'ACCEPTED' {
  const plain = (e: LedgerError) => ({ code: e.code, field: e.field });
  if (result instanceof LedgerError) return plain(result);
  if (Array.isArray(result)) {
    if (result.every((r: OpResult) => !r.ok))
      return result.map((r) => plain((r as { error: LedgerError }).error));
    return 'ACCEPTED';
  }
  const op = result as OpResult;
  if (op && typeof op === 'object' && 'ok' in op && !op.ok) return plain(op.error);
  return 'ACCEPTED';
}

describe('mutating use cases check their caller', () => {
  let A: CoopRecord;
  let B: CoopRecord;
  let treasurerA: Principal;
  let outsiders: [string, Principal][];
  let first: MembershipRecord;
  let second: MembershipRecord;
  let classId: string;
  let cash: string;
  let revenue: string;
  let empty: string;
  let reversible: string;
  let toCommit: string;
  let toVoid: string;
  let newParty: string;
  /** A member token of A, issued by the system (revokeMemberToken's target). */
  let invited: string;

  const ledger = () => server.services.ledger;
  const coops = () => server.services.coops;
  const entry = (key: string, amount = '1.00'): EntryInput => ({
    idempotencyKey: `${key}-${run}`,
    lines: [
      { accountId: cash, side: 'DEBIT', amount, unit: 'USD' },
      { accountId: revenue, side: 'CREDIT', amount, unit: 'USD' },
    ],
    effectiveAt: null,
    memo: null,
    metadata: null,
  });
  const ref = (entryId: string, key: string) => ({
    bookId: A.id,
    entryId,
    idempotencyKey: `${key}-${run}`,
    effectiveAt: null,
    memo: null,
    metadata: null,
  });

  beforeAll(async () => {
    server = await startTestServer();
    A = ok(await coops().createCoop(coopInput(`Use-case A ${run}`), SYSTEM));
    B = ok(await coops().createCoop(coopInput(`Use-case B ${run}`), SYSTEM));
    const account = async (code: string, type: 'ASSET' | 'REVENUE') =>
      ok(
        await ledger().createAccount(
          {
            bookId: A.id,
            code: `${code}-${run}`,
            name: code,
            type,
            unit: 'USD',
            parentId: null,
            lowerBound: null,
            upperBound: null,
          },
          SYSTEM,
        ),
      ).id;
    cash = await account('uc-cash', 'ASSET');
    revenue = await account('uc-revenue', 'REVENUE');
    empty = await account('uc-empty', 'ASSET');
    reversible = posted(await ledger().postEntry(A.id, entry('setup-reversible'), SYSTEM)).id;
    toCommit = posted(await ledger().postPending(A.id, entry('setup-commit'), null, SYSTEM)).id;
    toVoid = posted(await ledger().postPending(A.id, entry('setup-void'), null, SYSTEM)).id;

    classId = ok(
      await coops().createMemberClass(
        { bookId: A.id, code: 'W', name: 'Worker', buyIn: '100.00', voting: true, transferable: true },
        SYSTEM,
      ),
    ).id;
    const member = async (name: string) => {
      const party = ok(await coops().registerParty({ bookId: A.id, name }, SYSTEM));
      const joined = ok(
        await coops().join(
          {
            bookId: A.id,
            partyId: party.id,
            classId,
            appliedOn: daysAgo(60),
            idempotencyKey: `setup-join-${name}-${run}`,
          },
          SYSTEM,
        ),
      );
      const paid = ok(
        await coops().payInstalment(
          {
            bookId: A.id,
            membershipId: joined.membership.id,
            amount: '60.00',
            paidOn: daysAgo(50),
            method: 'BANK',
            idempotencyKey: `setup-pay-${name}-${run}`,
          },
          SYSTEM,
        ),
      );
      return paid.membership;
    };
    first = await member('First');
    second = await member('Second');
    newParty = ok(await coops().registerParty({ bookId: A.id, name: 'Third' }, SYSTEM)).id;
    invited = ok(await coops().issueMemberToken({ bookId: A.id, membershipId: first.id }, SYSTEM)).memberToken
      .id;

    treasurerA = principal('treasurer-a', [{ role: 'TREASURER', scope: A.id }]);
    outsiders = [
      ['treasurer of another book', principal('treasurer-b', [{ role: 'TREASURER', scope: B.id }])],
      ['steward of another book', principal('steward-b', [{ role: 'NETWORK_STEWARD', scope: B.id }])],
      [
        'member of the book',
        principal('member-a', [
          { role: 'MEMBER', scope: `${A.id}:${cash}` },
          { role: 'MEMBER', scope: `${A.id}:${first.accounts.SHARE_CAPITAL}` },
        ]),
      ],
      ['city analyst', principal('analyst', [{ role: 'CITY_ANALYST', scope: 'Springfield' }])],
      ['principal without grants', principal('nobody', [])],
    ];
  });

  afterAll(async () => {
    await server?.stop();
  });

  /**
   * Each use case, in an order in which every one succeeds for the treasurer of A: refused for
   * every outsider (the same request, valid for the treasurer) with nothing changed, then done.
   */
  const cases: {
    name: string;
    refusal: Refusal;
    attempt: (actor: Principal) => Promise<unknown>;
    accepted: (result: unknown) => Promise<void> | void;
  }[] = [
    {
      name: 'createAccount',
      refusal: { code: 'UNKNOWN_BOOK', field: 'bookId' },
      attempt: (actor) =>
        ledger().createAccount(
          {
            bookId: A.id,
            code: `uc-new-${run}`,
            name: 'New',
            type: 'EXPENSE',
            unit: 'USD',
            parentId: null,
            lowerBound: null,
            upperBound: null,
          },
          actor,
        ),
      accepted: (r) => expect(r).toMatchObject({ code: `uc-new-${run}` }),
    },
    {
      name: 'closeAccount',
      refusal: { code: 'UNKNOWN_ACCOUNT', field: 'accountId' },
      attempt: (actor) => ledger().closeAccount(A.id, empty, actor),
      accepted: (r) => expect(r).toMatchObject({ id: empty, closed: true }),
    },
    {
      name: 'postEntry',
      refusal: { code: 'UNKNOWN_BOOK', field: 'bookId' },
      attempt: (actor) => ledger().postEntry(A.id, entry('post'), actor),
      accepted: (r) => expect(posted(r as OpResult).postedBy).toBe(treasurerA.id),
    },
    ...([true, false] as const).map((atomic) => ({
      name: `postEntries (${atomic ? 'atomic' : 'independent'})`,
      refusal: [0, 1].map((i) => ({ code: 'UNKNOWN_BOOK', field: `entries[${i}].bookId` })),
      attempt: (actor: Principal) =>
        ledger().postEntries(A.id, [entry(`batch-${atomic}-0`), entry(`batch-${atomic}-1`)], atomic, actor),
      accepted: (r: unknown) => {
        const results = r as OpResult[];
        expect(results.map((x) => posted(x).postedBy)).toEqual([treasurerA.id, treasurerA.id]);
      },
    })),
    {
      name: 'postPending',
      refusal: { code: 'UNKNOWN_BOOK', field: 'bookId' },
      attempt: (actor) => ledger().postPending(A.id, entry('pending'), null, actor),
      accepted: (r) =>
        expect(posted(r as OpResult)).toMatchObject({ kind: 'PENDING', postedBy: treasurerA.id }),
    },
    {
      name: 'reverseEntry',
      refusal: { code: 'UNKNOWN_ENTRY', field: 'entryId' },
      attempt: (actor) => ledger().reverseEntry(ref(reversible, 'reverse'), actor),
      accepted: (r) => expect(posted(r as OpResult).postedBy).toBe(treasurerA.id),
    },
    {
      name: 'commitPending',
      refusal: { code: 'UNKNOWN_ENTRY', field: 'entryId' },
      attempt: (actor) => ledger().commitPending(ref(toCommit, 'commit'), actor),
      accepted: (r) => expect(posted(r as OpResult).postedBy).toBe(treasurerA.id),
    },
    {
      name: 'voidPending',
      refusal: { code: 'UNKNOWN_ENTRY', field: 'entryId' },
      attempt: (actor) => ledger().voidPending(ref(toVoid, 'void'), actor),
      accepted: (r) => expect(posted(r as OpResult).postedBy).toBe(treasurerA.id),
    },
    {
      name: 'updateCoop',
      refusal: { code: 'UNKNOWN_COOP', field: 'coopId' },
      attempt: (actor) => coops().updateCoop(A.id, { description: `Changed ${run}` }, actor),
      accepted: (r) => expect(r).toMatchObject({ description: `Changed ${run}` }),
    },
    {
      name: 'createMemberClass',
      refusal: { code: 'UNKNOWN_COOP', field: 'coopId' },
      attempt: (actor) =>
        coops().createMemberClass(
          { bookId: A.id, code: 'S', name: 'Supporter', buyIn: '0', voting: false },
          actor,
        ),
      accepted: (r) => expect(r).toMatchObject({ code: 'S' }),
    },
    {
      name: 'registerParty',
      refusal: { code: 'UNKNOWN_COOP', field: 'coopId' },
      attempt: (actor) => coops().registerParty({ bookId: A.id, name: 'Fourth' }, actor),
      accepted: (r) => expect(r).toMatchObject({ name: 'Fourth' }),
    },
    {
      name: 'join',
      refusal: { code: 'UNKNOWN_COOP', field: 'coopId' },
      attempt: (actor) =>
        coops().join(
          { bookId: A.id, partyId: newParty, classId, appliedOn: daysAgo(20), idempotencyKey: `join-${run}` },
          actor,
        ),
      accepted: async (r) => {
        const joined = r as { membership: MembershipRecord };
        const events = await coops().events(A.id, joined.membership.id);
        expect(events.map((e) => [e.toState, e.recordedBy])).toEqual([['APPLICANT', treasurerA.id]]);
      },
    },
    {
      name: 'payInstalment',
      refusal: { code: 'UNKNOWN_MEMBERSHIP', field: 'membershipId' },
      attempt: (actor) =>
        coops().payInstalment(
          {
            bookId: A.id,
            membershipId: first.id,
            amount: '40.00',
            paidOn: daysAgo(30),
            method: 'CASH',
            idempotencyKey: `pay-${run}`,
          },
          actor,
        ),
      accepted: (r) => expect(r).toMatchObject({ replayed: false }),
    },
    {
      name: 'transferShares',
      refusal: { code: 'UNKNOWN_MEMBERSHIP', field: 'fromMembershipId' },
      attempt: (actor) =>
        coops().transferShares(
          {
            bookId: A.id,
            fromMembershipId: first.id,
            toMembershipId: second.id,
            amount: '10.00',
            effectiveOn: daysAgo(20),
            idempotencyKey: `transfer-${run}`,
          },
          actor,
        ),
      accepted: (r) => expect(r).toMatchObject({ replayed: false }),
    },
    {
      name: 'issueMemberToken',
      refusal: { code: 'UNKNOWN_MEMBERSHIP', field: 'membershipId' },
      attempt: (actor) =>
        coops().issueMemberToken({ bookId: A.id, membershipId: second.id, label: `invite-${run}` }, actor),
      accepted: async (r) => {
        const issued = r as { token: string; memberToken: MemberTokenRecord };
        expect(issued.memberToken).toMatchObject({ membershipId: second.id, label: `invite-${run}` });
        const auth = await server.services.auth.authenticate(issued.token);
        expect(auth).toMatchObject({ principal: { name: `member ${second.memberNumber} of ${A.name}` } });
        const grants = 'principal' in auth ? auth.principal.grants : [];
        expect(grants.map((g) => `${g.role} ${g.scope}`).sort()).toEqual(
          Object.values(second.accounts)
            .map((account) => `MEMBER ${A.id}:${account}`)
            .sort(),
        );
      },
    },
    {
      name: 'revokeMemberToken',
      refusal: { code: 'INVALID_INPUT', field: 'tokenId' },
      attempt: (actor) => coops().revokeMemberToken({ bookId: A.id, tokenId: invited }, actor),
      accepted: (r) => expect((r as MemberTokenRecord).revokedAt).not.toBeNull(),
    },
    {
      name: 'changeState',
      refusal: { code: 'UNKNOWN_MEMBERSHIP', field: 'membershipId' },
      attempt: (actor) =>
        coops().changeState(
          {
            bookId: A.id,
            membershipId: first.id,
            toState: 'WITHDRAWN',
            effectiveOn: daysAgo(10),
            idempotencyKey: `leave-${run}`,
          },
          actor,
        ),
      accepted: async (r) => {
        expect(r).toMatchObject({ membership: { state: 'WITHDRAWN' } });
        const events = await coops().events(A.id, first.id);
        expect(events.at(-1)).toMatchObject({ toState: 'WITHDRAWN', recordedBy: treasurerA.id });
      },
    },
    {
      name: 'repayRedemption',
      refusal: { code: 'UNKNOWN_MEMBERSHIP', field: 'membershipId' },
      attempt: (actor) =>
        coops().repayRedemption(
          {
            bookId: A.id,
            membershipId: first.id,
            amount: '50.00',
            paidOn: daysAgo(5),
            method: 'BANK',
            idempotencyKey: `repay-${run}`,
          },
          actor,
        ),
      accepted: (r) => expect(r).toMatchObject({ replayed: false }),
    },
    {
      name: 'importCsv',
      refusal: { code: 'UNKNOWN_COOP', field: 'coopId' },
      attempt: (actor) =>
        coops().importCsv(
          {
            bookId: A.id,
            kind: 'MEMBERS',
            csv: ['name,class,applied_on', `Imported Member,W,${daysAgo(3)}`].join('\n'),
            idempotencyKey: `import-${run}`,
          },
          actor,
        ),
      accepted: (r) => expect(r).toMatchObject({ imported: true, membershipsCreated: 1 }),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: refused for every outsider with nothing changed, done for the book's treasurer`, async () => {
      for (const [who, outsider] of outsiders) {
        const beforeA = await snapshot(A.id);
        const beforeB = await snapshot(B.id);
        const answer = await c.attempt(outsider);
        expect({ who, refusal: refusalOf(answer) }).toEqual({ who, refusal: c.refusal });
        expect(await snapshot(A.id)).toEqual(beforeA);
        expect(await snapshot(B.id)).toEqual(beforeB);
      }
      const before = await snapshot(A.id);
      const done = await c.attempt(treasurerA);
      expect(refusalOf(done)).toBe('ACCEPTED');
      await c.accepted(done);
      expect(await snapshot(A.id)).not.toEqual(before);
    });
  }

  it("memberTokens lists the co-op's member tokens for its treasurer only", async () => {
    const listed = await coops().memberTokens(A.id, treasurerA);
    expect(listed.map((t) => t.id)).toContain(invited);
    expect(listed.every((t) => t.bookId === A.id)).toBe(true);
    for (const [who, outsider] of outsiders) {
      expect({ who, listed: await coops().memberTokens(A.id, outsider) }).toEqual({ who, listed: [] });
    }
    expect(await coops().memberTokens(B.id, treasurerA)).toEqual([]);
  });

  it('ids that name nothing are refused as unknown, even for an admin', async () => {
    const admin = principal('admin', [{ role: 'ADMIN', scope: '' }]);
    expect(refusalOf(await ledger().closeAccount('', '', admin))).toEqual({
      code: 'UNKNOWN_ACCOUNT',
      field: 'accountId',
    });
    expect(refusalOf(await ledger().reverseEntry({ ...ref('', 'x'), bookId: '' }, admin))).toEqual({
      code: 'UNKNOWN_ENTRY',
      field: 'entryId',
    });
    expect(refusalOf(await coops().updateCoop('', { description: 'x' }, admin))).toEqual({
      code: 'UNKNOWN_COOP',
      field: 'coopId',
    });
    expect(
      refusalOf(
        await coops().registerParty(
          { bookId: A.id, name: 'Org', kind: 'ORGANIZATION', organizationCoopId: '' },
          admin,
        ),
      ),
    ).toEqual({ code: 'UNKNOWN_COOP', field: 'organizationCoopId' });
  });

  it('admin-only use cases throw ForbiddenError for everyone but an admin, and change nothing', async () => {
    const notAdmins = [['treasurer of the book', treasurerA] as const, ...outsiders];
    const bookName = `Forbidden book ${run}`;
    const coopName = `Forbidden coop ${run}`;
    const principalName = `forbidden-principal-${run}`;
    const issued = await server.services.auth.issueToken(
      {
        principalName: `revocable-${run}`,
        grants: [{ role: 'CITY_ANALYST', scope: 'X' }],
        label: '',
        expiresAt: null,
      },
      SYSTEM,
    );
    if (issued instanceof LedgerError) throw new Error(issued.message);
    for (const [who, actor] of notAdmins) {
      const attempts = [
        () =>
          ledger().createBook(
            { name: bookName, description: null, units: [{ code: 'USD', scale: 2 }], maxBackdateDays: null },
            actor,
          ),
        () => coops().createCoop(coopInput(coopName), actor),
        () =>
          server.services.auth.issueToken(
            { principalName, grants: [{ role: 'ADMIN', scope: '' }], label: '', expiresAt: null },
            actor,
          ),
        () => server.services.auth.revokeToken(issued.record.id, actor),
      ];
      for (const attempt of attempts) {
        await expect(attempt(), who).rejects.toBeInstanceOf(ForbiddenError);
      }
    }
    const { rows } = await server.services.ledger.pool.query(
      `select (select count(*)::int from book where name = $1) as books,
              (select count(*)::int from coop where name = $2) as coops,
              (select count(*)::int from principal where name = $3) as principals,
              (select count(*)::int from api_token where id = $4 and revoked_at is not null) as revoked`,
      [bookName, coopName, principalName, issued.record.id],
    );
    expect(rows[0]).toEqual({ books: 0, coops: 0, principals: 0, revoked: 0 });

    const admin = principal('admin', [{ role: 'ADMIN', scope: '' }]);
    ok(
      await ledger().createBook(
        { name: bookName, description: null, units: [{ code: 'USD', scale: 2 }], maxBackdateDays: null },
        admin,
      ),
    );
    ok(await coops().createCoop(coopInput(coopName), admin));
    ok(
      await server.services.auth.issueToken(
        { principalName, grants: [{ role: 'CITY_ANALYST', scope: 'X' }], label: '', expiresAt: null },
        admin,
      ),
    );
    expect(ok(await server.services.auth.revokeToken(issued.record.id, admin)).revokedAt).not.toBeNull();
  });
});
