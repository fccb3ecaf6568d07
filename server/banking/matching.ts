/**
 * Matching bank lines to journal entries (issue 17): one line, one entry. An entry stands for a
 * line when its posted lines on the bank account net to the line's amount (debits less credits:
 * money in positive). Suggestions: for every unmatched line, entries on the account not matched
 * yet, of the same amount, effective within the account's window of days (default 3) of the
 * line's date. Entries whose memo or metadata holds the line's bank reference are paired first,
 * then the others; each time as many pairs as the candidates allow, of the least total day
 * difference (not greedily: the nearest pair first could leave a line without the entry another
 * pairing gives it), so two identical lines get two different entries. Nothing is stored until
 * the treasurer confirms (`confirmBankMatches`, their own choice or an override; `acceptBankSuggestions`, every
 * suggestion at once). A confirmed match can be undone unless a closed reconciliation covers the
 * line.
 */
import { type Decimal, LedgerError, type Principal, ZERO } from '../core/index.js';
import type { EntryRecord } from '../ledger/index.js';
import { mayChangeBook } from '../ledger/index.js';
import { isUuid } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
import { leastCostMaximumMatching } from './assignment.js';
import type { BankingDeps } from './deps.js';
import type { BankLineRecord, MatchHow, MatchSuggestion } from './records.js';
import { bankAccountOf, signedOf, unknownAccount, withUnits } from './rules-common.js';
import {
  allLines,
  bankAccountRow,
  closedDays,
  deleteMatch,
  findLines,
  insertMatches,
  lockBankAccount,
  matchedEntries,
} from './store.js';

const POSTED_KINDS = ['STANDARD', 'REVERSAL', 'COMMIT'];
const DAY_MS = 86_400_000;
const dayNumber = (day: string) => Date.parse(`${day}T00:00:00.000Z`) / DAY_MS;
export const entryDay = (e: EntryRecord) => e.effectiveAt.toISOString().slice(0, 10);

/** What an entry moved on the account (money in positive), or null when it has no posted line there. */
export function entryAmountOn(entry: EntryRecord, accountId: string): Decimal | null {
  const lines = entry.lines.filter((l) => l.accountId === accountId && l.phase === 'POSTED');
  if (lines.length === 0 || !POSTED_KINDS.includes(entry.kind)) return null;
  return lines.reduce((s, l) => s.plus(signedOf(l.side, l.amount)), ZERO);
}

/** Posted entries with a line on the account, effective on days from `fromDay` to `toDay` (inclusive). */
export async function entriesOnAccount(
  deps: BankingDeps,
  bookId: string,
  accountId: string,
  fromDay: string | null,
  toDay: string,
): Promise<EntryRecord[]> {
  const out: EntryRecord[] = [];
  for (let after: { effectiveAtMs: string; seq: string } | null = null; ; ) {
    const page = await deps.ledger.listEntries({
      bookId,
      accountId,
      from: fromDay ? new Date(`${fromDay}T00:00:00.000Z`) : null,
      to: new Date(dayNumber(toDay) * DAY_MS + DAY_MS),
      kinds: POSTED_KINDS,
      after,
      limit: 1000,
    });
    out.push(...page);
    if (page.length < 1000) return out;
    const last = page[page.length - 1]!;
    after = { effectiveAtMs: String(last.effectiveAt.getTime()), seq: last.seq };
  }
}

/**
 * The line's bank reference is in the entry's memo or metadata as a whole token: INV-1 is not in
 * "INV-12 paid" (taken as in it, the line of INV-1 was suggested the entry of INV-12 first).
 */
function referenceIn(entry: EntryRecord, reference: string | null): boolean {
  if (!reference || reference.length < 3) return false;
  const r = reference.toLowerCase();
  const token = (t: string) => /[\p{L}\p{N}]/u.test(t);
  return [entry.memo, ...Object.values(entry.metadata)].some((text) => {
    const t = text.toLowerCase();
    for (let at = t.indexOf(r); at !== -1; at = t.indexOf(r, at + 1)) {
      const before = at > 0 ? t[at - 1]! : '';
      const after = t.slice(at + r.length, at + r.length + 1);
      if (
        !(token(r[0]!) && before !== '' && token(before)) &&
        !(token(r.at(-1)!) && after !== '' && token(after))
      )
        return true;
    }
    return false;
  });
}

