/** The records and inputs of the banking use cases (issue 17). No logic. */
import type { Decimal, ErrorCode, Unit } from '../core/index.js';

export const BANK_FORMATS = ['CSV', 'OFX', 'CAMT053'] as const;
export type BankFormat = (typeof BANK_FORMATS)[number];

export const CSV_DATE_FORMATS = ['YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'DD.MM.YYYY', 'YYYYMMDD'] as const;
export type CsvDateFormat = (typeof CSV_DATE_FORMATS)[number];

/**
 * How a bank's CSV export is read, chosen once per bank account (the header names of its columns):
 * a date, the amount as one signed column or as two columns (money in, money out), the text.
 */
export interface CsvMapping {
  delimiter: ',' | ';' | '\t';
  dateColumn: string;
  dateFormat: CsvDateFormat;
  /** A signed amount: positive is money in. Or give moneyIn and moneyOut columns. */
  amountColumn: string | null;
  moneyInColumn: string | null;
  moneyOutColumn: string | null;
  /** Amounts written 1.234,56 rather than 1,234.56. */
  decimalComma: boolean;
  /** Joined with a space: the line's description. */
  descriptionColumns: string[];
  referenceColumn: string | null;
  counterpartyColumn: string | null;
  /** The running balance after each line: the statement's closing balance is the last line's. */
  balanceColumn: string | null;
}

/** A line as a file says it, before it is stored. */
export interface ParsedLine {
  /** The file's line the transaction starts on. */
  lineNo: number;
  bookedOn: string;
  valueOn: string | null;
  /** Signed as the file wrote it: positive is money in. Checked against the unit later. */
  amount: string;
  description: string;
  reference: string | null;
  counterparty: string | null;
}

export interface ParsedStatement {
  /** The currency the file states (OFX CURDEF, camt Ccy), if any. */
  currency: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  openingBalance: string | null;
  closingBalance: string | null;
  lines: ParsedLine[];
}

export interface BankRowError {
  /** The file's line (1-based). */
  row: number;
  column: string | null;
  code: ErrorCode;
  message: string;
}

export interface ImportStatementInput {
  bookId: string;
  accountId: string;
  format: BankFormat;
  content: string;
  fileName: string | null;
  /** CSV only: used and remembered for the account; without it, the account's remembered mapping. */
  csvMapping: CsvMapping | null;
  idempotencyKey: string;
}

export interface BankStatementRecord {
  bookId: string;
  id: string;
  accountId: string;
  format: BankFormat;
  fileName: string;
  fileSha256: string;
  idempotencyKey: string;
  periodStart: string | null;
  periodEnd: string | null;
  openingBalance: Decimal | null;
  closingBalance: Decimal | null;
  lineCount: number;
  importedCount: number;
  duplicateCount: number;
  createdAt: Date;
  createdBy: string;
  unit: Unit;
}

export interface ImportStatementResult {
  statement: BankStatementRecord | null;
  replayed: boolean;
  rowErrors: BankRowError[];
}

export const MATCH_HOWS = ['SUGGESTION', 'CHOSEN', 'RULE', 'BY_HAND'] as const;
export type MatchHow = (typeof MATCH_HOWS)[number];

export interface BankLineRecord {
  bookId: string;
  id: string;
  accountId: string;
  statementId: string;
  lineNo: number;
  bookedOn: string;
  valueOn: string | null;
  amount: Decimal;
  description: string;
  reference: string | null;
  counterparty: string | null;
  unit: Unit;
  match: BankMatchRecord | null;
}

export interface BankMatchRecord {
  lineId: string;
  entryId: string;
  how: MatchHow;
  ruleId: string | null;
  matchedAt: Date;
  matchedBy: string;
}

export interface MatchSuggestion {
  line: BankLineRecord;
  entryId: string;
  /** Days between the line's booking day and the entry's effective day. */
  dayDifference: number;
  referenceMatched: boolean;
}

export const RULE_DIRECTIONS = ['IN', 'OUT', 'ANY'] as const;
export type RuleDirection = (typeof RULE_DIRECTIONS)[number];

export interface BankRuleRecord {
  bookId: string;
  id: string;
  accountId: string;
  priority: number;
  descriptionContains: string;
  direction: RuleDirection;
  counterAccountId: string;
  memo: string | null;
  createdAt: Date;
  createdBy: string;
}

export interface CreateRuleInput {
  bookId: string;
  accountId: string;
  descriptionContains: string;
  direction: RuleDirection;
  /** Exactly one of the two. */
  counterAccountId: string | null;
  counterAccountCode: string | null;
  memo: string | null;
  priority: number | null;
}

/** What became of one line when rules were applied or it was posted by hand. */
export interface LinePosting {
  lineId: string;
  entryId: string | null;
  ruleId: string | null;
  error: { code: ErrorCode; message: string; field: string | null } | null;
}

export const RECONCILIATION_STATUSES = ['OPEN', 'CLOSED'] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

export interface ReconciliationFigures {
  statementBalance: Decimal;
  /** The account's posted balance at the end of the period: debits less credits (money in positive). */
  bookBalance: Decimal;
  matchedLineIds: string[];
  matchedTotal: Decimal;
  /** Statement lines of the period not matched to an entry dated in or before it. */
  unmatchedLineIds: string[];
  unmatchedLinesTotal: Decimal;
  /** Entries on the account since reconciliation began, not matched to a line dated up to the period's end. */
  outstandingEntryIds: string[];
  outstandingTotal: Decimal;
  /** statementBalance - (bookBalance - outstandingTotal + unmatchedLinesTotal): what nothing explains. */
  difference: Decimal;
  /** Every statement line matched and statementBalance = bookBalance - outstandingTotal. */
  agrees: boolean;
}

export interface ReconciliationRecord {
  bookId: string;
  id: string;
  accountId: string;
  periodStart: string;
  periodEnd: string;
  status: ReconciliationStatus;
  unit: Unit;
  figures: ReconciliationFigures;
  createdAt: Date;
  createdBy: string;
  closedAt: Date | null;
  closedBy: string | null;
}

export interface StartReconciliationInput {
  bookId: string;
  accountId: string;
  periodStart: string;
  periodEnd: string;
  /** The bank's closing balance for periodEnd; default: the closing balance of a statement ending then. */
  statementBalance: string | null;
}
