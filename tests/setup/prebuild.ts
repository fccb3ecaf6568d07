/**
 * Compiles the test run's build (tests/helpers/build.ts) ahead of the test runs, so that CI's log
 * shows its cost as a step of its own and no test's time limit has to cover it. Tests compile it
 * themselves when it is missing or stale; this only does it first.
 *
 * Usage: npx tsx tests/setup/prebuild.ts
 */

import { repoRoot } from '../../server/platform/config.js';
import { ensureTestBuild } from '../helpers/build.js';

const started = performance.now();
const dir = ensureTestBuild(repoRoot, (message) => process.stderr.write(`${message}\n`));
process.stdout.write(`test build ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${dir}\n`);
