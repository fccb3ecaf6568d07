import { createHash, hash } from 'node:crypto';
import { canonicalRequestReference, Utf8Sink, writeCanonicalRequestTo } from '../core/index.js';

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

/**
 * The buffer canonical texts are written into to be hashed (core/canonical-sink.ts): reset by
 * each user, used synchronously (written, then hashed by sha256Written before anything else runs).
 */
const scratch = new Utf8Sink();

/** The scratch sink, emptied: write a canonical text into it, then hash it with sha256Written. */
export function hashScratch(): Utf8Sink {
  return scratch.reset();
}

/** SHA-256 of what was written into the sink: the same as sha256 of the text it stands for. */
export function sha256Written(sink: Utf8Sink): string {
  return hash('sha256', sink.view(), 'hex');
}

/** SHA-256 of a request's canonical form: same key + same hash is a replay, another hash a reuse. */
export function requestHash(operation: string, input: unknown): string {
  // sha256(canonicalRequest(operation, input)), the text written as bytes (no string built).
  const sink = hashScratch();
  return writeCanonicalRequestTo(sink, operation, input)
    ? sha256Written(sink)
    : sha256(canonicalRequestReference(operation, input));
}
