/**
 * Whether dist/ was compiled from the sources as they are now, so `npm start` compiles only when
 * they changed. The fingerprint covers what `tsc -p tsconfig.build.json` reads from the project:
 * every TypeScript and JSON file under server/ and schema/, both tsconfig files, and the compiler's
 * version. It is kept in dist/.build-fingerprint with the modification time of the dist/server/main.js
 * that build wrote, so a build made another way (`npm run build` from other sources) is not trusted.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Folders compiled by tsconfig.build.json (its "include"). */
export const BUILD_SOURCES = ['server', 'schema'] as const;
export const BUILD_CONFIGS = ['tsconfig.json', 'tsconfig.build.json'] as const;
export const BUILD_OUTPUT = 'dist';
export const BUILD_ENTRY = path.join(BUILD_OUTPUT, 'server', 'main.js');
const FINGERPRINT_FILE = path.join(BUILD_OUTPUT, '.build-fingerprint');
const SOURCE_FILE = /\.(?:[cm]?ts|json)$/;

/** What a build reads: folders walked for source files, single files, and folders skipped. */
export interface BuildInputs {
  dirs: readonly string[];
  files: readonly string[];
  /** Folder names never walked into (none by default). */
  skipDirs?: ReadonlySet<string>;
  /** Text hashed with the compiler's version (for example the Node version a build is run on). */
  salt?: string;
}

/**
 * A SHA-256 over a build's inputs under `root` (paths and contents, in a stable order) and the
 * compiler's version: npm start's dist/ (sourceFingerprint) and the tests' build
 * (tests/helpers/build.ts) alike.
 */
export function inputsFingerprint(root: string, inputs: BuildInputs): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!inputs.skipDirs?.has(entry.name)) walk(relative);
      } else if (entry.isFile() && SOURCE_FILE.test(entry.name)) files.push(relative);
    }
  };
  for (const dir of inputs.dirs) if (existsSync(path.join(root, dir))) walk(dir);
  for (const file of inputs.files) if (existsSync(path.join(root, file))) files.push(file);
  files.sort();
  const hash = createHash('sha256');
  hash.update(`typescript ${compilerVersion(root)}\0${inputs.salt ?? ''}`);
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** The fingerprint of what `tsc -p tsconfig.build.json` compiles into dist/. */
export function sourceFingerprint(root: string): string {
  return inputsFingerprint(root, { dirs: BUILD_SOURCES, files: BUILD_CONFIGS });
}

/** True when dist/ holds the build of exactly these sources (`fingerprint`, default: computed now). */
export function buildIsCurrent(root: string, fingerprint = sourceFingerprint(root)): boolean {
  const entry = path.join(root, BUILD_ENTRY);
  if (!existsSync(entry)) return false;
  let recorded: { fingerprint?: unknown; entryMtimeMs?: unknown };
  try {
    recorded = JSON.parse(readFileSync(path.join(root, FINGERPRINT_FILE), 'utf8'));
  } catch {
    return false;
  }
  return recorded.fingerprint === fingerprint && recorded.entryMtimeMs === statSync(entry).mtimeMs;
}

/** Records that dist/ now holds the build of the sources whose fingerprint is given. */
export function recordBuild(root: string, fingerprint: string): void {
  const entryMtimeMs = statSync(path.join(root, BUILD_ENTRY)).mtimeMs;
  writeFileSync(path.join(root, FINGERPRINT_FILE), `${JSON.stringify({ fingerprint, entryMtimeMs })}\n`);
}

function compilerVersion(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, 'node_modules/typescript/package.json'), 'utf8'));
    return String(pkg.version);
  } catch {
    return 'unknown';
  }
}
