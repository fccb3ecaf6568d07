/**
 * Storage of the co-ops domain. Plain single records (a co-op's profile, a party) go through
 * MikroORM's EntityManager; reads that join several tables and set-based writes (joins of many
 * members at once, imports, the voting roll, member tokens) are hand-written SQL. Functions that
 * run inside a caller's transaction take its connection (`TxClient`); reads take the pool.
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  type CoopAccountPurpose,
  type CoopKind,
  Decimal,
  MEMBER_ACCOUNT_ROLES,
  type MemberAccountRole,
  type MembershipState,
  type PartyKind,
  type RedemptionRule,
} from '../core/index.js';
import type { Queryable } from '../platform/transaction.js';
import { CoopEntity, PartyEntity } from './entities.js';
import type {
  CoopProfileInput,
  CoopRecord,
  MemberClassRecord,
  MembershipEventRecord,
  MembershipRecord,
  MemberTokenRecord,
  PartyRecord,
  RegisterPartyInput,
} from './records.js';

type Key = { bookId: string; id: string };

/**
 * A page of a connection: `limit` rows after `after` and before `before` (either may be absent),
 * in the list's order, or, `backward`, from `before` down (the caller puts them back in order).
 */
export interface PageQuery<C> {
  after: C | null;
  before: C | null;
  /** Rows to read: the page size plus one, so the caller knows whether more follow. */
  limit: number;
  backward: boolean;
}

const direction = (q: PageQuery<unknown>) => (q.backward ? 'desc' : 'asc');

/** Listed co-ops, of a city (any case, $1) and a kind ($2) when given. */
const DIRECTORY_FILTER =
  'c.public_listing and ($1::text is null or lower(c.city) = lower($1)) and ($2::text is null or c.kind = $2)';

// ---------- row shapes ----------

const COOP_COLUMNS = `c.book_id, c.name, c.kind, c.naics_code, c.city, c.neighbourhood, c.latitude::text as latitude,
  c.longitude::text as longitude, to_char(c.founded_on, 'YYYY-MM-DD') as founded_on, c.legal_form, c.fiscal_year_start,
  c.base_currency, u.scale as base_scale, c.redemption_rule, c.data_sharing_consent, c.data_sharing_consent_at,
  c.public_listing, c.description, c.website, c.created_at, c.updated_at,
  (select json_object_agg(a.purpose, a.account_id) from coop_account a where a.book_id = c.book_id) as accounts`;
const COOP_FROM = 'coop c join book_unit u on u.book_id = c.book_id and u.code = c.base_currency';

function coopFromRow(r: Record<string, unknown>): CoopRecord {
  return {
    id: r.book_id as string,
    name: r.name as string,
    kind: r.kind as CoopKind,
    naicsCode: r.naics_code as string,
    city: r.city as string,
    neighbourhood: r.neighbourhood as string,
    latitude: (r.latitude as string | null) ?? null,
    longitude: (r.longitude as string | null) ?? null,
    foundedOn: r.founded_on as string,
    legalForm: r.legal_form as string,
    fiscalYearStart: r.fiscal_year_start as string,
    baseCurrency: { code: r.base_currency as string, scale: Number(r.base_scale) },
    redemptionRule: r.redemption_rule as RedemptionRule,
    dataSharingConsent: r.data_sharing_consent as boolean,
    dataSharingConsentAt: r.data_sharing_consent_at ? new Date(r.data_sharing_consent_at as string) : null,
    publicListing: r.public_listing as boolean,
    description: r.description as string,
    website: r.website as string,
    createdAt: new Date(r.created_at as string),
    updatedAt: new Date(r.updated_at as string),
    accounts: r.accounts as Record<CoopAccountPurpose, string>,
  };
}

const CLASS_COLUMNS = `m.book_id, m.id, m.code, m.name, m.buy_in::text as buy_in, c.base_currency, u.scale,
  m.instalment_count, m.instalment_interval_months, m.voting, m.transferable, m.created_at`;
const CLASS_FROM = `member_class m join coop c on c.book_id = m.book_id
  join book_unit u on u.book_id = c.book_id and u.code = c.base_currency`;

function classFromRow(r: Record<string, unknown>): MemberClassRecord {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    code: r.code as string,
    name: r.name as string,
    buyIn: new Decimal(r.buy_in as string),
    unit: { code: r.base_currency as string, scale: Number(r.scale) },
    instalmentCount: Number(r.instalment_count),
    instalmentIntervalMonths: Number(r.instalment_interval_months),
    voting: r.voting as boolean,
    transferable: r.transferable as boolean,
    createdAt: new Date(r.created_at as string),
  };
}

function partyOf(e: {
  bookId: string;
  id: string;
  kind: string;
  name: string;
  email: string;
  phone: string;
  address: string;
  organizationCoopId?: string | null;
  externalRef?: string | null;
  createdAt: Date;
}): PartyRecord {
  return {
    bookId: e.bookId,
    id: e.id,
    kind: e.kind as PartyKind,
    name: e.name,
    email: e.email,
    phone: e.phone,
    address: e.address,
    organizationCoopId: e.organizationCoopId ?? null,
    externalRef: e.externalRef ?? null,
    createdAt: e.createdAt,
  };
}

