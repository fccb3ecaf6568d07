/**
 * What the domain benchmarks (bench-clearing, bench-patronage, bench-reporting's HTTP part) stand
 * on: a fresh database on a PostgreSQL server, dropped by a cleanup, and the service started as a
 * child process on it, stopped by a cleanup, ready when /readyz answers 200, optionally with V8's
 * inspector for a RemoteProfiler; and `npm start`'s command (npmStartCommand), which bench-ledger and
 * bench-reporting's HTTP part run so that their figures are those of the service as users start it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newTokenString } from '../../server/auth/index.js';
import { repoRoot } from '../../server/platform/config.js';
import { RemoteProfiler } from '../bench/profiler.js';
import type { Cleanups } from './cleanups.js';
import { createDatabase, dropDatabase } from './databases.js';
import { freePort } from './ports.js';

/** Creates database `name` on the server of `serverUrl`; dropped by a cleanup unless `keep`. Its URL. */
export async function createBenchDatabase(
  serverUrl: string,
  name: string,
  cleanups: Cleanups,
  keep = false,
): Promise<string> {
  const url = await createDatabase(serverUrl, name);
  if (!keep) cleanups.push({ name: `drop the database ${name}`, run: () => dropDatabase(serverUrl, name) });
  return url;
}

/**
 * The command of package.json's `start` script (its environment assignments and Node's arguments:
 * flags, then dist/server/main.js), after compiling dist/ as `npm start` does (tsc -p
 * tsconfig.build.json). tsc emits despite type errors (files being edited elsewhere in the
 * checkout): the JavaScript it emitted is measured anyway, and `log` says so.
 */
export function npmStartCommand(log: (message: string) => void): {
  env: Record<string, string>;
  args: string[];
} {
  const command = startCommandOf(npmStartScript(), process.env);
  try {
    execFileSync(
      process.execPath,
      [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      { cwd: repoRoot, stdio: 'inherit' },
    );
  } catch {
    log('warning: tsc reported type errors; measuring the JavaScript it emitted anyway');
  }
  return command;
}

/**
 * The service's command in a `start` script (`... && [VAR=value ...] node <flags> <script>`), with
 * `${VAR:-default}` expanded from `environment` as the shell running `npm start` would, in the
 * assignments and in Node's arguments.
 */
export function startCommandOf(
  script: string,
  environment: NodeJS.ProcessEnv,
): { env: Record<string, string>; args: string[] } {
  const match = /(?:^|&&)\s*((?:[A-Z_]+=\S+\s+)*)node\s+([^&]+)$/.exec(script);
  if (!match) throw new Error('package.json "start" must end with `[VAR=value ...] node <flags> <script>`');
  const expand = (word: string) =>
    word.replace(
      /\$\{([A-Z_]+):-([^}]*)\}/g,
      (_all, name: string, fallback: string) => environment[name] || fallback,
    );
  const env = Object.fromEntries(
    match[1]!
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const [name, value] = pair.split('=', 2) as [string, string];
        return [name, expand(value)];
      }),
  );
  return { env, args: match[2]!.trim().split(/\s+/).map(expand) };
}

/** package.json's `start` script, as written. */
export function npmStartScript(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return pkg.scripts.start ?? '';
}

/**
 * The Node flags `npm start` gives the service (its arguments before the script: the young
 * generation, the heap from HEAP_MB, pretenuring off, source maps), for benches that run the
 * service from source under tsx and still want the runtime users get.
 */
export function npmStartNodeFlags(environment: NodeJS.ProcessEnv = process.env): string[] {
  const { args } = startCommandOf(npmStartScript(), environment);
  const script = args.findIndex((a) => !a.startsWith('-'));
  return script === -1 ? args : args.slice(0, script);
}

export interface BenchService {
  /** The GraphQL endpoint. */
  url: string;
  /** The ADMIN_TOKEN it was started with. */
  token: string;
  pid: number;
  child: ChildProcess;
  profiler: RemoteProfiler | null;
}

export interface BenchServiceOptions {
  databaseUrl: string;
  /** Node's arguments: flags, then the script (e.g. `--import tsx server/main.ts`). */
  args: string[];
  /** Added to the service's environment (over the bench's defaults). */
  env?: Record<string, string>;
  /** Start with V8's inspector and return a RemoteProfiler on it. */
  profile?: boolean;
  cleanups: Cleanups;
  log: (message: string) => void;
  readyWithinMs?: number;
}

/**
 * Starts the service (LOG_LEVEL warn, the per-token rate limit off: it would cap the load at its
 * own figure) and waits until it is ready. Its last output is logged if it exits unexpectedly and
 * given in the error if it does not start.
 */
export async function startBenchService(o: BenchServiceOptions): Promise<BenchService> {
  const port = await freePort();
  const token = newTokenString();
  const inspectPort = o.profile ? await freePort() : null;
  const child = spawn(
    process.execPath,
    [...(inspectPort === null ? [] : [`--inspect=127.0.0.1:${inspectPort}`]), ...o.args],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        DATABASE_URL: o.databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ADMIN_TOKEN: token,
        RATE_LIMIT_PER_SECOND: '0',
        MALLOC_ARENA_MAX: '2',
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.pid === undefined) throw new Error('could not start the service');
  const pid = child.pid;
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping)
      o.log(
        `the service exited unexpectedly (code ${code}, signal ${signal}); its last output:\n${output.slice(-3000)}`,
      );
  });
  o.cleanups.push({
    name: 'stop the service',
    run: async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    },
  });
  const readyWithinMs = o.readyWithinMs ?? 120_000;
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited while starting:\n${output}`);
    if (Date.now() > deadline)
      throw new Error(`the service was not ready within ${readyWithinMs / 1000} s:\n${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  const profiler = inspectPort === null ? null : new RemoteProfiler(inspectPort);
  if (profiler) o.cleanups.push({ name: 'close the profiler', run: async () => profiler.close() });
  return { url: `http://127.0.0.1:${port}/graphql`, token, pid, child, profiler };
}
