/**
 * Recording what the books lack (issue 17): an unmatched bank line posted as a new entry, from a
 * rule ("description contains 'RENT' -> 5100 Rent") or by hand, and matched to it at once.
 *
 * The entry: the bank account debited for money in (credited for money out) by the line's amount,
 * the counter account the other way, effective at 00:00 UTC of the line's date, memo the rule's (or
 * the given one) else the line's description, metadata `bank.line` (and `bank.reference`). Its key
 * is `bank:<digest of the request's idempotencyKey>:<line id>`: a repeated request (even one whose
 * first try died between posting and matching) posts nothing new, and a line is posted only while
 * it is unmatched, under the account's lock. A request under another key finds an entry such a
 * request left unmatched for the line (by that key's form) and matches it, when it moves the
 * line's amount against the same counter account, rather than posting the line twice. A line the ledger refused (dated before the book's
 * backdating window, a closed counter account) stays unmatched; another request may post it.
 *
 * Rules of an account are tried in priority order (then creation); the first whose text is in the
 * line's description (any case, any Unicode form, any spacing) and whose direction fits (IN: money
 * in, OUT: money out, ANY) wins.
 */
import { LedgerError, type MetadataEntry, type Principal, validateIdempotencyKey } from '../core/index.js';
import type { AccountRow, EntryDraft, EntryRecord, OpResult } from '../ledger/index.js';
import { mayChangeBook } from '../ledger/index.js';
import { requestHash, sha256 } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
import type { BankingDeps } from './deps.js';
import { entriesOnAccount, entryAmountOn } from './matching.js';
import {
  type BankLineRecord,
  type BankRuleRecord,
  type CreateRuleInput,
  type LinePosting,
  RULE_DIRECTIONS,
} from './records.js';
import { bankAccountOf, reusedKey, unknownAccount, withUnits } from './rules-common.js';
import {
  allLines,
  deleteRule,
  findLines,
  findRules,
  insertMatches,
  insertRequest,
  insertRule,
  listRules,
  lockBankAccount,
  matchedEntries,
  nextRulePriority,
  requestByKey,
  type Stored,
} from './store.js';

/** The key of the entry a request posts for a line (128 characters at most: 66 here). */
export const lineEntryKey = (requestKey: string, lineId: string) =>
  `bank:${sha256(requestKey).slice(0, 24)}:${lineId}`;

/** The counter account named by id or code: in the book, open, not the bank account, in its unit. */
async function counterAccount(
  deps: BankingDeps,
  bank: AccountRow,
  byId: string | null,
  byCode: string | null,
): Promise<AccountRow | LedgerError> {
  if ((byId === null) === (byCode === null))
    return new LedgerError(
      'INVALID_INPUT',
      'give counterAccountId or counterAccountCode, exactly one',
      'counterAccountId',
    );
  const field = byId !== null ? 'counterAccountId' : 'counterAccountCode';
  const account =
    byId !== null
      ? isUuid(byId)
        ? ((await deps.ledger.getAccounts([{ bookId: bank.bookId, id: byId }]))[0] ?? null)
        : null
      : await deps.ledger.accountByCode(bank.bookId, byCode!);
  if (!account) return new LedgerError('UNKNOWN_ACCOUNT', 'no such account in this book', field);
  if (account.id === bank.id)
    return new LedgerError('INVALID_INPUT', 'the counter account is the bank account itself', field);
  if (account.unit.code !== bank.unit.code)
    return new LedgerError(
      'UNIT_MISMATCH',
      `the counter account holds ${account.unit.code}, the bank account ${bank.unit.code}`,
      field,
    );
  if (account.closed) return new LedgerError('ACCOUNT_CLOSED', 'the counter account is closed', field);
  return account;
}

function draftFor(
  requestKey: string,
  line: BankLineRecord,
  bank: AccountRow,
  counterId: string,
  memo: string | null,
  ruleId: string | null,
): EntryDraft {
  const moneyIn = line.amount.gt(0);
  const amount = line.amount.abs().toFixed(bank.unit.scale);
  const metadata: MetadataEntry[] = [{ key: 'bank.line', value: line.id }];
  if (line.reference) metadata.push({ key: 'bank.reference', value: line.reference.slice(0, 500) });
  if (ruleId) metadata.push({ key: 'bank.rule', value: ruleId });
  return {
    idempotencyKey: lineEntryKey(requestKey, line.id),
    effectiveAt: new Date(`${line.bookedOn}T00:00:00.000Z`),
    memo: (memo ?? line.description).slice(0, 1000),
    metadata,
    lines: [
      { accountId: bank.id, side: moneyIn ? 'DEBIT' : 'CREDIT', amount, unit: bank.unit.code },
      { accountId: counterId, side: moneyIn ? 'CREDIT' : 'DEBIT', amount, unit: bank.unit.code },
    ],
  };
}

