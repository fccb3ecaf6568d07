/**
 * The patronage CLI's policy round trip (issue 13's follow-up), against a running service: what
 * `policy` prints, edited, is what `set-policy --file` takes. The printed version's record
 * (version, createdAt, createdBy) is read-only and not sent; a file printed from a version that is
 * no longer the latest is refused (setting it would undo the change made since), unless the user
 * removes its version.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtArgs } from '../helpers/build.js';
import type { CoopFixture } from '../helpers/coop.js';
import { ledgerClient } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { patronageCoop, setPolicy } from './helpers.js';

let server: TestServer;
let coop: CoopFixture;
const dir = mkdtempSync(path.join(os.tmpdir(), 'patronage-policy-roundtrip-'));

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...builtArgs('scripts/patronage.ts'), ...args], {
      env: { ...process.env, LEDGER_URL: server.url, LEDGER_TOKEN: coop.treasurerToken },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  coop = (await patronageCoop(server.url, ledgerClient(server.url))).coop;
  await setPolicy(coop, {
    measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
    reservePercent: '30',
    revolvingYears: 5,
  });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const latest = async () => (await coop.treasurer.patronagePolicy({ coopId: coop.id, version: null }))!;

describe('patronage policy, edited, then set-policy --file', () => {
  it('takes the printed policy edited; refuses a file of a version no longer the latest', async () => {
    const printed = await cli(['policy', '--coop', coop.id]);
    expect(printed.code, printed.err).toBe(0);
    const policy = JSON.parse(printed.out) as Record<string, unknown>;
    expect(policy).toMatchObject({
      version: 1,
      createdAt: expect.any(String),
      createdBy: expect.any(String),
    });

    const file = path.join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ ...policy, reservePercent: '25' }, null, 2));
    const set = await cli(['set-policy', '--coop', coop.id, '--file', file]);
    expect([set.code, set.out.trim()], set.err).toEqual([0, 'policy version 2']);
    const v2 = await latest();
    expect([v2.version, v2.reservePercent, v2.revolvingYears]).toEqual([2, '25', 5]);

    // The same file again: printed from version 1, the latest is 2; nothing set.
    const stale = await cli(['set-policy', '--coop', coop.id, '--file', file]);
    expect(stale.code, stale.err).toBe(1);
    expect(stale.err).toContain('printed from policy version 1');
    expect(stale.err).toContain('latest is version 2');
    expect((await latest()).version).toBe(2);

    // Without its version, the user sets it anyway (createdAt and createdBy still in the file).
    const unversioned: Record<string, unknown> = { ...policy, reservePercent: '20' };
    delete unversioned.version;
    writeFileSync(file, JSON.stringify(unversioned, null, 2));
    const forced = await cli(['set-policy', '--coop', coop.id, '--file', file]);
    expect([forced.code, forced.out.trim()], forced.err).toEqual([0, 'policy version 3']);
    expect((await latest()).reservePercent).toBe('20');
  });
});
