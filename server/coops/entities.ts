/**
 * MikroORM entities of the co-ops domain (defineEntity) for the plain single-record work: a
 * co-op's profile and the register of parties. Set-based work (joins, imports, the voting roll)
 * is hand-written SQL in store.ts. The coops migration is the source of truth for the tables.
 */
import { defineEntity, p } from '@mikro-orm/core';

export const CoopEntity = defineEntity({
  name: 'Coop',
  tableName: 'coop',
  properties: {
    bookId: p.uuid().primary().fieldName('book_id'),
    name: p.text(),
    kind: p.text(),
    naicsCode: p.text().fieldName('naics_code'),
    city: p.text(),
    neighbourhood: p.text(),
    latitude: p.decimal('string').nullable(),
    longitude: p.decimal('string').nullable(),
    foundedOn: p.string().columnType('date').fieldName('founded_on'),
    legalForm: p.text().fieldName('legal_form'),
    fiscalYearStart: p.text().fieldName('fiscal_year_start'),
    redemptionRule: p.text().fieldName('redemption_rule'),
    dataSharingConsent: p.boolean().fieldName('data_sharing_consent'),
    dataSharingConsentAt: p.datetime().nullable().fieldName('data_sharing_consent_at'),
    publicListing: p.boolean().fieldName('public_listing'),
    description: p.text(),
    website: p.text(),
    updatedAt: p.datetime().fieldName('updated_at'),
  },
});

export const PartyEntity = defineEntity({
  name: 'Party',
  tableName: 'party',
  properties: {
    bookId: p.uuid().primary().fieldName('book_id'),
    id: p.uuid().primary(),
    kind: p.text(),
    name: p.text(),
    email: p.text(),
    phone: p.text(),
    address: p.text(),
    organizationCoopId: p.uuid().nullable().fieldName('organization_coop_id'),
    externalRef: p.text().nullable().fieldName('external_ref'),
    idempotencyKey: p.text().nullable().fieldName('idempotency_key'),
    requestHash: p.text().nullable().fieldName('request_hash'),
    createdAt: p.datetime().fieldName('created_at'),
  },
  primaryKeys: ['bookId', 'id'],
});

export const coopEntities = [CoopEntity, PartyEntity];
