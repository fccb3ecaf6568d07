/**
 * A treasurer's first edit of a patronage policy: `npm run patronage -- policy > policy.json`, edit,
 * `npm run patronage -- set-policy --file policy.json`. What `policy` prints carries the version's
 * record (coopId, version, createdAt, createdBy); the last three are no fields of a new version:
 * the CLI drops them (read-only) instead of sending the file for the API's "input.version is not a
 * field of SetPatronagePolicyInput". The round trip on a real co-op, and the refusal of a file
 * printed from a version no longer the latest: tests/patronage/cli-policy-roundtrip.test.ts.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../server/platform/config.js';
import { builtArgs } from '../helpers/build.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let tmp: string;

beforeAll(async () => {
  server = await startTestServer();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ledger-policy-file-'));
});

afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function patronage(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, LEDGER_URL: server.url, LEDGER_TOKEN: server.adminToken };
  const child = spawn(process.execPath, [...builtArgs('scripts/patronage.ts'), ...args], {
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

/** A policy as the policy command prints it (the SDK's patronagePolicy answer, as JSON). */
const printedPolicy = (coopId: string) => ({
  coopId,
  version: 1,
  measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
  classMultipliers: [],
  reservePercent: '30',
  communityPercent: '10',
  cashPercent: '20',
  noticeType: 'QUALIFIED',
  consentByBylaw: true,
  revolvingYears: 5,
  minimumAllocation: '0.00',
  minimumCheque: '0.00',
  lossRule: 'RESERVE_FIRST',
  departingRule: 'PAY_AT_ONCE',
  createdAt: '2026-12-07T15:51:56.584Z',
  createdBy: randomUUID(),
});

describe('patronage set-policy --file', () => {
  it('drops the read-only fields of the printed policy: the API then judges the rest', async () => {
    const coop = randomUUID();
    const file = path.join(tmp, 'printed.json');
    writeFileSync(file, JSON.stringify(printedPolicy(coop), null, 2));
    const run = await patronage(['set-policy', '--coop', coop, '--file', file]);
    // A co-op nobody created: the service's refusal, so the file itself was taken.
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('UNKNOWN_COOP');
    expect(run.stderr).not.toContain('SetPatronagePolicyInput');
  });

  it('takes the printed policy less those three (coopId may stay): the API then judges it', async () => {
    const coop = randomUUID();
    const { version: _v, createdAt: _a, createdBy: _b, ...edited } = printedPolicy(coop);
    const file = path.join(tmp, 'edited.json');
    writeFileSync(file, JSON.stringify(edited, null, 2));
    const run = await patronage(['set-policy', '--coop', coop, '--file', file]);
    // A co-op nobody created: the service's refusal, so the file itself was taken.
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('UNKNOWN_COOP');
  });
});
