/** Small rules the banking use cases share: answers, the bank account, amounts at its scale. */
import { type Decimal, LedgerError, type Unit } from '../core/index.js';
import type { AccountRow } from '../ledger/index.js';
import { isUuid } from '../platform/ids.js';
import type { BankingDeps } from './deps.js';
import type { Stored } from './store.js';

export const unknownAccount = (field = 'accountId') =>
  new LedgerError('UNKNOWN_ACCOUNT', 'no such account', field);

export const reusedKey = () =>
  new LedgerError(
    'IDEMPOTENCY_KEY_REUSED',
    'this idempotencyKey was already used with a different request',
    'idempotencyKey',
  );

/** A bank account: an open ASSET or LIABILITY account of the book (a current account, a card, a credit line). */
export async function bankAccountOf(
  deps: BankingDeps,
  bookId: string,
  accountId: string,
  field = 'accountId',
): Promise<AccountRow | LedgerError> {
  if (!isUuid(bookId) || !isUuid(accountId)) return unknownAccount(field);
  const [account] = await deps.ledger.getAccounts([{ bookId, id: accountId }]);
  if (!account) return unknownAccount(field);
  if (account.type !== 'ASSET' && account.type !== 'LIABILITY')
    return new LedgerError(
      'INVALID_BANK_ACCOUNT',
      `a bank account is an ASSET or LIABILITY account, not ${account.type}`,
      field,
    );
  return account;
}

/** Adds the unit of each row's account (read from the ledger, one query for all accounts). */
export async function withUnits<T extends { bookId: string; accountId: string }>(
  deps: BankingDeps,
  rows: Stored<T & { unit: Unit }>[] | T[],
): Promise<(T & { unit: Unit })[]> {
  const typed = rows as T[];
  const keys = [
    ...new Map(
      typed.map((r) => [`${r.bookId}/${r.accountId}`, { bookId: r.bookId, id: r.accountId }]),
    ).values(),
  ];
  const units = new Map((await deps.ledger.getAccounts(keys)).map((a) => [`${a.bookId}/${a.id}`, a.unit]));
  return typed.map((r) => ({ ...r, unit: units.get(`${r.bookId}/${r.accountId}`)! }));
}

/** Money into the account is positive: the account's debits less its credits. */
export const signedOf = (side: 'DEBIT' | 'CREDIT', amount: Decimal) =>
  side === 'DEBIT' ? amount : amount.negated();