const MEMBERSHIP_COLUMNS = `m.book_id, m.id, m.member_number, m.party_id, m.class_id, m.state,
  to_char(m.state_since, 'YYYY-MM-DD') as state_since, to_char(m.applied_on, 'YYYY-MM-DD') as applied_on,
  m.subscribed::text as subscribed, m.subscription_cancelled::text as subscription_cancelled,
  m.share_capital_account_id, m.subscription_receivable_account_id, m.subscribed_unpaid_account_id,
  m.internal_capital_account_id, m.redemption_payable_account_id, m.idempotency_key, m.request_hash, m.created_at`;

const ACCOUNT_COLUMN_OF: Record<MemberAccountRole, string> = {
  SHARE_CAPITAL: 'share_capital_account_id',
  SUBSCRIPTION_RECEIVABLE: 'subscription_receivable_account_id',
  SUBSCRIBED_UNPAID: 'subscribed_unpaid_account_id',
  INTERNAL_CAPITAL: 'internal_capital_account_id',
  REDEMPTION_PAYABLE: 'redemption_payable_account_id',
};

/** A membership's five account columns, for `account in (...)` tests. */
const MEMBER_ACCOUNT_COLUMNS = MEMBER_ACCOUNT_ROLES.map((role) => `m.${ACCOUNT_COLUMN_OF[role]}`).join(', ');

function membershipFromRow(r: Record<string, unknown>): MembershipRecord {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    memberNumber: Number(r.member_number),
    partyId: r.party_id as string,
    classId: r.class_id as string,
    state: r.state as MembershipState,
    stateSince: r.state_since as string,
    appliedOn: r.applied_on as string,
    subscribed: new Decimal(r.subscribed as string),
    subscriptionCancelled: new Decimal(r.subscription_cancelled as string),
    accounts: Object.fromEntries(
      MEMBER_ACCOUNT_ROLES.map((role) => [role, r[ACCOUNT_COLUMN_OF[role]] as string]),
    ) as Record<MemberAccountRole, string>,
    createdAt: new Date(r.created_at as string),
  };
}

const keyArrays = (keys: Key[]) => [keys.map((k) => k.bookId), keys.map((k) => k.id)];

export class CoopStore {
  constructor(
    private readonly orm: MikroORM,
    /** The pool, for reads outside a transaction. */
    readonly db: Queryable,
  ) {}

  // ---------- co-ops ----------

  /** The co-op row and its chart's purposes, inside the transaction that creates its book. */
  async insertCoop(
    tx: Queryable,
    id: string,
    input: {
      name: string;
      kind: CoopKind;
      naicsCode: string;
      city: string;
      neighbourhood: string;
      latitude: string | null;
      longitude: string | null;
      foundedOn: string;
      legalForm: string;
      fiscalYearStart: string;
      baseCurrency: string;
      redemptionRule: RedemptionRule;
      dataSharingConsent: boolean;
      /** The day consent was given (a date before now); null: now. */
      dataSharingConsentOn: string | null;
      publicListing: boolean;
      description: string;
      website: string;
    },
    chart: { purpose: CoopAccountPurpose; accountId: string }[],
  ): Promise<void> {
    await tx.query(
      `insert into coop (book_id, name, kind, naics_code, city, neighbourhood, latitude, longitude, founded_on,
         legal_form, fiscal_year_start, base_currency, redemption_rule, data_sharing_consent, data_sharing_consent_at,
         public_listing, description, website, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, case when $14 then coalesce($18::date::timestamp at time zone 'UTC', now()) end, $15, $16, $17, now(), now())`,
      [
        id,
        input.name,
        input.kind,
        input.naicsCode,
        input.city,
        input.neighbourhood,
        input.latitude,
        input.longitude,
        input.foundedOn,
        input.legalForm,
        input.fiscalYearStart,
        input.baseCurrency,
        input.redemptionRule,
        input.dataSharingConsent,
        input.publicListing,
        input.description,
        input.website,
        input.dataSharingConsentOn,
      ],
    );
    await tx.query(
      `insert into coop_account (book_id, purpose, account_id)
       select $1, p, a from unnest($2::text[], $3::uuid[]) as x(p, a)`,
      [id, chart.map((c) => c.purpose), chart.map((c) => c.accountId)],
    );
  }

