/**
 * canonicalRequest writes its text directly (server/core/chain.ts) instead of JSON of a normalised
 * copy of the input: the text, and so every stored request hash, must stay exactly what the
 * definition (canonicalRequestReference) gives, for any input, or replays of requests hashed before
 * would answer IDEMPOTENCY_KEY_REUSED.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalRequest, canonicalRequestReference } from '../../server/core/index.js';
import { requestTreeArb } from '../helpers/chain-arbitraries.js';

const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('0', '1', '10', '9', '01', '-1', '__proto__', 'constructor', 'a', 'B', ''),
);
const tree = requestTreeArb(
  fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 4 })),
  key,
);

describe('canonicalRequest', () => {
  it('writes exactly the text of its definition, for any input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), tree, (operation, input) => {
        expect(canonicalRequest(operation, input)).toBe(canonicalRequestReference(operation, input));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes a journal entry request as its definition does', () => {
    const input = {
      bookId: '0193a3f0-0000-7000-8000-000000000001',
      entry: {
        idempotencyKey: 'k-1 "quoted" \\ ü',
        lines: [
          { accountId: 'a', accountCode: null, side: 'DEBIT', amount: '12.50', unit: 'EUR' },
          { accountId: 'b', side: 'CREDIT', amount: '12.50', unit: 'EUR' },
        ],
        effectiveAt: new Date('2026-01-02T03:04:05.006Z'),
        memo: 'tab\there \u0001 and a lone \ud800, a pair 😀',
        metadata: [{ key: 'z', value: '1' }],
      },
      expiresAt: null,
    };
    expect(canonicalRequest('postJournalEntry', input)).toBe(
      canonicalRequestReference('postJournalEntry', input),
    );
  });
});
