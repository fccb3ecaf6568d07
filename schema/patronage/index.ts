/**
 * Patronage (issue 13): a co-op's patronage policy, members' patronage records, allocation runs
 * (preview, commit, reverse, verify), cash payouts and revolving redemption, notices of allocation
 * and 1099-PATR data. Treasurers (and admins) run and commit; a member reads their own allocations
 * and notices; anyone else nothing (another tenant's ids answer as unknown).
 */
import './types.js';
import './queries.js';
import './mutations.js';
