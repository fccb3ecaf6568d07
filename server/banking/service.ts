/**
 * Bank statements and reconciliation (issue 17): the use cases, one object for the API and tests.
 * The work is done by the capability modules beside this file, each a set of functions over the
 * same deps:
 *   imports.ts         statement files (CSV with the account's column mapping, OFX, camt.053),
 *                      all or nothing, duplicates skipped; the account's mapping and window
 *   parsers.ts         reading the three formats
 *   matching.ts        suggestions, confirmed or overridden matches, undoing a match
 *   postings.ts        rules, and unmatched lines posted from a rule or by hand
 *   reconciliation.ts  periods set against the books, closed when they agree
 *   store.ts           the domain's SQL
 * The ledger is used only through its index: accounts, entries, balances, posting.
 * Every write takes the acting principal (`actor`, last) and checks it first: a caller who may not
 * write the book gets the answer of an unknown account, line, rule or reconciliation. Reads check
 * no caller (the schema lets only the book's readers ask).
 */
import type { LedgerError, Principal } from '../core/index.js';
import type { LedgerService } from '../ledger/index.js';
import { isUuid } from '../platform/ids.js';
import type { DbPool } from '../platform/transaction.js';
import type { BankingDeps } from './deps.js';
import * as imports from './imports.js';
import * as matching from './matching.js';
import * as postings from './postings.js';
import * as reconciliation from './reconciliation.js';
import type {
  BankLineRecord,
  BankRuleRecord,
  BankStatementRecord,
  CreateRuleInput,
  CsvMapping,
  ImportStatementInput,
  ImportStatementResult,
  LinePosting,
  MatchSuggestion,
  ReconciliationRecord,
  ReconciliationStatus,
  StartReconciliationInput,
} from './records.js';
import { withUnits } from './rules-common.js';
import * as store from './store.js';

type Key = { bookId: string; id: string };

export class BankingService {
  private readonly deps: BankingDeps;

  constructor(pool: DbPool, ledger: LedgerService, clock: () => Date = () => new Date()) {
    this.deps = { pool, ledger, clock };
  }

  // ---------- bank accounts and statements ----------

  /** The account's remembered CSV mapping and matching window (defaults when never set). */
  async accountOptions(
    bookId: string,
    accountId: string,
  ): Promise<{ csvMapping: CsvMapping | null; matchWindowDays: number }> {
    if (!isUuid(bookId) || !isUuid(accountId)) return { csvMapping: null, matchWindowDays: 3 };
    return (
      (await store.bankAccountRow(this.deps.pool, bookId, accountId)) ?? {
        csvMapping: null,
        matchWindowDays: 3,
      }
    );
  }

  setAccountOptions(
    input: {
      bookId: string;
      accountId: string;
      csvMapping: CsvMapping | null;
      matchWindowDays: number | null;
    },
    actor: Principal,
  ): Promise<LedgerError | null> {
    return imports.setBankAccountOptions(this.deps, input, actor);
  }

  importStatement(
    input: ImportStatementInput,
    actor: Principal,
  ): Promise<ImportStatementResult | LedgerError> {
    return imports.importStatement(this.deps, input, actor);
  }

  async getStatements(keys: Key[]): Promise<BankStatementRecord[]> {
    const valid = keys.filter((k) => isUuid(k.bookId) && isUuid(k.id));
    return withUnits<BankStatementRecord>(this.deps, await store.findStatements(this.deps.pool, valid));
  }

  async listStatements(
    bookId: string,
    accountId: string,
    page: store.Page<string>,
  ): Promise<BankStatementRecord[]> {
    if (!isUuid(bookId) || !isUuid(accountId)) return [];
    return withUnits<BankStatementRecord>(
      this.deps,
      await store.listStatements(this.deps.pool, bookId, accountId, page),
    );
  }

  countStatements(bookId: string, accountId: string): Promise<number> {
    return isUuid(bookId) && isUuid(accountId)
      ? store.countStatements(this.deps.pool, bookId, accountId)
      : Promise.resolve(0);
  }

  // ---------- lines and matching ----------

  async getLines(bookId: string, ids: string[]): Promise<BankLineRecord[]> {
    if (!isUuid(bookId)) return [];
    return withUnits<BankLineRecord>(
      this.deps,
      await store.findLines(this.deps.pool, bookId, ids.filter(isUuid)),
    );
  }