/** The line an entry was posted for by a request of this module (its key), or null. */
const postedFor = (entry: EntryRecord): string | null =>
  /^bank:[0-9a-f]{24}:([0-9a-f-]{36})$/.exec(entry.idempotencyKey)?.[1] ?? null;

/**
 * Entries a request posted for these lines and never matched, by line: the ledger's write and the
 * match are two transactions, and a request that died between them left its entry in the books and
 * the line unmatched. A later request for the line (under another key) matches such an entry when
 * it moves the line's amount against the counter account asked for, instead of posting the line a
 * second time. Reversed entries are left out.
 */
async function leftUnmatched(
  deps: BankingDeps,
  client: Parameters<Parameters<typeof withTransaction>[1]>[0],
  bank: AccountRow,
  lines: BankLineRecord[],
): Promise<Map<string, EntryRecord[]>> {
  const out = new Map<string, EntryRecord[]>();
  if (lines.length === 0) return out;
  const days = lines.map((l) => l.bookedOn).sort();
  const wanted = new Set(lines.map((l) => l.id));
  const posted = (await entriesOnAccount(deps, bank.bookId, bank.id, days[0]!, days.at(-1)!)).filter(
    (e) => e.kind === 'STANDARD' && wanted.has(postedFor(e) ?? ''),
  );
  if (posted.length === 0) return out;
  // Only these entries' matches: not every match the account ever had, on every post.
  const matched = await matchedEntries(
    client,
    bank.bookId,
    bank.id,
    posted.map((e) => e.id),
  );
  const candidates = posted.filter((e) => !matched.has(e.id));
  if (candidates.length === 0) return out;
  const links = await deps.ledger.getEntryLinks(candidates.map((e) => ({ bookId: bank.bookId, id: e.id })));
  for (const e of candidates) {
    if (links.get(`${bank.bookId}/${e.id}`)?.reversedBy) continue;
    const lineId = postedFor(e)!;
    const list = out.get(lineId);
    if (list) list.push(e);
    else out.set(lineId, [e]);
  }
  return out;
}

/** The entry left unmatched for the line that posts it against the counter account, if any. */
const leftFor = (
  left: Map<string, EntryRecord[]>,
  line: BankLineRecord,
  bankId: string,
  counterId: string,
): EntryRecord | undefined =>
  left
    .get(line.id)
    ?.find(
      (e) =>
        entryAmountOn(e, bankId)?.equals(line.amount) === true &&
        e.lines.some((l) => l.accountId === counterId),
    );

const postingOf = (lineId: string, ruleId: string | null, r: OpResult): LinePosting =>
  r.ok
    ? { lineId, entryId: r.entry.id, ruleId, error: null }
    : {
        lineId,
        entryId: null,
        ruleId,
        error: { code: r.error.code, message: r.error.message, field: r.error.field },
      };

// ---------- rules ----------

export async function createRule(
  deps: BankingDeps,
  input: CreateRuleInput,
  actor: Principal,
): Promise<BankRuleRecord | LedgerError> {
  if (!(await mayChangeBook(deps.pool, actor, input.bookId))) return unknownAccount();
  const bank = await bankAccountOf(deps, input.bookId, input.accountId);
  if (bank instanceof LedgerError) return bank;
  const text = input.descriptionContains.trim();
  if (text.length === 0 || text.length > 200)
    return new LedgerError(
      'INVALID_INPUT',
      'descriptionContains is 1 to 200 characters',
      'descriptionContains',
    );
  if (!(RULE_DIRECTIONS as readonly string[]).includes(input.direction))
    return new LedgerError(
      'INVALID_INPUT',
      `direction must be one of ${RULE_DIRECTIONS.join(', ')}`,
      'direction',
    );
  if (input.memo !== null && input.memo.length > 1000)
    return new LedgerError('INVALID_INPUT', 'memo is at most 1000 characters', 'memo');
  if (
    input.priority !== null &&
    !(Number.isInteger(input.priority) && input.priority >= 0 && input.priority <= 1_000_000)
  )
    return new LedgerError('INVALID_INPUT', 'priority must be 0 to 1000000', 'priority');
  const counter = await counterAccount(deps, bank, input.counterAccountId, input.counterAccountCode);
  if (counter instanceof LedgerError) return counter;
  const rule = {
    bookId: input.bookId,
    id: uuidv7(),
    accountId: input.accountId,
    priority: input.priority ?? (await nextRulePriority(deps.pool, input.bookId, input.accountId)),
    descriptionContains: text,
    direction: input.direction,
    counterAccountId: counter.id,
    memo: input.memo,
    createdBy: actor.id,
  };
  await insertRule(deps.pool, rule);
  return (await findRules(deps.pool, input.bookId, [rule.id]))[0]!;
}

