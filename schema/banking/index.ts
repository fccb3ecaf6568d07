/**
 * Bank statements and reconciliation (issue 17): statement files imported for a bank account,
 * lines matched to entries, rules, reconciliations. The book's treasurers, stewards and admins only.
 */
import './types.js';
import './queries.js';
import './mutations.js';
