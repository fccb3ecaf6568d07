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

  constructor(private readonly log: (message: string) => void) {}

  push(cleanup: Cleanup): void {
    this.list.push(cleanup);
  }

  /** Runs every registered cleanup, last first; a failing one is logged and the rest still run. */
  async runAll(): Promise<void> {
    for (const { name, run } of this.list.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        this.log(`cleanup "${name}" failed: ${(error as Error).message}`);
      }
    }
  }
}

/**
 * Runs a script's `main` and exits with its code, after the cleanups: exit 1 with the stack when
 * it throws, 130 on SIGINT or SIGTERM.
 */
export function runScript(
  name: string,
  main: () => Promise<number>,
  cleanups: Cleanups,
  log: (m: string) => void,
) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanups.runAll().then(() => process.exit(130));
    });
  main()
    .then(async (code) => {
      await cleanups.runAll();
      process.exit(code);
    })
    .catch(async (error) => {
      process.stderr.write(`${name} failed: ${(error as Error).stack ?? error}\n`);
      await cleanups.runAll();
      process.exit(1);
    });
}
