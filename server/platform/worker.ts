/**
 * CPU-heavy pure work (a city report's protection and audit) off the service's event loop: a
 * worker thread runs it while the process keeps answering every other request, health checks and
 * signals. The worker is a module beside its caller that calls `serveWorker` with its function.
 *
 * From source (tsx in development, vitest's forks in the tests) the worker's module is the `.ts`
 * file and the thread loads it through tsx; from the build (`npm start` runs dist/) it is the
 * compiled `.js` beside the caller's. Input and output cross by structured clone: plain data only
 * (objects, arrays, Maps, typed arrays, bigint), no class instances.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** The worker module `name` (without extension) beside the module whose `import.meta.url` is `base`. */
export function workerModule(base: string, name: string): { url: URL; execArgv: string[] } {
  const fromSource = new URL(base).pathname.endsWith('.ts');
  return {
    url: new URL(`./${name}${fromSource ? '.ts' : '.js'}`, base),
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  };
}

/**
 * Runs the worker module with `input` and resolves with what it answers; rejects with its error
 * (message and stack kept), or when it exits without answering.
 */
export function runInWorker<I, O>(module: { url: URL; execArgv: string[] }, input: I): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    const worker = new Worker(module.url, { workerData: input, execArgv: module.execArgv });
    let settled = false;
    worker.once(
      'message',
      (message: { ok: true; value: O } | { ok: false; message: string; stack?: string }) => {
        settled = true;
        if (message.ok) resolve(message.value);
        else reject(Object.assign(new Error(message.message), { stack: message.stack ?? message.message }));
        void worker.terminate();
      },
    );
    worker.once('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (settled) return;
      settled = true;
      reject(new Error(`the worker ${module.url.pathname} exited with code ${code} without an answer`));
    });
  });
}

/** In a worker module: answers `run(workerData)` to the thread that started it. */
export function serveWorker<I, O>(run: (input: I) => O | Promise<O>): void {
  if (isMainThread || parentPort === null) return;
  const port = parentPort;
  Promise.resolve()
    .then(() => run(workerData as I))
    .then(
      (value) => port.postMessage({ ok: true, value }),
      (error: unknown) =>
        port.postMessage({
          ok: false,
          message: error instanceof Error ? error.message : String(error),
          stack: error instanceof Error ? error.stack : undefined,
        }),
    );
}
