/**
 * CPU-heavy pure work (a city report's protection and audit) off the service's event loop: a child
 * process runs it while the service keeps answering every other request, health checks and
 * signals. The worker is a module beside its caller that calls `serveWorker` with its function.
 *
 * A child process, not a worker thread: a thread shares the process's heap limit (`npm start`
 * gives the service 128 MB, and --max-old-space-size overrides a thread's resourceLimits), while
 * protecting a city of 2,000 co-ops holds about 2 GB. The child gets its own limit (the setting
 * WORKER_HEAP_MB, given by the caller)
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
import { DEFAULT_WORKER_HEAP_MB } from './config.js';

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

/** What the parent sends a worker process: parts of its input first, then the call. */
type Message<C, I> = { kind: 'chunk'; chunk: C } | { kind: 'run'; input: I };

/**
 * A worker process being fed its input in parts (for an input too large for the service's heap
 * at once, read and sent a chunk at a time): `post` each chunk (resolves when it is written to
 * the channel, so at most one chunk waits in this process), then `run` with the rest of the input.
 * `kill` stops the process (a run's promise then rejects; safe to call at any time).
 */
export interface WorkerSession<C, I, O> {
  /** The worker's process id. */
  pid: number | undefined;
  post(chunk: C): Promise<void>;
  run(input: I): Promise<O>;
  kill(): void;
}

/** Starts the worker module in a child process, ready for its input's chunks (startWorker). */
export function startWorker<C, I, O>(
  module: { url: URL; execArgv: string[] },
  heapMb: number = DEFAULT_WORKER_HEAP_MB,
): WorkerSession<C, I, O> {
  const child = fork(fileURLToPath(module.url), [], {
    execArgv: [...module.execArgv, `--max-old-space-size=${heapMb}`],
    env: { ...process.env, [WORKER_ENV]: '1' },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // A worker busy in synchronous work (a protection runs for minutes) hears its parent go away
  // (the IPC channel's disconnect) only when it yields: stopped when this process exits instead.
  const stopWithParent = () => child.kill('SIGKILL');
  process.once('exit', stopWithParent);
  child.once('exit', () => process.off('exit', stopWithParent));
  let settled = false;
  let resolveAnswer!: (value: O) => void;
  let rejectAnswer!: (error: Error) => void;
  const answer = new Promise<O>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  // Awaited by run; a session killed or failed before its run must not be an unhandled rejection.
  answer.catch(() => {});
  const settle = (done: () => void) => {
    if (settled) return;
    settled = true;
    done();
  };
  child.once('message', (message: Answer<O>) => {
    settle(() => {
      if (message.ok) resolveAnswer(message.value);
      else
        rejectAnswer(Object.assign(new Error(message.message), { stack: message.stack ?? message.message }));
    });
    child.kill();
  });
  child.once('error', (error) => settle(() => rejectAnswer(error)));
  child.once('exit', (code, signal) =>
    settle(() =>
      rejectAnswer(
        new Error(`the worker ${module.url.pathname} exited (${signal ?? `code ${code}`}) without an answer`),
      ),
    ),
  );
  const send = (message: Message<C, I>) =>
    new Promise<void>((resolve, reject) => {
      if (settled) {
        // It failed (or answered) already: its reason, not a closed channel's.
        answer.then(() => reject(new Error('the worker answered before its input was complete')), reject);
        return;
      }
      child.send(message as never, (error) => {
        if (!error) resolve();
        else if (settled) answer.then(() => reject(error), reject);
        else reject(error);
      });
    });
  return {
    pid: child.pid,
    post: (chunk) => send({ kind: 'chunk', chunk }),
    run: async (input) => {
      await send({ kind: 'run', input });
      return answer;
    },
    kill: () => {
      settle(() => rejectAnswer(new Error(`the worker ${module.url.pathname} was stopped`)));
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

/**
 * Runs the worker module with `input` in a child process and resolves with what it answers;
 * rejects with its error (message and stack kept), or when it exits without answering.
 */
export function runInWorker<I, O>(module: { url: URL; execArgv: string[] }, input: I): Promise<O> {
  return startWorker<never, I, O>(module).run(input);
}

/**
 * In a worker module: answers `run(input)` to the process that started it; `receive` takes each
 * chunk the parent posts before (startWorker's post), in order.
 */
export function serveWorker<I, O, C = never>(
  run: (input: I) => O | Promise<O>,
  receive?: (chunk: C) => void,
): void {
  const send = process.send?.bind(process);
  if (process.env[WORKER_ENV] !== '1' || !send) return;
  // The parent went away (killed, or done with us): nothing is waiting for the answer.
  process.once('disconnect', () => process.exit(0));
  let failure: unknown = null;
  const onMessage = (message: Message<C, I>) => {
    if (message.kind === 'chunk') {
      if (failure !== null) return;
      try {
        if (!receive) throw new Error('this worker takes no chunks');
        receive(message.chunk);
      } catch (error) {
        // Told with the answer (the parent is still posting; run comes last).
        failure = error;
      }
      return;
    }
    process.off('message', onMessage);
    Promise.resolve()
      .then(() => {
        if (failure !== null) throw failure;
        return run(message.input);
      })
      .then(
        (value): Answer<O> => ({ ok: true, value }),
        (error: unknown): Answer<O> => ({
          ok: false,
          message: error instanceof Error ? error.message : String(error),
          stack: error instanceof Error ? error.stack : undefined,
        }),
      )
      .then((answer) => send(answer, () => process.exit(0)));
  };
  process.on('message', onMessage);
}
