/**
 * Cooperatives and their members (issue 5): Coop, MemberClass, Party, Membership and what hangs
 * from them, the public directory, the voting roll, statements, member tokens, and their queries
 * and mutations. A co-op is its book (same raw id), so a TREASURER grant on the book is a treasurer
 * grant on the co-op.
 *
 * Who reads what (schema/access.ts, ./access.ts):
 * - Coop (its private fields, chart, members, parties, voting roll): readers of the book only.
 * - Party and Membership (personal data): readers of the book, and the person, i.e. a token whose
 *   MEMBER grants name accounts of one of that party's memberships. A member's Membership.coop is
 *   null (the Coop object is the treasurers'); Membership.coopProfile gives the public profile.
 * - MemberClass: readers of the book and members of the co-op.
 * - DirectoryEntry: anyone, for listed co-ops; only public fields.
 * Each type checks itself (authScopes), and loaders of node(id:) drop what the caller may not
 * read, so another member's id answers null like an unknown one.
 */
import './coop.js';
import './directory.js';
import './memberships.js';
import './voting-roll.js';
import './statements.js';
import './queries.js';
import './coop-mutations.js';
import './membership-mutations.js';
import './import-mutations.js';
import './member-tokens.js';
