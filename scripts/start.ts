/**
 * What `npm start` runs before the service itself (package.json: this script, then Node with a
 * bounded heap on dist/server/main.js):
 *
 * 1. checks that the service's port is free, before compiling anything: a clash fails at once with
 *    a message naming the port and PORT (server/main.ts checks again, before it creates a database
 *    or a token);
 * 2. compiles server/ and schema/ to dist/ (`tsc -p tsconfig.build.json`) only when they changed
 *    since the last build (scripts/lib/build.ts), so a second start does not compile.
 *
 * Exit status: 0 ready to start; 1 bad configuration, port unavailable, or the build failed.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig, repoRoot } from '../server/platform/config.js';
import { checkPortFree, PortUnavailableError } from '../server/port-check.js';
import { BUILD_OUTPUT, buildIsCurrent, recordBuild, sourceFingerprint } from './lib/build.js';

async function main(): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\nRun npx tsx server/main.ts --help to see the variables.\n`);
    return 1;
  }
  try {
    await checkPortFree(config.port, config.host);
  } catch (error) {
    if (!(error instanceof PortUnavailableError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }

  const fingerprint = sourceFingerprint(repoRoot);
  if (buildIsCurrent(repoRoot, fingerprint)) return 0;
  process.stderr.write(
    `Compiling server/ and schema/ to ${BUILD_OUTPUT}/ (the sources changed since the last build)...\n`,
  );
  const started = performance.now();
  const tsc = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: repoRoot, stdio: 'inherit' },
  );
  if (tsc.status !== 0) {
    process.stderr.write('The build failed (see above); the service was not started.\n');
    return 1;
  }
  recordBuild(repoRoot, fingerprint);
  process.stderr.write(`Compiled in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
  return 0;
}

process.exitCode = await main();