  /** Changes the profile fields given (non-null); false when there is no such co-op. */
  async updateCoop(bookId: string, input: CoopProfileInput, now: Date): Promise<boolean> {
    const em = this.orm.em.fork();
    const coop = await em.findOne(CoopEntity, { bookId });
    if (!coop) return false;
    if (input.name != null) coop.name = input.name.trim();
    if (input.kind != null) coop.kind = input.kind;
    if (input.naicsCode != null) coop.naicsCode = input.naicsCode;
    if (input.city != null) coop.city = input.city.trim();
    if (input.neighbourhood != null) coop.neighbourhood = input.neighbourhood.trim();
    if (input.latitude != null) {
      coop.latitude = input.latitude;
      coop.longitude = input.longitude ?? null;
    }
    if (input.foundedOn != null) coop.foundedOn = input.foundedOn;
    if (input.legalForm != null) coop.legalForm = input.legalForm.trim();
    if (input.fiscalYearStart != null) coop.fiscalYearStart = input.fiscalYearStart;
    if (input.redemptionRule != null) coop.redemptionRule = input.redemptionRule;
    if (input.publicListing != null) coop.publicListing = input.publicListing;
    if (input.description != null) coop.description = input.description.trim();
    if (input.website != null) coop.website = input.website;
    if (input.dataSharingConsent != null) {
      // The date the consent was given; kept when it is re-affirmed, cleared when withdrawn.
      coop.dataSharingConsentAt = input.dataSharingConsent
        ? coop.dataSharingConsent
          ? (coop.dataSharingConsentAt ?? now)
          : now
        : null;
      coop.dataSharingConsent = input.dataSharingConsent;
    }
    coop.updatedAt = now;
    await em.flush();
    return true;
  }

  async findCoops(ids: string[]): Promise<CoopRecord[]> {
    const { rows } = await this.db.query(
      `select ${COOP_COLUMNS} from ${COOP_FROM} where c.book_id = any($1::uuid[])`,
      [ids],
    );
    return rows.map(coopFromRow);
  }

  // ---------- pages of connections: forward or backward between cursors, and list sizes ----------

  /** Co-ops in id (creation) order between the cursors; `onlyIds` restricts them (a caller's tenants). */
  async pageCoops(q: PageQuery<string>, onlyIds: string[] | null): Promise<CoopRecord[]> {
    const { rows } = await this.db.query(
      `select ${COOP_COLUMNS} from ${COOP_FROM}
        where ($1::uuid[] is null or c.book_id = any($1::uuid[]))
          and ($2::uuid is null or c.book_id > $2::uuid) and ($3::uuid is null or c.book_id < $3::uuid)
        order by c.book_id ${direction(q)} limit $4`,
      [onlyIds, q.after, q.before, q.limit],
    );
    return rows.map(coopFromRow);
  }

  async countCoops(onlyIds: string[] | null): Promise<number> {
    const { rows } = await this.db.query(
      'select count(*)::int as n from coop c where ($1::uuid[] is null or c.book_id = any($1::uuid[]))',
      [onlyIds],
    );
    return rows[0].n as number;
  }

  /** Listed co-ops by (name, id) between the cursors, optionally of one city (any case) and kind. */
  async pageDirectory(
    q: PageQuery<{ name: string; id: string }>,
    filter: { city?: string | null; kind?: CoopKind | null },
  ): Promise<CoopRecord[]> {
    const { rows } = await this.db.query(
      `select ${COOP_COLUMNS} from ${COOP_FROM}
        where ${DIRECTORY_FILTER}
          and ($3::text is null or (c.name, c.book_id) > ($3::text, $4::uuid))
          and ($5::text is null or (c.name, c.book_id) < ($5::text, $6::uuid))
        order by c.name ${direction(q)}, c.book_id ${direction(q)} limit $7`,
      [
        filter.city ?? null,
        filter.kind ?? null,
        q.after?.name ?? null,
        q.after?.id ?? null,
        q.before?.name ?? null,
        q.before?.id ?? null,
        q.limit,
      ],
    );
    return rows.map(coopFromRow);
  }

  async countDirectory(filter: { city?: string | null; kind?: CoopKind | null }): Promise<number> {
    const { rows } = await this.db.query(`select count(*)::int as n from coop c where ${DIRECTORY_FILTER}`, [
      filter.city ?? null,
      filter.kind ?? null,
    ]);
    return rows[0].n as number;
  }

  /** A co-op's memberships by member number between the cursors, optionally in one state. */
  async pageMemberships(
    bookId: string,
    q: PageQuery<number>,
    state: MembershipState | null,
  ): Promise<MembershipRecord[]> {
    const { rows } = await this.db.query(
      `select ${MEMBERSHIP_COLUMNS} from membership m
        where m.book_id = $1 and ($2::text is null or m.state = $2)
          and ($3::int is null or m.member_number > $3) and ($4::int is null or m.member_number < $4)
        order by m.member_number ${direction(q)} limit $5`,
      [bookId, state, q.after, q.before, q.limit],
    );
    return rows.map(membershipFromRow);
  }

  async countMemberships(bookId: string, state: MembershipState | null): Promise<number> {
    const { rows } = await this.db.query(
      'select count(*)::int as n from membership m where m.book_id = $1 and ($2::text is null or m.state = $2)',
      [bookId, state],
    );
    return rows[0].n as number;
  }

  /** A co-op's parties in id (registration) order between the cursors. */
  async pageParties(bookId: string, q: PageQuery<string>): Promise<PartyRecord[]> {
    const id: Record<string, string> = {};
    if (q.after !== null) id.$gt = q.after;
    if (q.before !== null) id.$lt = q.before;
    const found = await this.orm.em
      .fork()
      .find(PartyEntity, Object.keys(id).length > 0 ? { bookId, id } : { bookId }, {
        orderBy: { id: q.backward ? 'desc' : 'asc' },
        limit: q.limit,
      });
    return found.map(partyOf);
  }

