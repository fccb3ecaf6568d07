/**
 * bench-reporting's in-process part still runs against the reporting code it measures: its slices
 * read the release through a stand-in for the store's pool, which answers the store's statements
 * by their text, so a change to those statements can break the bench while every test passes
 * (a0703fa did: the release head's select gained octet_length and the bench crashed on NaN bytes).
 * A tiny city, no HTTP part, nothing written.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../server/platform/config.js';
import { builtArgs } from '../helpers/build.js';

describe('bench-reporting on a tiny city', () => {
  it('protects it and reads slices in process, printing the figures', () => {
    const run = spawnSync(
      process.execPath,
      [
        ...builtArgs('scripts/bench-reporting.ts'),
        ...['--coops', '30', '--neighbourhoods', '3', '--sectors', '3', '--months', '6'],
        ...['--queries', '300', '--clients', '4', '--serve-only', '--no-http', '--no-write'],
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DATABASE_URL: '' } },
    );
    expect(run.status, `${run.stderr.slice(-2000)}`).toBe(0);
    expect(run.stdout).toMatch(/in process/);
  }, 150_000);
});
