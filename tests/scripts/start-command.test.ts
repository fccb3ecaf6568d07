/**
 * The service's command in package.json's `start` script, as the benchmarks read it to start the
 * service as `npm start` does (scripts/lib/bench-service.ts, startCommandOf): its environment
 * (NODE_ENV=production unless set, MALLOC_ARENA_MAX) and Node's flags (the heap from HEAP_MB).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCommandOf } from '../../scripts/lib/bench-service.js';
import { repoRoot } from '../../server/platform/config.js';

const start = (
  JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  }
).scripts.start;

describe("npm start's service command", () => {
  it('runs the compiled service in production with a bounded heap by default', () => {
    const command = startCommandOf(start, {});
    expect(command.env).toEqual({ NODE_ENV: 'production', MALLOC_ARENA_MAX: '2' });
    expect(command.args).toContain('--max-old-space-size=128');
    expect(command.args.at(-1)).toBe('dist/server/main.js');
  });

  it("turns off V8's allocation-site pretenuring", () => {
    // Batches of 500 entries live long enough that V8 decides, per allocation site, to allocate
    // that site's objects in the old generation from then on; the decision sticks, and the same
    // sites then serve single entries, whose objects die young: promoted instead, they made major
    // collections about 3.5 times as frequent and a single entry cost about 50% more of the
    // service's CPU after the first batches (README, Performance).
    expect(startCommandOf(start, {}).args).toContain('--no-allocation-site-pretenuring');
  });

  it('keeps a NODE_ENV and a HEAP_MB that are set, as the shell would', () => {
    const command = startCommandOf(start, { NODE_ENV: 'staging', HEAP_MB: '256' });
    expect(command.env.NODE_ENV).toBe('staging');
    expect(command.args).toContain('--max-old-space-size=256');
  });

  it('refuses a script that does not end with the service command', () => {
    expect(() => startCommandOf('tsx server/main.ts', {})).toThrow(/must end with/);
  });
});
