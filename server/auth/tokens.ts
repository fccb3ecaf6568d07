/**
 * API token strings. A token is `slt_<token id as 32 hex digits>_<secret>` (the secret is 32 random
 * bytes in base64url). Only SHA-256 of the secret is stored, so a copy of the database holds no
 * usable token; the secret is shown once, when the token is issued.
 */
import { hash, randomBytes } from 'node:crypto';
import { uuidv7 } from '../platform/ids.js';

const TOKEN = /^slt_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

function sha256(text: string): string {
  // The one-shot hash: the same digest as createHash's, without a Hash object (~5 -> ~1.5 µs).
  return hash('sha256', text, 'hex');
}

function hexToUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Makes a new token for a token id: the plaintext (shown once) and the hash to store. */
export function mintToken(tokenId: string): { token: string; secretHash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `slt_${tokenId.replaceAll('-', '')}_${secret}`, secretHash: sha256(secret) };
}

/** Splits a token into its id and secret hash; null when it is not a token at all. */
export function parseToken(token: string): { tokenId: string; secretHash: string } | null {
  const match = TOKEN.exec(token);
  if (!match) return null;
  return { tokenId: hexToUuid(match[1]!), secretHash: sha256(match[2]!) };
}

/** The token id of a token string, without hashing its secret; null when it is not a token. */
export function tokenIdOf(token: string): string | null {
  const match = TOKEN.exec(token);
  return match ? hexToUuid(match[1]!) : null;
}

/** A token for ADMIN_TOKEN or tests: a fresh random token string. */
export function newTokenString(): string {
  return mintToken(uuidv7()).token;
}