  countParties(bookId: string): Promise<number> {
    return this.orm.em.fork().count(PartyEntity, { bookId });
  }

  // ---------- member classes ----------

  /**
   * Inserts a class unless its code is taken, the co-op already has `classesMax` classes, or its
   * idempotency key is taken (the caller then looks the key up: a replay or a reused key).
   */
  async insertMemberClass(
    c: {
      bookId: string;
      id: string;
      code: string;
      name: string;
      buyIn: string;
      instalmentCount: number;
      instalmentIntervalMonths: number;
      voting: boolean;
      transferable: boolean;
      idempotencyKey: string | null;
      requestHash: string | null;
    },
    classesMax: number,
  ): Promise<'inserted' | 'duplicate' | 'full' | 'key taken'> {
    const { rows } = await this.db.query(
      `insert into member_class (book_id, id, code, name, buy_in, instalment_count, instalment_interval_months, voting, transferable,
                                 idempotency_key, request_hash, created_at)
       select $1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $12, now()
        where (select count(*) from member_class where book_id = $1) < $10
       on conflict do nothing
       returning id`,
      [
        c.bookId,
        c.id,
        c.code,
        c.name,
        c.buyIn,
        c.instalmentCount,
        c.instalmentIntervalMonths,
        c.voting,
        c.transferable,
        classesMax,
        c.idempotencyKey,
        c.requestHash,
      ],
    );
    if (rows.length > 0) return 'inserted';
    if (c.idempotencyKey !== null && (await this.memberClassByKey(c.bookId, c.idempotencyKey)))
      return 'key taken';
    const { rows: existing } = await this.db.query(
      'select 1 from member_class where book_id = $1 and code = $2',
      [c.bookId, c.code],
    );
    return existing.length > 0 ? 'duplicate' : 'full';
  }

  /** The class an idempotency key created, with the hash of the request that created it. */
  async memberClassByKey(bookId: string, key: string): Promise<{ id: string; requestHash: string } | null> {
    const { rows } = await this.db.query(
      'select id, request_hash from member_class where book_id = $1 and idempotency_key = $2',
      [bookId, key],
    );
    return rows[0] ? { id: rows[0].id as string, requestHash: rows[0].request_hash as string } : null;
  }

  async findMemberClasses(keys: Key[]): Promise<MemberClassRecord[]> {
    const { rows } = await this.db.query(
      `select ${CLASS_COLUMNS} from ${CLASS_FROM} where (m.book_id, m.id) in (select * from unnest($1::uuid[], $2::uuid[]))`,
      keyArrays(keys),
    );
    return rows.map(classFromRow);
  }

  async listMemberClasses(bookId: string): Promise<MemberClassRecord[]> {
    const { rows } = await this.db.query(
      `select ${CLASS_COLUMNS} from ${CLASS_FROM} where m.book_id = $1 order by m.code`,
      [bookId],
    );
    return rows.map(classFromRow);
  }

  /** Whether every one of these classes allows share transfers. */
  async classesTransferable(tx: Queryable, bookId: string, classIds: string[]): Promise<boolean> {
    const { rows } = await tx.query(
      'select bool_and(transferable) as ok from member_class where book_id = $1 and id = any($2::uuid[])',
      [bookId, classIds],
    );
    return rows[0]?.ok === true;
  }

  /** Buy-ins of the classes that exist among these ids. */
  async classBuyIns(tx: Queryable, bookId: string, classIds: string[]): Promise<Map<string, Decimal>> {
    const { rows } = await tx.query(
      'select id, buy_in::text as buy_in from member_class where book_id = $1 and id = any($2::uuid[])',
      [bookId, classIds],
    );
    return new Map(rows.map((r) => [r.id as string, new Decimal(r.buy_in as string)]));
  }

  // ---------- parties ----------

