/**
 * Mutual credit (issue 14): networks, members and their limits, payments and payment requests,
 * obligations and their multilateral clearing, the zero-sum proof and statistics. Stewards (and
 * admins) manage a network; a member co-op's treasurers act for its account; another tenant's ids
 * answer as unknown.
 */
import './types.js';
import './queries.js';
import './mutations.js';
