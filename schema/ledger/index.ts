/** The ledger's types: books, accounts, entries, reports, and its queries and mutations. */
import './book.js';
import './account.js';
import './entry.js';
import './reports.js';
import './queries.js';
import './mutations.js';
import './statements.js';
import './journal-import.js';
