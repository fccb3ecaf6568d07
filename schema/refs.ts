/** Object refs declared up front so types in different files can point at each other. */

import { ACCOUNT_TYPES, type AccountType, ENTRY_KINDS, SIDES, type Unit } from '../server/core/index.js';
import type {
  AccountRow,
  BalanceRecord,
  BookRecord,
  ChainVerification,
  EntryRecord,
  LineRecord,
  TrialBalanceLine,
  TrialBalanceUnit,
  TrialBalanceView,
} from '../server/ledger/index.js';
import { builder } from './builder.js';

export const BookRef = builder.objectRef<BookRecord>('Book');
export const AccountRef = builder.objectRef<AccountRow>('Account');
export const JournalEntryRef = builder.objectRef<EntryRecord>('JournalEntry');
export const JournalLineRef = builder.objectRef<LineRecord & { bookId: string }>('JournalLine');
export const AccountBalanceRef = builder.objectRef<BalanceRecord>('AccountBalance');
export const TrialBalanceRef = builder.objectRef<TrialBalanceView>('TrialBalance');
export const TrialBalanceLineRef = builder.objectRef<TrialBalanceLine>('TrialBalanceLine');
export const TrialBalanceUnitRef = builder.objectRef<TrialBalanceUnit>('TrialBalanceUnitTotal');
export const ChainVerificationRef = builder.objectRef<ChainVerification>('ChainVerification');

export const AccountTypeEnum = builder.enumType('AccountType', {
  description:
    'ASSET and EXPENSE accounts are debit-normal; LIABILITY, EQUITY and REVENUE are credit-normal.',
  values: ACCOUNT_TYPES,
});
export const SideEnum = builder.enumType('Side', { values: SIDES });
export const EntryKindEnum = builder.enumType('JournalEntryKind', {
  description:
    'STANDARD: posted lines. REVERSAL: mirrors another entry. PENDING: reserves against bounds, not yet posted. ' +
    'COMMIT: posts a pending entry. VOID: releases a pending entry (no lines).',
  values: ENTRY_KINDS,
});
export const EntryStatusEnum = builder.enumType('JournalEntryStatus', {
  description:
    'POSTED counts in posted balances; PENDING reserves; VOIDED and EXPIRED pending entries released their reservation.',
  values: ['POSTED', 'PENDING', 'COMMITTED', 'VOIDED', 'EXPIRED'] as const,
});

export const UnitRef = builder.objectRef<Unit>('Unit').implement({
  description:
    'A unit of account: a currency (ISO 4217) or a custom unit such as HOUR, with a fixed number of decimal places.',
  fields: (t) => ({
    code: t.exposeString('code'),
    scale: t.exposeInt('scale', { description: 'Decimal places every amount in this unit has (0 to 18).' }),
  }),
});

export const MetadataEntryRef = builder.objectRef<{ key: string; value: string }>('MetadataEntry').implement({
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

export const MetadataInput = builder.inputType('MetadataInput', {
  description:
    'One metadata pair. At most 50 pairs per entry; keys 1-40 characters of letters, digits and _ . : -; values up to 500 characters.',
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

export type { AccountType, EntryRecord };
