/**
 * A co-op's patronage policy (versioned: each change is a new version, and a run records the
 * version it used) and its members' consents to qualified notices. Setting the first policy also
 * creates the accounts patronage posts to, when the chart lacks them:
 *   2300 Patronage dividends payable (LIABILITY): cash parts until paid out;
 *   2350 Community fund (LIABILITY): the community share of a surplus, until spent;
 *   3900 Net surplus allocated (EQUITY, debit balance): each run's surplus taken out of the year's
 *        result and given to the reserve, the community fund and the members (credited by a loss).
 * An account the treasurer already made with one of these codes is used when it has that type and
 * the co-op's currency; otherwise the policy is refused (DUPLICATE_CODE) and nothing changes.
 */

import { type CoopRecord, unknownCoop, unknownMembership } from '../coops/index.js';
import {
  LedgerError,
  mayWriteBook,
  type Principal,
  parsePolicy,
  policyFromJson,
  policyToJson,
  validateDate,
  validateIdempotencyKey,
} from '../core/index.js';
import { insertAccounts } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { type TxClient, withTransaction } from '../platform/transaction.js';
import type { PatronageDeps } from './deps.js';
import type { ConsentRecord, PolicyRecord, SetConsentInput, SetPolicyInput } from './records.js';
import { rejected, reusedKey } from './rules.js';
import {
  accountsByCode,
  consents,
  insertPatronageAccounts,
  insertPolicy,
  lockPatronage,
  type PatronageAccountPurpose,
  type PolicyRow,
  patronageAccounts,
  policyByKey,
  policyRow,
  policyRows,
  upsertConsent,
} from './store.js';

export const PATRONAGE_CHART: readonly {
  purpose: PatronageAccountPurpose;
  code: string;
  name: string;
  type: 'LIABILITY' | 'EQUITY';
}[] = [
  { purpose: 'PATRONAGE_PAYABLE', code: '2300', name: 'Patronage dividends payable', type: 'LIABILITY' },
  { purpose: 'COMMUNITY_FUND', code: '2350', name: 'Community fund', type: 'LIABILITY' },
  { purpose: 'SURPLUS_ALLOCATED', code: '3900', name: 'Net surplus allocated', type: 'EQUITY' },
];

function toRecord(bookId: string, row: PolicyRow): PolicyRecord {
  return {
    bookId,
    version: row.version,
    policy: policyFromJson(row.policy),
    createdAt: row.createdAt,
    createdBy: row.createdBy,
  };
}

export async function coopOf(deps: PatronageDeps, bookId: string): Promise<CoopRecord | null> {
  if (!isUuid(bookId)) return null;
  return (await deps.coops.getCoops([bookId]))[0] ?? null;
}

export async function setPolicy(
  deps: PatronageDeps,
  input: SetPolicyInput,
  actor: Principal,
): Promise<(PolicyRecord & { replayed: boolean }) | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const coop = await coopOf(deps, input.bookId);
  if (!coop) return unknownCoop();
  const problems: LedgerError[] = [];
  const key = input.idempotencyKey ?? null;
  if (key !== null) {
    const keyError = validateIdempotencyKey(key);
    if (keyError) problems.push(keyError);
  }
  const parsed = parsePolicy(input, coop.baseCurrency);
  if (Array.isArray(parsed)) problems.push(...parsed);
  const classes = new Set((await deps.coops.listMemberClasses(input.bookId)).map((c) => c.code));
  (input.classMultipliers ?? []).forEach((c, i) => {
    if (!classes.has(c.classCode))
      problems.push(
        new LedgerError(
          'UNKNOWN_MEMBER_CLASS',
          `no member class ${c.classCode}`,
          `classMultipliers[${i}].classCode`,
        ),
      );
  });
  const previous = await policyRow(deps.pool, input.bookId, null);
  if (previous && !Array.isArray(parsed)) {
    // Records are kept in their measure's unit: a measure keeps its unit in every later version.
    const before = new Map(policyFromJson(previous.policy).measures.map((m) => [m.code, m.unit]));
    parsed.measures.forEach((m, i) => {
      const unit = before.get(m.code);
      if (unit && (unit.code !== m.unit.code || unit.scale !== m.unit.scale))
        problems.push(
          new LedgerError(
            'INVALID_UNIT',
            `measure ${m.code} is kept in ${unit.code} (scale ${unit.scale}); a measure keeps its unit across versions`,
            `measures[${i}].unit`,
          ),
        );
    });
  }
  if (problems.length > 0 || Array.isArray(parsed)) return rejected(problems);
  const hash = requestHash('setPatronagePolicy', input);
  const json = policyToJson(parsed);
  const result = await withTransaction(deps.pool, async (client) => {
    await lockPatronage(client, input.bookId);
    if (key !== null) {
      const prior = await policyByKey(client, input.bookId, key);
      if (prior) return prior.requestHash === hash ? { row: prior, replayed: true } : reusedKey();
    }
    const accountError = await ensureAccounts(client, coop);
    if (accountError) return accountError;
    const latest = await policyRow(client, input.bookId, null);
    const version = (latest?.version ?? 0) + 1;
    await insertPolicy(client, {
      bookId: input.bookId,
      version,
      policy: json,
      key,
      hash: key ? hash : null,
      actor: actor.id,
    });
    return { row: (await policyRow(client, input.bookId, version))!, replayed: false };
  });
  if (result instanceof LedgerError) return result;
  return { ...toRecord(input.bookId, result.row), replayed: result.replayed };
}

