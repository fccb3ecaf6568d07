/**
 * A member's statement: their own accounts over a period, with opening and closing balances, and
 * the entries between, as movements (only the lines on the member's own accounts) and, for readers
 * of the book, in full. Readable by the co-op's treasurers and the member.
 */
import { GraphQLError } from 'graphql';
import type { MemberStatement, MembershipRecord, StatementAccount } from '../../server/coops/index.js';
import {
  canReadBook,
  formatAmount,
  LedgerError,
  MEMBER_ACCOUNT_ROLES,
  type MemberAccountRole,
  type Unit,
} from '../../server/core/index.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { guard } from '../errors.js';
import { scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import { AccountRef, type EntryRecord, JournalEntryRef, SideEnum, UnitRef } from '../refs.js';
import { memberAccount } from './access.js';
import { unitOf } from './loaders.js';
import { MemberAccountRoleEnum, MembershipRef } from './refs.js';

/** Raises a domain error of a query (queries have no userErrors) as a top-level error with its code. */
function queryError(error: LedgerError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code, field: error.field } });
}

interface StatementView {
  membership: MembershipRecord;
  unit: Unit;
  statement: MemberStatement;
}

const StatementAccountRef = builder
  .objectRef<StatementAccount & { membership: MembershipRecord; unit: Unit }>('MemberStatementAccount')
  .implement({
    description: 'One of the member’s accounts over the period, balances in its normal direction.',
    fields: (t) => ({
      role: t.field({ type: MemberAccountRoleEnum, resolve: (a) => a.role }),
      account: t.field({
        type: AccountRef,
        nullable: true,
        description: 'The account; null for a caller who may not read it.',
        resolve: (a, _x, ctx) => memberAccount(ctx, a.membership, a.role),
      }),
      opening: t.field({
        type: 'Decimal',
        description: 'Posted balance at the start of `from` (00:00 UTC).',
        resolve: (a) => formatAmount(a.opening, a.unit.scale),
      }),
      closing: t.field({
        type: 'Decimal',
        description: 'Posted balance at the end of `to` (24:00 UTC).',
        resolve: (a) => formatAmount(a.closing, a.unit.scale),
      }),
    }),
  });

const MemberAccountChangeRef = builder
  .objectRef<{ role: MemberAccountRole; side: 'DEBIT' | 'CREDIT'; amount: string }>('MemberAccountChange')
  .implement({
    description: 'A line of an entry on one of the member’s own accounts.',
    fields: (t) => ({
      role: t.field({ type: MemberAccountRoleEnum, resolve: (c) => c.role }),
      side: t.field({ type: SideEnum, resolve: (c) => c.side }),
      amount: t.field({ type: 'Decimal', resolve: (c) => c.amount }),
    }),
  });

const MemberMovementRef = builder
  .objectRef<{ entry: EntryRecord; membership: MembershipRecord }>('MemberMovement')
  .implement({
    description:
      "An entry as the member sees it: when, what, and its lines on the member's own accounts only (the other side " +
      "of the entry, e.g. the co-op's bank account, is the treasurers').",
    fields: (t) => ({
      effectiveAt: t.field({ type: 'DateTime', resolve: (v) => v.entry.effectiveAt }),
      recordedAt: t.field({ type: 'DateTime', resolve: (v) => v.entry.recordedAt }),
      memo: t.string({ resolve: (v) => v.entry.memo }),
      event: t.string({
        nullable: true,
        description:
          'What kind of membership event posted it (SUBSCRIPTION, INSTALMENT, REDEMPTION, ...), when known.',
        resolve: (v) => v.entry.metadata['coop.event'] ?? null,
      }),
      changes: t.field({
        type: [MemberAccountChangeRef],
        resolve: (v) => {
          const roleOf = new Map(MEMBER_ACCOUNT_ROLES.map((r) => [v.membership.accounts[r], r]));
          return v.entry.lines
            .filter((l) => roleOf.has(l.accountId))
            .map((l) => ({
              role: roleOf.get(l.accountId)!,
              side: l.side,
              amount: formatAmount(l.amount, l.scale),
            }));
        },
      }),
    }),
  });

export const MemberStatementRef = builder.objectRef<StatementView>('MemberStatement').implement({
  description:
    "A member's accounts over a period (dates inclusive): opening and closing balances and the entries between.",
  authScopes: (s) => ({
    $any: {
      bookRead: s.membership.bookId,
      partyRead: scopedId(s.membership.bookId, s.membership.partyId),
    },
  }),
  fields: (t) => ({
    membership: t.field({ type: MembershipRef, resolve: (s) => s.membership }),
    from: t.field({ type: 'Date', resolve: (s) => s.statement.from }),
    to: t.field({ type: 'Date', resolve: (s) => s.statement.to }),
    unit: t.field({ type: UnitRef, resolve: (s) => s.unit }),
    accounts: t.field({
      type: [StatementAccountRef],
      resolve: (s) => s.statement.accounts.map((a) => ({ ...a, membership: s.membership, unit: s.unit })),
    }),
    capitalOpening: t.field({
      type: 'Decimal',
      description: "The member's capital at the start: paid-up share capital plus internal capital.",
      resolve: (s) => formatAmount(s.statement.capitalOpening, s.unit.scale),
    }),
    capitalClosing: t.field({
      type: 'Decimal',
      description: "The member's capital at the end.",
      resolve: (s) => formatAmount(s.statement.capitalClosing, s.unit.scale),
    }),
    movements: t.field({
      type: [MemberMovementRef],
      description:
        "Entries of the period touching the member's accounts, oldest first, showing only those accounts' lines.",
      resolve: (s) => s.statement.entries.map((entry) => ({ entry, membership: s.membership })),
    }),
    entries: t.field({
      type: [JournalEntryRef],
      nullable: true,
      description:
        "The same entries in full (every line); null for a caller who may not read the co-op's book (use movements).",
      resolve: (s, _a, ctx) => (canReadBook(ctx.principal, s.membership.bookId) ? s.statement.entries : null),
    }),
    truncated: t.boolean({
      description: 'True when the period holds more entries than are listed (at most 1000).',
      resolve: (s) => s.statement.truncated,
    }),
  }),
});

export async function statementOf(
  ctx: GraphQLContext,
  m: MembershipRecord,
  from: string,
  to: string,
): Promise<StatementView> {
  const [statement, unit] = await Promise.all([
    guard(() => ctx.services.coops.statement(m, from, to)),
    unitOf(ctx, m),
  ]);
  if (statement instanceof LedgerError) throw queryError(statement);
  for (const e of statement.entries) loaders(ctx).entry.prime(scopedId(e.bookId, e.id), e);
  return { membership: m, unit, statement };
}
