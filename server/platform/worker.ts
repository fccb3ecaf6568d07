/**
 * CPU-heavy pure work (a city report's protection and audit) off the service's event loop: a child
 * process runs it while the service keeps answering every other request, health checks and
 * signals. The worker is a module beside its caller that calls `serveWorker` with its function.
 *
 * A child process, not a worker thread: a thread shares the process's heap limit (`npm start`
 * gives the service 128 MB, and --max-old-space-size overrides a thread's resourceLimits), while
 * protecting a city of 2,000 co-ops holds about 2 GB. The child gets its own limit (WORKER_HEAP_MB)
 * and exits when its parent goes away.
 *
 * From source (tsx in development, vitest's forks in the tests) the worker's module is the `.ts`
 * file and the child loads it through tsx; from the build (`npm start` runs dist/) it is the
 * compiled `.js` beside the caller's. Input and output cross by V8's serializer (the IPC channel's
 * advanced serialization): plain data only (objects, arrays, Maps, typed arrays, Buffers, bigint),
 * no class instances.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The heap limit of a worker process, in MB. */
export const WORKER_HEAP_MB = 4096;

/** Set in a worker process's environment: its module then serves (serveWorker). */
const WORKER_ENV = 'LEDGER_WORKER_PROCESS';

/** The worker module `name` (without extension) beside the module whose `import.meta.url` is `base`. */
export function workerModule(base: string, name: string): { url: URL; execArgv: string[] } {
  const fromSource = new URL(base).pathname.endsWith('.ts');
  return {
    url: new URL(`./${name}${fromSource ? '.ts' : '.js'}`, base),
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  };
}

type Answer<O> = { ok: true; value: O } | { ok: false; message: string; stack?: string };

/**
 * Runs the worker module with `input` in a child process and resolves with what it answers;
 * rejects with its error (message and stack kept), or when it exits without answering.
 */
export function runInWorker<I, O>(module: { url: URL; execArgv: string[] }, input: I): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    const child = fork(fileURLToPath(module.url), [], {
      execArgv: [...module.execArgv, `--max-old-space-size=${WORKER_HEAP_MB}`],
      env: { ...process.env, [WORKER_ENV]: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      done();
    };
    child.once('message', (message: Answer<O>) => {
      settle(() => {
        if (message.ok) resolve(message.value);
        else reject(Object.assign(new Error(message.message), { stack: message.stack ?? message.message }));
      });
      child.kill();
    });
    child.once('error', (error) => settle(() => reject(error)));
    child.once('exit', (code, signal) =>
      settle(() =>
        reject(
          new Error(
            `the worker ${module.url.pathname} exited (${signal ?? `code ${code}`}) without an answer`,
          ),
        ),
      ),
    );
    child.send(input as never, (error) => {
      if (error) settle(() => reject(error));
    });
  });
}

/** In a worker module: answers `run(input)` to the process that started it. */
export function serveWorker<I, O>(run: (input: I) => O | Promise<O>): void {
  const send = process.send?.bind(process);
  if (process.env[WORKER_ENV] !== '1' || !send) return;
  // The parent went away (killed, or done with us): nothing is waiting for the answer.
  process.once('disconnect', () => process.exit(0));
  process.once('message', (input: I) => {
    Promise.resolve()
      .then(() => run(input))
      .then(
        (value): Answer<O> => ({ ok: true, value }),
        (error: unknown): Answer<O> => ({
          ok: false,
          message: error instanceof Error ? error.message : String(error),
          stack: error instanceof Error ? error.stack : undefined,
        }),
      )
      .then((answer) => send(answer, () => process.exit(0)));
  });
}
