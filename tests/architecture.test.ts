/**
 * The house rules of ../shared/ARCHITECTURE.md ("A room per domain", issue 9), checked on the source
 * text of server/ and schema/. Each rule has its own describe with three parts: a guard that the
 * folders it checks exist and hold files (so a rename cannot make it pass on nothing), the check
 * over the real tree, and planted violations that prove the checker catches them. The checkers
 * take a repo path and a source text (or a graph), never a real file, so planted cases need none.
 *
 *   1. server/core/ imports only decimal.js and server/core/.
 *   2. SQL and `pg` only in stores (store.ts, store-*.ts, entities.ts) and server/platform/
 *      (migrations included): not in use-case files, and not in schema/ either.
 *   3. A domain uses another only through that domain's index.ts.
 *   4. server/platform/ imports no domain: only itself, server/core/ and packages.
 *   5. schema/<domain>/ imports its own domain's index.ts, server/core/, the shared schema/*.ts
 *      files and its own folder; the shared schema/*.ts files import domains only through index.ts.
 *   6. Nothing in server/ imports schema/, except the composition root.
 *   7. No import cycles between files of server/ and schema/ (type-only imports count).
 *   8. No use-case file of a domain over 600 lines.
 *
 * A domain is any folder of server/ other than core/ and platform/, so the next ones (patronage,
 * credit, reporting, banking) are checked without touching this file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Folders of server/ that are not domains. */
