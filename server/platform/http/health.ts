/**
 * Liveness (/healthz) and readiness (/readyz).
 *
 * - Liveness is the process's own state: 200 while it serves or is recovering (its embedded
 *   PostgreSQL being restarted), 503 once it has given up and is about to exit, so a supervisor
 *   restarts it.
 * - Readiness adds the database: a `select 1` and no pending migration. One check serves every
 *   caller for `READINESS_CACHE_MS` (concurrent callers share the check in progress), so however
 *   often /readyz is called it costs the database at most one query per second. A request that
 *   finds the database unreachable drops the cached answer (`forget`), so /readyz tells at once.
 */
import type { Express, Request, Response } from 'express';
import type { Logger } from 'pino';

/** How long /readyz waits for the database before answering 503. */
export const READINESS_TIMEOUT_MS = 2000;
/** How long one readiness check answers for. */
export const READINESS_CACHE_MS = 1000;

/** The process's own state, as the database supervisor (server/platform/db/database.ts) sees it. */
export type ProcessState =
  | { status: 'ok' }
  /** Recovering by itself (e.g. restarting its embedded PostgreSQL): not ready, still live. */
  | { status: 'recovering'; reason: string }
  /** Cannot recover: not live; the process stops and exits non-zero. */
  | { status: 'failed'; reason: string };

export interface HealthDeps {
  /** The readiness check: undefined when ready, else why not. */
  readinessProblem: () => Promise<string | undefined>;
  /** The process's state; always ok when absent. */
  processState?: () => ProcessState;
}

export function healthRoutes(
  app: Express,
  { readinessProblem, processState }: HealthDeps,
): { forget: () => void } {
  const state = () => processState?.() ?? { status: 'ok' as const };
  const cachedProblem = cached(() => withTimeout(readinessProblem()), READINESS_CACHE_MS);

  app.get('/healthz', (_req: Request, res: Response) => {
    res.set('cache-control', 'no-store');
    const now = state();
    if (now.status === 'failed') res.status(503).json({ status: 'failing', reason: now.reason });
    else res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req: Request, res: Response) => {
    const now = state();
    const reason = now.status === 'ok' ? await cachedProblem() : now.reason;
    res.set('cache-control', 'no-store');
    if (reason === undefined) res.json({ status: 'ready' });
    else {
      (res.locals.logger as Logger).warn({ reason }, 'not ready');
      res.status(503).json({ status: 'not ready', reason });
    }
  });
  return { forget: cachedProblem.forget };
}

/** `check` at most once per `ttlMs`: callers in between (and during a check) share its answer. */
function cached<T>(check: () => Promise<T>, ttlMs: number): (() => Promise<T>) & { forget: () => void } {
  // `at` is when the last check ended (undefined while it runs): its answer holds for `ttlMs`.
  let last: { at: number | undefined; value: Promise<T> } | undefined;
  const get = () => {
    if (last && (last.at === undefined || Date.now() - last.at < ttlMs)) return last.value;
    const entry: { at: number | undefined; value: Promise<T> } = { at: undefined, value: check() };
    last = entry;
    const ended = () => {
      entry.at = Date.now();
    };
    entry.value.then(ended, ended);
    return entry.value;
  };
  return Object.assign(get, {
    forget: () => {
      last = undefined;
    },
  });
}

async function withTimeout(problem: Promise<string | undefined>): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`database check timed out after ${READINESS_TIMEOUT_MS} ms`),
      READINESS_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([problem, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
