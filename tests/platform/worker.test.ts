/**
 * server/platform/worker.ts: CPU-heavy work runs in a worker process while the event loop that
 * serves requests stays free; answers and errors come back as they were.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runInWorker, startWorker, workerModule } from '../../server/platform/worker.js';
import { builtArgs } from '../helpers/build.js';

const busy = workerModule(import.meta.url, 'fixtures/busy-worker');

describe('runInWorker', () => {
  it('answers from the worker module beside the caller, loaded from source through tsx', () => {
    expect(busy.url.pathname.endsWith('/fixtures/busy-worker.ts')).toBe(true);
    expect(busy.execArgv).toEqual(['--import', 'tsx']);
    const built = workerModule('file:///srv/dist/server/reporting/release.js', 'release-worker');
    expect(built).toEqual({
      url: new URL('file:///srv/dist/server/reporting/release-worker.js'),
      execArgv: [],
    });
  });

  it('keeps the event loop free while the worker is busy, and returns its answer (bigint included)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const answer = await runInWorker<{ busyMs: number; values: bigint[] }, { sum: bigint; spun: boolean }>(
        busy,
        {
          busyMs: 1_500,
          values: [1n, 2n, 10n ** 30n],
        },
      );
      expect(answer).toEqual({ sum: 10n ** 30n + 3n, spun: true, held: 0 });
    } finally {
      clearInterval(timer);
    }
    // 1.5 s of the worker's busy loop: a timer of 10 ms on this thread fired all along (the same
    // loop run on this thread would have let it fire at most once or twice).
    expect(ticks).toBeGreaterThan(40);
  });

  it('rejects with the error the work threw', async () => {
    await expect(runInWorker(busy, { busyMs: 0, values: [], fail: 'no protection found' })).rejects.toThrow(
      'no protection found',
    );
  });

  it('stops a worker busy in synchronous work when its parent exits', async () => {
    // Busy, the worker cannot hear its IPC channel close: it would run on for its whole minute.
    // The fixture compiled (the test run's build): its worker is then the compiled busy-worker.
    const parent = builtArgs('tests/platform/fixtures/exiting-parent.ts');
    // Spawned, not execFile: the worker shares the parent's stdout, which would stay open while it runs.
    const child = spawn(process.execPath, parent, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    await once(child, 'exit');
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    const running = () => {
      try {
        // A zombie (killed, not yet reaped by whoever adopted it) is not running.
        return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 5_000;
    while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const still = running();
    if (still) process.kill(pid, 'SIGKILL');
    expect(still).toBe(false);
  }, 90_000);

  it('gives the work a heap of its own, beyond the 128 MB npm start gives the service', async () => {
    // A worker thread could not: --max-old-space-size caps every thread of the process.
    const parent = builtArgs('tests/platform/fixtures/small-heap-parent.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=128', ...parent], {
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual({ held: 400 });
  }, 90_000);

  it('caps the work at the heap its caller gives (WORKER_HEAP_MB)', async () => {
    // 400 MB held under a 256 MB cap: the worker runs out of heap and the run is refused; the same
    // work under the default cap answers (the test above).
    await expect(startWorker(busy, 256).run({ busyMs: 0, values: [], holdMb: 400 })).rejects.toThrow();
    const answer = await startWorker<never, unknown, { held: number }>(busy, 512).run({
      busyMs: 0,
      values: [],
      holdMb: 200,
    });
    expect(answer.held).toBe(200);
  }, 90_000);
});
