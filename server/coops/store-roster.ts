/**
 * The co-op's roster for other domains (patronage): every membership with its class, its person's
 * name and address (for notices and tax forms), its internal capital account and its state
 * events, in one query for a whole co-op however many members it has.
 */
import type { MembershipState } from '../core/index.js';
import type { Queryable } from '../platform/transaction.js';

export interface RosterMember {
  bookId: string;
  membershipId: string;
  memberNumber: number;
  partyId: string;
  partyName: string;
  partyAddress: string;
  externalRef: string | null;
  classCode: string;
  state: MembershipState;
  stateSince: string;
  internalCapitalAccountId: string;
  events: { toState: MembershipState; effectiveOn: string; seq: number }[];
}

/**
 * Memberships of a co-op in member-number order (only `membershipIds` when given), with their
 * events. `db` may be a transaction's connection, so a use case reads them under its own locks.
 */
export async function memberRoster(
  db: Queryable,
  bookId: string,
  membershipIds: string[] | null = null,
): Promise<RosterMember[]> {
  const { rows } = await db.query(
    `select m.id, m.member_number, m.party_id, p.name as party_name, p.address as party_address, p.external_ref,
            c.code as class_code, m.state, to_char(m.state_since, 'YYYY-MM-DD') as state_since,
            m.internal_capital_account_id,
            (select json_agg(json_build_array(e.to_state, to_char(e.effective_on, 'YYYY-MM-DD'), e.seq) order by e.seq)
               from membership_event e where e.book_id = m.book_id and e.membership_id = m.id) as events
       from membership m
       join party p on p.book_id = m.book_id and p.id = m.party_id
       join member_class c on c.book_id = m.book_id and c.id = m.class_id
      where m.book_id = $1 and ($2::uuid[] is null or m.id = any($2::uuid[]))
      order by m.member_number`,
    [bookId, membershipIds],
  );
  return rows.map((r) => ({
    bookId,
    membershipId: r.id,
    memberNumber: Number(r.member_number),
    partyId: r.party_id,
    partyName: r.party_name,
    partyAddress: r.party_address,
    externalRef: r.external_ref,
    classCode: r.class_code,
    state: r.state,
    stateSince: r.state_since,
    internalCapitalAccountId: r.internal_capital_account_id,
    events: ((r.events ?? []) as [MembershipState, string, number][]).map(([toState, effectiveOn, seq]) => ({
      toState,
      effectiveOn,
      seq: Number(seq),
    })),
  }));
}
