/**
 * The register of a co-op: the co-op itself (created with its book, unit and chart of accounts in
 * one transaction), its member classes and its parties (people and organisations).
 *
 * Every write takes the acting principal and checks it first: creating a co-op is for admins,
 * everything else for the co-op's treasurers (and admins). A principal who may not write the co-op
 * gets the answer of an unknown co-op, so nothing reveals another tenant's ids.
 */
import {
  canReadBook,
  DEFAULT_CHART,
  Decimal,
  GENESIS_HASH,
  LedgerError,
  MEMBER_CLASS_LIMITS,
  mayWriteBook,
  type Principal,
  parseAmount,
  requireAdmin,
  validateIdempotencyKey,
  validateUnit,
  ZERO,
} from '../core/index.js';
import { checkMaxBackdateDays, insertAccounts, insertBookRow } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
import type { CoopDeps } from './deps.js';
import {
  COOP_BOOK_BACKDATE_DAYS_DEFAULT,
  type CoopProfileInput,
  type CoopRecord,
  type CreateCoopInput,
  type CreateMemberClassInput,
  type MemberClassRecord,
  type PartyRecord,
  type RegisterPartyInput,
} from './records.js';
import {
  InputProblems,
  partyProblems,
  reusedKey,
  text,
  todayUtc,
  unknownCoop,
  validateCoopProfile,
} from './rules.js';

type Key = { bookId: string; id: string };
const validKeys = (keys: Key[]) => keys.filter((k) => isUuid(k.bookId) && isUuid(k.id));

// ---------- co-ops ----------

/** Admins only; the co-op's treasurers then get a TREASURER grant on it. */
export async function createCoop(
  deps: CoopDeps,
  input: CreateCoopInput,
  actor: Principal,
): Promise<CoopRecord | LedgerError> {
  requireAdmin(actor, 'create a co-op');
  const profile = validateCoopProfile(input);
  if (profile) return profile;
  const unitError = validateUnit(input.baseCurrency, 'baseCurrency');
  if (unitError) return unitError;
  const backdate = input.maxBackdateDays ?? COOP_BOOK_BACKDATE_DAYS_DEFAULT;
  const backdateError = checkMaxBackdateDays(backdate);
  if (backdateError) return backdateError;
  if (input.foundedOn > todayUtc(deps.clock()))
    return new LedgerError('INVALID_DATE', 'foundedOn is in the future', 'foundedOn');
  const consentOn = input.dataSharingConsentOn ?? null;
  if (consentOn !== null) {
    // A consent given before the co-op was recorded here counts from its own date; reporting then
    // counts the co-op's figures from the first month after it (server/reporting).
    if (input.dataSharingConsent !== true)
      return new LedgerError(
        'INVALID_INPUT',
        'dataSharingConsentOn is the date of a consent: give it with dataSharingConsent: true',
        'dataSharingConsentOn',
      );
    if (consentOn > todayUtc(deps.clock()))
      return new LedgerError('INVALID_DATE', 'dataSharingConsentOn is in the future', 'dataSharingConsentOn');
    if (consentOn < input.foundedOn)
      return new LedgerError(
        'INVALID_DATE',
        'dataSharingConsentOn is before foundedOn',
        'dataSharingConsentOn',
      );
  }
  const id = uuidv7();
  const unit = input.baseCurrency;
  const name = input.name.trim();
  await withTransaction(deps.pool, async (client) => {
    await insertBookRow(
      client,
      {
        id,
        name,
        description: `Books of the co-op ${name}`,
        maxBackdateDays: backdate,
        genesisHash: GENESIS_HASH,
      },
      [unit],
    );
    const chart = DEFAULT_CHART.map((a) => ({ ...a, id: uuidv7() }));
    await insertAccounts(client, id, unit.code, chart);
    await deps.store.insertCoop(
      client,
      id,
      {
        name,
        kind: input.kind,
        naicsCode: input.naicsCode,
        city: input.city.trim(),
        neighbourhood: (input.neighbourhood ?? '').trim(),
        latitude: input.latitude ?? null,
        longitude: input.longitude ?? null,
        foundedOn: input.foundedOn,
        legalForm: input.legalForm.trim(),
        fiscalYearStart: input.fiscalYearStart ?? '01-01',
        baseCurrency: unit.code,
        redemptionRule: input.redemptionRule ?? 'REPAY_NOW',
        dataSharingConsent: input.dataSharingConsent ?? false,
        dataSharingConsentOn: consentOn,
        publicListing: input.publicListing ?? false,
        description: (input.description ?? '').trim(),
        website: input.website ?? '',
      },
      chart.map((a) => ({ purpose: a.purpose, accountId: a.id })),
    );
  });
  return (await getCoops(deps, [id]))[0]!;
}