  /**
   * One party; 'taken' when its externalRef or its idempotency key is already used in the co-op
   * (the caller looks the key up to tell a replay or a reused key from a taken externalRef).
   */
  async insertParty(
    party: Omit<RegisterPartyInput, 'bookId'> & { bookId: string; id: string; requestHash: string | null },
  ): Promise<'inserted' | 'taken'> {
    const em = this.orm.em.fork();
    em.create(PartyEntity, {
      bookId: party.bookId,
      id: party.id,
      kind: party.kind ?? 'PERSON',
      name: party.name.trim(),
      email: (party.email ?? '').trim(),
      phone: (party.phone ?? '').trim(),
      address: (party.address ?? '').trim(),
      organizationCoopId: party.organizationCoopId ?? null,
      // Trimmed like every other field (and like a CSV cell): stored with its spaces, ' A1 ' was
      // another reference than 'A1' to the unique index and could never be named in a file.
      externalRef: party.externalRef?.trim() ?? null,
      idempotencyKey: party.idempotencyKey ?? null,
      requestHash: party.requestHash,
      createdAt: new Date(),
    });
    try {
      await em.flush();
      return 'inserted';
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) return 'taken';
      throw error;
    }
  }

  /** The party an idempotency key registered, with the hash of the request that registered it. */
  async partyByKey(bookId: string, key: string): Promise<{ id: string; requestHash: string } | null> {
    const found = await this.orm.em.fork().findOne(PartyEntity, { bookId, idempotencyKey: key });
    return found ? { id: found.id, requestHash: found.requestHash! } : null;
  }

  /**
   * Inserts parties with one statement (the CSV import brings thousands) and answers the ids
   * inserted: a party whose external_ref another transaction took since the file was checked (a
   * concurrent import or registerParty) is left out, for the caller to refuse the file.
   */
  async insertParties(
    tx: Queryable,
    bookId: string,
    parties: (Omit<RegisterPartyInput, 'bookId'> & { id: string })[],
  ): Promise<Set<string>> {
    const column = (f: (p: (typeof parties)[number]) => unknown) => parties.map(f);
    const { rows } = await tx.query(
      `insert into party (book_id, id, kind, name, email, phone, address, organization_coop_id, external_ref, created_at)
       select $1, i, k, n, e, ph, a, o, r, now()
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::text[])
           as x(i, k, n, e, ph, a, o, r)
       on conflict (book_id, external_ref) where external_ref is not null do nothing
       returning id`,
      [
        bookId,
        column((p) => p.id),
        column((p) => p.kind ?? 'PERSON'),
        column((p) => p.name.trim()),
        column((p) => (p.email ?? '').trim()),
        column((p) => (p.phone ?? '').trim()),
        column((p) => (p.address ?? '').trim()),
        column((p) => p.organizationCoopId ?? null),
        column((p) => p.externalRef?.trim() ?? null),
      ],
    );
    return new Set(rows.map((r) => r.id as string));
  }

  async findParties(keys: Key[]): Promise<PartyRecord[]> {
    if (keys.length === 0) return [];
    const found = await this.orm.em
      .fork()
      .find(PartyEntity, { $or: keys.map((k) => ({ bookId: k.bookId, id: k.id })) });
    return found.map(partyOf);
  }

  /** The externalRefs among these that parties of the co-op already use. */
  async takenExternalRefs(bookId: string, refs: string[]): Promise<Set<string>> {
    const { rows } = await this.db.query(
      'select external_ref from party where book_id = $1 and external_ref = any($2::text[])',
      [bookId, refs],
    );
    return new Set(rows.map((r) => r.external_ref as string));
  }

  /** The parties among these ids that exist in the co-op. */
  async existingParties(tx: Queryable, bookId: string, partyIds: string[]): Promise<Set<string>> {
    const { rows } = await tx.query('select id from party where book_id = $1 and id = any($2::uuid[])', [
      bookId,
      partyIds,
    ]);
    return new Set(rows.map((r) => r.id as string));
  }

  // ---------- memberships ----------

  async findMemberships(keys: Key[]): Promise<MembershipRecord[]> {
    const { rows } = await this.db.query(
      `select ${MEMBERSHIP_COLUMNS} from membership m
        where (m.book_id, m.id) in (select * from unnest($1::uuid[], $2::uuid[]))`,
      keyArrays(keys),
    );
    return rows.map(membershipFromRow);
  }

  async listMemberships(
    bookId: string,
    options: {
      afterNumber: number | null;
      limit: number;
      state: MembershipState | null;
      partyId: string | null;
    },
  ): Promise<MembershipRecord[]> {
    const { rows } = await this.db.query(
      `select ${MEMBERSHIP_COLUMNS} from membership m
        where m.book_id = $1 and ($2::int is null or m.member_number > $2) and ($4::text is null or m.state = $4)
          and ($5::uuid is null or m.party_id = $5::uuid)
        order by m.member_number limit $3`,
      [bookId, options.afterNumber, options.limit, options.state, options.partyId],
    );
    return rows.map(membershipFromRow);
  }

  /** `<book>:<id>` of the memberships (or their parties) that hold any of these accounts. */
  async ofAccounts(keys: Key[], column: 'id' | 'party_id'): Promise<string[]> {
    const { rows } = await this.db.query(
      `select distinct m.book_id, m.${column} as id from membership m join unnest($1::uuid[], $2::uuid[]) as k(b, a) on m.book_id = k.b
        and k.a in (${MEMBER_ACCOUNT_COLUMNS})`,
      keyArrays(keys),
    );
    return rows.map((r) => `${r.book_id}:${r.id}`);
  }

  /**
   * The id of the entry under `key` that this membership's own request posted (its subscription or
   * its leaving both carry coop.membership), or null: an entry another request posted under the
   * same key (a payment keyed like a leaving that redeemed nothing) is not this membership's.
   */
  async membershipEntryIdByKey(
    tx: Queryable,
    bookId: string,
    key: string,
    membershipId: string,
  ): Promise<string | null> {
    const { rows } = await tx.query(
      `select id from journal_entry where book_id = $1 and idempotency_key = $2 and metadata->>'coop.membership' = $3`,
      [bookId, key, membershipId],
    );
    return (rows[0]?.id as string | undefined) ?? null;
  }

  async membershipEvents(bookId: string, membershipId: string): Promise<MembershipEventRecord[]> {
    const { rows } = await this.db.query(
      `select e.seq, e.from_state, e.to_state, to_char(e.effective_on, 'YYYY-MM-DD') as effective_on, e.recorded_at,
              e.recorded_by, e.note, j.id as entry_id
         from membership_event e join membership m on m.book_id = e.book_id and m.id = e.membership_id
         left join journal_entry j on j.book_id = e.book_id
          and j.idempotency_key = coalesce(e.idempotency_key, case when e.seq = 1 then m.idempotency_key || ':subscription' end)
          and j.metadata->>'coop.membership' = m.id::text
        where e.book_id = $1 and e.membership_id = $2 order by e.seq`,
      [bookId, membershipId],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      fromState: r.from_state,
      toState: r.to_state,
      effectiveOn: r.effective_on,
      recordedAt: new Date(r.recorded_at),
      recordedBy: r.recorded_by,
      note: r.note,
      entryId: r.entry_id,
    }));
  }

  /**
   * Memberships that could be on the voting roll of `on`: in a voting class, applied by then and not
   * ended by then, with their state events (the roll itself is decided by the pure rules).
   */
  async votingCandidates(
    bookId: string,
    on: string,
  ): Promise<
    {
      membership: MembershipRecord;
      voting: boolean;
      events: { toState: MembershipState; effectiveOn: string; seq: number }[];
    }[]
  > {
    const { rows } = await this.db.query(
      `select ${MEMBERSHIP_COLUMNS}, c.voting,
              (select json_agg(json_build_array(e.to_state, to_char(e.effective_on, 'YYYY-MM-DD'), e.seq) order by e.seq)
                 from membership_event e where e.book_id = m.book_id and e.membership_id = m.id) as events
         from membership m join member_class c on c.book_id = m.book_id and c.id = m.class_id
        where m.book_id = $1 and m.applied_on <= $2::date and c.voting
          -- a membership that had ended by that day cannot be on the roll
          and not (m.state in ('WITHDRAWN', 'TERMINATED') and m.state_since <= $2::date)
        order by m.member_number`,
      [bookId, on],
    );
    return rows.map((r) => ({
      membership: membershipFromRow(r),
      voting: r.voting as boolean,
      events: (r.events as [MembershipState, string, number][]).map(([toState, effectiveOn, seq]) => ({
        toState,
        effectiveOn,
        seq,
      })),
    }));
  }

  /** Locks memberships (in id order, like every writer) and reads them; unknown ids are left out. */
  async lockMemberships(tx: Queryable, bookId: string, ids: string[]): Promise<MembershipRecord[]> {
    const { rows } = await tx.query(
      `select ${MEMBERSHIP_COLUMNS} from membership m where m.book_id = $1 and m.id = any($2::uuid[])
        order by m.id for no key update`,
      [bookId, ids],
    );
    return rows.map(membershipFromRow);
  }

  /** The membership a join with this idempotency key made, with its request hash. */
  async membershipByKey(
    tx: Queryable,
    bookId: string,
    key: string,
  ): Promise<{ id: string; hash: string } | null> {
    const { rows } = await tx.query(
      'select id, request_hash from membership where book_id = $1 and idempotency_key = $2',
      [bookId, key],
    );
    return rows[0] ? { id: rows[0].id, hash: rows[0].request_hash } : null;
  }

  /** The request hash of the state change recorded with this idempotency key, if any. */
  async eventRequestHash(tx: Queryable, bookId: string, key: string): Promise<string | null> {
    const { rows } = await tx.query(
      'select request_hash from membership_event where book_id = $1 and idempotency_key = $2',
      [bookId, key],
    );
    return rows[0] ? (rows[0].request_hash as string) : null;
  }

  /** Member numbers, members' parents and unit for a join of `count` members: the co-op's counter moves on. */
  async reserveMemberNumbers(
    tx: Queryable,
    bookId: string,
    count: number,
  ): Promise<{ firstNumber: number; unit: string; accounts: Record<CoopAccountPurpose, string> } | null> {
    const { rows } = await tx.query(
      `update coop set member_seq = member_seq + $2 where book_id = $1
       returning member_seq, base_currency, (select json_object_agg(purpose, account_id) from coop_account where book_id = $1) as accounts`,
      [bookId, count],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      firstNumber: Number(row.member_seq) - count + 1,
      unit: row.base_currency as string,
      accounts: row.accounts as Record<CoopAccountPurpose, string>,
    };
  }

  /** Per party: the number of its membership that has not ended (if any) and when its last one ended. */
  async partyHistory(
    tx: Queryable,
    bookId: string,
    partyIds: string[],
  ): Promise<Map<string, { openNumber: number | null; endedOn: string | null }>> {
    const { rows } = await tx.query(
      `select party_id, min(member_number) filter (where state not in ('WITHDRAWN', 'TERMINATED')) as open_number,
              to_char(max(state_since), 'YYYY-MM-DD') as ended_on
         from membership where book_id = $1 and party_id = any($2::uuid[]) group by party_id`,
      [bookId, partyIds],
    );
    return new Map(
      rows.map((r) => [
        r.party_id as string,
        {
          openNumber: r.open_number === null ? null : Number(r.open_number),
          endedOn: (r.ended_on as string | null) ?? null,
        },
      ]),
    );
  }

  async insertMemberships(
    tx: Queryable,
    bookId: string,
    rows: {
      id: string;
      memberNumber: number;
      partyId: string;
      classId: string;
      state: MembershipState;
      stateSince: string;
      appliedOn: string;
      subscribed: string;
      accounts: Record<MemberAccountRole, string>;
      idempotencyKey: string;
      requestHash: string;
    }[],
  ): Promise<void> {
    const column = (f: (m: (typeof rows)[number]) => unknown) => rows.map(f);
    await tx.query(
      `insert into membership (book_id, id, member_number, party_id, class_id, state, state_since, applied_on, subscribed,
         share_capital_account_id, subscription_receivable_account_id, subscribed_unpaid_account_id,
         internal_capital_account_id, redemption_payable_account_id, idempotency_key, request_hash, created_at)
       select $1, id, n, p, c, s, ss, ao, b, a1, a2, a3, a4, a5, k, h, now()
         from unnest($2::uuid[], $3::int[], $4::uuid[], $5::uuid[], $6::text[], $7::date[], $8::date[], $9::numeric[],
                     $10::uuid[], $11::uuid[], $12::uuid[], $13::uuid[], $14::uuid[], $15::text[], $16::text[])
           as x(id, n, p, c, s, ss, ao, b, a1, a2, a3, a4, a5, k, h)`,
      [
        bookId,
        column((m) => m.id),
        column((m) => m.memberNumber),
        column((m) => m.partyId),
        column((m) => m.classId),
        column((m) => m.state),
        column((m) => m.stateSince),
        column((m) => m.appliedOn),
        column((m) => m.subscribed),
        column((m) => m.accounts.SHARE_CAPITAL),
        column((m) => m.accounts.SUBSCRIPTION_RECEIVABLE),
        column((m) => m.accounts.SUBSCRIBED_UNPAID),
        column((m) => m.accounts.INTERNAL_CAPITAL),
        column((m) => m.accounts.REDEMPTION_PAYABLE),
        column((m) => m.idempotencyKey),
        column((m) => m.requestHash),
      ],
    );
  }

  /** State events of new memberships, with one statement. */
  async insertJoinEvents(
    tx: Queryable,
    bookId: string,
    actor: string | null,
    events: {
      membershipId: string;
      seq: number;
      fromState: MembershipState | null;
      toState: MembershipState;
      effectiveOn: string;
      note: string;
    }[],
  ): Promise<void> {
    await tx.query(
      `insert into membership_event (book_id, membership_id, seq, from_state, to_state, effective_on, recorded_at, recorded_by, note)
       select $1, m, s, f, t, d, now(), $2, n
         from unnest($3::uuid[], $4::int[], $5::text[], $6::text[], $7::date[], $8::text[]) as x(m, s, f, t, d, n)`,
      [
        bookId,
        actor,
        events.map((e) => e.membershipId),
        events.map((e) => e.seq),
        events.map((e) => e.fromState),
        events.map((e) => e.toState),
        events.map((e) => e.effectiveOn),
        events.map((e) => e.note),
      ],
    );
  }

  /** Locks a membership for a state change and reads it with what the change needs. */
  async membershipForTransition(
    tx: Queryable,
    bookId: string,
    membershipId: string,
  ): Promise<{
    membership: MembershipRecord;
    baseCurrency: string;
    redemptionRule: RedemptionRule;
    coopAccounts: Record<CoopAccountPurpose, string>;
    /** The effective date of its latest event (every membership has one: APPLICANT). */
    lastOn: string;
    lastSeq: number;
  } | null> {
    const { rows } = await tx.query(
      `select ${MEMBERSHIP_COLUMNS}, c.base_currency, c.redemption_rule,
              (select json_object_agg(purpose, account_id) from coop_account where book_id = m.book_id) as coop_accounts,
              (select to_char(max(effective_on), 'YYYY-MM-DD') from membership_event e where e.book_id = m.book_id and e.membership_id = m.id) as last_on,
              (select max(seq) from membership_event e where e.book_id = m.book_id and e.membership_id = m.id) as last_seq
         from membership m join coop c on c.book_id = m.book_id
        where m.book_id = $1 and m.id = $2 for no key update of m`,
      [bookId, membershipId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      membership: membershipFromRow(row),
      baseCurrency: row.base_currency as string,
      redemptionRule: row.redemption_rule as RedemptionRule,
      coopAccounts: row.coop_accounts as Record<CoopAccountPurpose, string>,
      lastOn: row.last_on as string,
      lastSeq: Number(row.last_seq),
    };
  }

  /** Records a state change: the membership's state and its event (with the request's key and hash). */
  async recordTransition(
    tx: Queryable,
    t: {
      bookId: string;
      membershipId: string;
      seq: number;
      fromState: MembershipState;
      toState: MembershipState;
      effectiveOn: string;
      cancelled: string;
      actor: string | null;
      note: string;
      idempotencyKey: string;
      requestHash: string;
    },
  ): Promise<void> {
    await tx.query(
      `update membership set state = $3, state_since = $4, subscription_cancelled = subscription_cancelled + $5
        where book_id = $1 and id = $2`,
      [t.bookId, t.membershipId, t.toState, t.effectiveOn, t.cancelled],
    );
    await tx.query(
      `insert into membership_event (book_id, membership_id, seq, from_state, to_state, effective_on, recorded_at, recorded_by, note, idempotency_key, request_hash)
       values ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, $10)`,
      [
        t.bookId,
        t.membershipId,
        t.seq,
        t.fromState,
        t.toState,
        t.effectiveOn,
        t.actor,
        t.note,
        t.idempotencyKey,
        t.requestHash,
      ],
    );
  }

  // ---------- imports ----------

  /** The import recorded under this key: its request hash and result. */
  async priorImport(
    db: Queryable,
    bookId: string,
    key: string,
  ): Promise<{ requestHash: string; result: unknown } | null> {
    const { rows } = await db.query(
      'select request_hash, result from coop_import where book_id = $1 and idempotency_key = $2',
      [bookId, key],
    );
    return rows[0] ? { requestHash: rows[0].request_hash as string, result: rows[0].result } : null;
  }

  async recordImport(
    tx: Queryable,
    i: {
      bookId: string;
      idempotencyKey: string;
      requestHash: string;
      kind: string;
      result: unknown;
      actor: string | null;
    },
  ): Promise<void> {
    await tx.query(
      `insert into coop_import (book_id, idempotency_key, request_hash, kind, result, recorded_at, recorded_by)
       values ($1, $2, $3, $4, $5, now(), $6)`,
      [i.bookId, i.idempotencyKey, i.requestHash, i.kind, JSON.stringify(i.result), i.actor],
    );
  }

  /** The people (kind, name, email) of the co-op's open memberships that have an email, with their number. */
  async openMemberPeople(
    bookId: string,
    tx: Queryable = this.db,
  ): Promise<{ kind: string; name: string; email: string; memberNumber: number }[]> {
    const { rows } = await tx.query(
      `select p.kind, p.name, p.email, m.member_number from membership m join party p on p.book_id = m.book_id and p.id = m.party_id
        where m.book_id = $1 and m.state not in ('WITHDRAWN', 'TERMINATED') and p.email <> ''`,
      [bookId],
    );
    return rows.map((r) => ({
      kind: r.kind as string,
      name: r.name as string,
      email: r.email as string,
      memberNumber: Number(r.member_number),
    }));
  }

  /** Every membership of the co-op with its number and its party's external ref, by number. */
  async memberNumbersAndRefs(
    bookId: string,
  ): Promise<{ memberNumber: number; id: string; externalRef: string | null }[]> {
    const { rows } = await this.db.query(
      `select m.member_number, m.id, p.external_ref from membership m join party p on p.book_id = m.book_id and p.id = m.party_id
        where m.book_id = $1 order by m.member_number`,
      [bookId],
    );
    return rows.map((r) => ({
      memberNumber: Number(r.member_number),
      id: r.id as string,
      externalRef: (r.external_ref as string | null) ?? null,
    }));
  }

  // ---------- member tokens ----------

  /** The co-op's member tokens (or the one with `tokenId`), oldest first, at most `limit`. */
  async memberTokens(bookId: string, tokenId: string | null, limit: number): Promise<MemberTokenRecord[]> {
    const { rows } = await this.db.query(MEMBER_TOKENS_SQL, [bookId, tokenId, limit]);
    const date = (v: unknown) => (v === null ? null : new Date(v as string));
    return rows.map((r) => ({
      bookId,
      id: r.id,
      label: r.label,
      membershipId: r.membership_id ?? null,
      createdAt: new Date(r.created_at),
      expiresAt: date(r.expires_at),
      revokedAt: date(r.revoked_at),
      lastUsedAt: date(r.last_used_at),
    }));
  }
}

