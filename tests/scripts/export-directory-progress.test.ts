/**
 * `npm run export:directory` with its standard error in a log file (not a terminal) writes whole
 * lines: progress rewritten in place with carriage returns ran together into one line of a log
 * ("\r1 profiles written\r2 profiles written..."). Three listed co-ops of a city of their own.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtArgs } from '../helpers/build.js';
import { coopInput } from '../helpers/coop.js';
import { ledgerClient, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const city = `Progress ${uniqueSuffix()}`;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  const admin = ledgerClient(server.url);
  for (let i = 0; i < 3; i++) {
    const created = await admin.createCoop({ ...coopInput({ city }), publicListing: true });
    expect(created.userErrors).toEqual([]);
  }
});

afterAll(async () => {
  await server?.stop();
});

describe('export:directory into a log file', () => {
  it('writes progress as whole lines, without carriage returns', { timeout: 90_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'directory-progress-'));
    try {
      const child = spawn(
        process.execPath,
        [...builtArgs('scripts/export-directory.ts'), '--url', server.url, '--out', out, '--city', city],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const [code] = await once(child, 'exit');
      expect(code, stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).coops).toHaveLength(3);
      expect(stderr).not.toContain('\r');
      expect(stderr.endsWith('\n')).toBe(true);
      expect(stderr.trimEnd().split('\n')).toEqual([`wrote 3 profiles and index.json to ${out}`]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