export async function updateCoop(
  deps: CoopDeps,
  bookId: string,
  input: CoopProfileInput,
  actor: Principal,
): Promise<CoopRecord | LedgerError> {
  if (!mayWriteBook(actor, bookId)) return unknownCoop();
  const error = validateCoopProfile(input);
  if (error) return error;
  if (input.foundedOn != null && input.foundedOn > todayUtc(deps.clock()))
    return new LedgerError('INVALID_DATE', 'foundedOn is in the future', 'foundedOn');
  if (!isUuid(bookId)) return unknownCoop();
  if (!(await deps.store.updateCoop(bookId, input, new Date()))) return unknownCoop();
  return (await getCoops(deps, [bookId]))[0]!;
}

export async function getCoops(deps: CoopDeps, ids: string[]): Promise<CoopRecord[]> {
  const valid = ids.filter(isUuid);
  if (valid.length === 0) return [];
  return deps.store.findCoops(valid);
}

// ---------- member classes ----------

/**
 * What a register write answers: the record (`replayed` when an earlier request with its key made
 * it), or a rejection; with several problems an `InputProblems` (the first problem, carrying all).
 */
export type RegisterResult<T> = (T & { replayed: boolean }) | LedgerError;

/** One problem as itself, several as an InputProblems (the API reports them all in `userErrors`). */
function rejected(problems: LedgerError[]): LedgerError {
  return problems.length === 1 ? problems[0]! : new InputProblems(problems);
}

/**
 * The optional idempotency key of a register write: null without one; a problem when it is
 * malformed; else the request's hash (the same key and hash replay, another hash is a reuse).
 */
function keyOf(
  operation: string,
  input: { idempotencyKey?: string | null },
): { key: string; hash: string } | LedgerError | null {
  const key = input.idempotencyKey;
  if (key === null || key === undefined) return null;
  const error = validateIdempotencyKey(key);
  if (error) return error;
  return { key, hash: requestHash(operation, input) };
}

/** The record an earlier request with this key made: a replay when its hash is this one's, else a reused key. */
async function replayOf<T>(
  prior: { id: string; requestHash: string } | null,
  hash: string,
  load: (id: string) => Promise<T | undefined>,
): Promise<(T & { replayed: boolean }) | LedgerError | null> {
  if (!prior) return null;
  if (prior.requestHash !== hash) return reusedKey();
  const record = await load(prior.id);
  return record ? { ...record, replayed: true } : null;
}

export async function createMemberClass(
  deps: CoopDeps,
  input: CreateMemberClassInput,
  actor: Principal,
): Promise<RegisterResult<MemberClassRecord>> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const [coop] = await getCoops(deps, [input.bookId]);
  if (!coop) return unknownCoop();
  // Every problem of the input at once (the fields are independent of each other).
  const problems: LedgerError[] = [];
  const keyed = keyOf('createMemberClass', input);
  if (keyed instanceof LedgerError) problems.push(keyed);
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(input.code))
    problems.push(new LedgerError('INVALID_INPUT', 'code must be 1 to 40 of A-Z, a-z, 0-9, _ and -', 'code'));
  const nameError = text(input.name, 'name', 200, 1);
  if (nameError) problems.push(nameError);
  const buyIn = parseAmount(input.buyIn, coop.baseCurrency, 'buyIn', { allowZero: true });
  if (buyIn instanceof LedgerError) problems.push(buyIn);
  const count = input.instalmentCount ?? 1;
  const countOk = Number.isInteger(count) && count >= 1 && count <= MEMBER_CLASS_LIMITS.instalmentCountMax;
  if (!countOk)
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `instalmentCount must be 1 to ${MEMBER_CLASS_LIMITS.instalmentCountMax}`,
        'instalmentCount',
      ),
    );
  const interval = input.instalmentIntervalMonths ?? 1;
  if (
    !Number.isInteger(interval) ||
    interval < 1 ||
    interval > MEMBER_CLASS_LIMITS.instalmentIntervalMonthsMax
  )
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `instalmentIntervalMonths must be 1 to ${MEMBER_CLASS_LIMITS.instalmentIntervalMonthsMax}`,
        'instalmentIntervalMonths',
      ),
    );
  const step = new Decimal(10).pow(-coop.baseCurrency.scale);
  if (!(buyIn instanceof LedgerError) && countOk && buyIn.gt(ZERO) && buyIn.lt(step.times(count)))
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        'the buy-in is too small to split into that many instalments',
        'instalmentCount',
      ),
    );
  if (problems.length > 0 || buyIn instanceof LedgerError || keyed instanceof LedgerError)
    return rejected(problems);
  const load = async (id: string) => (await getMemberClasses(deps, [{ bookId: input.bookId, id }]))[0];
  if (keyed) {
    const replay = await replayOf(
      await deps.store.memberClassByKey(input.bookId, keyed.key),
      keyed.hash,
      load,
    );
    if (replay) return replay;
  }
  const id = uuidv7();
  const inserted = await deps.store.insertMemberClass(
    {
      bookId: input.bookId,
      id,
      code: input.code,
      name: input.name.trim(),
      buyIn: buyIn.toFixed(),
      instalmentCount: count,
      instalmentIntervalMonths: interval,
      voting: input.voting,
      transferable: input.transferable ?? false,
      idempotencyKey: keyed?.key ?? null,
      requestHash: keyed?.hash ?? null,
    },
    MEMBER_CLASS_LIMITS.classesPerCoopMax,
  );
  if (inserted === 'key taken' && keyed) {
    // A concurrent request with the same key got there first: answer as its replay would.
    const replay = await replayOf(
      await deps.store.memberClassByKey(input.bookId, keyed.key),
      keyed.hash,
      load,
    );
    if (replay) return replay;
  }
  if (inserted === 'duplicate')
    return new LedgerError('DUPLICATE_MEMBER_CLASS', `a member class with code ${input.code} exists`, 'code');
  if (inserted === 'full')
    return new LedgerError(
      'INVALID_INPUT',
      `a co-op has at most ${MEMBER_CLASS_LIMITS.classesPerCoopMax} member classes`,
      'code',
    );
  return { ...(await load(id))!, replayed: false };
}

