/**
 * City reporting (issue 15): the public face of server/reporting. Treasurers' profile reports,
 * the rollup, protected releases with their audit, slices for a city's analysts and open data.
 */
export { mayReadCity } from './access.js';
export {
  type AuditFinding,
  type AuditReport,
  type AuditTarget,
  auditProtection,
  loadSolver,
} from './audit.js';
export type { ExportFormat, ExportResult } from './export.js';
export { GENDERS, MEASURES, RACES, type ReportingMeasure } from './measures.js';
export { PEOPLE_MAX, type ProfileInput } from './profiles.js';
export {
  CELL_JSON_FIELDS,
  CELL_STATUSES,
  type CellJsonField,
  type CellStatus,
  QUERY_CELLS_MAX,
  QUERY_CODES_MAX,
  type SliceCell,
  type SliceInput,
  type SliceResult,
} from './query.js';
export type { CreateReleaseInput, ReleaseSummary } from './release.js';
export { ReleasesBusyError, releaseSlots } from './release-admission.js';
export { ReportingService } from './service.js';
export type { ProfileRow, ReleaseRow, RollupRow } from './store.js';
