/**
 * How the long-running scripts (bench-compare, bench-clearing, bench-patronage) end:
 * scripts/lib/cleanups.ts's runScript runs the cleanups (services stopped, databases dropped)
 * however the script ends, and exits with main's code, 1 when main throws, 130 on Ctrl-C. A
 * fixture script (in a temporary folder) uses it with one slow cleanup that writes a file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../server/platform/config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'run-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixture = path.join(dir, 'fixture.ts');
writeFileSync(
  fixture,
  `import { writeFileSync } from 'node:fs';
import { Cleanups, runScript } from ${JSON.stringify(path.join(repoRoot, 'scripts/lib/cleanups.ts'))};
const [, , out, mode] = process.argv;
const log = (m: string) => process.stderr.write(m + '\\n');
const cleanups = new Cleanups(log);
cleanups.push({
  name: 'slow',
  run: async () => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    writeFileSync(out!, 'cleaned');
  },
});
runScript(
  'fixture',
  () =>
    new Promise<number>((resolve, reject) => {
      if (mode === 'returns') return resolve(3);
      if (mode === 'throws') return reject(new Error('main failed'));
      // Like a bench whose load worker the same Ctrl-C stops: main fails just after the signal.
      process.on('SIGINT', () => setTimeout(() => reject(new Error('the load worker was stopped')), 10));
      log('ready');
    }),
  cleanups,
  log,
);
`,
);

function start(
  mode: string,
  out: string,
): { child: ChildProcess; stderr: () => string; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, out, mode], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const ready = new Promise<void>((resolve) => {
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('ready')) resolve();
    });
  });
  return { child, stderr: () => stderr, ready };
}

const exitCode = async (child: ChildProcess) => (await once(child, 'exit'))[0] as number | null;
const written = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return 'nothing';
  }
};

describe('runScript', () => {
  it("runs the cleanups on Ctrl-C to the end, though main then fails, and exits 130 (npm's relayed second SIGINT ignored)", async () => {
    const out = path.join(dir, 'interrupted');
    const { child, ready } = start('waits', out);
    const exited = exitCode(child);
    await ready;
    child.kill('SIGINT');
    setTimeout(() => child.kill('SIGINT'), 100);
    expect(await exited).toBe(130);
    expect(written(out)).toBe('cleaned');
  }, 30_000);

  it("exits with main's code after the cleanups", async () => {
    const out = path.join(dir, 'returned');
    const { child } = start('returns', out);
    expect(await exitCode(child)).toBe(3);
    expect(written(out)).toBe('cleaned');
  }, 30_000);

  it('exits 1 with the error after the cleanups when main throws', async () => {
    const out = path.join(dir, 'threw');
    const { child, stderr } = start('throws', out);
    expect(await exitCode(child)).toBe(1);
    expect(written(out)).toBe('cleaned');
    expect(stderr()).toContain('fixture failed: Error: main failed');
  }, 30_000);
});
