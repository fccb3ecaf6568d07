/**
 * The SDK's retry loop (client-sdk/retry.ts `withRetries`, on p-retry) without a server: which
 * failures are retried and how often, the backoff's Retry-After floor, and the caller's signal.
 * tests/sdk/facade.test.ts checks the same rules through the client over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { AttemptFailure, type RetryLoop, type RetryPolicy, withRetries } from '../../client-sdk/retry.js';

class Failed extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

const policy: RetryPolicy = { retries: 5, baseDelayMs: 1, maxDelayMs: 4 };

function loop(overrides: Partial<RetryLoop<Failed>> = {}): RetryLoop<Failed> {
  return {
    policy,
    safeToRetry: true,
    aborted: (reason, attempts) => new Failed(`aborted: ${String(reason)}`, attempts),
    ...overrides,
  };
}

const transient = (attempt: number, retryAfterMs?: number) =>
  new AttemptFailure(new Failed(`transient ${attempt}`, attempt), true, retryAfterMs);

describe('withRetries', () => {
  it('retries a transient failure until it answers, reporting each retry', async () => {
    const retried: number[] = [];
    const answer = await withRetries(
      async (attempt) => {
        if (attempt < 3) throw transient(attempt);
        return `answer ${attempt}`;
      },
      loop({ onRetry: (attempt) => retried.push(attempt) }),
    );
    expect(answer).toBe('answer 3');
    expect(retried).toEqual([1, 2]);
  });

  it('stops after policy.retries retries and throws the last attempt’s error', async () => {
    let attempts = 0;
    const error = await withRetries(async (attempt) => {
      attempts = attempt;
      throw transient(attempt);
    }, loop()).catch((e: unknown) => e);
    expect(attempts).toBe(policy.retries + 1);
    expect(error).toBeInstanceOf(Failed);
    expect(error).toMatchObject({ message: 'transient 6', attempts: 6 });
  });

  it('sends once what is not safe to repeat, and never retries a failure that is not transient', async () => {
    let calls = 0;
    await expect(
      withRetries(
        async (attempt) => {
          calls++;
          throw transient(attempt);
        },
        loop({ safeToRetry: false }),
      ),
    ).rejects.toMatchObject({ message: 'transient 1' });
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      withRetries(async (attempt) => {
        calls++;
        throw new AttemptFailure(new Failed('validation', attempt), false, undefined);
      }, loop()),
    ).rejects.toMatchObject({ message: 'validation', attempts: 1 });
    expect(calls).toBe(1);
  });

  it('passes anything else an attempt throws through as it is, unretried', async () => {
    let calls = 0;
    const thrown = await withRetries(async () => {
      calls++;
      throw 'token source failed';
    }, loop()).catch((e: unknown) => e);
    expect(thrown).toBe('token source failed');
    expect(calls).toBe(1);
  });

  it('waits at least the server’s Retry-After, bounded by maxDelayMs', async () => {
    const delays: number[] = [];
    await withRetries(
      async (attempt) => {
        if (attempt === 1) throw transient(attempt, 30);
        if (attempt === 2) throw transient(attempt, 60_000);
        return 'ok';
      },
      loop({
        policy: { retries: 5, baseDelayMs: 1, maxDelayMs: 50 },
        onRetry: (_, delayMs) => delays.push(delayMs),
      }),
    );
    expect(delays).toEqual([30, 50]);
  });

  it('ends a backoff as soon as the caller aborts, with the caller’s error, and sends nothing more', async () => {
    const controller = new AbortController();
    let calls = 0;
    const pending = withRetries(
      async (attempt) => {
        calls++;
        throw transient(attempt);
      },
      loop({
        policy: { retries: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
        signal: controller.signal,
        onRetry: () => queueMicrotask(() => controller.abort('stop')),
      }),
    ).catch((e: unknown) => e);
    const error = await pending;
    expect(error).toBeInstanceOf(Failed);
    expect(error).toMatchObject({ message: 'aborted: stop', attempts: 1 });
    expect(calls).toBe(1);
  });

  it('returns an answer that arrived although the caller aborted meanwhile', async () => {
    const controller = new AbortController();
    const answer = await withRetries(
      async () => {
        controller.abort('late');
        return 'posted';
      },
      loop({ signal: controller.signal }),
    );
    expect(answer).toBe('posted');
  });
});
