/**
 * Networks: created by an admin as one book holding the network's unit (and the currencies its
 * members' obligations are kept in), with a clearing account per unit that is at zero between
 * transactions; the credit-limit policy, versioned (each change a new version with who, when and
 * why). Reading a network is for its stewards and the treasurers of its member co-ops.
 */
import {
  creditPolicyFromJson,
  creditPolicyToJson,
  Decimal,
  GENESIS_HASH,
  isDecimalLiteral,
  LedgerError,
  type Principal,
  parseCreditPolicy,
  requireAdmin,
  type Unit,
  validateIdempotencyKey,
  validateUnit,
} from '../core/index.js';
import { addBookUnits, insertAccounts, insertBookRow, lockBooks } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { type TxClient, withTransaction } from '../platform/transaction.js';
import type { CreditDeps } from './deps.js';
import type { CreateNetworkInput, CreditPolicyRecord, NetworkRecord, SetPolicyInput } from './records.js';
import { checkText, isSteward, rejected, reusedKey, unknownNetwork } from './rules.js';
import {
  currencyRows,
  insertCurrency,
  insertNetwork,
  insertPolicy,
  latestPolicies,
  type NetworkRow,
  networkIdByKey,
  networkRows,
  type PolicyRow,
  policyByKey,
  policyRows,
} from './store.js';

const NAME_LENGTH_MAX = 200;
const REASON_LENGTH_MAX = 500;
/** Obligation currencies a network keeps at most. */
export const NETWORK_CURRENCIES_MAX = 20;

export function toNetwork(row: NetworkRow, currencies: { code: string; scale: number }[]): NetworkRecord {
  return {
    id: row.bookId,
    name: row.name,
    unit: { code: row.unitCode, scale: row.unitScale },
    peg: row.pegCurrency && row.pegRate ? { currency: row.pegCurrency, rate: row.pegRate } : null,
    currencies: currencies.map((c) => ({ code: c.code, scale: c.scale })),
    clearingAccountId: row.clearingAccountId,
    memberCount: row.memberCount,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
  };
}

export function toPolicy(bookId: string, row: PolicyRow): CreditPolicyRecord {
  return {
    bookId,
    version: row.version,
    policy: creditPolicyFromJson(row.policy),
    reason: row.reason,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
  };
}

export async function getNetworks(deps: CreditDeps, ids: string[]): Promise<NetworkRecord[]> {
  const valid = ids.filter(isUuid);
  const rows = await networkRows(deps.pool, valid);
  return Promise.all(rows.map(async (r) => toNetwork(r, await currencyRows(deps.pool, r.bookId))));
}

export async function getNetwork(deps: CreditDeps, id: string): Promise<NetworkRecord | null> {
  return (await getNetworks(deps, [id]))[0] ?? null;
}

function unitCurrency(code: string, field: string): LedgerError | null {
  return validateUnit({ code, scale: 0 }, field);
}

/** Every problem of a new network's input, or nothing. */
function checkNetwork(input: CreateNetworkInput): LedgerError[] {
  const problems: LedgerError[] = [];
  if (input.name.trim().length === 0 || input.name.length > NAME_LENGTH_MAX)
    problems.push(
      new LedgerError('INVALID_INPUT', `name must be 1 to ${NAME_LENGTH_MAX} characters`, 'name'),
    );
  const unitError = validateUnit(input.unit, 'unit');
  if (unitError) problems.push(unitError);
  if (input.peg) {
    const pegError = unitCurrency(input.peg.currency, 'peg.currency');
    if (pegError) problems.push(pegError);
    const rate = input.peg.rate;
    if (!isDecimalLiteral(rate) || new Decimal(rate).lte(0) || (rate.split('.')[1]?.length ?? 0) > 18)
      problems.push(
        new LedgerError(
          'INVALID_INPUT',
          'peg.rate must be a plain decimal above 0 with at most 18 decimals',
          'peg.rate',
        ),
      );
  }
  const currencies = input.currencies ?? [];
  if (currencies.length > NETWORK_CURRENCIES_MAX)
    problems.push(
      new LedgerError(
        'INVALID_UNIT',
        `a network keeps at most ${NETWORK_CURRENCIES_MAX} currencies`,
        'currencies',
      ),
    );
  const seen = new Set([input.unit.code]);
  currencies.forEach((c, i) => {
    const error = validateUnit(c, `currencies[${i}]`);
    if (error) problems.push(error);
    else if (seen.has(c.code))
      problems.push(
        new LedgerError(
          'INVALID_UNIT',
          `${c.code} is listed twice or is the network's unit`,
          `currencies[${i}].code`,
        ),
      );
    seen.add(c.code);
  });
  if (!unitError) {
    const policy = parseCreditPolicy(input.policy, input.unit, 'policy.');
    if (Array.isArray(policy)) problems.push(...policy);
  }
  if (input.idempotencyKey !== null && input.idempotencyKey !== undefined) {
    const keyError = validateIdempotencyKey(input.idempotencyKey);
    if (keyError) problems.push(keyError);
  }
  return problems;
}