/** Creates (or adopts) the patronage accounts, inside the policy's transaction. */
async function ensureAccounts(client: TxClient, coop: CoopRecord): Promise<LedgerError | null> {
  const have = await patronageAccounts(client, coop.id);
  const missing = PATRONAGE_CHART.filter((a) => !have[a.purpose]);
  if (missing.length === 0) return null;
  const existing = await accountsByCode(
    client,
    coop.id,
    missing.map((a) => a.code),
  );
  const adopt: { purpose: PatronageAccountPurpose; accountId: string }[] = [];
  const create: {
    id: string;
    code: string;
    name: string;
    type: 'LIABILITY' | 'EQUITY';
    purpose: PatronageAccountPurpose;
  }[] = [];
  for (const a of missing) {
    const found = existing.get(a.code);
    if (!found) {
      create.push({ ...a, id: uuidv7() });
      continue;
    }
    if (found.type !== a.type || found.unitCode !== coop.baseCurrency.code || found.closed)
      return new LedgerError(
        'DUPLICATE_CODE',
        `account ${a.code} exists but is not an open ${a.type} account in ${coop.baseCurrency.code}; patronage needs ${a.code} for "${a.name}"`,
        'coopId',
      );
    adopt.push({ purpose: a.purpose, accountId: found.id });
  }
  if (create.length > 0)
    await insertAccounts(
      client,
      coop.id,
      coop.baseCurrency.code,
      create.map((a) => ({ id: a.id, code: a.code, name: a.name, type: a.type })),
    );
  await insertPatronageAccounts(client, coop.id, [
    ...adopt,
    ...create.map((a) => ({ purpose: a.purpose, accountId: a.id })),
  ]);
  return null;
}

/** The latest policy (or that version); null when there is none. Reads check no caller. */
export async function getPolicy(
  deps: PatronageDeps,
  bookId: string,
  version: number | null,
): Promise<PolicyRecord | null> {
  if (!isUuid(bookId)) return null;
  const row = await policyRow(deps.pool, bookId, version);
  return row ? toRecord(bookId, row) : null;
}

export async function policyHistory(deps: PatronageDeps, bookId: string): Promise<PolicyRecord[]> {
  if (!isUuid(bookId)) return [];
  return (await policyRows(deps.pool, bookId)).map((r) => toRecord(bookId, r));
}

/**
 * Records a member's written consent to take qualified notices into income (or its withdrawal).
 * Not money-moving: setting the same again changes nothing but who recorded it and when.
 */
export async function setConsent(
  deps: PatronageDeps,
  input: SetConsentInput,
  actor: Principal,
): Promise<ConsentRecord | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
  const dateError = validateDate(input.effectiveOn, 'effectiveOn');
  if (dateError) return dateError;
  if (!isUuid(input.bookId) || !isUuid(input.membershipId)) return unknownMembership();
  const [m] = await deps.coops.getMemberships([{ bookId: input.bookId, id: input.membershipId }]);
  if (!m) return unknownMembership();
  await upsertConsent(deps.pool, { ...input, recordedBy: actor.id });
  return (await consents(deps.pool, input.bookId, [input.membershipId]))[0]!;
}

export async function getConsents(deps: PatronageDeps, bookId: string, membershipIds: string[] | null) {
  if (!isUuid(bookId)) return [];
  return consents(deps.pool, bookId, membershipIds?.filter(isUuid) ?? null);
}
