/**
 * The mutual-credit domain's public face (issue 14): networks as books, members with credit
 * limits, payments and payment requests, obligations between members and their multilateral
 * clearing, the zero-sum proof and statistics.
 */
export type { EntryRecord } from '../ledger/index.js';
export { asTransaction } from './reading.js';
export * from './records.js';
export { CreditService } from './service.js';
export type { MemberRow } from './store.js';
