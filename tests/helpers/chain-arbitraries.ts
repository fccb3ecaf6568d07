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

/**
 * Arbitrary request inputs for property tests of the canonical request text: JSON-like trees of
 * texts from `text`, numbers, booleans, null, undefined and dates, objects keyed from `key`.
 */
export function requestTreeArb(text: fc.Arbitrary<string>, key: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    text,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
  );
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('tree'), { maxLength: 4 }),
    object: fc
      .array(fc.tuple(key, tie('tree')), { maxLength: 5 })
      .map((entries) => Object.fromEntries(entries)),
  }));
  return tree;
}