/** Clearing accounts: one per unit, at zero between transactions (see chunkedEntries). */
async function addClearingAccounts(
  client: TxClient,
  bookId: string,
  units: Unit[],
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const unit of units) {
    const id = uuidv7();
    await insertAccounts(client, bookId, unit.code, [
      { id, code: `CLEARING.${unit.code}`, name: `Clearing in transit (${unit.code})`, type: 'LIABILITY' },
    ]);
    ids.set(unit.code, id);
  }
  return ids;
}

/** Admins only. The network's stewards are then given NETWORK_STEWARD grants on its id. */
export async function createNetwork(
  deps: CreditDeps,
  input: CreateNetworkInput,
  actor: Principal,
): Promise<{ network: NetworkRecord; replayed: boolean } | LedgerError> {
  requireAdmin(actor, 'create a mutual-credit network');
  const problems = checkNetwork(input);
  if (problems.length > 0) return rejected(problems);
  const policy = parseCreditPolicy(input.policy, input.unit, 'policy.');
  if (Array.isArray(policy)) return rejected(policy);
  const key = input.idempotencyKey ?? null;
  const hash = requestHash('createCreditNetwork', input);
  const replay = async (): Promise<{ network: NetworkRecord; replayed: boolean } | LedgerError | null> => {
    if (key === null) return null;
    const id = await networkIdByKey(deps.pool, key);
    if (!id) return null;
    const [row] = await networkRows(deps.pool, [id]);
    return row!.requestHash === hash
      ? { network: (await getNetwork(deps, id))!, replayed: true }
      : reusedKey();
  };
  const earlier = await replay();
  if (earlier) return earlier;
  const bookId = uuidv7();
  const currencies = input.currencies ?? [];
  try {
    await withTransaction(deps.pool, async (client) => {
      await insertBookRow(
        client,
        {
          id: bookId,
          name: input.name.trim(),
          description: 'Mutual-credit network',
          maxBackdateDays: 366,
          genesisHash: GENESIS_HASH,
          managedBy: 'credit',
        },
        [input.unit, ...currencies],
      );
      const clearing = await addClearingAccounts(client, bookId, [input.unit, ...currencies]);
      await insertNetwork(client, {
        bookId,
        name: input.name.trim(),
        unitCode: input.unit.code,
        pegCurrency: input.peg?.currency ?? null,
        pegRate: input.peg ? new Decimal(input.peg.rate).toFixed() : null,
        clearingAccountId: clearing.get(input.unit.code)!,
        key,
        hash: key ? hash : null,
        actor: actor.id,
      });
      for (const c of currencies) await insertCurrency(client, bookId, c.code, clearing.get(c.code)!);
      await insertPolicy(client, {
        bookId,
        policy: creditPolicyToJson(policy),
        reason: 'the network was created',
        key: null,
        hash: null,
        actor: actor.id,
      });
    });
  } catch (error) {
    // Two requests with one key: the loser answers the winner's network.
    if ((error as { code?: string }).code === '23505' && key !== null) {
      const winner = await replay();
      if (winner) return winner;
    }
    throw error;
  }
  return { network: (await getNetwork(deps, bookId))!, replayed: false };
}

