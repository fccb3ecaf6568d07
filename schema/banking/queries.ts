/**
 * Root queries of banking (issue 17): `bankAccount(accountId)` (its mapping, statements, lines,
 * rules, suggestions and reconciliations), `bankStatement(id)` and `bankReconciliation(id)`. A
 * caller who may not read the book gets null, as for an id that does not exist.
 */

import type {
  AccountRow,
  BankLineRecord,
  BankStatementRecord,
  ReconciliationRecord,
} from '../../server/banking/index.js';
import { canReadBook } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { resolvePage } from '../connection.js';
import { guard } from '../errors.js';
import { decodeScopedId, scopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import { AccountRef } from '../refs.js';
import {
  BankLineConnection,
  BankLineRef,
  BankReconciliationConnection,
  BankReconciliationRef,
  BankRuleRef,
  BankStatementConnection,
  BankStatementRef,
  CsvMappingRef,
  decodeBankId,
  ReconciliationStatusEnum,
  SuggestionRef,
} from './types.js';

const isUuidLike = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s);

const BankLineStatusEnum = builder.enumType('BankLineStatus', { values: ['MATCHED', 'UNMATCHED'] as const });

export const BankAccountRef = builder.objectRef<AccountRow>('BankAccount').implement({
  authScopes: (a) => ({ bookRead: a.bookId }),
  description:
    'An ASSET or LIABILITY account of a book seen as a bank account: its statements, lines, rules and reconciliations.',
  fields: (t) => ({
    account: t.field({ type: AccountRef, resolve: (a) => a }),
    csvMapping: t.field({
      type: CsvMappingRef,
      nullable: true,
      description: "How the account's CSV files are read; null until one is given.",
      resolve: async (a, _x, ctx) =>
        (await guard(() => ctx.services.banking.accountOptions(a.bookId, a.id))).csvMapping,
    }),
    matchWindowDays: t.int({
      description: "Days either side of a line's date within which an entry may match it (default 3).",
      resolve: async (a, _x, ctx) =>
        (await guard(() => ctx.services.banking.accountOptions(a.bookId, a.id))).matchWindowDays,
    }),
    statements: t.connection(
      {
        type: BankStatementRef,
        description: 'Imported statement files, oldest first.',
        resolve: (a, args, ctx) =>
          resolvePage(args, {
            arity: 1,
            key: ([id]) => (isUuidLike(id!) ? id! : null),
            cursorOf: (s: BankStatementRecord) => [s.id],
            read: (q) => guard(() => ctx.services.banking.listStatements(a.bookId, a.id, q)),
            count: () => guard(() => ctx.services.banking.countStatements(a.bookId, a.id)),
          }),
      },
      BankStatementConnection,
    ),
    lines: t.connection(
      {
        type: BankLineRef,
        description:
          'Statement lines by date (from and to inclusive), optionally of one statement or status.',
        args: {
          status: t.arg({ type: BankLineStatusEnum }),
          statementId: t.arg.id(),
          from: t.arg({ type: 'Date' }),
          to: t.arg({ type: 'Date' }),
        },
        resolve: (a, args, ctx) => {
          const statement = args.statementId != null ? decodeBankId(args.statementId, 'BankStatement') : null;
          const filter = {
            bookId: a.bookId,
            accountId: a.id,
            statementId:
              args.statementId != null
                ? statement?.bookId === a.bookId
                  ? statement.id
                  : '00000000-0000-0000-0000-000000000000'
                : null,
            status: args.status ?? null,
            from: args.from ?? null,
            to: args.to ?? null,
          };
          return resolvePage(args, {
            arity: 2,
            key: ([d, id]) =>
              /^\d{4}-\d{2}-\d{2}$/.test(d!) && isUuidLike(id!) ? ([d!, id!] as [string, string]) : null,
            cursorOf: (l: BankLineRecord) => [l.bookedOn, l.id],
            read: (q) => guard(() => ctx.services.banking.listLines(filter, q)),
            count: () => guard(() => ctx.services.banking.countLines(filter)),
          });
        },
      },
      BankLineConnection,
    ),
    rules: t.field({
      type: [BankRuleRef],
      description: 'Rules in the order they are tried.',
      resolve: (a, _x, ctx) => guard(() => ctx.services.banking.rules(a.bookId, a.id)),
    }),
    suggestions: t.field({
      type: [SuggestionRef],
      description:
        'An entry for each unmatched line that one stands for (of one statement when given); nothing is stored.',
      args: { statementId: t.arg.id() },
      resolve: (a, args, ctx) => {
        const statement = args.statementId != null ? decodeBankId(args.statementId, 'BankStatement') : null;
        if (args.statementId != null && statement?.bookId !== a.bookId) return [];
        return guard(() => ctx.services.banking.suggestions(a.bookId, a.id, statement?.id ?? null));
      },
    }),
    reconciliations: t.connection(
      {
        type: BankReconciliationRef,
        description: 'Reconciliations by period, oldest first (closed ones never change).',
        args: { status: t.arg({ type: ReconciliationStatusEnum }) },
        resolve: (a, args, ctx) =>
          resolvePage(args, {
            arity: 1,
            key: ([d]) => (/^\d{4}-\d{2}-\d{2}$/.test(d!) ? d! : null),
            cursorOf: (r: ReconciliationRecord) => [r.periodStart],
            read: (q) =>
              guard(() => ctx.services.banking.listReconciliations(a.bookId, a.id, args.status ?? null, q)),
            count: () =>
              guard(() => ctx.services.banking.countReconciliations(a.bookId, a.id, args.status ?? null)),
          }),
      },
      BankReconciliationConnection,
    ),
  }),
});

builder.queryFields((t) => ({
  bankAccount: t.field({
    type: BankAccountRef,
    nullable: true,
    description:
      'An ASSET or LIABILITY account as a bank account; null for another account or a book the caller may not read.',
    authScopes: { authenticated: true },
    args: { accountId: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const key = decodeScopedId(String(args.accountId), 'Account');
      if (!key || !canReadBook(ctx.principal, key.bookId)) return null;
      const account = await guard(() => loaders(ctx).account.load(scopedId(key.bookId, key.id)));
      return account && (account.type === 'ASSET' || account.type === 'LIABILITY') ? account : null;
    },
  }),
  bankStatement: t.field({
    type: BankStatementRef,
    nullable: true,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const key = decodeBankId(args.id, 'BankStatement');
      if (!key || !canReadBook(ctx.principal, key.bookId)) return null;
      return (await guard(() => ctx.services.banking.getStatements([key])))[0] ?? null;
    },
  }),
  bankReconciliation: t.field({
    type: BankReconciliationRef,
    nullable: true,
    description:
      'A reconciliation: an open one as the books and lines stand now, a closed one as it was closed.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const key = decodeBankId(args.id, 'BankReconciliation');
      if (!key || !canReadBook(ctx.principal, key.bookId)) return null;
      return (await guard(() => ctx.services.banking.getReconciliations([key])))[0] ?? null;
    },
  }),
}));