const NOT_DOMAINS = new Set(['core', 'platform']);
/** The composition root: wires domains, schema and platform, so it alone may import schema/. */
const COMPOSITION_ROOT = new Set(['server/services.ts', 'server/service.ts', 'server/main.ts']);
const CORE_ALLOWED_PACKAGES = new Set(['decimal.js']);
/** PostgreSQL drivers: `pg` and its family (pg-pool, pg-protocol, pg-cursor, ...), and `postgres`. */
const SQL_DRIVER = /^(?:pg|pg-[\w.-]+|postgres)(?:\/|$)/;
/** Statements, not prose: a verb with the words that make it SQL. */
const SQL_TEXT =
  /\b(?:select\b[\s\S]*\bfrom|insert\s+into|update\s+\w+\s+set|delete\s+from|create\s+(?:table|index)|alter\s+table|with\s+\w+\s+as\s*\()/i;
/** A driver call (`db.query(...)`, `client?.query(...)`), looked for in code outside strings and comments. */
const QUERY_CALL = /\.query\s*\(/g;
const USE_CASE_LINES_MAX = 600;

// ---------------------------------------------------------------------------------------------
// Reading sources
// ---------------------------------------------------------------------------------------------

/** Marks a specifier that is not a string literal (`import(name)`): it cannot be checked. */
const NON_LITERAL = '<non-literal dynamic import>';

const STATIC_PATTERNS: RegExp[] = [
  // import x from '...'; import { a, type B } from '...'; import * as ns from '...'; import type X from '...';
  // export { a } from '...'; export * from '...'; export * as ns from '...'; export type { A } from '...'
  // Only at the start of a line, so prose in comments (" * import ...") does not count.
  /^[ \t]*(?:import|export)\b[\w\s{},*$]*?\bfrom\s*(['"])([^'"\n]+)\1/gm,
  // import './side-effect.js';
  /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm,
];
// import('...'), anywhere, including type positions (`typeof import('pg')`) and comments; not a
// method that happens to be named import (`csv.import(...)`).
const DYNAMIC_LITERAL = /(?<![.\w$])import\s*\(\s*(['"`])((?:(?!\$\{)[^'"`\n])+)\1\s*[,)]/g;
// In code (comments and literals blanked by scanSource): every import( ...
const DYNAMIC_ANY = /(?<![.\w$])import\s*\(/g;
// ... and the ones whose argument is one plain literal (a blanked '', "" or `` on its own).
const LITERAL_ARGUMENT = /^\s*(['"`])\n*\1\s*[,)]/;
// CommonJS, in case it sneaks in.
const REQUIRE = /\brequire\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g;

interface Import {
  spec: string;
  line: number;
}

/** 1-based line of an offset. */
function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) line++;
  return line;
}

/** Every module specifier a TypeScript source imports or re-exports from, with its line. */
function importsOf(source: string): Import[] {
  const found: Import[] = [];
  for (const pattern of [...STATIC_PATTERNS, DYNAMIC_LITERAL, REQUIRE]) {
    for (const match of source.matchAll(pattern)) {
      const at = match.index + match[0].lastIndexOf(match[2]!);
      found.push({ spec: match[2]!, line: lineAt(source, at) });
    }
  }
  // A dynamic import of a computed name (`import(name)`, `import('./' + name)`, a template with
  // `${}`) cannot be checked; prose such as "this import (1 to 10 ...)" in a string is not one.
  const { code } = scanSource(source);
  for (const match of code.matchAll(DYNAMIC_ANY)) {
    if (!LITERAL_ARGUMENT.test(code.slice(match.index + match[0].length))) {
      found.push({ spec: NON_LITERAL, line: lineAt(code, match.index) });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

function importSpecifiers(source: string): string[] {
  return importsOf(source).map((i) => i.spec);
}

/**
 * The repo path (posix, `.js` read as the `.ts` it compiles from) a specifier written in `file`
 * points at, or null for a package (`pg`, `node:fs`) and for a non-literal import.
 */
function targetOf(file: string, spec: string): string | null {
  let target: string;
  if (spec === '.' || spec === '..' || spec.startsWith('./') || spec.startsWith('../')) {
    target = posix.normalize(posix.join(posix.dirname(file), spec));
  } else if (spec.startsWith('/') || spec.startsWith('file:')) {
    const absolute = spec.startsWith('file:') ? fileURLToPath(spec) : spec;
    target = relative(ROOT, absolute).split(sep).join('/');
  } else {
    return null;
  }
  return target.replace(/\.([mc]?)js(x?)$/, '.$1ts$2');
}

/** The domain a repo path belongs to (`server/<domain>/...`), or null. */
function domainOf(path: string): string | null {
  const parts = path.split('/');
  if (parts[0] !== 'server' || parts.length < 3 || NOT_DOMAINS.has(parts[1]!)) return null;
  return parts[1]!;
}

function isUnder(path: string, folder: string): boolean {
  return path.startsWith(`${folder}/`);
}

interface Literal {
  text: string;
  line: number;
}

/**
 * The string and template literals of a source (a template's `${...}` become `${}` and their own
 * literals are listed too), and the code with comments and literals blanked out. A small lexer:
 * enough for our own TypeScript (regex literals are told from division by the token before them).
 */
function scanSource(source: string): { literals: Literal[]; code: string } {
  const literals: Literal[] = [];
  let code = '';
  let i = 0;
  // Blanked text keeps its line breaks, so an offset in `code` is on the same line as in `source`.
  const breaks = (text: string) => text.replace(/[^\n]/g, '');
  const REGEX_AFTER_WORD =
    /\b(?:return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/;

  const regexMayStart = () => {
    const before = code.trimEnd();
    if (before === '') return true;
    const last = before[before.length - 1]!;
    if ('(,=:[!&|?{};+-*%<>~^'.includes(last)) return true;
    return /[\w$]/.test(last) && REGEX_AFTER_WORD.test(before);
  };
  /** Consumes `n` characters of a literal; its line breaks go to `code` too. */
  const take = (n: number): string => {
    const text = source.slice(i, i + n);
    code += breaks(text);
    i += n;
    return text;
  };
  const quoted = (quote: string): string => {
    let text = '';
    i++;
    while (i < source.length && source[i] !== quote && source[i] !== '\n') {
      text += take(source[i] === '\\' ? 2 : 1);
    }
    if (source[i] === quote) i++;
    return text;
  };
  const template = (): string => {
    let text = '';
    i++;
    while (i < source.length && source[i] !== '`') {
      if (source[i] === '$' && source[i + 1] === '{') {
        i += 2;
        lex(true);
        text += `\${}`;
      } else text += take(source[i] === '\\' ? 2 : 1);
    }
    i++;
    return text;
  };
  const regex = () => {
    let inClass = false;
    i++;
    while (i < source.length && source[i] !== '\n') {
      const c = source[i]!;
      if (c === '\\') i += 2;
      else {
        i++;
        if (c === '[') inClass = true;
        else if (c === ']') inClass = false;
        else if (c === '/' && !inClass) break;
      }
    }
    while (i < source.length && /[a-z]/i.test(source[i]!)) i++;
  };
  function lex(inTemplate: boolean): void {
    let depth = 0;
    while (i < source.length) {
      const c = source[i]!;
      const next = source[i + 1];
      const start = i;
      if (c === '/' && next === '/') {
        while (i < source.length && source[i] !== '\n') i++;
      } else if (c === '/' && next === '*') {
        const end = source.indexOf('*/', i + 2) === -1 ? source.length : source.indexOf('*/', i + 2) + 2;
        code += ` ${breaks(source.slice(i, end))}`;
        i = end;
      } else if (c === "'" || c === '"') {
        code += c;
        literals.push({ text: quoted(c), line: lineAt(source, start) });
        code += c;
      } else if (c === '`') {
        code += '`';
        literals.push({ text: template(), line: lineAt(source, start) });
        code += '`';
      } else if (c === '/' && regexMayStart()) {
        regex();
        code += '/R/';
      } else {
        if (inTemplate && c === '{') depth++;
        if (inTemplate && c === '}') {
          if (depth === 0) {
            i++;
            return;
          }
          depth--;
        }
        code += c;
        i++;
      }
    }
  }
  lex(false);
  return { literals: literals.sort((a, b) => a.line - b.line), code };
}

function lineCount(source: string): number {
  if (source === '') return 0;
  const lines = source.split('\n').length;
  return source.endsWith('\n') ? lines - 1 : lines;
}

// ---------------------------------------------------------------------------------------------
// The checkers: (repo path, source) -> findings; an empty list means the file keeps the rule.
// ---------------------------------------------------------------------------------------------

interface Finding {
  line: number;
  what: string;
}

const whats = (findings: Finding[]) => findings.map((f) => f.what);

/** Imports of `source` (at `file`) for which `allowed` says no. */
function importFindings(
  file: string,
  source: string,
  allowed: (target: string | null, spec: string) => boolean,
): Finding[] {
  return importsOf(source)
    .filter(({ spec }) => !allowed(spec === NON_LITERAL ? null : targetOf(file, spec), spec))
    .map(({ spec, line }) => ({ line, what: spec }));
}

/** Rule 1: server/core/ imports only decimal.js and server/core/. A non-literal import fails. */
function coreViolations(file: string, source: string): Finding[] {
  if (!isUnder(file, 'server/core')) return [];
  return importFindings(file, source, (target, spec) =>
    target === null ? CORE_ALLOWED_PACKAGES.has(spec) : isUnder(target, 'server/core'),
  );
}

/** Where SQL and `pg` may live: store files and server/platform/ (migrations included). */
function mayHoldSql(file: string): boolean {
  if (isUnder(file, 'server/platform')) return true;
  const name = posix.basename(file);
  return name === 'store.ts' || name === 'entities.ts' || /^store-[\w.-]+\.ts$/.test(name);
}

/**
 * Rule 2: in server/ outside stores and platform, and in schema/ (whose resolvers call use cases),
 * no PostgreSQL driver import (types included), no SQL text in a literal, no `.query(` call.
 */
function sqlViolations(file: string, source: string): Finding[] {
  if (!(isUnder(file, 'server') || isUnder(file, 'schema')) || mayHoldSql(file)) return [];
  const findings: Finding[] = importsOf(source)
    .filter(({ spec }) => SQL_DRIVER.test(spec))
    .map(({ spec, line }) => ({ line, what: `imports '${spec}'` }));
  const { literals, code } = scanSource(source);
  for (const literal of literals) {
    if (SQL_TEXT.test(literal.text)) {
      const text = literal.text.replace(/\s+/g, ' ').trim();
      findings.push({
        line: literal.line,
        what: `SQL: "${text.length > 60 ? `${text.slice(0, 57)}...` : text}"`,
      });
    }
  }
  // Code lines keep their count (only comments and literals are blanked), so offsets map to lines.
  for (const match of code.matchAll(QUERY_CALL)) {
    findings.push({ line: lineAt(code, match.index), what: 'calls .query(' });
  }
  return findings.sort((a, b) => a.line - b.line);
}

/** Rule 3: a file of server/<A>/ reaches server/<B>/ (another domain) only through its index.ts. */
function crossDomainViolations(file: string, source: string): Finding[] {
  const own = domainOf(file);
  if (own === null) return [];
  return importFindings(file, source, (target, spec) => {
    if (spec === NON_LITERAL) return false;
    if (target === null) return true;
    const other = domainOf(target);
    return other === null || other === own || target === `server/${other}/index.ts`;
  });
}

/**
 * Rule 4: server/platform/ imports only itself, server/core/ and packages. A non-literal dynamic
 * import is let through here: db/embedded.ts loads the PostgreSQL binaries of this OS by name.
 */
function platformViolations(file: string, source: string): Finding[] {
  if (!isUnder(file, 'server/platform')) return [];
  return importFindings(
    file,
    source,
    (target) => target === null || isUnder(target, 'server/platform') || isUnder(target, 'server/core'),
  );
}

/** The domain folder of schema/ a repo path is in (`schema/<domain>/...`), or null. */
function schemaFolderOf(path: string): string | null {
  const parts = path.split('/');
  return parts[0] === 'schema' && parts.length >= 3 ? parts[1]! : null;
}

/**
 * Rule 5. schema/<d>/ imports server/<d>/index.ts, server/core/, the shared schema/*.ts files,
 * schema/<d>/ and packages. The shared schema/*.ts files import any domain's index.ts,
 * server/core/, server/platform/, schema/ and packages; never a domain's other files.
 */
function schemaViolations(file: string, source: string): Finding[] {
  if (!isUnder(file, 'schema')) return [];
  const folder = schemaFolderOf(file);
  return importFindings(file, source, (target, spec) => {
    if (spec === NON_LITERAL) return false;
    if (target === null) return true;
    if (isUnder(target, 'server/core')) return true;
    if (folder === null) {
      const domain = domainOf(target);
      if (domain !== null) return target === `server/${domain}/index.ts`;
      return isUnder(target, 'server/platform') || isUnder(target, 'schema');
    }
    if (target === `server/${folder}/index.ts`) return true;
    if (isUnder(target, 'schema')) {
      const other = schemaFolderOf(target);
      return other === null || other === folder;
    }
    return false;
  });
}

/** Rule 6: no file of server/ imports schema/, except the composition root. */
function serverToSchemaViolations(file: string, source: string): Finding[] {
  if (!isUnder(file, 'server') || COMPOSITION_ROOT.has(file)) return [];
  return importFindings(file, source, (target) => target === null || !isUnder(target, 'schema'));
}

type Graph = Map<string, string[]>;

/** The import graph among `files` (edges to files outside them are dropped). */
function importGraph(files: Map<string, string>): Graph {
  const graph: Graph = new Map();
  for (const [file, source] of files) {
    const targets = importsOf(source)
      .map(({ spec }) => (spec === NON_LITERAL ? null : targetOf(file, spec)))
      .filter((t): t is string => t !== null && files.has(t));
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * Rule 7: the import cycles of a graph: its strongly connected components of two files or more,
 * and files importing themselves (Tarjan's algorithm, iterative so deep chains cannot overflow).
 */
function findCycles(graph: Graph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const edges = (node: string) => graph.get(node) ?? [];

  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = edges(frame.node);
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1 || edges(frame.node).includes(frame.node)) cycles.push(component.sort());
      }
    }
  }
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Rule 8: a use-case file of a domain (not a store, not core or platform) is at most 600 lines. */
function sizeViolations(file: string, source: string): Finding[] {
  if (domainOf(file) === null || mayHoldSql(file)) return [];
  const lines = lineCount(source);
  return lines > USE_CASE_LINES_MAX
    ? [{ line: lines, what: `${lines} lines (max ${USE_CASE_LINES_MAX})` }]
    : [];
}

// ---------------------------------------------------------------------------------------------
// The real tree
// ---------------------------------------------------------------------------------------------

/** Repo paths of the TypeScript files under a folder (recursively), sorted. */
function tsFiles(folder: string): string[] {
  const dir = join(ROOT, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.[mc]?tsx?$/.test(name) && !name.split(/[\\/]/).includes('node_modules'))
    .map((name) => `${folder}/${name.split(sep).join('/')}`)
    .sort();
}

/** The sub-folders of a folder. */
function folders(folder: string): string[] {
  const dir = join(ROOT, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

const sources = new Map<string, string>();
function sourceOf(file: string): string {
  let source = sources.get(file);
  if (source === undefined) {
    source = readFileSync(join(ROOT, file), 'utf8');
    sources.set(file, source);
  }
  return source;
}

/** `file:line: what` for every finding of `check` over `files`. */
function check(files: string[], checker: (file: string, source: string) => Finding[]): string[] {
  return files.flatMap((file) => checker(file, sourceOf(file)).map((f) => `${file}:${f.line}: ${f.what}`));
}

const SERVER_FILES = tsFiles('server');
const SCHEMA_FILES = tsFiles('schema');
const DOMAINS = folders('server').filter((name) => !NOT_DOMAINS.has(name));

// ---------------------------------------------------------------------------------------------

describe('the import checker itself', () => {
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
    expect(importsOf(source).find((i) => i.spec === './multi-line.js')?.line).toBe(6);
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
    expect(importSpecifiers("await import('./a.js');\nawait import(name);")).toEqual(['./a.js', NON_LITERAL]);
    expect(importSpecifiers("await import('./plugins/' + name);")).toEqual([NON_LITERAL]);
    expect(importSpecifiers(`await import(\`./plugins/\${name}.js\`);`)).toEqual([NON_LITERAL]);
    // Prose and methods are not imports.
    expect(
      importSpecifiers("const d = 'Names this import (1 to 64 characters)';\n// an import (CSV)"),
    ).toEqual([]);
    expect(importSpecifiers('await members.import(file);')).toEqual([]);
  });

  it('resolves specifiers to repo paths, .js read as .ts', () => {
    expect(targetOf('server/coops/memberships.ts', '../ledger/index.js')).toBe('server/ledger/index.ts');
    expect(targetOf('schema/coops/coop.ts', '../../server/core/money.js')).toBe('server/core/money.ts');
    expect(targetOf('server/a/b.ts', './c.mjs')).toBe('server/a/c.mts');
    expect(targetOf('server/a/b.ts', join(ROOT, 'server/ledger/store.js'))).toBe('server/ledger/store.ts');
    expect(targetOf('server/a/b.ts', 'pg')).toBeNull();
    expect(targetOf('server/a/b.ts', 'node:fs')).toBeNull();
    expect(domainOf('server/patronage/x.ts')).toBe('patronage');
    expect(domainOf('server/core/x.ts')).toBeNull();
    expect(domainOf('server/services.ts')).toBeNull();
  });

  it('reads string and template literals, not comments, regexes or code', () => {
    const source = [
      '// select id from comment_table',
      "const a = 'single';",
      'const b = "double \\" quote";',
      `const c = \`select \${cols} from \${\`nested\`} t\`;`,
      "const d = x / 2 / y; const e = /'quote'[/]/g.test(a);",
      '/* insert into block_comment */ db.query(a);',
    ].join('\n');
    const { literals, code } = scanSource(source);
    expect(literals).toEqual([
      { text: 'single', line: 2 },
      { text: 'double \\" quote', line: 3 },
      { text: 'nested', line: 4 },
      { text: `select \${} from \${} t`, line: 4 },
    ]);
    expect(code).not.toMatch(/comment_table|block_comment|quote/);
    expect(code).toContain('db.query(a)');
    expect(lineCount(source)).toBe(6);
    expect(lineCount(`${source}\n`)).toBe(6);
  });

  it('has no path aliases that would hide an import from it', () => {
    // A `paths` mapping or a package.json `imports` field would let `#ledger/store` skip the rules.
    expect(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')).not.toMatch(/"(paths|baseUrl)"\s*:/);
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).imports).toBeUndefined();
  });
});

describe('rule 1: server/core/ imports only decimal.js and server/core/', () => {
  const files = tsFiles('server/core');

  it('has source files to check, and the checker sees their imports', () => {
    expect(files).toEqual(
      expect.arrayContaining(['server/core/money.ts', 'server/core/entries.ts', 'server/core/index.ts']),
    );
    const all = files.flatMap((f) => importSpecifiers(sourceOf(f)));
    expect(all).toContain('decimal.js');
    expect(all).toContain('./errors.js');
  });

  it('holds over server/core/', () => {
    expect(check(files, coreViolations)).toEqual([]);
  });

  it('fails on a planted violation, however written', () => {
    const file = 'server/core/planted.ts';
    const cases: [string, string][] = [
      ["import pg from 'pg';", 'pg'],
      ["import type { PoolClient } from 'pg';", 'pg'],
      ["import { readFileSync } from 'node:fs';", 'node:fs'],
      ["import fs from 'fs';", 'fs'],
      ["import { createHash } from 'node:crypto';", 'node:crypto'],
      ["import type { EntityManager } from '@mikro-orm/core';", '@mikro-orm/core'],
      ["import {\n  GraphQLError,\n} from 'graphql';", 'graphql'],
      ["export * from 'pg';", 'pg'],
      ["const pino = await import('pino');", 'pino'],
      ['const m = await import(name);', NON_LITERAL],
      ["import 'reflect-metadata';", 'reflect-metadata'],
      ["import Decimal from 'decimal.js-light';", 'decimal.js-light'],
      ["import { x } from 'decimal.js/decimal.mjs';", 'decimal.js/decimal.mjs'],
      ["import { tx } from '../platform/transaction.js';", '../platform/transaction.js'],
      ["import { LedgerService } from '../ledger/index.js';", '../ledger/index.js'],
      ["import { x } from '../core-extras/x.js';", '../core-extras/x.js'],
      ["import { x } from '../../schema/index.js';", '../../schema/index.js'],
    ];
    for (const [source, spec] of cases) expect(whats(coreViolations(file, source)), source).toEqual([spec]);
  });

  it('passes decimal.js and paths inside server/core/', () => {
    const source = [
      "import { Decimal as BaseDecimal } from 'decimal.js';",
      "import { LedgerError } from './errors.js';",
      "import { ZERO } from '../core/money.js';",
      "import { deep } from './sub/dir/deep.js';",
      "export * from './accounts.js';",
    ].join('\n');
    expect(coreViolations('server/core/planted.ts', source)).toEqual([]);
  });
});

describe('rule 2: SQL and pg only in stores, entities, migrations and server/platform/', () => {
  const checked = SERVER_FILES.filter((f) => !mayHoldSql(f));
  const stores = SERVER_FILES.filter((f) => mayHoldSql(f) && !isUnder(f, 'server/platform'));

  it('has use-case files to check and stores beside them, and sees the SQL in stores', () => {
    expect(DOMAINS).toEqual(expect.arrayContaining(['auth', 'coops', 'ledger']));
    for (const domain of DOMAINS) {
      expect(
        checked.filter((f) => domainOf(f) === domain),
        `use-case files of ${domain}`,
      ).not.toEqual([]);
    }
    // A domain may have no storage of its own (reading through others' indexes); these three do.
    for (const domain of ['auth', 'coops', 'ledger']) {
      expect(
        stores.filter((f) => domainOf(f) === domain),
        `stores of ${domain}`,
      ).not.toEqual([]);
    }
    expect(tsFiles('server/platform/db/migrations')).not.toEqual([]);
    // schema/ is checked too (its resolvers call use cases): its shared files and each domain folder.
    expect(SCHEMA_FILES.filter((f) => schemaFolderOf(f) === null)).not.toEqual([]);
    for (const folder of ['auth', 'coops', 'ledger']) {
      expect(
        SCHEMA_FILES.filter((f) => schemaFolderOf(f) === folder),
        `schema/${folder}/`,
      ).not.toEqual([]);
    }
    // The detector is not blind: the ledger's store is full of SQL and queries.
    const findings = scanSource(sourceOf('server/ledger/store.ts')).literals.filter((l) =>
      SQL_TEXT.test(l.text),
    );
    expect(findings.length).toBeGreaterThan(5);
  });

  it('holds over server/ and schema/', () => {
    expect(check([...SERVER_FILES, ...SCHEMA_FILES], sqlViolations)).toEqual([]);
  });

  it('fails on SQL or pg planted in a use-case file, passes the same in a store or platform', () => {
    const sql = "const rows = await db.query('select id from membership where book_id = $1', [bookId]);";
    expect(whats(sqlViolations('server/coops/memberships.ts', sql))).toEqual([
      'SQL: "select id from membership where book_id = $1"',
      'calls .query(',
    ]);
    expect(sqlViolations('server/coops/store.ts', sql)).toEqual([]);
    expect(sqlViolations('server/coops/store-import.ts', sql)).toEqual([]);
    expect(sqlViolations('server/coops/entities.ts', sql)).toEqual([]);
    expect(sqlViolations('server/platform/transaction.ts', sql)).toEqual([]);
    expect(sqlViolations('server/platform/db/migrations/Migration1_x.ts', sql)).toEqual([]);
    expect(whats(sqlViolations('schema/coops/memberships.ts', sql))).toHaveLength(2);
    expect(whats(sqlViolations('schema/context.ts', "import type { Pool } from 'pg';"))).toEqual([
      "imports 'pg'",
    ]);
    // Lines are those of the source, past multi-line literals and comments.
    const multiLine = ['const q = `', '  select 1', '`; /*', '*/', "await db.query(q, ['a\\", "b']);"].join(
      '\n',
    );
    expect(sqlViolations('server/coops/memberships.ts', multiLine)).toEqual([
      { line: 5, what: 'calls .query(' },
    ]);

    const cases: [string, string][] = [
      ["import pg from 'pg';", "imports 'pg'"],
      ["import type { PoolClient } from 'pg';", "imports 'pg'"],
      ["type C = import('pg').PoolClient;", "imports 'pg'"],
      ["import Pool from 'pg-pool';", "imports 'pg-pool'"],
      [
        `const q = \`SELECT m.id\n  FROM membership m WHERE m.book_id = \${id}\`;`,
        `SQL: "SELECT m.id FROM membership m WHERE m.book_id = \${}"`,
      ],
      ["const q = 'insert into party (id) values ($1)';", 'SQL: "insert into party (id) values ($1)"'],
      ["const q = 'update membership set status = $2';", 'SQL: "update membership set status = $2"'],
      [
        'const q = "delete from member_token where id = $1";',
        'SQL: "delete from member_token where id = $1"',
      ],
      ["const q = 'with latest as (select 1)';", 'SQL: "with latest as (select 1)"'],
      ["const q = 'alter table coop add column x int';", 'SQL: "alter table coop add column x int"'],
      ['await client.query(statement, values);', 'calls .query('],
      ['await tx?.query(statement);', 'calls .query('],
    ];
    for (const [source, what] of cases) {
      expect(whats(sqlViolations('server/coops/memberships.ts', source)), source).toEqual([what]);
      expect(sqlViolations('server/coops/store.ts', source), source).toEqual([]);
    }
  });

  it('passes prose and code that merely look alike', () => {
    const source = [
      '// select id from membership: a comment is not SQL',
      "const message = 'Choose a class for the member';",
      "const field = 'input.query';",
      'const { query } = request; const q = req.query;',
      'await store.selectMembership(tx, id);',
    ].join('\n');
    expect(sqlViolations('server/coops/memberships.ts', source)).toEqual([]);
  });
});

describe('rule 3: a domain uses another only through its index.ts', () => {
  it('has domains to check, each with an index.ts', () => {
    expect(DOMAINS).toEqual(expect.arrayContaining(['auth', 'coops', 'ledger']));
    for (const domain of DOMAINS) expect(SERVER_FILES, domain).toContain(`server/${domain}/index.ts`);
  });

  it('holds over server/', () => {
    expect(check(SERVER_FILES, crossDomainViolations)).toEqual([]);
  });

  it("fails on a planted import of another domain's store or any non-index file", () => {
    const file = 'server/coops/x.ts';
    const cases = [
      "import { insertBookRow } from '../ledger/store.js';",
      "import type { EntryRecord } from '../ledger/store-reads.js';",
      "import { LedgerService } from '../ledger/service.js';",
      "export { principalFrom } from '../auth/tokens.js';",
      "const s = await import('../ledger/store.js');",
      "import { x } from '../patronage/rules/x.js';",
    ];
    for (const source of cases) expect(crossDomainViolations(file, source), source).toHaveLength(1);
    expect(
      whats(crossDomainViolations('server/coops/sub/deep.ts', "import { a } from '../../auth/store.js';")),
    ).toEqual(['../../auth/store.js']);
    expect(whats(crossDomainViolations(file, 'const m = await import(name);'))).toEqual([NON_LITERAL]);
  });

  it("passes another domain's index.ts, its own files, core, platform and packages", () => {
    const source = [
      "import { LedgerService } from '../ledger/index.js';",
      "import type { Principal } from '../auth/index.js';",
      "import { memberships } from './store.js';",
      "import { parseCsv } from './csv.js';",
      "import { Money } from '../core/index.js';",
      "import { runInTransaction } from '../platform/transaction.js';",
      "import { EntityManager } from '@mikro-orm/postgresql';",
    ].join('\n');
    expect(crossDomainViolations('server/coops/x.ts', source)).toEqual([]);
  });
});

describe('rule 4: server/platform/ imports no domain', () => {
  const files = tsFiles('server/platform');

  it('has source files to check', () => {
    expect(files).toEqual(
      expect.arrayContaining(['server/platform/config.ts', 'server/platform/http/app.ts']),
    );
  });

  it('holds over server/platform/', () => {
    expect(check(files, platformViolations)).toEqual([]);
  });

  it('fails on a planted import of a domain, schema/ or the composition root', () => {
    const file = 'server/platform/http/planted.ts';
    const cases = [
      "import { CoopService } from '../../coops/index.js';",
      "import type { AuthService } from '../../auth/service.js';",
      "import { entities } from '../../ledger/entities.js';",
      "import { buildSchema } from '../../../schema/index.js';",
      "import type { Services } from '../../services.js';",
      "const m = await import('../../patronage/index.js');",
    ];
    for (const source of cases) expect(platformViolations(file, source), source).toHaveLength(1);
  });

  it('passes platform, core and packages', () => {
    const source = [
      "import { loadConfig } from '../config.js';",
      "import { LedgerError } from '../../core/index.js';",
      "import express from 'express';",
      "import pg from 'pg';",
    ].join('\n');
    expect(platformViolations('server/platform/http/planted.ts', source)).toEqual([]);
  });
});

describe("rule 5: schema/<domain>/ uses its own domain's index.ts and the shared schema/ files", () => {
  const schemaFolders = folders('schema');

  it('has shared files and one folder per domain, each holding files', () => {
    expect(SCHEMA_FILES.filter((f) => schemaFolderOf(f) === null)).toEqual(
      expect.arrayContaining(['schema/builder.ts', 'schema/index.ts']),
    );
    expect(schemaFolders).toEqual(expect.arrayContaining(['auth', 'coops', 'ledger']));
    for (const folder of schemaFolders) {
      expect(DOMAINS, `schema/${folder}/ is named after a domain of server/`).toContain(folder);
      expect(tsFiles(`schema/${folder}`), `schema/${folder}/`).not.toEqual([]);
    }
  });

  it('holds over schema/', () => {
    expect(check(SCHEMA_FILES, schemaViolations)).toEqual([]);
  });

  it('fails on planted violations in a domain folder of schema/', () => {
    const file = 'schema/coops/coop.ts';
    const cases = [
      "import { CoopService } from '../../server/coops/service.js';",
      "import type { CoopRow } from '../../server/coops/store.js';",
      "import { LedgerService } from '../../server/ledger/index.js';",
      "import type { EntryRecord } from '../../server/ledger/store.js';",
      "import { loadConfig } from '../../server/platform/config.js';",
      "import type { Services } from '../../server/services.js';",
      "import { BookRef } from '../ledger/book.js';",
      "import { AuthPayload } from '../auth/index.js';",
      "import { x } from '../../client-sdk/index.js';",
      'const m = await import(name);',
    ];
    for (const source of cases) expect(schemaViolations(file, source), source).toHaveLength(1);
  });

  it('passes the own domain, core, shared schema files and its own folder', () => {
    const source = [
      "import { CoopService, type Coop } from '../../server/coops/index.js';",
      "import { Money } from '../../server/core/money.js';",
      "import { builder } from '../builder.js';",
      "import { DecimalScalar } from '../scalars.js';",
      "import { MembershipRef } from './membership.js';",
      "import { GraphQLError } from 'graphql';",
    ].join('\n');
    expect(schemaViolations('schema/coops/coop.ts', source)).toEqual([]);
  });

  it('fails a shared schema file importing a store or a non-index domain file', () => {
    const file = 'schema/context.ts';
    const cases = [
      "import type { EntryRecord } from '../server/ledger/store.js';",
      "import { entities } from '../server/auth/entities.js';",
      "import type { CoopService } from '../server/coops/service.js';",
      "import type { Services } from '../server/services.js';",
    ];
    for (const source of cases) expect(schemaViolations(file, source), source).toHaveLength(1);
  });

  it('passes a shared schema file importing domain indexes, core, platform and schema/', () => {
    const source = [
      "import type { LedgerService } from '../server/ledger/index.js';",
      "import type { CoopService } from '../server/coops/index.js';",
      "import { LedgerError } from '../server/core/index.js';",
      "import type { Logger } from '../server/platform/logger.js';",
      "import './ledger/index.js';",
      "import { builder } from './builder.js';",
    ].join('\n');
    expect(schemaViolations('schema/index.ts', source)).toEqual([]);
  });
});

describe('rule 6: nothing in server/ imports schema/, except the composition root', () => {
  it('has server files and schema files, and the composition root does import schema/', () => {
    expect(SERVER_FILES.length).toBeGreaterThan(COMPOSITION_ROOT.size);
    expect(SCHEMA_FILES).not.toEqual([]);
    // Every part of server/ is checked: core, platform and the domains.
    for (const folder of ['server/core', 'server/platform', 'server/auth', 'server/coops', 'server/ledger']) {
      expect(
        SERVER_FILES.filter((f) => isUnder(f, folder)),
        folder,
      ).not.toEqual([]);
    }
    const rootImports = [...COMPOSITION_ROOT]
      .filter((f) => SERVER_FILES.includes(f))
      .flatMap((f) => importsOf(sourceOf(f)).map(({ spec }) => targetOf(f, spec)));
    expect(rootImports.some((t) => t !== null && isUnder(t, 'schema'))).toBe(true);
  });

  it('holds over server/', () => {
    expect(check(SERVER_FILES, serverToSchemaViolations)).toEqual([]);
  });

  it('fails on a planted import of schema/ from a domain, core or platform', () => {
    const cases: [string, string][] = [
      ['server/coops/memberships.ts', "import type { GraphQLContext } from '../../schema/context.js';"],
      ['server/ledger/service.ts', "const s = await import('../../schema/index.js');"],
      ['server/core/errors.ts', "import { x } from '../../schema/errors.js';"],
      ['server/platform/http/app.ts', "import { buildSchema } from '../../../schema/index.js';"],
    ];
    for (const [file, source] of cases) expect(serverToSchemaViolations(file, source), file).toHaveLength(1);
    const rootSource = "import { buildSchema } from '../schema/index.js';";
    expect(serverToSchemaViolations('server/service.ts', rootSource)).toEqual([]);
    // A sibling folder whose name merely starts with "schema".
    expect(
      serverToSchemaViolations('server/coops/x.ts', "import { x } from '../../schema-tools/x.js';"),
    ).toEqual([]);
  });
});

describe('rule 7: no import cycles between files of server/ and schema/', () => {
  const graph = importGraph(new Map([...SERVER_FILES, ...SCHEMA_FILES].map((f) => [f, sourceOf(f)])));

  it('has a graph of both folders with edges', () => {
    const nodes = [...graph.keys()];
    expect(nodes.some((f) => isUnder(f, 'server'))).toBe(true);
    expect(nodes.some((f) => isUnder(f, 'schema'))).toBe(true);
    const edges = [...graph.values()].flat();
    expect(edges.length).toBeGreaterThan(nodes.length / 2);
    expect(graph.get('server/services.ts') ?? []).toEqual(expect.arrayContaining(['server/ledger/index.ts']));
    // Every part of both folders is in the graph, with an import of its own.
    for (const folder of [
      'server/core',
      'server/platform',
      'server/auth',
      'server/coops',
      'server/ledger',
      'schema/auth',
      'schema/coops',
      'schema/ledger',
    ]) {
      expect(
        nodes.filter((f) => isUnder(f, folder) && graph.get(f)!.length > 0),
        folder,
      ).not.toEqual([]);
    }
  });

  it('holds over server/ and schema/', () => {
    expect(findCycles(graph).map((cycle) => cycle.join(' <-> '))).toEqual([]);
  });

  it('reports a planted cycle, type-only imports included, and not an acyclic graph', () => {
    const twoFiles = importGraph(
      new Map([
        ['server/coops/service.ts', "import { importMembers } from './import.js';"],
        ['server/coops/import.ts', "import type { CoopService } from './service.js';"],
      ]),
    );
    expect(findCycles(twoFiles)).toEqual([['server/coops/import.ts', 'server/coops/service.ts']]);

    const acyclic = importGraph(
      new Map([
        ['server/coops/service.ts', "import { importMembers } from './import.js';\nimport './store.js';"],
        ['server/coops/import.ts', "import type { Row } from './store.js';"],
        ['server/coops/store.ts', "import pg from 'pg';"],
      ]),
    );
    expect(findCycles(acyclic)).toEqual([]);

    const threeAndSelf = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', ['d']],
      ['e', ['a']],
    ]);
    expect(findCycles(threeAndSelf)).toEqual([['a', 'b', 'c'], ['d']]);
  });
});

describe('rule 8: no use-case file of a domain over 600 lines', () => {
  const useCaseFiles = SERVER_FILES.filter((f) => domainOf(f) !== null && !mayHoldSql(f));

  it('has use-case files to check', () => {
    expect(DOMAINS).toEqual(expect.arrayContaining(['auth', 'coops', 'ledger']));
    for (const domain of DOMAINS) {
      expect(
        useCaseFiles.filter((f) => domainOf(f) === domain),
        domain,
      ).not.toEqual([]);
    }
  });

  it('holds over the domains of server/', () => {
    expect(check(useCaseFiles, sizeViolations)).toEqual([]);
  });

  it('fails a planted 601-line use-case file, passes 600 lines and stores, core and platform', () => {
    const lines = (n: number) =>
      `${Array.from({ length: n }, (_, i) => `export const x${i} = ${i};`).join('\n')}\n`;
    expect(whats(sizeViolations('server/coops/memberships.ts', lines(601)))).toEqual(['601 lines (max 600)']);
    expect(sizeViolations('server/coops/memberships.ts', lines(600))).toEqual([]);
    expect(sizeViolations('server/coops/store.ts', lines(2000))).toEqual([]);
    expect(sizeViolations('server/core/entries.ts', lines(2000))).toEqual([]);
    expect(sizeViolations('server/platform/http/app.ts', lines(2000))).toEqual([]);
  });
});
