/**
 * Starting the service (issue 11): a port already in use stops `server/main.ts` and `npm start`'s
 * first step (scripts/start.ts) at once, with a message naming the port and PORT, before anything
 * is compiled or created (no embedded database, no admin token); and the build fingerprint that lets
 * `npm start` skip compiling when the sources did not change.
 *
 * Processes are spawned with Node directly (`--import tsx`), never through npm, as
 * tests/helpers/server.ts does; each one ends by itself.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_ENTRY, buildIsCurrent, recordBuild, sourceFingerprint } from '../../scripts/lib/build.js';
import { repoRoot } from '../../server/platform/config.js';
import { checkPortFree, PortUnavailableError, portUnavailable } from '../../server/port-check.js';
import { builtArgs } from '../helpers/build.js';

let holder: Server;
let busyPort: number;
let tmp: string;

beforeAll(async () => {
  holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  busyPort = (holder.address() as { port: number }).port;
  // Under os.tmpdir() with mode 0755: as root, the embedded PostgreSQL's user could reach it, so
  // nothing but the port check stands between these runs and a new database.
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ledger-start-'));
  chmodSync(tmp, 0o755);
});

afterAll(async () => {
  holder.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs a TypeScript entry of the repo, compiled (the test run's build), with Node; resolves when it exits. */
async function run(file: string, env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', ...env };
  for (const name of ['DATABASE_URL', 'ADMIN_TOKEN', 'HOST']) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, builtArgs(file), {
    cwd: repoRoot,
    env: childEnv,
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

describe('a port already in use', () => {
  it('stops server/main.ts with a message naming the port and PORT, before a database or a token exists', async () => {
    const dataDir = path.join(tmp, 'main-data');
    const result = await run(path.join('server', 'main.ts'), { PORT: String(busyPort), DATA_DIR: dataDir });

    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`Port ${busyPort} is already in use on 127.0.0.1`);
    expect(result.stderr).toMatch(/PORT=\d+ npm start/);
    // Nothing was started or created: no embedded database, no admin token.
    expect(existsSync(dataDir)).toBe(false);
    const output = result.stdout + result.stderr;
    expect(output).not.toContain('embedded PostgreSQL');
    expect(output).not.toMatch(/slt_[0-9a-f]{32}_/);
    expect(output).not.toContain('administrator token');
  });

  it('stops npm start’s first step before it compiles anything', async () => {
    const result = await run(path.join('scripts', 'start.ts'), {
      PORT: String(busyPort),
      DATA_DIR: path.join(tmp, 'start-data'),
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`Port ${busyPort} is already in use`);
    expect(result.stderr).not.toContain('Compiling');
    expect(existsSync(path.join(tmp, 'start-data'))).toBe(false);
  });

  it('is told apart from a free port and from port 0, and each failure is explained', async () => {
    await expect(checkPortFree(busyPort, '127.0.0.1')).rejects.toBeInstanceOf(PortUnavailableError);
    await expect(checkPortFree(0, '127.0.0.1')).resolves.toBeUndefined();
    const free = createServer().listen(0, '127.0.0.1');
    await once(free, 'listening');
    const freePort = (free.address() as { port: number }).port;
    await new Promise((resolve) => free.close(resolve));
    await expect(checkPortFree(freePort, '127.0.0.1')).resolves.toBeUndefined();
    // The probe let go of it again.
    await expect(checkPortFree(freePort, '127.0.0.1')).resolves.toBeUndefined();

    const denied = portUnavailable(80, '127.0.0.1', Object.assign(new Error('x'), { code: 'EACCES' }));
    expect(denied.message).toContain('Not allowed to listen on port 80');
    expect(denied.message).toContain('PORT=4000 npm start');
    const elsewhere = portUnavailable(
      4000,
      '10.9.9.9',
      Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }),
    );
    expect(elsewhere.message).toContain('Set HOST');
  });
});

describe('the build fingerprint (npm start compiles only when the sources changed)', () => {
  let root: string;
  beforeAll(() => {
    root = path.join(tmp, 'checkout');
    mkdirSync(path.join(root, 'server', 'ledger'), { recursive: true });
    mkdirSync(path.join(root, 'schema'), { recursive: true });
    mkdirSync(path.join(root, path.dirname(BUILD_ENTRY)), { recursive: true });
    writeFileSync(path.join(root, 'tsconfig.json'), '{}');
    writeFileSync(path.join(root, 'tsconfig.build.json'), '{}');
    writeFileSync(path.join(root, 'server', 'main.ts'), 'export {};\n');
    writeFileSync(path.join(root, 'server', 'ledger', 'posting.ts'), 'export const a = 1;\n');
    writeFileSync(path.join(root, 'schema', 'index.ts'), 'export const b = 2;\n');
    writeFileSync(path.join(root, BUILD_ENTRY), '// built\n');
  });

  it('is current after a recorded build, and stays so while nothing changes', () => {
    expect(buildIsCurrent(root)).toBe(false);
    recordBuild(root, sourceFingerprint(root));
    expect(buildIsCurrent(root)).toBe(true);
    expect(buildIsCurrent(root)).toBe(true);
  });

  it('is stale after a source changes, is added or removed, or a tsconfig changes', () => {
    const changes: [string, () => void][] = [
      [
        'a source edited',
        () => writeFileSync(path.join(root, 'server', 'ledger', 'posting.ts'), 'export const a = 2;\n'),
      ],
      ['a source added', () => writeFileSync(path.join(root, 'schema', 'extra.ts'), 'export {};\n')],
      ['a source removed', () => rmSync(path.join(root, 'schema', 'extra.ts'))],
      [
        'a tsconfig edited',
        () => writeFileSync(path.join(root, 'tsconfig.build.json'), '{"compilerOptions":{}}'),
      ],
    ];
    for (const [what, change] of changes) {
      recordBuild(root, sourceFingerprint(root));
      change();
      expect(buildIsCurrent(root), what).toBe(false);
    }
    // Not a file the build reads: no rebuild.
    recordBuild(root, sourceFingerprint(root));
    writeFileSync(path.join(root, 'server', 'NOTES.md'), 'notes');
    expect(buildIsCurrent(root)).toBe(true);
  });

  it('is stale when dist/ was rebuilt another way (npm run build) or is gone', () => {
    recordBuild(root, sourceFingerprint(root));
    const entry = path.join(root, BUILD_ENTRY);
    utimesSync(entry, new Date(), new Date(Date.now() + 5000));
    expect(buildIsCurrent(root)).toBe(false);
    recordBuild(root, sourceFingerprint(root));
    rmSync(path.join(root, 'dist'), { recursive: true });
    expect(buildIsCurrent(root)).toBe(false);
  });
});
