/**
 * The hash chain's canonical text is written directly (writeCanonicalEntry, no arrays of the
 * fields): it must be byte for byte what JSON.stringify of the fields writes
 * (canonicalEntryReference), or persisted chains would stop verifying. Checked on arbitrary
 * entries, strings that need escaping (quotes, backslashes, controls, lone and paired
 * surrogates), metadata in any key order (index-like keys too), and one fixed link whose hash is
 * pinned.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChainEntry,
  canonicalEntry,
  canonicalEntryReference,
  chainLinkText,
  writeCanonicalEntry,
} from '../../server/core/index.js';
import { chainEntryArb } from '../helpers/chain-arbitraries.js';

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 12, unit: 'binary' }),
  fc.string({
    maxLength: 12,
    unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\ud800', '\udc00', 'é', '€'),
  }),
);
const entryArb = chainEntryArb(text, fc.oneof(text, fc.constantFrom('0', '1', '10', '2', '01')));

describe('writeCanonicalEntry', () => {
  it('writes what JSON.stringify of the fields writes', () => {
    fc.assert(
      fc.property(entryArb, text, (entry, prefix) => {
        const reference = canonicalEntryReference(entry);
        expect(canonicalEntry(entry)).toBe(reference);
        expect(chainLinkText('ab', entry)).toBe(`ab\n${reference}`);
        // Amounts from the caller's own function, and the same Date objects written twice (the
        // cache of the last date written).
        const upper = writeCanonicalEntry(prefix, entry, entry.lines, (l) => l.amount.toUpperCase());
        const again = { ...entry, lines: entry.lines.map((l) => ({ ...l, amount: l.amount.toUpperCase() })) };
        expect(upper).toBe(prefix + canonicalEntryReference(again));
      }),
      { numRuns: 2000 },
    );
  });

  it('sees a date changed in place', () => {
    const at = new Date(1_700_000_000_000);
    const entry: ChainEntry = {
      bookId: 'b',
      id: 'i',
      seq: '1',
      kind: 'STANDARD',
      idempotencyKey: 'k',
      effectiveAt: at,
      recordedAt: at,
      memo: '',
      metadata: {},
      reversesId: null,
      pendingId: null,
      expiresAt: null,
      postedBy: null,
      lines: [],
    };
    expect(canonicalEntry(entry)).toBe(canonicalEntryReference(entry));
    at.setTime(1_700_000_000_001);
    expect(canonicalEntry(entry)).toBe(canonicalEntryReference(entry));
    expect(canonicalEntry(entry)).toContain('2023-11-14T22:13:20.001Z');
  });

  it('keeps a link hashed before the direct writer', () => {
    const entry: ChainEntry = {
      bookId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c',
      seq: '42',
      kind: 'STANDARD',
      idempotencyKey: 'pay "rent"\\2026',
      effectiveAt: new Date('2026-12-06T10:00:00.000Z'),
      recordedAt: new Date('2026-12-06T10:00:01.500Z'),
      memo: 'café \u0001 ☕',
      metadata: { zeta: '1', alpha: 'a"b', '10': 'ten', '2': 'two' },
      reversesId: null,
      pendingId: null,
      expiresAt: new Date('2027-01-01T00:00:00.000Z'),
      postedBy: 'token:1',
      lines: [
        { accountId: 'a1', side: 'DEBIT', amount: '12.50', unitCode: 'USD' },
        { accountId: 'a2', side: 'CREDIT', amount: '12.50', unitCode: 'USD' },
      ],
    };
    const link = chainLinkText('0'.repeat(64), entry);
    expect(link).toBe(`${'0'.repeat(64)}\n${canonicalEntryReference(entry)}`);
    // The SHA-256 of this link as the JSON.stringify writer made it (computed at c3ddffc).
    expect(createHash('sha256').update(link).digest('hex')).toBe(PINNED);
  });
});

const PINNED = '3bcc465f9cb96dfc55640629978b89c5cfeeed9dad5391a8815f1eccd0d95982';