  async listLines(filter: store.LineFilter, page: store.Page<[string, string]>): Promise<BankLineRecord[]> {
    if (!isUuid(filter.bookId)) return [];
    return withUnits<BankLineRecord>(this.deps, await store.listLines(this.deps.pool, filter, page));
  }

  countLines(filter: store.LineFilter): Promise<number> {
    return isUuid(filter.bookId) ? store.countLines(this.deps.pool, filter) : Promise.resolve(0);
  }

  suggestions(bookId: string, accountId: string, statementId: string | null): Promise<MatchSuggestion[]> {
    return matching.suggest(this.deps, bookId, accountId, statementId);
  }

  confirmMatches(
    input: { bookId: string; accountId: string; matches: matching.MatchRequest[] },
    actor: Principal,
  ): Promise<BankLineRecord[] | LedgerError> {
    return matching.confirm(this.deps, input, 'CHOSEN', actor);
  }

  acceptSuggestions(
    input: { bookId: string; accountId: string; statementId: string | null },
    actor: Principal,
  ): Promise<BankLineRecord[] | LedgerError> {
    return matching.acceptSuggestions(this.deps, input, actor);
  }

  unmatch(
    input: { bookId: string; lineId: string },
    actor: Principal,
  ): Promise<BankLineRecord | LedgerError> {
    return matching.unmatch(this.deps, input, actor);
  }

  // ---------- rules and postings ----------

  async rules(bookId: string, accountId: string): Promise<BankRuleRecord[]> {
    return isUuid(bookId) && isUuid(accountId) ? store.listRules(this.deps.pool, bookId, accountId) : [];
  }

  async getRules(bookId: string, ids: string[]): Promise<BankRuleRecord[]> {
    return isUuid(bookId) ? store.findRules(this.deps.pool, bookId, ids.filter(isUuid)) : [];
  }

  createRule(input: CreateRuleInput, actor: Principal): Promise<BankRuleRecord | LedgerError> {
    return postings.createRule(this.deps, input, actor);
  }

  deleteRule(
    input: { bookId: string; ruleId: string },
    actor: Principal,
  ): Promise<BankRuleRecord | LedgerError> {
    return postings.removeRule(this.deps, input, actor);
  }

  applyRules(
    input: { bookId: string; accountId: string; statementId: string | null; idempotencyKey: string },
    actor: Principal,
  ): Promise<{ value: LinePosting[]; replayed: boolean } | LedgerError> {
    return postings.applyRules(this.deps, input, actor);
  }

  postLine(
    input: Parameters<typeof postings.postLine>[1],
    actor: Principal,
  ): Promise<{ value: LinePosting; replayed: boolean } | LedgerError> {
    return postings.postLine(this.deps, input, actor);
  }

  // ---------- reconciliations ----------

  getReconciliations(keys: Key[]): Promise<ReconciliationRecord[]> {
    return reconciliation.getReconciliations(this.deps, keys);
  }

  async listReconciliations(
    bookId: string,
    accountId: string,
    status: ReconciliationStatus | null,
    page: store.Page<string>,
  ): Promise<ReconciliationRecord[]> {
    if (!isUuid(bookId) || !isUuid(accountId)) return [];
    const rows = await store.listReconciliations(this.deps.pool, bookId, accountId, status, page);
    const byId = new Map((await reconciliation.getReconciliations(this.deps, rows)).map((r) => [r.id, r]));
    return rows.map((r) => byId.get(r.id)!);
  }

  countReconciliations(
    bookId: string,
    accountId: string,
    status: ReconciliationStatus | null,
  ): Promise<number> {
    return isUuid(bookId) && isUuid(accountId)
      ? store.countReconciliations(this.deps.pool, bookId, accountId, status)
      : Promise.resolve(0);
  }

  startReconciliation(
    input: StartReconciliationInput,
    actor: Principal,
  ): Promise<ReconciliationRecord | LedgerError> {
    return reconciliation.startReconciliation(this.deps, input, actor);
  }

  closeReconciliation(
    input: { bookId: string; reconciliationId: string },
    actor: Principal,
  ): Promise<ReconciliationRecord | LedgerError> {
    return reconciliation.closeReconciliation(this.deps, input, actor);
  }
}
