/**
 * The trial balance's turns (server/ledger/reports.ts ReadTurn): TRIAL_BALANCES_AT_ONCE requests
 * read at once, a request keeps its turn until its answer is written, and one whose answer is never
 * written (a client that does not read it) gives its turn back READ_TURN_END_GRACE_MS after its
 * reads end, so such clients cannot hold every trial balance of the process.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { READ_TURN_END_GRACE_MS, ReadTurn, TRIAL_BALANCES_AT_ONCE } from '../../server/ledger/reports.js';

/** Lets every settled promise's callbacks run (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('ReadTurn', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets TRIAL_BALANCES_AT_ONCE requests read; the next waits until one writes its answer', async () => {
    const holders = Array.from({ length: TRIAL_BALANCES_AT_ONCE }, () => new ReadTurn(true));
    for (const turn of holders) await turn.run(async () => 'read');
    let waited = false;
    const next = new ReadTurn(false).run(async () => {
      waited = true;
    });
    await settle();
    expect(waited).toBe(false);
    holders[0]!.end();
    await settle();
    expect(waited).toBe(true);
    await next;
    for (const turn of holders.slice(1)) turn.end();
  });

  it('gives the turn of an answer never written back after the grace, not before', async () => {
    const stuck = Array.from({ length: TRIAL_BALANCES_AT_ONCE }, () => new ReadTurn(true));
    for (const turn of stuck) await turn.run(async () => 'read');
    let ran = false;
    const next = new ReadTurn(false).run(async () => {
      ran = true;
    });
    await vi.advanceTimersByTimeAsync(READ_TURN_END_GRACE_MS - 1);
    expect(ran).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toBe(true);
    await next;
    // Ending late changes nothing: the turns were given back once each.
    for (const turn of stuck) turn.end();
    const after = Array.from({ length: TRIAL_BALANCES_AT_ONCE }, () => new ReadTurn(false));
    let both = 0;
    await Promise.all(after.map((t) => t.run(async () => both++)));
    expect(both).toBe(TRIAL_BALANCES_AT_ONCE);
  });

  it('keeps the turn while a read of the request runs, however long, and shares it with its aliases', async () => {
    const turns = Array.from({ length: TRIAL_BALANCES_AT_ONCE }, () => new ReadTurn(true));
    const releases: (() => void)[] = [];
    const reads = turns.map((turn) => turn.run(() => new Promise<void>((resolve) => releases.push(resolve))));
    await settle();
    // An alias of a request holding a turn reads in that turn, not waiting for another.
    expect(await turns[0]!.run(async () => 'alias')).toBe('alias');
    let ran = false;
    const next = new ReadTurn(false).run(async () => {
      ran = true;
    });
    await vi.advanceTimersByTimeAsync(READ_TURN_END_GRACE_MS * 3);
    expect(ran).toBe(false);
    releases[0]!();
    await reads[0];
    await settle();
    expect(ran).toBe(false);
    await vi.advanceTimersByTimeAsync(READ_TURN_END_GRACE_MS);
    expect(ran).toBe(true);
    await next;
    for (const release of releases.slice(1)) release();
    await Promise.all(reads);
    for (const turn of turns) turn.end();
  });
});
