/**
 * The test run's build: server/, schema/, scripts/, client-sdk/ and the tests' fixtures compiled by
 * tsc (tests/setup/tsconfig.build.json), so that tests that spawn the service or a CLI as a child
 * process start compiled JavaScript, as `npm start` does, instead of Node with tsx, which costs
 * about 1 s of CPU more at each start of the service (measured 2026-12-06: about 3.0 s of CPU from
 * spawn to "listening" under tsx, 1.9 s built).
 *
 * Compiled when a test first asks for an entry point (`builtArgs`), once per version of the
 * sources: a run that spawns nothing compiles nothing, a run after an edit compiles again (about
 * 5 s), and a run on the same sources (CI's second run) reuses the build. It is kept in
 * .test-build/<fingerprint of the sources>/ (ignored by git); concurrent runs never write over a
 * build another is reading: each build is made in a folder of its own and renamed into place
 * whole. Inside the checkout itself, not os.tmpdir() nor node_modules (a symbolic link in a
 * worktree): compiled modules find the repository (server/platform/config.ts's repoRoot) and
 * node_modules by walking up from their real path.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inputsFingerprint } from '../../scripts/lib/build.js';
import { repoRoot } from '../../server/platform/config.js';

/** What tests/setup/tsconfig.build.json compiles (its "include"), relative to the repository. */
function buildSources(root: string): string[] {
  const fixtures = readdirSync(path.join(root, 'tests'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(root, 'tests', entry.name, 'fixtures')))
    .map((entry) => `tests/${entry.name}/fixtures`);
  return ['server', 'schema', 'scripts', 'client-sdk', ...fixtures];
}
const CONFIGS = ['tsconfig.json', 'tests/setup/tsconfig.build.json', 'package.json'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'examples']);
const CACHE = '.test-build';
const COMPLETE = '.complete';
/** Builds of other sources are removed once unused this long (a test run takes minutes; a build is about 4 MB). */
const STALE_BUILD_MS = 60 * 60 * 1000;

/** A SHA-256 over the build's inputs, tsc's version and Node's (scripts/lib/build.ts inputsFingerprint). */
export function testBuildFingerprint(root: string): string {
  return inputsFingerprint(root, {
    dirs: buildSources(root),
    files: CONFIGS,
    skipDirs: SKIPPED_DIRS,
    salt: `node ${process.version}\0`,
  });
}

/**
 * The folder holding the build of the sources as they are now (compiled first when there is
 * none). tsc's type errors do not stop it: tsc still writes every file, as tsx would run them
 * unchecked (the type-check is CI's typecheck step); only a build that wrote no service fails.
 */
export function ensureTestBuild(root: string, log: (message: string) => void = () => {}): string {
  const fingerprint = testBuildFingerprint(root).slice(0, 24);
  const cache = path.join(root, CACHE);
  const dir = path.join(cache, fingerprint);
  if (existsSync(path.join(dir, COMPLETE))) {
    // Marked as used now: only builds no run has used for STALE_BUILD_MS are removed.
    utimesSync(dir, new Date(), new Date());
    return dir;
  }
  removeStaleBuilds(cache, fingerprint);

  const staging = `${dir}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const started = performance.now();
  const tsc = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      path.join(root, 'tests/setup/tsconfig.build.json'),
      '--outDir',
      staging,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (!existsSync(path.join(staging, 'server', 'main.js'))) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `could not compile the test build (tests/setup/tsconfig.build.json), tsc exit ${tsc.status}:\n${tsc.stdout}${tsc.stderr}${tsc.error ?? ''}`,
    );
  }
  if (tsc.status !== 0) log(`tsc reported errors (the build was written all the same):\n${tsc.stdout}`);
  writeFileSync(path.join(staging, COMPLETE), `${fingerprint}\n`);
  try {
    renameSync(staging, dir);
  } catch {
    // Another run renamed the same build into place first: use that one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(path.join(dir, COMPLETE))) throw new Error(`the test build ${dir} is incomplete`);
  }
  log(`compiled the test build in ${((performance.now() - started) / 1000).toFixed(1)} s: ${dir}`);
  return dir;
}

function removeStaleBuilds(cache: string, current: string): void {
  if (!existsSync(cache)) return;
  for (const name of readdirSync(cache)) {
    if (name === current) continue;
    const dir = path.join(cache, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > STALE_BUILD_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed by another run meanwhile.
    }
  }
}

let current: string | undefined;

/** Node's arguments to run the compiled `source` (a .ts path relative to the repository). */
export function builtArgs(source: string): string[] {
  return ['--enable-source-maps', builtPath(source)];
}

/** The compiled file of `source` (a .ts path relative to the repository), compiled first if need be. */
export function builtPath(source: string): string {
  if (!source.endsWith('.ts') || path.isAbsolute(source)) {
    throw new Error(`not a source of the repository: ${source}`);
  }
  current ??= ensureTestBuild(repoRoot, (message) => process.stderr.write(`${message}\n`));
  return path.join(current, source.replace(/\.ts$/, '.js'));
}
