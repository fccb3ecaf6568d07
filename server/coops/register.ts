/**
 * The register of a co-op: the co-op itself (created with its book, unit and chart of accounts in
 * one transaction), its member classes and its parties (people and organisations).
 *
 * Every write takes the acting principal and checks it first: creating a co-op is for admins,
 * everything else for the co-op's treasurers (and admins). A principal who may not write the co-op
 * gets the answer of an unknown co-op, so nothing reveals another tenant's ids.
 */
import {
  type CoopKind,
  DEFAULT_CHART,
  Decimal,
  GENESIS_HASH,
  LedgerError,
  MEMBER_CLASS_LIMITS,
  mayWriteBook,
  type Principal,
  parseAmount,
  requireAdmin,
  validateUnit,
  ZERO,
} from '../core/index.js';
import { checkMaxBackdateDays, insertAccounts, insertBookRow } from '../ledger/index.js';
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
import { text, todayUtc, unknownCoop, validateCoopProfile, validateParty } from './rules.js';

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

/** Co-ops in id (creation) order; `onlyIds` restricts them to those (a caller's tenants). */
export function listCoops(
  deps: CoopDeps,
  afterId: string | null,
  limit: number,
  onlyIds: string[] | null,
): Promise<CoopRecord[]> {
  return deps.store.listCoops(
    afterId && isUuid(afterId) ? afterId : null,
    limit,
    onlyIds === null ? null : onlyIds.filter(isUuid),
  );
}

/** The public directory: co-ops that opted in to being listed, by name. */
export function listDirectory(
  deps: CoopDeps,
  after: { name: string; id: string } | null,
  limit: number,
  filter: { city?: string | null; kind?: CoopKind | null },
): Promise<CoopRecord[]> {
  return deps.store.listDirectory(after, limit, filter);
}

// ---------- member classes ----------

export async function createMemberClass(
  deps: CoopDeps,
  input: CreateMemberClassInput,
  actor: Principal,
): Promise<MemberClassRecord | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const [coop] = await getCoops(deps, [input.bookId]);
  if (!coop) return unknownCoop();
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(input.code))
    return new LedgerError('INVALID_INPUT', 'code must be 1 to 40 of A-Z, a-z, 0-9, _ and -', 'code');
  const nameError = text(input.name, 'name', 200, 1);
  if (nameError) return nameError;
  const buyIn = parseAmount(input.buyIn, coop.baseCurrency, 'buyIn', { allowZero: true });
  if (buyIn instanceof LedgerError) return buyIn;
  const count = input.instalmentCount ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MEMBER_CLASS_LIMITS.instalmentCountMax)
    return new LedgerError(
      'INVALID_INPUT',
      `instalmentCount must be 1 to ${MEMBER_CLASS_LIMITS.instalmentCountMax}`,
      'instalmentCount',
    );
  const interval = input.instalmentIntervalMonths ?? 1;
  if (
    !Number.isInteger(interval) ||
    interval < 1 ||
    interval > MEMBER_CLASS_LIMITS.instalmentIntervalMonthsMax
  )
    return new LedgerError(
      'INVALID_INPUT',
      `instalmentIntervalMonths must be 1 to ${MEMBER_CLASS_LIMITS.instalmentIntervalMonthsMax}`,
      'instalmentIntervalMonths',
    );
  const step = new Decimal(10).pow(-coop.baseCurrency.scale);
  if (buyIn.gt(ZERO) && buyIn.lt(step.times(count)))
    return new LedgerError(
      'INVALID_INPUT',
      'the buy-in is too small to split into that many instalments',
      'instalmentCount',
    );
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
    },
    MEMBER_CLASS_LIMITS.classesPerCoopMax,
  );
  if (inserted === 'duplicate')
    return new LedgerError('DUPLICATE_MEMBER_CLASS', `a member class with code ${input.code} exists`, 'code');
  if (inserted === 'full')
    return new LedgerError(
      'INVALID_INPUT',
      `a co-op has at most ${MEMBER_CLASS_LIMITS.classesPerCoopMax} member classes`,
      'code',
    );
  return (await getMemberClasses(deps, [{ bookId: input.bookId, id }]))[0]!;
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

export async function registerParty(
  deps: CoopDeps,
  input: RegisterPartyInput,
  actor: Principal,
): Promise<PartyRecord | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  // '' is what the API makes of a co-op id it cannot decode: no co-op, answered before the rest.
  if (input.organizationCoopId === '') return unknownCoop('organizationCoopId');
  const error = validateParty(input);
  if (error) return error;
  const [coop] = await getCoops(deps, [input.bookId]);
  if (!coop) return unknownCoop();
  if (input.organizationCoopId != null) {
    if ((input.kind ?? 'PERSON') !== 'ORGANIZATION')
      return new LedgerError('INVALID_INPUT', 'only an ORGANIZATION can be a co-op', 'organizationCoopId');
    if (!isUuid(input.organizationCoopId) || (await getCoops(deps, [input.organizationCoopId])).length === 0)
      return unknownCoop('organizationCoopId');
  }
  const id = uuidv7();
  if (!(await deps.store.insertParty({ ...input, id })))
    return new LedgerError('INVALID_INPUT', 'externalRef is already used in this co-op', 'externalRef');
  return (await getParties(deps, [{ bookId: input.bookId, id }]))[0]!;
}

export async function getParties(deps: CoopDeps, keys: Key[]): Promise<PartyRecord[]> {
  const valid = validKeys(keys);
  if (valid.length === 0) return [];
  return deps.store.findParties(valid);
}

export async function listParties(
  deps: CoopDeps,
  bookId: string,
  afterId: string | null,
  limit: number,
): Promise<PartyRecord[]> {
  if (!isUuid(bookId)) return [];
  return deps.store.listParties(bookId, afterId && isUuid(afterId) ? afterId : null, limit);
}
