/**
 * Entry lines that name their account by code (issue 17). A line gives exactly one of `accountId`
 * and `accountCode`; the codes of a request (one entry, or every entry of a batch or a CSV import)
 * are resolved to ids here, in one query, before anything reaches the posting engine, so the
 * engine's hot path stays id-only and a request without codes costs nothing more.
 *
 * A resolved entry is exactly the entry that names the same accounts by id: its request hash is
 * the same, so the same key replays whichever way the client named the accounts. Problems found
 * here (both or neither given, an unknown code) are refusals of the request's shape, answered
 * before the engine: like other shape refusals they are not remembered under the key.
 */
import { type EntryInput, LedgerError, type LineInput } from '../core/index.js';
import type { Queryable } from './store.js';
import { accountIdsByCode } from './store-codes.js';

/** A line as a client sends it: the account by id or by code (exactly one of the two). */
export interface LineDraft extends Omit<LineInput, 'accountId'> {
  /** A raw account id ('' for an id that names no account of this book), or null when not given. */
  accountId: string | null;
  /** The account's code in the book, or null when not given. */
  accountCode?: string | null;
}

export interface EntryDraft extends Omit<EntryInput, 'lines'> {
  lines: LineDraft[];
}

/** Whether any line names its account by code (the only case that costs a query). */
export function namesCodes(drafts: EntryDraft[]): boolean {
  return drafts.some((d) => d.lines.some((l) => l.accountCode !== null && l.accountCode !== undefined));
}

/**
 * Each draft as an entry naming accounts by id, or the first problem of its lines (field paths
 * `lines[i].accountId` / `lines[i].accountCode`, for the caller to prefix). One query for every
 * code of every draft; none when no line names a code.
 */
export async function resolveAccountCodes(
  db: Queryable,
  bookId: string,
  drafts: EntryDraft[],
): Promise<(EntryInput | LedgerError)[]> {
  if (!namesCodes(drafts) && drafts.every((d) => d.lines.every((l) => l.accountId !== null))) {
    // Every line names its account by id: the drafts are the entries (no copy). Their lines' extra
    // `accountCode: null` changes nothing: the request hash drops null keys, the engine reads
    // accountId.
    return drafts as EntryInput[];
  }
  const codes = namesCodes(drafts)
    ? drafts.flatMap((d) => d.lines.flatMap((l) => (l.accountCode ? [l.accountCode] : [])))
    : [];
  const ids = codes.length > 0 ? await accountIdsByCode(db, bookId, codes) : new Map<string, string>();
  return drafts.map((draft) => resolveDraft(draft, ids));
}

function resolveDraft(draft: EntryDraft, ids: Map<string, string>): EntryInput | LedgerError {
  const lines: LineInput[] = [];
  for (const [i, line] of draft.lines.entries()) {
    const code = line.accountCode ?? null;
    if (line.accountId !== null && code !== null)
      return new LedgerError('INVALID_INPUT', 'give accountId or accountCode, not both', `lines[${i}]`);
    let accountId: string;
    if (code !== null) {
      const id = ids.get(code);
      if (id === undefined)
        return new LedgerError(
          'UNKNOWN_ACCOUNT',
          `no account with code "${code.slice(0, 64)}" in this book`,
          `lines[${i}].accountCode`,
        );
      accountId = id;
    } else if (line.accountId !== null) {
      accountId = line.accountId;
    } else {
      return new LedgerError('INVALID_INPUT', 'give accountId or accountCode', `lines[${i}].accountId`);
    }
    // Exactly the shape of a line named by id, so the request hash is the same.
    lines.push({ accountId, side: line.side, amount: line.amount, unit: line.unit });
  }
  return {
    idempotencyKey: draft.idempotencyKey,
    lines,
    effectiveAt: draft.effectiveAt,
    memo: draft.memo,
    metadata: draft.metadata,
  };
}
