/**
 * The co-ops domain's object refs and enums, declared up front so its types in different files can
 * point at each other (schema/refs.ts does the same for the ledger's, which every domain uses).
 */
import type {
  CoopRecord,
  MemberClassRecord,
  MembershipRecord,
  PartyRecord,
} from '../../server/coops/index.js';
import {
  COOP_ACCOUNT_PURPOSES,
  COOP_KINDS,
  MEMBER_ACCOUNT_ROLES,
  MEMBERSHIP_STATES,
  PARTY_KINDS,
  REDEMPTION_RULES,
} from '../../server/core/index.js';
import { builder } from '../builder.js';

export const CoopRef = builder.objectRef<CoopRecord>('Coop');
export const MemberClassRef = builder.objectRef<MemberClassRecord>('MemberClass');
export const PartyRef = builder.objectRef<PartyRecord>('Party');
export const MembershipRef = builder.objectRef<MembershipRecord>('Membership');
/** The public face of a co-op: only fields it publishes in the directory. */
export const DirectoryEntryRef = builder.objectRef<CoopRecord>('DirectoryEntry');

// ---------- enums ----------

export const CoopKindEnum = builder.enumType('CoopKind', {
  description: 'What kind of co-op it is, by who its members are.',
  values: COOP_KINDS,
});
export const RedemptionRuleEnum = builder.enumType('RedemptionRule', {
  description:
    "What happens to a leaving member's capital: REPAY_NOW pays it out in the leaving entry (cash or bank); " +
    'HOLD keeps it as a redemption payable to the former member, repaid later with repayRedemption.',
  values: REDEMPTION_RULES,
});
export const PartyKindEnum = builder.enumType('PartyKind', {
  description: 'A person, or an organisation (e.g. a co-op that is a member of a federation).',
  values: PARTY_KINDS,
});
export const MembershipStateEnum = builder.enumType('MembershipState', {
  description:
    'APPLICANT -> CANDIDATE (probation) -> ACTIVE; any of these -> WITHDRAWN (the member left) or TERMINATED ' +
    '(the co-op ended it). APPLICANT may go straight to ACTIVE. WITHDRAWN and TERMINATED are final.',
  values: MEMBERSHIP_STATES,
});
export const CoopAccountPurposeEnum = builder.enumType('CoopAccountPurpose', {
  description: "What each account of a co-op's default chart is for.",
  values: COOP_ACCOUNT_PURPOSES,
});
export const MemberAccountRoleEnum = builder.enumType('MemberAccountRole', {
  description:
    "A member's own accounts in the co-op's book: SHARE_CAPITAL (paid-up shares), SUBSCRIPTION_RECEIVABLE (buy-in " +
    'still owed), SUBSCRIBED_UNPAID (its equity counterpart), INTERNAL_CAPITAL (retained patronage), ' +
    'REDEMPTION_PAYABLE (capital held for a former member).',
  values: MEMBER_ACCOUNT_ROLES,
});
export const InstalmentStatusEnum = builder.enumType('InstalmentStatus', {
  description:
    'PAID; PARTLY_PAID (a part paid before its day); DUE (due today, not fully paid); OVERDUE (due before today, ' +
    'not fully paid: `paid` shows any part paid); UPCOMING (not yet due, nothing paid); CANCELLED (the membership ended unpaid).',
  values: ['PAID', 'PARTLY_PAID', 'DUE', 'OVERDUE', 'UPCOMING', 'CANCELLED'] as const,
});
export const PaymentMethodEnum = builder.enumType('PaymentMethod', {
  description: "Which of the co-op's money accounts moves: CASH (1000) or BANK (1010).",
  values: ['CASH', 'BANK'] as const,
});
