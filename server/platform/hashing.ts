import { createHash } from 'node:crypto';
import { canonicalRequest } from '../core/index.js';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** SHA-256 of a request's canonical form: same key + same hash is a replay, another hash a reuse. */
export function requestHash(operation: string, input: unknown): string {
  return sha256(canonicalRequest(operation, input));
}
