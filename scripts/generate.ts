/**
 * Regenerates everything derived from the Pothos builder, in order: the printed schema
 * (schema/schema.graphql), then the client SDK (client-sdk/generated/ by GraphQL Code Generator),
 * then the service's persisted documents (server/persisted-documents.json, the SDK's operations).
 *
 * Usage: npm run generate (npm run check:generated: with --check)
 *   --check  after regenerating into the work tree, exit 1 when `git diff` shows a change to a
 *            generated file, or when a generated file is untracked (CI runs this: a stale
 *            committed file means someone changed the schema or an operation without regenerating).
 *
 * The SDK folder is emptied first so that an output codegen no longer writes shows up as a deletion
 * instead of lingering. Nothing here touches the network.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const GENERATED_PATHS = [
  'schema/schema.graphql',
  'client-sdk/generated',
  'server/persisted-documents.json',
] as const;
const SDK_OUTPUT_DIR = join(root, 'client-sdk', 'generated');

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    [
      'Usage: npm run generate      (npm run check:generated runs it with --check)',
      '',
      'Regenerates schema/schema.graphql (from the Pothos builder) and client-sdk/generated/ (codegen).',
      '  --check  then exit 1 if a generated file differs from git or is untracked',
    ].join('\n'),
  );
  process.exit(0);
}
const unknown = args.filter((arg) => arg !== '--check');
if (unknown.length > 0) {
  console.error(`Unknown argument(s): ${unknown.join(' ')} (see --help)`);
  process.exit(2);
}
const check = args.includes('--check');

/** Runs a Node script with the Node running this one (the `node` devDependency, not the system's). */
function runNode(label: string, nodeArgs: string[]): void {
  console.log(`> ${label}`);
  const result = spawnSync(process.execPath, nodeArgs, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    console.error(`${label} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

function git(gitArgs: string[]): { status: number; stdout: string } {
  const result = spawnSync('git', gitArgs, { cwd: root, encoding: 'utf8' });
  if (result.error) {
    console.error(`check:generated needs git on PATH: ${result.error.message}`);
    process.exit(2);
  }
  if (result.status !== 0 && result.status !== 1) {
    console.error(`git ${gitArgs.join(' ')} failed:\n${result.stderr}`);
    process.exit(2);
  }
  return { status: result.status, stdout: result.stdout };
}

const require = createRequire(import.meta.url);
const codegenBin = join(dirname(require.resolve('@graphql-codegen/cli/package.json')), 'esm', 'bin.js');

runNode('print schema (scripts/print-schema.ts)', ['--import', 'tsx', 'scripts/print-schema.ts']);
rmSync(SDK_OUTPUT_DIR, { recursive: true, force: true });
runNode('generate SDK (graphql-codegen --config codegen.ts)', [
  codegenBin,
  '--config',
  'codegen.ts',
  '--silent',
]);
// The SDK's operations as the service's persisted documents (server/platform/http/persisted.ts).
runNode('persisted documents (scripts/persisted-documents.ts)', [
  '--import',
  'tsx',
  'scripts/persisted-documents.ts',
]);

if (check) {
  const changed = git(['diff', '--name-only', '--', ...GENERATED_PATHS])
    .stdout.split('\n')
    .filter(Boolean);
  const untracked = git(['ls-files', '--others', '--exclude-standard', '--', ...GENERATED_PATHS])
    .stdout.split('\n')
    .filter(Boolean);
  if (changed.length > 0 || untracked.length > 0) {
    console.error('Generated files are stale: run `npm run generate` and commit the result.');
    for (const file of changed) console.error(`  changed:   ${file}`);
    for (const file of untracked) console.error(`  untracked: ${file}`);
    // The diff itself, so a CI log shows what differs without a checkout.
    spawnSync('git', ['--no-pager', 'diff', '--stat', '--', ...GENERATED_PATHS], {
      cwd: root,
      stdio: 'inherit',
    });
    process.exit(1);
  }
  console.log('Generated files are up to date.');
}
