/**
 * MikroORM entities (defineEntity, no decorators). They map the tables created by the committed
 * migrations; the migrations, not these definitions, are the source of truth for the schema.
 * Ledger writes of entries and lines go through set-based SQL (server/ledger/store.ts), so the
 * journal entities are read-only here.
 */
import { defineEntity, p } from '@mikro-orm/core';
import { DecimalType } from '../platform/db/decimal-type.js';

export const BookEntity = defineEntity({
  name: 'Book',
  tableName: 'book',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    description: p.text(),
    maxBackdateDays: p.integer().fieldName('max_backdate_days'),
    entrySeq: p.bigint('string').fieldName('entry_seq'),
    lastHash: p.text().fieldName('last_hash'),
    createdAt: p.datetime().fieldName('created_at'),
  },
});

export const BookUnitEntity = defineEntity({
  name: 'BookUnit',
  tableName: 'book_unit',
  properties: {
    bookId: p.uuid().primary().fieldName('book_id'),
    code: p.text().primary(),
    scale: p.smallint(),
  },
  primaryKeys: ['bookId', 'code'],
});

export const AccountEntity = defineEntity({
  name: 'Account',
  tableName: 'account',
  properties: {
    bookId: p.uuid().primary().fieldName('book_id'),
    id: p.uuid().primary(),
    code: p.text(),
    name: p.text(),
    type: p.text(),
    unitCode: p.text().fieldName('unit_code'),
    parentId: p.uuid().nullable().fieldName('parent_id'),
    lowerBound: p.type(DecimalType).nullable().fieldName('lower_bound'),
    upperBound: p.type(DecimalType).nullable().fieldName('upper_bound'),
    closedAt: p.datetime().nullable().fieldName('closed_at'),
    postedDebits: p.type(DecimalType).fieldName('posted_debits'),
    postedCredits: p.type(DecimalType).fieldName('posted_credits'),
    pendingDebits: p.type(DecimalType).fieldName('pending_debits'),
    pendingCredits: p.type(DecimalType).fieldName('pending_credits'),
    createdAt: p.datetime().fieldName('created_at'),
  },
  primaryKeys: ['bookId', 'id'],
});

export const ledgerEntities = [BookEntity, BookUnitEntity, AccountEntity];
