/**
 * Member tokens: a treasurer invites a member by issuing a token whose MEMBER grants name the
 * member's five accounts, so the person reads their own membership, party, schedule and statement
 * without an admin. The token is issued through the auth domain (admins only) as the system
 * principal `coop-invite`, after the treasurer check here; the label records who issued it.
 */

import { unknownToken } from '../auth/index.js';
import {
  LedgerError,
  MEMBER_ACCOUNT_ROLES,
  mayWriteBook,
  type Principal,
  systemPrincipal,
} from '../core/index.js';
import { isUuid } from '../platform/ids.js';
import type { CoopDeps } from './deps.js';
import { getMemberships } from './reading.js';
import {
  type IssueMemberTokenInput,
  MEMBER_TOKENS_MAX,
  type MemberTokenRecord,
  type RevokeMemberTokenInput,
} from './records.js';
import { getCoops } from './register.js';
import { text, unknownMembership } from './rules.js';

/**
 * Who issues and revokes member tokens in the auth domain (which takes admins only): the system, on
 * behalf of a treasurer checked here first.
 */
const INVITER = systemPrincipal('coop-invite');

/**
 * A treasurer invites a member: a new principal, named without personal data
 * (`member <number> of <co-op>`), with MEMBER grants on each of the member's five accounts, and
 * a token for it. The token is in the answer only (shown once). Any membership state is accepted:
 * a former member still reads their statement and the capital held for them.
 */
export async function issueMemberToken(
  deps: CoopDeps,
  input: IssueMemberTokenInput,
  actor: Principal,
): Promise<{ token: string; memberToken: MemberTokenRecord } | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
  const labelError = text(input.label, 'label', 200);
  if (labelError) return labelError;
  const [membership] = await getMemberships(deps, [{ bookId: input.bookId, id: input.membershipId }]);
  if (!membership) return unknownMembership();
  const [coop] = await getCoops(deps, [input.bookId]);
  if (!coop) return unknownMembership();
  const prefix = `member ${membership.memberNumber} of `;
  const issued = await deps.auth.issueToken(
    {
      // A principal name is at most 200 characters; a long co-op name is cut.
      principalName: `${prefix}${coop.name}`.slice(0, 200),
      grants: MEMBER_ACCOUNT_ROLES.map((role) => ({
        role: 'MEMBER' as const,
        scope: `${membership.bookId}:${membership.accounts[role]}`,
      })),
      label: input.label?.trim() || `issued by ${actor.id}`,
      expiresAt: input.expiresAt ?? null,
    },
    INVITER,
  );
  if (issued instanceof LedgerError) return issued;
  const [memberToken] = await deps.store.memberTokens(input.bookId, issued.record.id, MEMBER_TOKENS_MAX);
  return { token: issued.token, memberToken: memberToken! };
}

/**
 * Revokes a member token of the co-op: one whose grants are all MEMBER grants on accounts of this
 * book. Any other token (an admin's, a treasurer's, another co-op's member's), an unknown one, or
 * a co-op the actor may not write answers like an unknown token in AuthService.revokeToken, so
 * token ids cannot be probed. Revoking again keeps the first revocation time.
 */
export async function revokeMemberToken(
  deps: CoopDeps,
  input: RevokeMemberTokenInput,
  actor: Principal,
): Promise<MemberTokenRecord | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownToken();
  if (!isUuid(input.bookId) || !isUuid(input.tokenId)) return unknownToken();
  const [found] = await deps.store.memberTokens(input.bookId, input.tokenId, MEMBER_TOKENS_MAX);
  if (!found) return unknownToken();
  // Grants never change after a token is issued, so the check above still holds here.
  const revoked = await deps.auth.revokeToken(input.tokenId, INVITER);
  if (revoked instanceof LedgerError) return revoked;
  return (await deps.store.memberTokens(input.bookId, input.tokenId, MEMBER_TOKENS_MAX))[0]!;
}

/** The co-op's member tokens, oldest first (at most MEMBER_TOKENS_MAX); empty for anyone who may not write it. */
export async function memberTokens(
  deps: CoopDeps,
  bookId: string,
  actor: Principal,
): Promise<MemberTokenRecord[]> {
  if (!mayWriteBook(actor, bookId) || !isUuid(bookId)) return [];
  return deps.store.memberTokens(bookId, null, MEMBER_TOKENS_MAX);
}
