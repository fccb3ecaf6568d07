/**
 * Dependency rules, checked on the source text:
 *   - server/ledger is a pure core: it imports only decimal.js and itself.
 *   - schema -> server/app -> server/ledger, and server/db -> server/ledger: server/app never
 *     imports schema/ or server/http; server/db never imports server/app, schema/ or server/http.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LEDGER_DIR = join(ROOT, 'server/ledger');
const LEDGER_ALLOWED_PACKAGES = new Set(['decimal.js']);

/** Marks a specifier that is not a string literal (`import(name)`): it cannot be checked, so it fails. */
const NON_LITERAL = '<non-literal dynamic import>';

const STATIC_PATTERNS: RegExp[] = [
  // import x from '...'; import { a, type B } from '...'; import * as ns from '...'; import type X from '...';
  // export { a } from '...'; export * from '...'; export * as ns from '...'; export type { A } from '...'
  // Only at the start of a line, so prose in comments (" * import ...") does not count.
  /^[ \t]*(?:import|export)\b[\w\s{},*$]*?\bfrom\s*(['"])([^'"\n]+)\1/gm,
  // import './side-effect.js';
  /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm,
];
// import('...'), anywhere, including type positions (`typeof import('pg')`) and comments.
const DYNAMIC_LITERAL = /\bimport\s*\(\s*(['"`])([^'"`\n]+)\1\s*[,)]/g;
const DYNAMIC_ANY = /\bimport\s*\(/g;
// CommonJS, in case it sneaks in.
const REQUIRE = /\brequire\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g;

/** Every module specifier a TypeScript source imports or re-exports from. */
function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const pattern of [...STATIC_PATTERNS, DYNAMIC_LITERAL, REQUIRE]) {
    for (const match of source.matchAll(pattern)) found.push(match[2]!);
  }
  const literalDynamic = [...source.matchAll(DYNAMIC_LITERAL)].length;
  const anyDynamic = [...source.matchAll(DYNAMIC_ANY)].length;
  for (let i = literalDynamic; i < anyDynamic; i++) found.push(NON_LITERAL);
  return found;
}

/** Specifiers in `source` (at `file`) that the pure ledger core must not use. */
function ledgerViolations(file: string, source: string): string[] {
  return importSpecifiers(source).filter((spec) => {
    if (LEDGER_ALLOWED_PACKAGES.has(spec)) return false;
    if (spec.startsWith('./') || spec.startsWith('../')) {
      const target = resolve(dirname(file), spec);
      return !target.startsWith(LEDGER_DIR + sep);
    }
    return true;
  });
}

/**
 * Relative specifiers in `source` (at `file`) that land inside any of `forbiddenDirs`. Non-literal
 * dynamic imports are not judged here (server/db loads a platform package by computed name); only
 * the ledger rule rejects them.
 */
function forbiddenImports(file: string, source: string, forbiddenDirs: string[]): string[] {
  return importSpecifiers(source).filter((spec) => {
    if (spec === NON_LITERAL) return false;
    if (!spec.startsWith('./') && !spec.startsWith('../') && !spec.startsWith('/')) return false;
    const target = resolve(dirname(file), spec);
    return forbiddenDirs.some((dir) => target === dir || target.startsWith(dir + sep));
  });
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(c|m)?tsx?$/.test(name) && !name.split(/[\\/]/).includes('node_modules'))
    .map((name) => join(dir, name))
    .sort();
}

function report(violations: [string, string[]][]): string[] {
  return violations
    .filter(([, v]) => v.length > 0)
    .map(([file, v]) => `${relative(ROOT, file)}: ${v.join(', ')}`);
}

describe('the import checker itself', () => {
  const file = join(LEDGER_DIR, 'synthetic.ts');

  it('finds every form of import and re-export', () => {
    const source = [
      "import { Decimal as D } from 'decimal.js';",
      "import type { A, B } from './accounts.js';",
      'import {',
      '  one,',
      '  type Two,',
      "} from './multi-line.js';",
      'import * as ns from "./double-quoted.js";',
      "import Default, { named } from './default-and-named.js';",
      "import './side-effect.js';",
      "export * from './star.js';",
      "export * as starAs from './star-as.js';",
      "export { x, y as z } from './named-export.js';",
      "export type { T } from './type-export.js';",
      "const lazy = await import('./lazy.js');",
      'const tpl = await import(`./template.js`);',
      "type P = typeof import('./type-position.js');",
      "const cjs = require('./cjs.js');",
      "  import { indented } from './indented.js';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(
      expect.arrayContaining([
        'decimal.js',
        './accounts.js',
        './multi-line.js',
        './double-quoted.js',
        './default-and-named.js',
        './side-effect.js',
        './star.js',
        './star-as.js',
        './named-export.js',
        './type-export.js',
        './lazy.js',
        './template.js',
        './type-position.js',
        './cjs.js',
        './indented.js',
      ]),
    );
    expect(importSpecifiers(source)).toHaveLength(15);
  });

  it('ignores prose and non-import code', () => {
    const source = [
      '/**',
      " * Not an import: import x from 'pg' in a doc comment, and export it from 'express'.",
      ' */',
      "// import { y } from 'graphql';",
      "export const from = 'pino';",
      "export function importFrom(text: string) { return text + ' from ' + 'x'; }",
      "const message = 'import the file from disk';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual([]);
  });

  it('flags a dynamic import whose specifier is not a literal', () => {
    expect(importSpecifiers('const name = "pg";\nawait import(name);')).toEqual([NON_LITERAL]);
    expect(ledgerViolations(file, 'await import(name);')).toEqual([NON_LITERAL]);
    expect(forbiddenImports(file, 'await import(packageName);', [join(ROOT, 'schema')])).toEqual([]);
  });

  it('fails the ledger rule on platform and framework imports, however written', () => {
    const cases: [string, string][] = [
      ["import { createHash } from 'node:crypto';", 'node:crypto'],
      ["import fs from 'fs';", 'fs'],
      ["import type { EntityManager } from '@mikro-orm/core';", '@mikro-orm/core'],
      ["import {\n  GraphQLError,\n} from 'graphql';", 'graphql'],
      ["export { Router } from 'express';", 'express'],
      ["export * from 'pg';", 'pg'],
      ["const pino = await import('pino');", 'pino'],
      ["import 'reflect-metadata';", 'reflect-metadata'],
      ["import Decimal from 'decimal.js-light';", 'decimal.js-light'],
      ["import { x } from 'decimal.js/decimal.mjs';", 'decimal.js/decimal.mjs'],
      ["import { orm } from '../db/orm.js';", '../db/orm.js'],
      ["import { services } from '../app/index.js';", '../app/index.js'],
      ["import { x } from '../ledger-extras/x.js';", '../ledger-extras/x.js'],
      ["import { x } from '../../schema/index.js';", '../../schema/index.js'],
    ];
    for (const [source, spec] of cases) expect(ledgerViolations(file, source), source).toEqual([spec]);
  });

  it('passes the ledger rule on decimal.js and paths inside server/ledger', () => {
    const source = [
      "import { Decimal as BaseDecimal } from 'decimal.js';",
      "import { LedgerError } from './errors.js';",
      "import { ZERO } from '../ledger/money.js';",
      "import { deep } from './sub/dir/deep.js';",
      "export * from './accounts.js';",
    ].join('\n');
    expect(ledgerViolations(file, source)).toEqual([]);
  });

  it('fails the layering rule on relative imports into forbidden folders only', () => {
    const appFile = join(ROOT, 'server/app/services/entries.ts');
    const forbidden = [join(ROOT, 'schema'), join(ROOT, 'server/http')];
    expect(
      forbiddenImports(appFile, "import { buildSchema } from '../../../schema/index.js';", forbidden),
    ).toEqual(['../../../schema/index.js']);
    expect(forbiddenImports(appFile, "import type { Ctx } from '../../http/context.js';", forbidden)).toEqual(
      ['../../http/context.js'],
    );
    expect(
      forbiddenImports(appFile, "const s = await import('../../../schema/builder.js');", forbidden),
    ).toEqual(['../../../schema/builder.js']);
    expect(
      forbiddenImports(
        appFile,
        [
          "import { resolveLines } from '../../ledger/index.js';",
          "import { entities } from '../../db/entities.js';",
          "import { MikroORM } from '@mikro-orm/postgresql';",
          "import { GraphQLError } from 'graphql';",
          // A sibling folder whose name merely starts with a forbidden one.
          "import { x } from '../../../schema-tools/x.js';",
        ].join('\n'),
        forbidden,
      ),
    ).toEqual([]);
  });
});

describe('server/ledger is a pure core', () => {
  const files = tsFiles(LEDGER_DIR);

  it('has source files to check', () => {
    expect(files.map((f) => relative(LEDGER_DIR, f))).toEqual(
      expect.arrayContaining(['money.ts', 'accounts.ts', 'entries.ts', 'chain.ts', 'errors.ts']),
    );
  });

  it('imports only decimal.js and modules inside server/ledger', () => {
    const violations = report(files.map((f) => [f, ledgerViolations(f, readFileSync(f, 'utf8'))]));
    expect(violations).toEqual([]);
  });

  it('does import decimal.js (the checker sees real imports)', () => {
    const all = files.flatMap((f) => importSpecifiers(readFileSync(f, 'utf8')));
    expect(all).toContain('decimal.js');
    expect(all).toContain('./errors.js');
  });
});

describe('layering: schema -> server/app -> server/ledger; server/db -> server/ledger', () => {
  const dir = (p: string) => join(ROOT, p);

  it('server/app does not import schema/ or server/http', () => {
    const forbidden = [dir('schema'), dir('server/http')];
    const files = tsFiles(dir('server/app'));
    const violations = report(files.map((f) => [f, forbiddenImports(f, readFileSync(f, 'utf8'), forbidden)]));
    expect(violations).toEqual([]);
  });

  it('server/db does not import server/app, schema/ or server/http', () => {
    const forbidden = [dir('server/app'), dir('schema'), dir('server/http')];
    const files = tsFiles(dir('server/db'));
    const violations = report(files.map((f) => [f, forbiddenImports(f, readFileSync(f, 'utf8'), forbidden)]));
    expect(violations).toEqual([]);
  });
});
