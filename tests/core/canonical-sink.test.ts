/**
 * The canonical texts of idempotency and of the hash chain are hashed from bytes written into a
 * reused buffer (Utf8Sink), not from a string: those bytes must be exactly the UTF-8 of the text
 * the definitions give (canonicalRequestReference, canonicalEntryReference), or stored request
 * hashes and chains would stop matching. Checked on arbitrary inputs: any Unicode (surrogate
 * pairs, lone surrogates, escapes), index-like keys (left to the reference), long texts (the
 * buffer grows), and the buffer reused between writes.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalEntryReference,
  canonicalRequestReference,
  Utf8Sink,
  writeCanonicalRequestTo,
  writeChainLinkTo,
} from '../../server/core/index.js';
import { requestHash } from '../../server/platform/hashing.js';
import { chainEntryArb, requestTreeArb } from '../helpers/chain-arbitraries.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const utf8 = (text: string) => Buffer.from(text, 'utf8');

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 12, unit: 'binary' }),
  fc.string({ maxLength: 6, unit: 'grapheme' }),
  fc.string({ maxLength: 3000, unit: fc.constantFrom('a', 'é', '€', '\ud83d\ude00', '"') }),
  fc.string({
    maxLength: 12,
    unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u0080', '\ud800', '\udc00', 'é'),
  }),
);
const key = fc.oneof(text, fc.constantFrom('0', '1', '10', '01', '-1', '__proto__', 'a', 'B', ''));
const tree = requestTreeArb(text, key);

const entryArb = chainEntryArb(text, key);

// One sink for the whole run: reused (reset) between writes, as the service reuses its own.
const sink = new Utf8Sink();

describe('Utf8Sink', () => {
  it('holds the UTF-8 of a request canonical text, and requestHash hashes it', () => {
    fc.assert(
      fc.property(text, tree, (operation, input) => {
        const reference = canonicalRequestReference(operation, input);
        if (writeCanonicalRequestTo(sink.reset(), operation, input)) {
          expect(Buffer.from(sink.view()).equals(utf8(reference))).toBe(true);
        }
        expect(requestHash(operation, input)).toBe(sha256(reference));
      }),
      { numRuns: 3000 },
    );
  });

  it('holds the UTF-8 of a chain link text', () => {
    fc.assert(
      fc.property(entryArb, text, (entry, prevHash) => {
        writeChainLinkTo(sink.reset(), prevHash, entry, entry.lines, (l) => l.amount);
        const reference = `${prevHash}\n${canonicalEntryReference(entry)}`;
        expect(Buffer.from(sink.view()).equals(utf8(reference))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('grows past its first buffer and keeps what it held', () => {
    const long = 'x'.repeat(5000) + 'é'.repeat(3000) + '\ud83d\ude00'.repeat(2000);
    sink.reset().raw('ab');
    sink.json(long);
    sink.raw(long);
    expect(Buffer.from(sink.view()).equals(utf8(`ab${JSON.stringify(long)}${long}`))).toBe(true);
    sink.reset().raw('\ud800 lone');
    expect(Buffer.from(sink.view()).equals(utf8('\ud800 lone'))).toBe(true);
  });
});
