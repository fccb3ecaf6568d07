/**
 * The ledger domain's public face: books, accounts and entries (LedgerService), the posting engine
 * every writer of entries goes through, and the records they answer with. Other domains build their
 * entries with `entryOp` and post them through `engine.submitWith`, and use the in-transaction
 * building blocks below (locks in the ledger's order, lookups of entries by key) inside it; they
 * never read the ledger's tables themselves.
 */
export { entryHash } from './chain-hash.js';
/** Entry lines that name accounts by code, resolved before the posting engine (issue 17). */
export { type EntryDraft, type LineDraft, namesCodes, resolveAccountCodes } from './codes.js';
export { type CsvDelimiter, CsvFileError, type CsvRow, readCsv } from './csv.js';
export { ledgerEntities } from './entities.js';
/** Journal entries from CSV (issue 17), and the CSV reader other domains' imports use. */
export {
  type ImportJournalInput,
  JOURNAL_CSV_ROWS_MAX,
  JOURNAL_IMPORT_KEY_LENGTH_MAX,
  type JournalImportResult,
  type JournalRowError,
} from './journal-import.js';
/** Pages of books, accounts and entries (forward or backward) and the size of each list, for the API. */
export * as pages from './pages.js';
export { isEntryOp, type OpResult, PostingEngine, type PostOp } from './posting.js';
export * from './records.js';
export { rejection } from './rejection.js';
export { ReadTurn, type TrialBalanceSummary, type TrialBalanceView } from './reports.js';
export * from './service.js';
export { statementCsv, statementFileName, statementPdf } from './statement-files.js';
/** Financial statements and their files (issue 17). */
export type {
  BalanceSheetReport,
  BalanceSheetRequest,
  IncomeStatementReport,
  IncomeStatementRequest,
  RolledTrialBalance,
  RolledTrialBalanceLine,
  StatementReport,
} from './statements.js';
export {
  type AccountListOptions,
  type AccountRow,
  type EntryLinks,
  type EntryRecord,
  entriesOnAccounts,
  entryIdByKey,
  findAccounts,
  insertAccounts,
  insertBookRow,
  type LineRecord,
  latestLineDay,
  lockAccounts,
  lockBooks,
} from './store.js';
/** Amendments of an account's bounds and a book's units, inside the caller's transaction (mutual credit). */
export { addBookUnits, setAccountBounds } from './store-bounds.js';
export {
  type BalanceMismatch,
  balanceMismatches,
  type EntryFilter,
  type PostedTotals,
  postedTotalsAsOf,
} from './store-reads.js';
export { mayChangeBook } from './write-access.js';