export async function removeRule(
  deps: BankingDeps,
  input: { bookId: string; ruleId: string },
  actor: Principal,
): Promise<BankRuleRecord | LedgerError> {
  const unknown = new LedgerError('UNKNOWN_BANK_RULE', 'no such bank rule', 'ruleId');
  if (
    !(await mayChangeBook(deps.pool, actor, input.bookId)) ||
    !isUuid(input.bookId) ||
    !isUuid(input.ruleId)
  )
    return unknown;
  const [rule] = await findRules(deps.pool, input.bookId, [input.ruleId]);
  if (!rule || !(await deleteRule(deps.pool, input.bookId, input.ruleId))) return unknown;
  return rule;
}

/**
 * Text as rules compare it: compatibility-normalised (an accent written as a combining mark is the
 * accented letter, a full-width letter the letter), lower case, each run of spaces one space. Bank
 * files write the same words all these ways; compared as stored, "CAFE\u0301" never held "Café".
 */
const folded = (text: string) => text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

/** The rule a line falls under, if any. */
export function ruleFor(
  line: { amount: { gt(n: number): boolean }; description: string },
  rules: BankRuleRecord[],
): BankRuleRecord | null {
  const text = folded(line.description);
  const moneyIn = line.amount.gt(0);
  return (
    rules.find(
      (r) =>
        text.includes(folded(r.descriptionContains)) &&
        (r.direction === 'ANY' || (r.direction === 'IN') === moneyIn),
    ) ?? null
  );
}

interface KeyedRequest {
  bookId: string;
  idempotencyKey: string;
}

/** Replays a keyed request, or runs it and stores its answer in the same transaction. */
async function keyed<T>(
  deps: BankingDeps,
  operation: string,
  input: KeyedRequest & object,
  actor: Principal,
  run: (client: Parameters<Parameters<typeof withTransaction>[1]>[0]) => Promise<T | LedgerError>,
  lockAccountId: string,
): Promise<{ value: T; replayed: boolean } | LedgerError> {
  const keyError = validateIdempotencyKey(input.idempotencyKey);
  if (keyError) return keyError;
  const hash = requestHash(operation, input);
  const replay = (prior: { operation: string; requestHash: string; result: unknown }) =>
    prior.operation === operation && prior.requestHash === hash
      ? { value: prior.result as T, replayed: true }
      : reusedKey();
  const prior = await requestByKey(deps.pool, input.bookId, input.idempotencyKey);
  if (prior) return replay(prior);
  return withTransaction(deps.pool, async (client) => {
    await lockBankAccount(client, input.bookId, lockAccountId);
    const again = await requestByKey(client, input.bookId, input.idempotencyKey);
    if (again) return replay(again);
    const value = await run(client);
    if (value instanceof LedgerError) return value;
    await insertRequest(client, {
      bookId: input.bookId,
      key: input.idempotencyKey,
      operation,
      requestHash: hash,
      result: value,
      actor: actor.id,
    });
    return { value, replayed: false };
  });
}

