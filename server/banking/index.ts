/**
 * The banking domain's public face (issue 17): bank statement files imported for a bank account of
 * a book, their lines matched to journal entries (suggested, confirmed or overridden), unmatched
 * lines posted from rules or by hand, and reconciliations per statement period.
 */

/** Ledger records the banking schema shows (a bank account is a ledger account; matches name entries). */
export type { AccountRow, EntryRecord } from '../ledger/index.js';
export { BANK_FILE_LINES_MAX } from './parsers.js';
export * from './records.js';
export { BankingService } from './service.js';
export type { LineFilter, Page } from './store.js';
