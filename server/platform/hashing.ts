import { createHash, hash } from 'node:crypto';
import { canonicalRequest } from '../core/index.js';

export function sha256(text: string): string {
  // One-shot (no Hash object per call): two per posted entry (its request and its chain link).
  return hash('sha256', text, 'hex');
}

/** SHA-256 of the pieces joined, fed one at a time (the same as sha256 of their concatenation). */
export function sha256Parts(parts: Iterable<string>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** SHA-256 of a request's canonical form: same key + same hash is a replay, another hash a reuse. */
export function requestHash(operation: string, input: unknown): string {
  return sha256(canonicalRequest(operation, input));
}