/** Adds a currency obligations may be recorded in (stewards). */
export async function addCurrency(
  deps: CreditDeps,
  bookId: string,
  currency: Unit,
  actor: Principal,
): Promise<NetworkRecord | LedgerError> {
  if (!isSteward(actor, bookId)) return unknownNetwork();
  const network = await getNetwork(deps, bookId);
  if (!network) return unknownNetwork();
  const error = validateUnit(currency, 'currency');
  if (error) return error;
  if (currency.code === network.unit.code)
    return new LedgerError(
      'INVALID_UNIT',
      "the network's own unit is not an obligation currency",
      'currency.code',
    );
  const outcome = await withTransaction(deps.pool, async (client) => {
    await lockBooks(client, [bookId]);
    const have = await currencyRows(client, bookId);
    const same = have.find((c) => c.code === currency.code);
    if (same)
      return same.scale === currency.scale
        ? null
        : new LedgerError(
            'INVALID_UNIT',
            `${currency.code} is kept with scale ${same.scale}`,
            'currency.scale',
          );
    if (have.length >= NETWORK_CURRENCIES_MAX)
      return new LedgerError(
        'INVALID_UNIT',
        `a network keeps at most ${NETWORK_CURRENCIES_MAX} currencies`,
        'currency',
      );
    await addBookUnits(client, bookId, [currency]);
    const clearing = await addClearingAccounts(client, bookId, [currency]);
    await insertCurrency(client, bookId, currency.code, clearing.get(currency.code)!);
    return null;
  });
  if (outcome) return outcome;
  return (await getNetwork(deps, bookId))!;
}

// ---------- policy ----------

export async function currentPolicies(
  deps: CreditDeps,
  bookIds: string[],
): Promise<Map<string, CreditPolicyRecord>> {
  const rows = await latestPolicies(deps.pool, bookIds.filter(isUuid));
  return new Map([...rows].map(([id, row]) => [id, toPolicy(id, row)]));
}

export async function policyHistory(deps: CreditDeps, bookId: string): Promise<CreditPolicyRecord[]> {
  if (!isUuid(bookId)) return [];
  return (await policyRows(deps.pool, bookId)).map((r) => toPolicy(bookId, r));
}

/** A new policy version (stewards). Existing members keep their limits; new members get the new default. */
export async function setPolicy(
  deps: CreditDeps,
  input: SetPolicyInput,
  actor: Principal,
): Promise<{ policy: CreditPolicyRecord; replayed: boolean } | LedgerError> {
  if (!isSteward(actor, input.bookId)) return unknownNetwork();
  const network = await getNetwork(deps, input.bookId);
  if (!network) return unknownNetwork();
  const problems: LedgerError[] = [];
  const parsed = parseCreditPolicy(input.policy, network.unit, 'policy.');
  if (Array.isArray(parsed)) problems.push(...parsed);
  const reasonError = checkText(input.reason, 'reason', REASON_LENGTH_MAX);
  if (reasonError) problems.push(reasonError);
  const key = input.idempotencyKey ?? null;
  if (key !== null) {
    const keyError = validateIdempotencyKey(key);
    if (keyError) problems.push(keyError);
  }
  if (problems.length > 0 || Array.isArray(parsed)) return rejected(problems);
  const hash = requestHash('setCreditPolicy', input);
  const result = await withTransaction(deps.pool, async (client) => {
    await lockBooks(client, [input.bookId]);
    if (key !== null) {
      const prior = await policyByKey(client, input.bookId, key);
      if (prior) return prior.requestHash === hash ? { row: prior, replayed: true } : reusedKey();
    }
    const version = await insertPolicy(client, {
      bookId: input.bookId,
      policy: creditPolicyToJson(parsed),
      reason: input.reason.trim(),
      key,
      hash: key ? hash : null,
      actor: actor.id,
    });
    const row = (await policyRows(client, input.bookId)).find((r) => r.version === version)!;
    return { row, replayed: false };
  });
  if (result instanceof LedgerError) return result;
  return { policy: toPolicy(input.bookId, result.row), replayed: result.replayed };
}