/** Posts every unmatched line (of the account, or of one statement) that a rule covers. */
export async function applyRules(
  deps: BankingDeps,
  input: { bookId: string; accountId: string; statementId: string | null; idempotencyKey: string },
  actor: Principal,
): Promise<{ value: LinePosting[]; replayed: boolean } | LedgerError> {
  if (!(await mayChangeBook(deps.pool, actor, input.bookId))) return unknownAccount();
  const bank = await bankAccountOf(deps, input.bookId, input.accountId);
  if (bank instanceof LedgerError) return bank;
  if (input.statementId !== null && !isUuid(input.statementId))
    return new LedgerError('UNKNOWN_BANK_STATEMENT', 'no such bank statement', 'statementId');
  return keyed(
    deps,
    'applyBankRules',
    input,
    actor,
    async (client) => {
      const rules = await listRules(client, input.bookId, input.accountId);
      const lines = await withUnits<BankLineRecord>(
        deps,
        await allLines(client, {
          bookId: input.bookId,
          accountId: input.accountId,
          statementId: input.statementId,
          status: 'UNMATCHED',
          from: null,
          to: null,
        }),
      );
      const chosen = lines.flatMap((line) => {
        const rule = ruleFor(line, rules);
        return rule ? [{ line, rule }] : [];
      });
      if (chosen.length === 0) return [];
      const left = await leftUnmatched(
        deps,
        client,
        bank,
        chosen.map((c) => c.line),
      );
      const found = chosen.map(({ line, rule }) => leftFor(left, line, bank.id, rule.counterAccountId));
      const toPost = chosen.filter((_, i) => !found[i]);
      const posted: OpResult[] = [];
      // Batches of the ledger's limit; each entry posts or is refused on its own.
      for (let i = 0; i < toPost.length; i += 1000) {
        const part = toPost.slice(i, i + 1000);
        const batch = await deps.ledger.postEntries(
          input.bookId,
          part.map(({ line, rule }) =>
            draftFor(input.idempotencyKey, line, bank, rule.counterAccountId, rule.memo, rule.id),
          ),
          false,
          actor,
        );
        if (batch instanceof LedgerError) return batch;
        posted.push(...batch);
      }
      let next = 0;
      const postings = chosen.map(({ line, rule }, i) => {
        const entry = found[i];
        return entry
          ? { lineId: line.id, entryId: entry.id, ruleId: rule.id, error: null }
          : postingOf(line.id, rule.id, posted[next++]!);
      });
      await insertMatches(
        client,
        input.bookId,
        input.accountId,
        postings.flatMap((p) =>
          p.entryId ? [{ lineId: p.lineId, entryId: p.entryId, how: 'RULE' as const, ruleId: p.ruleId }] : [],
        ),
        actor.id,
      );
      return postings;
    },
    input.accountId,
  );
}

/** Posts one unmatched line against a counter account chosen by hand. */
export async function postLine(
  deps: BankingDeps,
  input: {
    bookId: string;
    lineId: string;
    counterAccountId: string | null;
    counterAccountCode: string | null;
    memo: string | null;
    idempotencyKey: string;
  },
  actor: Principal,
): Promise<{ value: LinePosting; replayed: boolean } | LedgerError> {
  const unknown = new LedgerError('UNKNOWN_BANK_LINE', 'no such bank line', 'lineId');
  if (
    !(await mayChangeBook(deps.pool, actor, input.bookId)) ||
    !isUuid(input.bookId) ||
    !isUuid(input.lineId)
  )
    return unknown;
  const [stored] = await findLines(deps.pool, input.bookId, [input.lineId]);
  if (!stored) return unknown;
  const bank = await bankAccountOf(deps, input.bookId, stored.accountId);
  if (bank instanceof LedgerError) return bank;
  if (input.memo !== null && input.memo.length > 1000)
    return new LedgerError('INVALID_INPUT', 'memo is at most 1000 characters', 'memo');
  const counter = await counterAccount(deps, bank, input.counterAccountId, input.counterAccountCode);
  if (counter instanceof LedgerError) return counter;
  return keyed(
    deps,
    'postBankLine',
    input,
    actor,
    async (client) => {
      const [line] = await withUnits<BankLineRecord>(
        deps,
        (await findLines(client, input.bookId, [input.lineId])) as Stored<BankLineRecord>[],
      );
      if (line!.match)
        return new LedgerError('LINE_ALREADY_MATCHED', 'the line is already matched to an entry', 'lineId');
      const left = leftFor(await leftUnmatched(deps, client, bank, [line!]), line!, bank.id, counter.id);
      if (left) {
        await insertMatches(
          client,
          input.bookId,
          bank.id,
          [{ lineId: line!.id, entryId: left.id, how: 'BY_HAND', ruleId: null }],
          actor.id,
        );
        return { lineId: line!.id, entryId: left.id, ruleId: null, error: null };
      }
      const draft = draftFor(input.idempotencyKey, line!, bank, counter.id, input.memo, null);
      const posted = await deps.ledger.postEntries(input.bookId, [draft], true, actor);
      if (posted instanceof LedgerError) return posted;
      const result = posted[0]!;
      if (!result.ok)
        return new LedgerError(
          result.error.code,
          result.error.message,
          result.error.field?.replace(/^entries\[0\]\.?/, '') || null,
        );
      await insertMatches(
        client,
        input.bookId,
        bank.id,
        [{ lineId: line!.id, entryId: result.entry.id, how: 'BY_HAND', ruleId: null }],
        actor.id,
      );
      return postingOf(line!.id, null, result);
    },
    stored.accountId,
  );
}
