/**
 * The previews a service keeps for the later pages of a preview read page by page
 * (server/patronage/preview-cache.ts): bounded by members' lines, not entries. Kept as entries
 * (four), five 10,000-member previews and then a commit and its verification ran the service out
 * of its 128 MB heap (measured with the patronage bench's data).
 */
import { describe, expect, it } from 'vitest';
import { LedgerError } from '../../server/core/index.js';
import { PREVIEW_TTL_MS, PreviewCache } from '../../server/patronage/preview-cache.js';
import type { RunFigures } from '../../server/patronage/records.js';

const figures = (lines: number) =>
  Promise.resolve({ lines: new Array(lines).fill(null) } as unknown as RunFigures);
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PreviewCache', () => {
  it('holds at most 10,000 members’ lines, the newest preview always', async () => {
    let now = 0;
    const cache = new PreviewCache(() => now);
    cache.set('small-1', figures(300));
    cache.set('small-2', figures(700));
    cache.set('big-1', figures(9_000));
    await settle();
    expect(['small-1', 'small-2', 'big-1'].map((k) => cache.get(k) !== undefined)).toEqual([
      true,
      true,
      true,
    ]);
    cache.set('big-2', figures(9_500));
    await settle();
    // 19,500 lines: the oldest go until 10,000 or fewer are held.
    expect(['small-1', 'small-2', 'big-1', 'big-2'].map((k) => cache.get(k) !== undefined)).toEqual([
      false,
      false,
      false,
      true,
    ]);
    cache.set('huge', figures(50_000));
    await settle();
    expect([cache.get('big-2'), await cache.get('huge')].map((f) => f !== undefined)).toEqual([false, true]);
    now += PREVIEW_TTL_MS + 1;
    expect(cache.get('huge')).toBeUndefined();
  });

  it('keeps no refusal and no fault', async () => {
    const cache = new PreviewCache(() => 0);
    cache.set('refused', Promise.resolve(new LedgerError('NO_PATRONAGE_POLICY', 'no policy')));
    const failed = Promise.reject(new Error('connection lost'));
    failed.catch(() => {});
    cache.set('failed', failed);
    await settle();
    expect([cache.get('refused'), cache.get('failed')]).toEqual([undefined, undefined]);
  });
});
