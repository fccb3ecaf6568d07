/**
 * MikroORM entities of the auth domain (defineEntity): principals, their role grants and API
 * tokens. They map the tables of the identities migration, which is the source of truth.
 */
import { defineEntity, p } from '@mikro-orm/core';

export const PrincipalEntity = defineEntity({
  name: 'Principal',
  tableName: 'principal',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    createdAt: p.datetime().fieldName('created_at'),
  },
});

export const RoleGrantEntity = defineEntity({
  name: 'RoleGrant',
  tableName: 'role_grant',
  properties: {
    principalId: p.uuid().primary().fieldName('principal_id'),
    role: p.text().primary(),
    scopeId: p.text().primary().fieldName('scope_id'),
    createdAt: p.datetime().fieldName('created_at'),
  },
  primaryKeys: ['principalId', 'role', 'scopeId'],
});

export const ApiTokenEntity = defineEntity({
  name: 'ApiToken',
  tableName: 'api_token',
  properties: {
    id: p.uuid().primary(),
    principalId: p.uuid().fieldName('principal_id'),
    secretHash: p.text().fieldName('secret_hash'),
    label: p.text(),
    createdAt: p.datetime().fieldName('created_at'),
    expiresAt: p.datetime().nullable().fieldName('expires_at'),
    revokedAt: p.datetime().nullable().fieldName('revoked_at'),
    lastUsedAt: p.datetime().nullable().fieldName('last_used_at'),
  },
});

export const authEntities = [PrincipalEntity, RoleGrantEntity, ApiTokenEntity];