export async function getMemberClasses(deps: CoopDeps, keys: Key[]): Promise<MemberClassRecord[]> {
  const valid = validKeys(keys);
  if (valid.length === 0) return [];
  return deps.store.findMemberClasses(valid);
}

export async function listMemberClasses(deps: CoopDeps, bookId: string): Promise<MemberClassRecord[]> {
  if (!isUuid(bookId)) return [];
  return deps.store.listMemberClasses(bookId);
}

// ---------- parties (people and organisations) ----------

/**
 * Registers a person or organisation. An organisation that is itself a co-op names it with
 * `organizationCoopId`, which must be a co-op the caller may see: listed in the public directory,
 * or one the caller reads. Any other id (made up, or another co-op's that is not listed) answers
 * the same UNKNOWN_COOP, so the answer reveals nothing of co-ops the caller cannot see.
 */
export async function registerParty(
  deps: CoopDeps,
  input: RegisterPartyInput,
  actor: Principal,
): Promise<RegisterResult<PartyRecord>> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const problems: LedgerError[] = [];
  const keyed = keyOf('registerParty', input);
  if (keyed instanceof LedgerError) problems.push(keyed);
  problems.push(...partyProblems(input));
  const [coop] = await getCoops(deps, [input.bookId]);
  if (!coop) return unknownCoop();
  const orgId = input.organizationCoopId;
  if (orgId != null) {
    if ((input.kind ?? 'PERSON') !== 'ORGANIZATION')
      problems.push(
        new LedgerError('INVALID_INPUT', 'only an ORGANIZATION can be a co-op', 'organizationCoopId'),
      );
    // '' is what the API makes of an id it cannot decode: no co-op.
    else if (!(await maySeeCoop(deps, orgId, actor))) problems.push(unknownCoop('organizationCoopId'));
  }
  if (problems.length > 0 || keyed instanceof LedgerError) return rejected(problems);
  const load = async (id: string) => (await getParties(deps, [{ bookId: input.bookId, id }]))[0];
  if (keyed) {
    const replay = await replayOf(await deps.store.partyByKey(input.bookId, keyed.key), keyed.hash, load);
    if (replay) return replay;
  }
  const id = uuidv7();
  if ((await deps.store.insertParty({ ...input, id, requestHash: keyed?.hash ?? null })) === 'taken') {
    if (keyed) {
      // A concurrent request with the same key got there first: answer as its replay would.
      const replay = await replayOf(await deps.store.partyByKey(input.bookId, keyed.key), keyed.hash, load);
      if (replay) return replay;
    }
    return new LedgerError('INVALID_INPUT', 'externalRef is already used in this co-op', 'externalRef');
  }
  return { ...(await load(id))!, replayed: false };
}

/** Whether the caller may see this co-op: listed in the public directory, or one it reads. */
async function maySeeCoop(deps: CoopDeps, coopId: string, actor: Principal): Promise<boolean> {
  if (!isUuid(coopId)) return false;
  const [coop] = await getCoops(deps, [coopId]);
  return coop !== undefined && (coop.publicListing || canReadBook(actor, coopId));
}

export async function getParties(deps: CoopDeps, keys: Key[]): Promise<PartyRecord[]> {
  const valid = validKeys(keys);
  if (valid.length === 0) return [];
  return deps.store.findParties(valid);
}
