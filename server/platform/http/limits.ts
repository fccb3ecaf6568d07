/**
 * What keeps one client from slowing every other: the per-token (or per-address) rate limit, the
 * admission of large request bodies, and the reading of request bodies at a minimum rate.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { sendError } from './errors.js';

/**
 * Per-key rate limit: a token bucket of `perSecond` tokens a second holding at most twice that.
 * Kept in memory per process (several processes each apply it); 0 disables it.
 */
export class TokenRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number) {}

  /** Like `take` without taking: 0 when a request would be allowed now. */
  peek(key: string, now = Date.now()): number {
    if (this.perSecond <= 0) return 0;
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.perSecond * 2, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.perSecond) * 1000);
  }

  /** Takes one request for `key`; returns 0 when allowed, else the milliseconds to wait. */
  take(key: string, now = Date.now()): number {
    if (this.perSecond <= 0) return 0;
    const capacity = this.perSecond * 2;
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
  }
}

/** 429 THROTTLED with Retry-After, for a request over its rate limit. */
export function sendThrottled(res: Response, waitMs: number, whose: string): void {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  res.set('retry-after', String(seconds));
  sendError(res, 429, 'THROTTLED', { message: `Too many requests${whose}; retry in ${seconds} s.` });
}

/**
 * Admission of large requests (batches of entries, CSV imports): at most `largeInFlightMax` bodies
 * over `largeBodyBytes` are read and processed at once, and at most `largeInFlightPerTokenMax` of
 * them for one token, so no token can hold every slot. The others wait, unread, in a bounded queue
 * (their bytes stay in the kernel's socket buffers): at most `largeQueueMax` in all (past it 503
 * THROTTLED) and `largeQueuePerTokenMax` for one token (past it 429 THROTTLED). Only callers with a
 * verified token get here with a large body: without one, bodies are limited to `largeBodyBytes`.
 * This bounds the memory that sixteen concurrent 1,000-entry batches would otherwise hold at once.
 * Two for one token: while one batch's write runs, the next is parsed and decided on what that
 * write will leave (PostingEngine.optimisticFlush), which took one book's batches of 500 from
 * about 6,150-7,300 to 8,250-9,850 entries/s (issue 12, 16 clients, one token, alternating runs); three in all, so
 * that one token never holds every slot.
 */
export interface LargeRequestLimits {
  largeBodyBytes: number;
  largeInFlightMax: number;
  largeInFlightPerTokenMax: number;
  largeQueueMax: number;
  largeQueuePerTokenMax: number;
}

export const LARGE_REQUEST_LIMITS: Readonly<LargeRequestLimits> = {
  largeBodyBytes: 64 * 1024,
  largeInFlightMax: 3,
  largeInFlightPerTokenMax: 2,
  largeQueueMax: 256,
  largeQueuePerTokenMax: 64,
};

/** Whether a request announces a body over `bytes` (a chunked body of unknown length counts). */
export function announcesLargeBody(req: Request, bytes: number): boolean {
  const declared = req.get('content-length');
  if (declared === undefined) return req.get('transfer-encoding') !== undefined;
  return Number(declared) > bytes;
}

/**
 * The admission middleware. `keyOf` names the caller (its token id); a request without a key is
 * never held back (anonymous bodies are small: see `bodyLimitOf` in app.ts).
 */
export function largeBodyGate(limits: LargeRequestLimits, keyOf: (res: Response) => string | undefined) {
  let inFlight = 0;
  const inFlightOf = new Map<string, number>();
  const waitingOf = new Map<string, number>();
  const waiting: { key: string; admit: () => void }[] = [];
  const count = (map: Map<string, number>, key: string, delta: number) => {
    const n = (map.get(key) ?? 0) + delta;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  };
  const fits = (key: string) =>
    inFlight < limits.largeInFlightMax && (inFlightOf.get(key) ?? 0) < limits.largeInFlightPerTokenMax;
  const take = (key: string) => {
    inFlight++;
    count(inFlightOf, key, 1);
  };
  // The first waiting request whose token is under its share, in arrival order.
  const pump = () => {
    for (let i = 0; i < waiting.length && inFlight < limits.largeInFlightMax; ) {
      const entry = waiting[i]!;
      if (!fits(entry.key)) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      count(waitingOf, entry.key, -1);
      take(entry.key);
      entry.admit();
    }
  };

  return (req: Request, res: Response, next: NextFunction) => {
    const key = keyOf(res);
    if (key === undefined || !announcesLargeBody(req, limits.largeBodyBytes)) return next();
    let released = false;
    const log = res.locals.logger as Logger | undefined;
    const admit = () => {
      log?.debug({ inFlight, tokenInFlight: inFlightOf.get(key) ?? 0 }, 'large request admitted');
      res.once('close', () => {
        if (released) return;
        released = true;
        inFlight--;
        count(inFlightOf, key, -1);
        pump();
      });
      next();
    };
    if (fits(key)) {
      take(key);
      return admit();
    }
    if ((waitingOf.get(key) ?? 0) >= limits.largeQueuePerTokenMax) {
      res.set('retry-after', '1');
      return sendError(res, 429, 'THROTTLED', {
        message: 'Too many large requests of this token are waiting; retry shortly.',
      });
    }
    if (waiting.length >= limits.largeQueueMax) {
      res.set('retry-after', '1');
      return sendError(res, 503, 'THROTTLED', {
        message: 'Too many large requests are waiting; retry shortly.',
      });
    }
    // A client that gives up while queued leaves the queue.
    const entry = {
      key,
      admit: () => {
        res.off('close', abandon);
        admit();
      },
    };
    const abandon = () => {
      const i = waiting.indexOf(entry);
      if (i < 0) return;
      waiting.splice(i, 1);
      count(waitingOf, key, -1);
    };
    res.once('close', abandon);
    waiting.push(entry);
    count(waitingOf, key, 1);
    log?.debug(
      { inFlight, tokenInFlight: inFlightOf.get(key) ?? 0, waiting: waiting.length },
      'large request waiting for a slot',
    );
  };
}