/** Suggestions for the unmatched lines of an account (or of one of its statements). */
export async function suggest(
  deps: BankingDeps,
  bookId: string,
  accountId: string,
  statementId: string | null,
): Promise<MatchSuggestion[]> {
  if (!isUuid(bookId) || !isUuid(accountId) || (statementId !== null && !isUuid(statementId))) return [];
  const stored = await allLines(deps.pool, {
    bookId,
    accountId,
    statementId,
    status: 'UNMATCHED',
    from: null,
    to: null,
  });
  if (stored.length === 0) return [];
  const lines = await withUnits<BankLineRecord>(deps, stored);
  const window = (await bankAccountRow(deps.pool, bookId, accountId))?.matchWindowDays ?? 3;
  const days = lines.map((l) => dayNumber(l.bookedOn));
  const from = new Date((Math.min(...days) - window) * DAY_MS).toISOString().slice(0, 10);
  const to = new Date((Math.max(...days) + window) * DAY_MS).toISOString().slice(0, 10);
  const matched = await matchedEntries(deps.pool, bookId, accountId);
  const entries = (await entriesOnAccount(deps, bookId, accountId, from, to)).filter(
    (e) => !matched.has(e.id),
  );
  const amounts = new Map(entries.map((e) => [e.id, entryAmountOn(e, accountId)]));
  const pairs: (MatchSuggestion & { tier: number; entry: EntryRecord })[] = [];
  for (const line of lines)
    for (const entry of entries) {
      const amount = amounts.get(entry.id);
      if (!amount?.equals(line.amount)) continue;
      const dayDifference = dayNumber(entryDay(entry)) - dayNumber(line.bookedOn);
      if (Math.abs(dayDifference) > window) continue;
      const referenceMatched = referenceIn(entry, line.reference);
      pairs.push({
        line,
        entryId: entry.id,
        entry,
        dayDifference,
        referenceMatched,
        tier: referenceMatched ? 0 : 1,
      });
    }
  pairs.sort(
    (a, b) =>
      a.tier - b.tier ||
      Math.abs(a.dayDifference) - Math.abs(b.dayDifference) ||
      (a.line.bookedOn < b.line.bookedOn ? -1 : a.line.bookedOn > b.line.bookedOn ? 1 : 0) ||
      a.line.lineNo - b.line.lineNo ||
      (a.line.id < b.line.id ? -1 : a.line.id > b.line.id ? 1 : 0) ||
      a.entry.effectiveAt.getTime() - b.entry.effectiveAt.getTime() ||
      Number(BigInt(a.entry.seq) - BigInt(b.entry.seq)),
  );
  const usedLines = new Set<string>();
  const usedEntries = new Set<string>();
  const out: MatchSuggestion[] = [];
  // Reference matches first, then the others, each as many pairs as can be made (pairUp).
  for (const tier of [0, 1])
    for (const p of pairUp(
      pairs.filter((x) => x.tier === tier && !usedLines.has(x.line.id) && !usedEntries.has(x.entryId)),
    )) {
      usedLines.add(p.line.id);
      usedEntries.add(p.entryId);
      out.push({
        line: p.line,
        entryId: p.entryId,
        dayDifference: p.dayDifference,
        referenceMatched: p.referenceMatched,
      });
    }
  return out.sort((a, b) =>
    a.line.bookedOn < b.line.bookedOn
      ? -1
      : a.line.bookedOn > b.line.bookedOn
        ? 1
        : a.line.lineNo - b.line.lineNo,
  );
}

type Candidate = MatchSuggestion & { tier: number; entry: EntryRecord };

/**
 * Above this (a group's candidate pairs, lines and entries times its lines or entries, the fewer)
 * a group is paired greedily: measured here, groups at the limit took under 0.1 s to pair.
 */
const PAIRING_WORK_MAX = 1_000_000;

/**
 * One line to one entry from candidate pairs (in the greedy order: nearest date first): within each
 * group of lines and entries linked by candidates, as many pairs as the candidates allow, of the
 * least total day difference (assignment.ts). Pairing the nearest first could leave a line without
 * an entry that another pairing gives it. A group too large for that is paired greedily.
 */
