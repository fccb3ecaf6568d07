import type { LedgerError } from '../core/index.js';

/**
 * Why the ledger refused a use case's entries posted all or nothing: the entry it rejected
 * (`index`), not the BATCH_ITEM_FAILED of the entries refused with it (an entry of the group is
 * refused so when another is rejected). Null when every entry was posted.
 */
export function rejection(
  results: readonly ({ ok: true } | { ok: false; error: LedgerError })[],
): { error: LedgerError; index: number } | null {
  let first: { error: LedgerError; index: number } | null = null;
  for (let index = 0; index < results.length; index++) {
    const r = results[index]!;
    if (r.ok) continue;
    if (r.error.code !== 'BATCH_ITEM_FAILED') return { error: r.error, index };
    first ??= { error: r.error, index };
  }
  return first;
}