/**
 * How fast a request body must arrive once its reading starts: after `graceMs`, the bytes received
 * so far must average at least `minBytesPerSecond` since the start, or the request is cut with 408
 * BODY_TOO_SLOW. A client trickling a large body cannot hold a slot (or a connection) for long.
 */
export interface BodyRate {
  graceMs: number;
  minBytesPerSecond: number;
}

export const BODY_MIN_RATE: Readonly<BodyRate> = { graceMs: 5_000, minBytesPerSecond: 8 * 1024 };

/** The most a request may send, and what to say when it sends more. */
export interface BodyLimit {
  bytes: number;
  message: string;
}

/** 413 PAYLOAD_TOO_LARGE, and the connection closed: the rest of the body is not worth reading. */
export function sendTooLarge(res: Response, limit: BodyLimit): void {
  res.set('connection', 'close');
  sendError(res, 413, 'PAYLOAD_TOO_LARGE', { message: limit.message, limitBytes: limit.bytes });
}

/**
 * Reads the whole body as bytes into `req.body` (a Buffer) before GraphQL sees it: refused with
 * 413 as soon as it passes the caller's limit, 408 when it arrives slower than `rate`, 415 when it
 * is compressed (its size after inflation is unknown up front). A request without a body is
 * passed on with `req.body` undefined.
 */
export function readBody(limitOf: (res: Response) => BodyLimit, rate: BodyRate) {
  return (req: Request, res: Response, next: NextFunction) => {
    const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== '') {
      res.set('connection', 'close');
      return sendError(res, 415, 'UNSUPPORTED_ENCODING', {
        message: 'Compressed request bodies are not accepted; send the body uncompressed.',
      });
    }
    if (req.get('content-length') === undefined && req.get('transfer-encoding') === undefined) return next();
    const limit = limitOf(res);
    const chunks: Buffer[] = [];
    let received = 0;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;

    const stop = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', stop);
      req.off('close', stop);
    };
    const refuse = (send: () => void) => {
      stop();
      // Drain what still arrives, so the connection closes after the answer instead of resetting.
      req.resume();
      send();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit.bytes) return refuse(() => sendTooLarge(res, limit));
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      req.body = Buffer.concat(chunks, received);
      next();
    };
    // Checks the rate when the body would fall behind it, not on a fixed tick.
    const check = () => {
      const elapsedMs = Date.now() - started;
      const dueBytes = (rate.minBytesPerSecond * elapsedMs) / 1000;
      if (elapsedMs >= rate.graceMs && received < dueBytes) {
        return refuse(() => {
          res.set('connection', 'close');
          sendError(res, 408, 'BODY_TOO_SLOW', {
            message:
              `The request body arrived too slowly (${received} bytes in ${(elapsedMs / 1000).toFixed(1)} s); ` +
              `send it at ${rate.minBytesPerSecond} bytes per second or faster.`,
            minBytesPerSecond: rate.minBytesPerSecond,
          });
        });
      }
      const behindAtMs = Math.max(rate.graceMs, (received / rate.minBytesPerSecond) * 1000);
      timer = setTimeout(check, Math.max(50, behindAtMs - elapsedMs + 1));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    // The client went away: nothing to answer.
    req.on('error', stop);
    req.on('close', stop);
    // A body already received whole (it came with the headers, as small bodies do) cannot fall
    // behind the rate: no timer for it (a timer per request cost ~10 µs of CPU).
    if (!req.complete) timer = setTimeout(check, rate.graceMs);
  };
}