function pairUp(candidates: Candidate[]): Candidate[] {
  const ids = new Map<string, number>();
  const node = (key: string) => {
    let n = ids.get(key);
    if (n === undefined) {
      n = ids.size;
      ids.set(key, n);
      parent.push(n);
    }
    return n;
  };
  const parent: number[] = [];
  const root = (n: number): number => {
    while (parent[n] !== n) {
      parent[n] = parent[parent[n]!]!;
      n = parent[n]!;
    }
    return n;
  };
  for (const c of candidates) parent[root(node(`l:${c.line.id}`))] = root(node(`e:${c.entryId}`));
  const groups = new Map<number, Candidate[]>();
  for (const c of candidates) {
    const g = root(ids.get(`l:${c.line.id}`)!);
    const group = groups.get(g);
    if (group) group.push(c);
    else groups.set(g, [c]);
  }
  const out: Candidate[] = [];
  for (const group of groups.values()) {
    const lines = [...new Map(group.map((c) => [c.line.id, c.line])).values()].sort(
      (a, b) =>
        (a.bookedOn < b.bookedOn ? -1 : a.bookedOn > b.bookedOn ? 1 : 0) ||
        a.lineNo - b.lineNo ||
        (a.id < b.id ? -1 : 1),
    );
    const entries = [...new Map(group.map((c) => [c.entryId, c.entry])).values()].sort(
      (a, b) => a.effectiveAt.getTime() - b.effectiveAt.getTime() || Number(BigInt(a.seq) - BigInt(b.seq)),
    );
    const work = (group.length + lines.length + entries.length) * Math.min(lines.length, entries.length);
    if (work > PAIRING_WORK_MAX) {
      const taken = new Set<string>();
      for (const c of group)
        if (!taken.has(`l:${c.line.id}`) && !taken.has(`e:${c.entryId}`)) {
          taken.add(`l:${c.line.id}`).add(`e:${c.entryId}`);
          out.push(c);
        }
      continue;
    }
    const lineAt = new Map(lines.map((l, i) => [l.id, i]));
    const entryAt = new Map(entries.map((e, i) => [e.id, i]));
    const byPair = new Map(group.map((c) => [`${lineAt.get(c.line.id)}:${entryAt.get(c.entryId)}`, c]));
    const pairs = leastCostMaximumMatching(
      lines.length,
      entries.length,
      group.map((c) => ({
        line: lineAt.get(c.line.id)!,
        entry: entryAt.get(c.entryId)!,
        cost: Math.abs(c.dayDifference),
      })),
    );
    for (const [l, e] of pairs) out.push(byPair.get(`${l}:${e}`)!);
  }
  return out;
}

export interface MatchRequest {
  lineId: string;
  entryId: string;
}

/**
 * Confirms matches, all or nothing: each line of the account and unmatched, each entry of the book
 * with posted lines on the account netting to the line's amount and matched to no other line.
 */
