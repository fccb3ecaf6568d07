/**
 * Arbitrary chain entries (the fields a hash-chain link covers) for property tests of the canonical
 * texts: every string drawn from `text`, metadata keys from `key`, instants anywhere in Date's range
 * from the epoch on.
 */
import fc from 'fast-check';
import { type ChainEntry, ENTRY_KINDS } from '../../server/core/index.js';

export function chainEntryArb(
  text: fc.Arbitrary<string>,
  key: fc.Arbitrary<string>,
): fc.Arbitrary<ChainEntry> {
  const date = fc.date({ min: new Date(0), max: new Date(8.64e15), noInvalidDate: true });
  return fc.record({
    bookId: text,
    id: text,
    seq: text,
    kind: fc.constantFrom(...ENTRY_KINDS),
    idempotencyKey: text,
    effectiveAt: date,
    recordedAt: date,
    memo: text,
    metadata: fc.array(fc.tuple(key, text), { maxLength: 6 }).map((pairs) => Object.fromEntries(pairs)),
    reversesId: fc.option(text, { nil: null }),
    pendingId: fc.option(text, { nil: null }),
    expiresAt: fc.option(date, { nil: null }),
    postedBy: fc.option(text, { nil: null }),
    lines: fc.array(
      fc.record({
        accountId: text,
        side: fc.constantFrom('DEBIT' as const, 'CREDIT' as const),
        amount: text,
        unitCode: text,
      }),
      { maxLength: 5 },
    ),
  }) as fc.Arbitrary<ChainEntry>;
}
