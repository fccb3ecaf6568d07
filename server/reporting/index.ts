/**
 * City reporting (issue 15): the public face of server/reporting. Profile figures and consent,
 * rollups, protected releases and their audit.
 */
export {
  type AuditFinding,
  type AuditReport,
  type AuditTarget,
  auditProtection,
  loadSolver,
} from './audit.js';
