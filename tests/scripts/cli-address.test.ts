/**
 * The CLIs that talk to the service (issue 11 item 3) find it through LEDGER_URL and LEDGER_TOKEN
 * (options win), say so in --help, and fail at once with a clear message when nothing listens at
 * the address: one connection attempt, not the SDK's six. Attempts are counted in the child by a
 * preloaded module that counts socket connects (fetch's included) and prints the count on exit.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports.js';
import { repoRoot } from '../../server/platform/config.js';
import { builtArgs } from '../helpers/build.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CLIS = {
  tokens: 'scripts/tokens.ts',
  importMembers: 'scripts/import-members.ts',
  exportDirectory: 'scripts/export-directory.ts',
  exportLedger: 'scripts/export-ledger.ts',
} as const;

let server: TestServer;
let tmp: string;
let counter: string;

beforeAll(async () => {
  server = await startTestServer();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ledger-cli-'));
  counter = path.join(tmp, 'count-connects.mjs');
  writeFileSync(
    counter,
    [
      "import net from 'node:net';",
      'let attempts = 0;',
      'const connect = net.Socket.prototype.connect;',
      'net.Socket.prototype.connect = function (...args) { attempts++; return connect.apply(this, args); };',
      "process.on('exit', () => process.stderr.write('\\nconnection attempts: ' + attempts + '\\n'));",
    ].join('\n'),
  );
});

afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function runCli(file: string, args: string[], env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ['LEDGER_URL', 'LEDGER_TOKEN']) if (!(name in env)) delete childEnv[name];
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(counter).href, ...builtArgs(file), ...args],
    {
      cwd: repoRoot,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'exit');
  const attempts = Number(/connection attempts: (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
  return { code: code as number | null, stdout, stderr, attempts };
}

describe('CLIs against a service on another port', () => {
  it('tokens list reaches it through LEDGER_URL and LEDGER_TOKEN', async () => {
    expect(server.port).not.toBe(4000);
    const run = await runCli(CLIS.tokens, ['list'], {
      LEDGER_URL: server.url,
      LEDGER_TOKEN: server.adminToken,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/ ADMIN /);
  });

  it('LEDGER_URL may be the service’s address without /graphql, and --url/--token win over the variables', async () => {
    const closed = await freePort();
    const [bare, flags] = await Promise.all([
      runCli(CLIS.tokens, ['list'], { LEDGER_URL: server.baseUrl, LEDGER_TOKEN: server.adminToken }),
      runCli(CLIS.tokens, ['list', '--url', server.url, '--token', server.adminToken], {
        LEDGER_URL: `http://127.0.0.1:${closed}/graphql`,
        LEDGER_TOKEN: 'slt_not_a_token',
      }),
    ]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toMatch(/ ADMIN /);
    expect(flags.code, flags.stderr).toBe(0);
    expect(flags.stdout).toMatch(/ ADMIN /);
  });

  it('export-directory reads LEDGER_URL too', async () => {
    const out = path.join(tmp, 'directory');
    const run = await runCli(CLIS.exportDirectory, ['--out', out], { LEDGER_URL: server.url });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`index.json to ${out}`);
  });
});

describe('CLIs where nothing listens', () => {
  it('each fails after one connection attempt, naming the address, where it came from and LEDGER_URL', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/graphql`;
    const csv = path.join(tmp, 'members.csv');
    writeFileSync(csv, 'name,class,applied_on\nAda,WORKER,2026-01-01\n');
    const env = { LEDGER_URL: url, LEDGER_TOKEN: server.adminToken };
    const runs = await Promise.all([
      runCli(CLIS.tokens, ['list'], env),
      runCli(CLIS.importMembers, ['--coop', 'Q29vcDox', '--file', csv], env),
      runCli(CLIS.exportDirectory, ['--out', path.join(tmp, 'never')], env),
      runCli(CLIS.exportLedger, ['--book', 'Qm9vazox'], env),
      runCli(CLIS.tokens, ['list', '--url', url], { LEDGER_TOKEN: server.adminToken }),
    ]);
    for (const [i, run] of runs.entries()) {
      expect(run.code, `run ${i}: ${run.stderr}`).not.toBe(0);
      expect(run.stderr).toContain(`othing listens at ${url} (connection refused)`);
      expect(run.stderr).toContain('LEDGER_URL');
      expect(run.attempts, `run ${i}: ${run.stderr}`).toBe(1);
      // Not the SDK's error after its retries.
      expect(run.stderr).not.toContain('NETWORK_ERROR');
    }
    expect(runs[0]!.stderr).toContain('the address came from LEDGER_URL');
    expect(runs[4]!.stderr).toContain('the address came from --url');
    expect(runs[1]!.code).toBe(2); // import-members: its exit status for an unreachable server
  });

  it('every CLI names LEDGER_URL and LEDGER_TOKEN in --help', async () => {
    const runs = await Promise.all(Object.values(CLIS).map((file) => runCli(file, ['--help'], {})));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('LEDGER_URL');
      expect(run.stdout).toContain('LEDGER_TOKEN');
      expect(run.attempts).toBe(0);
    }
  });
});
