/**
 * Committed migrations, listed explicitly: file discovery cannot import `.ts` under vitest
 * (see shared/STACK-NOTES.md). Append new migrations here in order.
 */
import { Migration20261125000000_ledger_core } from './Migration20261125000000_ledger_core.js';
import { Migration20261125100000_identities } from './Migration20261125100000_identities.js';
import { Migration20261126000000_coops } from './Migration20261126000000_coops.js';
import { Migration20261206100000_amount_scale } from './Migration20261206100000_amount_scale.js';
import { Migration20261206200000_refusals } from './Migration20261206200000_refusals.js';
import { Migration20261207120000_patronage } from './Migration20261207120000_patronage.js';
import { Migration20261207130000_register_idempotency } from './Migration20261207130000_register_idempotency.js';
import { Migration20261208100000_credit } from './Migration20261208100000_credit.js';
import { Migration20261215100000_banking } from './Migration20261215100000_banking.js';
import { Migration20261216000000_book_version } from './Migration20261216000000_book_version.js';
import { Migration20261217000000_reporting } from './Migration20261217000000_reporting.js';
import { Migration20261218000000_clearing_assert } from './Migration20261218000000_clearing_assert.js';
import { Migration20261219000000_clearing_bulk } from './Migration20261219000000_clearing_bulk.js';
import { Migration20261220000000_reporting_closed } from './Migration20261220000000_reporting_closed.js';
import { Migration20261222000000_book_managed_by } from './Migration20261222000000_book_managed_by.js';
import { Migration20261223000000_journal_refs } from './Migration20261223000000_journal_refs.js';
import { Migration20261224000000_credit_request_refusals } from './Migration20261224000000_credit_request_refusals.js';
import { Migration20261224100000_credit_clearing_totals } from './Migration20261224100000_credit_clearing_totals.js';

export const migrationsList = [
  { name: 'Migration20261125000000_ledger_core', class: Migration20261125000000_ledger_core },
  { name: 'Migration20261125100000_identities', class: Migration20261125100000_identities },
  { name: 'Migration20261126000000_coops', class: Migration20261126000000_coops },
  { name: 'Migration20261206100000_amount_scale', class: Migration20261206100000_amount_scale },
  { name: 'Migration20261206200000_refusals', class: Migration20261206200000_refusals },
  { name: 'Migration20261207120000_patronage', class: Migration20261207120000_patronage },
  {
    name: 'Migration20261207130000_register_idempotency',
    class: Migration20261207130000_register_idempotency,
  },
  { name: 'Migration20261208100000_credit', class: Migration20261208100000_credit },
  { name: 'Migration20261215100000_banking', class: Migration20261215100000_banking },
  { name: 'Migration20261216000000_book_version', class: Migration20261216000000_book_version },
  { name: 'Migration20261217000000_reporting', class: Migration20261217000000_reporting },
  { name: 'Migration20261218000000_clearing_assert', class: Migration20261218000000_clearing_assert },
  { name: 'Migration20261219000000_clearing_bulk', class: Migration20261219000000_clearing_bulk },
  { name: 'Migration20261220000000_reporting_closed', class: Migration20261220000000_reporting_closed },
  { name: 'Migration20261222000000_book_managed_by', class: Migration20261222000000_book_managed_by },
  { name: 'Migration20261223000000_journal_refs', class: Migration20261223000000_journal_refs },
  {
    name: 'Migration20261224000000_credit_request_refusals',
    class: Migration20261224000000_credit_request_refusals,
  },
  {
    name: 'Migration20261224100000_credit_clearing_totals',
    class: Migration20261224100000_credit_clearing_totals,
  },
];
