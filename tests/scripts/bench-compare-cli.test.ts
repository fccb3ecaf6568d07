/**
 * `npm run bench:compare`'s command line (scripts/bench-compare.ts): --help, and bad arguments
 * refused with a clear message and exit status 2 before anything starts (no database is made).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../server/platform/config.js';

// A version's directory as bench-compare checks it (a package.json, a built dist/server/main.js):
// a clean checkout has no dist/ of its own before `npm start` or `npm run build`.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-compare-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const built = path.join(tmp, 'built');
mkdirSync(path.join(built, 'dist', 'server'), { recursive: true });
writeFileSync(path.join(built, 'dist', 'server', 'main.js'), '');
writeFileSync(path.join(built, 'package.json'), '{}');
const unbuilt = path.join(tmp, 'unbuilt');
mkdirSync(unbuilt);

async function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-compare.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out };
}

const server = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };

describe('bench:compare', () => {
  it('--help says how to give the versions and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toContain('<name>:<dir>[:<ENV=value>,...]');
    expect(out).toContain('--batch-size');
  }, 30_000);

  it.each([
    ['one version', [`a:${built}`], server, 'give at least two versions'],
    ['a name given twice', [`a:${built}`, `a:${built}`], server, 'the version name "a" is given twice'],
    ['a version without a directory', [`a:${built}`, 'b'], server, 'a version is <name>:<dir>'],
    [
      'a directory without dist/server/main.js',
      [`a:${built}`, `b:${unbuilt}`],
      server,
      `${path.join(unbuilt, 'dist/server/main.js')} is missing`,
    ],
    [
      'an environment that is not ENV=value',
      [`a:${built}`, `b:${built}:NOT AN ASSIGNMENT`],
      server,
      'is not ENV=value',
    ],
    ['--rounds 0', ['--rounds', '0', `a:${built}`, `b:${built}`], server, '--rounds must be a number from 1'],
    [
      'no database URL',
      [`a:${built}`, `b:${built}`],
      {},
      'no PostgreSQL server: set DATABASE_URL or give --database-url',
    ],
  ])(
    'refuses %s with exit status 2',
    async (_what, args, env, message) => {
      const { code, out } = await run(args, env);
      expect(out).toContain(message);
      expect(code).toBe(2);
    },
    30_000,
  );
});
