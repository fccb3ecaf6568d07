/**
 * What a long-running script must undo however it ends (a service it started, a database it
 * created, a folder it wrote): registered as it goes, run in reverse order on success, on failure
 * and on Ctrl-C / SIGTERM.
 */
export interface Cleanup {
  name: string;
  run: () => Promise<void>;
}

export class Cleanups {
  private readonly list: Cleanup[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly log: (message: string) => void) {}

  push(cleanup: Cleanup): void {
    this.list.push(cleanup);
  }

  /**
   * Runs every registered cleanup, last first; a failing one is logged and the rest still run. A
   * call while they run (a signal's handler and a failing main, say) waits for the same run.
   */
  runAll(): Promise<void> {
    this.running ??= (async () => {
      for (const { name, run } of this.list.splice(0).reverse()) {
        try {
          await run();
        } catch (error) {
          this.log(`cleanup "${name}" failed: ${(error as Error).message}`);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}

/**
 * Runs a script's `main` and exits with its code, after the cleanups: exit 1 with the stack when
 * it throws, 130 on SIGINT or SIGTERM. Once a signal came, only its handler exits (after the
 * cleanups): `main` failing because the same Ctrl-C stopped its children must not exit before them.
 * One Ctrl-C often arrives twice (from the terminal, and relayed by npm): a repeat within 3 s is
 * ignored, a later one exits at once.
 */
export function runScript(
  name: string,
  main: () => Promise<number>,
  cleanups: Cleanups,
  log: (m: string) => void,
) {
  let signalledAt: number | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (signalledAt !== undefined) {
        if (Date.now() - signalledAt < 3000) return;
        log(`${signal} again: exiting without waiting for the cleanups`);
        process.exit(130);
      }
      signalledAt = Date.now();
      log(`${signal}: cleaning up (send it again after 3 s to exit at once)`);
      void cleanups.runAll().then(() => process.exit(130));
    });
  const finish = async (code: number) => {
    await cleanups.runAll();
    if (signalledAt === undefined) process.exit(code);
  };
  main().then(finish, (error: unknown) => {
    if (signalledAt === undefined)
      process.stderr.write(`${name} failed: ${(error as Error).stack ?? error}\n`);
    return finish(1);
  });
}
