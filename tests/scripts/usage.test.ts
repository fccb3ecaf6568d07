/**
 * Every command-line script's --help works without a database or a service, and its `Usage:` line
 * names a command a newcomer can type in the checkout as it is: `npm run <script> -- ...` for a
 * script of package.json that runs that file, or `npx tsx scripts/<file>`. A bare `tsx ...` is not
 * such a command: tsx is a dependency of the checkout, not on a user's PATH ("command not found").
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports.js';
import { repoRoot } from '../../server/platform/config.js';
import { builtArgs } from '../helpers/build.js';

const packageScripts: Record<string, string> = JSON.parse(
  readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
).scripts;

/** The scripts that print a usage text for --help (the others are modules of the CLIs or the benches). */
const CLIS = readdirSync(path.join(repoRoot, 'scripts'))
  .filter((name) => name.endsWith('.ts'))
  .filter((name) => /Usage:/.test(readFileSync(path.join(repoRoot, 'scripts', name), 'utf8')))
  .map((name) => `scripts/${name}`)
  .sort();

/** The generation scripts: run by npm run generate, they take no options of a user's. */
const GENERATORS = ['scripts/generate.ts', 'scripts/print-schema.ts', 'scripts/persisted-documents.ts'];

async function run(file: string, closedUrl: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, LEDGER_URL: closedUrl, LEDGER_TOKEN: 'slt_not_a_token' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [...builtArgs(file), ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

/** Whether `command` (the text after "Usage: ") runs `file` from the checkout's root. */
function runnable(command: string, file: string): boolean {
  const npmRun = /^npm (?:run ([\w:-]+)|(start|test))\b/.exec(command);
  if (npmRun) {
    const script = packageScripts[npmRun[1] ?? npmRun[2] ?? ''];
    return script !== undefined && (script.includes(file) || script.includes(file.replace(/\.ts$/, '')));
  }
  return command.startsWith(`npx tsx ${file}`);
}

describe('scripts --help', () => {
  it('finds the scripts', () => {
    expect(CLIS).toEqual(
      expect.arrayContaining(['scripts/tokens.ts', 'scripts/export-ledger.ts', 'scripts/seed-demo.ts']),
    );
  });

  it.each(CLIS)('%s --help exits 0 without a database and names a command that runs it', async (file) => {
    const closed = `http://127.0.0.1:${await freePort()}/graphql`;
    const help = await run(file, closed, ['--help']);
    expect(help.code, help.stderr).toBe(0);
    const usage = /^Usage: (.+)$/m.exec(help.stdout)?.[1];
    expect(usage, help.stdout).toBeDefined();
    expect(runnable(usage ?? '', file), `"Usage: ${usage}" does not run ${file}`).toBe(true);
  });

  it.each(CLIS.filter((file) => !GENERATORS.includes(file)))(
    '%s with a mistyped option exits 2 (bad usage) naming it, without a stack trace',
    async (file) => {
      const closed = `http://127.0.0.1:${await freePort()}/graphql`;
      const mistyped = await run(file, closed, ['--no-such-option', 'x']);
      expect(mistyped.code, mistyped.stderr).toBe(2);
      expect(mistyped.stderr).toContain("'--no-such-option'");
      expect(mistyped.stderr).not.toMatch(/^\s+at /m);
    },
  );

  it.each([
    ['--today', '2026-02-30'],
    ['--today', '2025-13-01'],
    ['--consent-from', '2025-04-31'],
  ])(
    'seed:demo %s %s, a day the calendar does not have, is a usage error before anything is sent',
    async (option, day) => {
      const closed = `http://127.0.0.1:${await freePort()}/graphql`;
      const refused = await run('scripts/seed-demo.ts', closed, [option, day]);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain(`${option} must be a date YYYY-MM-DD`);
      expect(refused.stderr).toContain(`not "${day}"`);
    },
  );
});
