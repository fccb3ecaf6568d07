/**
 * What a co-op reports for the city (issue 15): workers who are not members, worker-owners (by
 * gender and race/ethnicity, optional and self-reported, as counts), city contracts awarded and
 * jobs created at founding or conversion, entered by the co-op's treasurer and dated. Reports are
 * never changed: a correction is a new report (the latest of a day replaces the day's earlier
 * ones). Counts left out of a breakdown are UNDISCLOSED, so each breakdown adds up to the
 * worker-owners and the table's sums hold.
 */
import { LedgerError, mayWriteBook, type Principal, parseAmount } from '../core/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
import type { ReportingDeps } from './deps.js';
import { GENDERS, RACES } from './measures.js';
import * as store from './store.js';

export const PEOPLE_MAX = 1_000_000;
export const REPORTS_LISTED_MAX = 100;

export interface ProfileInput {
  coopId: string;
  asOf: string;
  workersNotMembers: number;
  workerOwners: number;
  byGender: { category: string; count: number }[] | null;
  byRace: { category: string; count: number }[] | null;
  jobsCreatedAtFounding: number | null;
  /** The day the co-op closed (dissolved, wound up, ceased trading), on or before asOf. */
  closedOn?: string | null;
  cityContractsAwarded: number | null;
  cityContractsValue: string | null;
  reportingGroup: string | null;
  idempotencyKey: string;
}

const unknownCoop = () => new LedgerError('UNKNOWN_COOP', 'no such co-op', 'coopId');

function count(value: number, field: string): LedgerError | null {
  return Number.isInteger(value) && value >= 0 && value <= PEOPLE_MAX
    ? null
    : new LedgerError('INVALID_INPUT', `${field} must be a whole number from 0 to ${PEOPLE_MAX}`, field);
}

function breakdown(
  list: { category: string; count: number }[] | null,
  categories: readonly string[],
  total: number,
  field: string,
): Record<string, number> | LedgerError {
  const out: Record<string, number> = {};
  let sum = 0;
  for (const [i, item] of (list ?? []).entries()) {
    if (!categories.includes(item.category))
      return new LedgerError(
        'INVALID_INPUT',
        `category must be one of ${categories.join(', ')}`,
        `${field}[${i}].category`,
      );
    if (item.category in out)
      return new LedgerError('INVALID_INPUT', `${item.category} is given twice`, `${field}[${i}].category`);
    const problem = count(item.count, `${field}[${i}].count`);
    if (problem) return problem;
    out[item.category] = item.count;
    sum += item.count;
  }
  if (sum > total)
    return new LedgerError(
      'INVALID_INPUT',
      `the counts add up to more than the ${total} worker-owners`,
      field,
    );
  out.UNDISCLOSED = (out.UNDISCLOSED ?? 0) + (total - sum);
  return out;
}

export async function reportProfile(
  deps: ReportingDeps,
  input: ProfileInput,
  actor: Principal,
): Promise<{ report: store.ProfileRow; replayed: boolean } | LedgerError> {
  // A co-op id that is no uuid names no co-op (an ADMIN passes mayWriteBook for any id).
  if (!isUuid(input.coopId) || !mayWriteBook(actor, input.coopId)) return unknownCoop();
  const facts = await store.coopFacts(deps.pool, input.coopId);
  if (!facts) return unknownCoop();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.asOf) || Number.isNaN(Date.parse(`${input.asOf}T00:00:00Z`)))
    return new LedgerError('INVALID_DATE', 'asOf must be a date YYYY-MM-DD', 'asOf');
  if (input.asOf > deps.clock().toISOString().slice(0, 10))
    return new LedgerError('INVALID_DATE', 'asOf must not be in the future', 'asOf');
  const closedOn = input.closedOn ?? null;
  if (closedOn !== null) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(closedOn) || Number.isNaN(Date.parse(`${closedOn}T00:00:00Z`)))
      return new LedgerError('INVALID_DATE', 'closedOn must be a date YYYY-MM-DD', 'closedOn');
    if (closedOn > input.asOf)
      return new LedgerError('INVALID_DATE', 'closedOn must not be after asOf', 'closedOn');
    if (closedOn < facts.foundedOn)
      return new LedgerError('INVALID_DATE', 'closedOn must not be before the co-op was founded', 'closedOn');
  }
  for (const [value, field] of [
    [input.workersNotMembers, 'workersNotMembers'],
    [input.workerOwners, 'workerOwners'],
    [input.jobsCreatedAtFounding ?? 0, 'jobsCreatedAtFounding'],
    [input.cityContractsAwarded ?? 0, 'cityContractsAwarded'],
  ] as const) {
    const problem = count(value, field);
    if (problem) return problem;
  }
  const gender = breakdown(input.byGender, GENDERS, input.workerOwners, 'byGender');
  if (gender instanceof LedgerError) return gender;
  const race = breakdown(input.byRace, RACES, input.workerOwners, 'byRace');
  if (race instanceof LedgerError) return race;
  const value = parseAmount(
    input.cityContractsValue ?? '0',
    { code: facts.baseCurrency, scale: facts.scale },
    'cityContractsValue',
    {
      allowZero: true,
    },
  );
  if (value instanceof LedgerError) return value;
  const group = input.reportingGroup?.trim() ?? null;
  if (group !== null && (group.length < 1 || group.length > 100))
    return new LedgerError('INVALID_INPUT', 'reportingGroup must have 1 to 100 characters', 'reportingGroup');
  if (input.idempotencyKey.length < 1 || input.idempotencyKey.length > 128)
    return new LedgerError(
      'INVALID_IDEMPOTENCY_KEY',
      'idempotencyKey must have 1 to 128 characters',
      'idempotencyKey',
    );
  // A report without closedOn hashes as it did before closedOn existed (replays stay replays).
  const { closedOn: _closed, ...unclosed } = input;
  const hash = requestHash('reportCoopProfile', closedOn === null ? unclosed : { ...unclosed, closedOn });
  return withTransaction(deps.pool, async (tx) => {
    await store.lockBook(tx, input.coopId);
    const prior = await store.profileByKey(tx, input.coopId, input.idempotencyKey);
    if (prior) {
      return prior.requestHash === hash
        ? { report: prior, replayed: true }
        : new LedgerError(
            'IDEMPOTENCY_KEY_REUSED',
            'this idempotency key was used with another input',
            'idempotencyKey',
          );
    }
    const report: store.ProfileRow = {
      id: uuidv7(deps.clock().getTime()),
      bookId: input.coopId,
      asOf: input.asOf,
      workersNotMembers: input.workersNotMembers,
      workerOwners: input.workerOwners,
      gender,
      race,
      jobsCreatedAtFounding: input.jobsCreatedAtFounding,
      closedOn,
      cityContractsCount: input.cityContractsAwarded ?? 0,
      cityContractsValue: value.toFixed(facts.scale),
      reportingGroup: group,
      idempotencyKey: input.idempotencyKey,
      requestHash: hash,
      recordedAt: deps.clock(),
      recordedBy: actor.id,
    };
    await store.insertProfile(tx, report);
    return { report, replayed: false };
  });
}

export async function listProfiles(
  deps: ReportingDeps,
  coopId: string,
  actor: Principal,
  limit: number,
): Promise<store.ProfileRow[]> {
  if (!isUuid(coopId) || !mayWriteBook(actor, coopId)) return [];
  return store.listProfiles(deps.pool, coopId, Math.min(Math.max(limit, 1), REPORTS_LISTED_MAX));
}