/**
 * A co-op's member tokens: tokens whose grants are all MEMBER grants on accounts of the book (at
 * least one), with the membership they name. `$1` is a checked uuid, so `like $1::text || ':%'` holds
 * no wildcard but the suffix one.
 */
const MEMBER_TOKENS_SQL = `
with tokens as (
  select t.id, t.principal_id, t.label, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
    from api_token t
   where t.principal_id in (select g.principal_id from role_grant g where g.role = 'MEMBER' and g.scope_id like $1::text || ':%')
     and not exists (select 1 from role_grant g where g.principal_id = t.principal_id
                      and (g.role <> 'MEMBER' or g.scope_id not like $1::text || ':%'))
     and ($2::uuid is null or t.id = $2::uuid)
   order by t.created_at, t.id limit $3
), member_accounts as (
  select m.id::text as membership_id, a.account_id::text as account_id
    from membership m
   cross join lateral unnest(array[${MEMBER_ACCOUNT_COLUMNS}]) as a(account_id)
   where m.book_id = $1::uuid
), owners as (
  select k.id, min(a.membership_id) as membership_id, count(distinct a.membership_id) as memberships
    from tokens k join role_grant g on g.principal_id = k.principal_id
    join member_accounts a on a.account_id = split_part(g.scope_id, ':', 2)
   group by k.id
)
select k.id, k.label, k.created_at, k.expires_at, k.revoked_at, k.last_used_at,
       case when o.memberships = 1 then o.membership_id end as membership_id
  from tokens k left join owners o on o.id = k.id
 order by k.created_at, k.id`;
