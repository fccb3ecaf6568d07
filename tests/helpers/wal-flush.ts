/**
 * Holding the posting engine's WAL flush barriers (server/ledger/wal-flush.ts), so that a test can
 * look at what happens while a committed write is not yet known to be durable. Every statement
 * still runs on the real database; only the barriers wait for the test.
 */
import type { WalFlush } from '../../server/ledger/wal-flush.js';
import type { DbPool } from '../../server/platform/transaction.js';

const BARRIER = 'ledger-wal-flush';

export interface HeldBarriers {
  /** The pool with its barriers held once `hold()` is called. */
  pool: DbPool;
  hold(): void;
  /** Barriers that reached the pool since `hold()`. */
  sent(): number;
  /** Lets the n-th barrier (1-based) run. */
  release(n: number): void;
  /** Fails the n-th barrier as a lost connection would. */
  fail(n: number): void;
  /** Lets every barrier run, held or to come (for finally blocks). */
  releaseAll(): void;
}

/**
 * `pool`, except that once `hold()` is called its WAL flush barriers wait, in the order sent,
 * until `release(n)` lets the n-th go or `fail(n)` fails it.
 */
export function holdingBarriers(pool: DbPool): HeldBarriers {
  const gates: { open: (fail: boolean) => void; opened: Promise<boolean> }[] = [];
  const gate = (n: number) => {
    while (gates.length < n) {
      let open!: (fail: boolean) => void;
      const opened = new Promise<boolean>((resolve) => {
        open = resolve;
      });
      gates.push({ open, opened });
    }
    return gates[n - 1]!;
  };
  let holding = false;
  let sent = 0;
  const query = async (config: unknown, values?: unknown) => {
    const run = pool.query.bind(pool) as (config: unknown, values?: unknown) => Promise<unknown>;
    if (holding && (config as { name?: unknown } | null)?.name === BARRIER) {
      if (await gate(++sent).opened) throw new Error('Connection terminated unexpectedly');
    }
    return run(config, values);
  };
  return {
    pool: new Proxy(pool, {
      get(target, property) {
        if (property === 'query') return query;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
    hold: () => {
      holding = true;
    },
    sent: () => sent,
    release: (n) => gate(n).open(false),
    fail: (n) => gate(n).open(true),
    releaseAll: () => {
      holding = false;
      for (const g of gates) g.open(false);
    },
  };
}

/** Holds the barriers of a running service's engine (its WalFlush's pool, swapped). */
export function holdServiceBarriers(walFlush: WalFlush): HeldBarriers {
  const target = walFlush as unknown as { pool: DbPool };
  const held = holdingBarriers(target.pool);
  target.pool = held.pool;
  return held;
}

/** 'pending' if the promise has not settled within a while, else its value. */
export function settledSoon<T>(answer: Promise<T>, ms = 300): Promise<T | 'pending'> {
  return Promise.race([
    answer,
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}
