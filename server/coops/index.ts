/**
 * The co-ops domain's public face: co-ops, member classes, parties, memberships and their money,
 * the voting roll, statements, CSV imports, member tokens and the public directory.
 */
export type { EntryRecord } from '../ledger/index.js';
export { type CsvRecord, CsvSyntaxError, parseCsv } from './csv.js';
export type { LeavingHook } from './deps.js';
export { directoryProfilePath, directoryRoute, murmurationsProfile } from './directory.js';
export { coopEntities } from './entities.js';
export {
  IMPORT_KEY_LENGTH_MAX,
  IMPORT_ROWS_MAX,
  type ImportInput,
  type ImportKind,
  type ImportResult,
  type RowError,
} from './import.js';
export * from './records.js';
export { dayStart, todayUtc, unknownCoop, unknownMembership, validateCoopProfile } from './rules.js';
export { CoopService } from './service.js';
export { type MemberState, memberRoster, memberStates, type RosterMember } from './store-roster.js';