export async function confirm(
  deps: BankingDeps,
  input: { bookId: string; accountId: string; matches: MatchRequest[] },
  how: MatchHow,
  actor: Principal,
): Promise<BankLineRecord[] | LedgerError> {
  if (!(await mayChangeBook(deps.pool, actor, input.bookId))) return unknownAccount();
  const account = await bankAccountOf(deps, input.bookId, input.accountId);
  if (account instanceof LedgerError) return account;
  if (input.matches.length === 0 || input.matches.length > 1000)
    return new LedgerError('INVALID_INPUT', 'confirm 1 to 1000 matches at a time', 'matches');
  const field = (i: number, f: string) => `matches[${i}].${f}`;
  for (const [i, m] of input.matches.entries()) {
    if (!isUuid(m.lineId))
      return new LedgerError('UNKNOWN_BANK_LINE', 'no such bank line', field(i, 'lineId'));
    if (!isUuid(m.entryId))
      return new LedgerError('UNKNOWN_ENTRY', 'no such journal entry', field(i, 'entryId'));
  }
  const entries = new Map(
    (await deps.ledger.getEntries(input.matches.map((m) => ({ bookId: input.bookId, id: m.entryId })))).map(
      (e) => [e.id, e],
    ),
  );
  return withTransaction(deps.pool, async (client) => {
    await lockBankAccount(client, input.bookId, input.accountId);
    const lines = new Map(
      (
        await findLines(
          client,
          input.bookId,
          input.matches.map((m) => m.lineId),
        )
      ).map((l) => [l.id, l]),
    );
    const matched = await matchedEntries(client, input.bookId, input.accountId);
    const seenLines = new Set<string>();
    const seenEntries = new Set<string>();
    for (const [i, m] of input.matches.entries()) {
      const line = lines.get(m.lineId);
      if (!line || line.accountId !== input.accountId)
        return new LedgerError('UNKNOWN_BANK_LINE', 'no such line on this bank account', field(i, 'lineId'));
      if (line.match || seenLines.has(line.id))
        return new LedgerError(
          'LINE_ALREADY_MATCHED',
          'the line is already matched: undo that match first',
          field(i, 'lineId'),
        );
      const entry = entries.get(m.entryId);
      if (!entry) return new LedgerError('UNKNOWN_ENTRY', 'no such journal entry', field(i, 'entryId'));
      const amount = entryAmountOn(entry, input.accountId);
      if (amount === null)
        return new LedgerError(
          'MATCH_AMOUNT_MISMATCH',
          'the entry has no posted line on the bank account',
          field(i, 'entryId'),
        );
      if (!amount.equals(line.amount))
        return new LedgerError(
          'MATCH_AMOUNT_MISMATCH',
          `the entry moves ${amount.toFixed(account.unit.scale)} on the account, the line ${line.amount.toFixed(account.unit.scale)}`,
          field(i, 'entryId'),
        );
      if (matched.has(entry.id) || seenEntries.has(entry.id))
        return new LedgerError(
          'ENTRY_ALREADY_MATCHED',
          'the entry already stands for another bank line',
          field(i, 'entryId'),
        );
      seenLines.add(line.id);
      seenEntries.add(entry.id);
    }
    await insertMatches(
      client,
      input.bookId,
      input.accountId,
      input.matches.map((m) => ({ ...m, how, ruleId: null })),
      actor.id,
    );
    return withUnits<BankLineRecord>(
      deps,
      await findLines(
        client,
        input.bookId,
        input.matches.map((m) => m.lineId),
      ),
    );
  });
}

/** Confirms every current suggestion of the account (or of one statement). */
export async function acceptSuggestions(
  deps: BankingDeps,
  input: { bookId: string; accountId: string; statementId: string | null },
  actor: Principal,
): Promise<BankLineRecord[] | LedgerError> {
  if (!(await mayChangeBook(deps.pool, actor, input.bookId))) return unknownAccount();
  const suggestions = await suggest(deps, input.bookId, input.accountId, input.statementId);
  if (suggestions.length === 0) return [];
  return confirm(
    deps,
    {
      bookId: input.bookId,
      accountId: input.accountId,
      matches: suggestions.map((s) => ({ lineId: s.line.id, entryId: s.entryId })),
    },
    'SUGGESTION',
    actor,
  );
}

/** Undoes a line's match (the entry stays: reverse it in the ledger if it should not be there). */
export async function unmatch(
  deps: BankingDeps,
  input: { bookId: string; lineId: string },
  actor: Principal,
): Promise<BankLineRecord | LedgerError> {
  const unknown = new LedgerError('UNKNOWN_BANK_LINE', 'no such bank line', 'lineId');
  if (
    !(await mayChangeBook(deps.pool, actor, input.bookId)) ||
    !isUuid(input.bookId) ||
    !isUuid(input.lineId)
  )
    return unknown;
  const [line] = await findLines(deps.pool, input.bookId, [input.lineId]);
  if (!line) return unknown;
  return withTransaction(deps.pool, async (client) => {
    await lockBankAccount(client, input.bookId, line.accountId);
    if ((await closedDays(client, input.bookId, line.accountId, [line.bookedOn])).size > 0)
      return new LedgerError(
        'RECONCILIATION_CLOSED',
        'the line is in a closed reconciliation: its match stays',
        'lineId',
      );
    const removed = await deleteMatch(client, input.bookId, input.lineId);
    if (!removed) return new LedgerError('INVALID_INPUT', 'the line is not matched', 'lineId');
    const [after] = await withUnits<BankLineRecord>(
      deps,
      await findLines(client, input.bookId, [input.lineId]),
    );
    return after!;
  });
}
