/**
 * Tokens and tenants for the authorization tests: issuing scoped tokens through the API (as the
 * run's admin), reading a token's id from its text, the one 401 body every refused token gets, and
 * a scan of a response for ids it must not contain (raw uuids, also inside base64 global ids and
 * cursors).
 */
import { expect } from 'vitest';
import type { LedgerClient, Role } from '../../client-sdk/index.js';
import { type RawGraphQLAnswer, uniqueSuffix } from './ledger.js';

export interface IssuedToken {
  token: string;
  tokenId: string;
  principalName: string;
}

/** Issues a token through the API (the client must act as an admin); fails the test on userErrors. */
export async function issueToken(
  admin: LedgerClient,
  input: {
    grants: { role: Role; scope: string }[];
    principalName?: string;
    label?: string;
    expiresAt?: Date;
  },
): Promise<IssuedToken> {
  const principalName = input.principalName ?? `principal ${uniqueSuffix()}`;
  const payload = await admin.issueApiToken({
    principalName,
    grants: input.grants,
    label: input.label ?? 'test',
    ...(input.expiresAt ? { expiresAt: input.expiresAt.toISOString() } : {}),
  });
  expect(payload.userErrors).toEqual([]);
  expect(payload.token).toMatch(TOKEN_PATTERN);
  return { token: payload.token!, tokenId: payload.apiToken!.id, principalName };
}

export const TOKEN_PATTERN = /^slt_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/;

/** The token id (a uuid) inside `slt_<32 hex>_<secret>`. */
export function tokenIdOf(token: string): string {
  const hex = /^slt_([0-9a-f]{32})_/.exec(token)?.[1];
  if (!hex) throw new Error(`not a token: ${token}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The secret part of a token (what only the holder knows). */
export function secretOf(token: string): string {
  return token.slice('slt_'.length + 32 + 1);
}

/** The answer to every refused bearer token (malformed, unknown, expired or revoked). */
export function expectRefusedToken(answer: Pick<RawGraphQLAnswer, 'status' | 'headers' | 'body'>): void {
  expect(answer.status).toBe(401);
  expect(answer.headers.get('www-authenticate')).toBe('Bearer');
  expect(answer.body).toEqual({
    errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } }],
  });
}

/**
 * The strings of `forbidden` that occur in `body`, looked for in its JSON text and in every
 * base64 run decoded (global ids and cursors hide raw ids that way).
 */
export function leaksIn(body: unknown, forbidden: Iterable<string>): string[] {
  const text = JSON.stringify(body) ?? '';
  const decoded = [...text.matchAll(/[A-Za-z0-9+/_-]{8,}={0,2}/g)].map((m) =>
    Buffer.from(m[0], m[0].includes('-') || m[0].includes('_') ? 'base64url' : 'base64').toString('latin1'),
  );
  const haystack = `${text}\n${decoded.join('\n')}`;
  return [...forbidden].filter((s) => s !== '' && haystack.includes(s));
}
