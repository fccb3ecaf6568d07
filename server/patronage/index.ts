/**
 * The patronage domain's public face: a co-op's patronage policy, members' patronage records,
 * allocation runs (preview, commit, reverse, verify), cash payouts, revolving redemption, notices
 * of allocation and 1099-PATR data.
 */
export { QUALIFIED_REDEMPTION_DAYS, TAX_CSV_COLUMNS } from './documents.js';
export type { LeavingEvent } from './payouts.js';
export { PATRONAGE_CHART } from './policy.js';
export * from './records.js';
export { PatronageService } from './service.js';
