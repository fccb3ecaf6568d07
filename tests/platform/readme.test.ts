/** The README's Configuration and Limits sections must match the code they describe. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOKEN_CACHE_MS } from '../../server/auth/service.js';
import { CONFIG_VARIABLES, DEFAULT_BODY_LIMIT_BYTES, repoRoot } from '../../server/platform/config.js';
import { DB_CONNECT_TIMEOUT_MS } from '../../server/platform/db/orm.js';
import { CSRF_HEADERS, GRAPHQL_LIMITS, READINESS_TIMEOUT_MS } from '../../server/platform/http/app.js';
import { DRAIN_TIMEOUT_MS } from '../../server/service.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const section = (title: string) => readme.split(`\n## ${title}\n`)[1]?.split('\n## ')[0] ?? '';
/** The section with line breaks folded, for sentences that may be re-wrapped. */
const prose = (title: string) => section(title).replace(/\s+/g, ' ');

describe('README', () => {
  it('has the two quick-start commands', () => {
    const quickStart = section('Quick start');
    expect(quickStart).toContain('npm install && npm start');
    expect(quickStart).toContain('npm install && npm test');
    expect(quickStart).toContain('http://localhost:4000/graphql');
  });

  it('documents every configuration variable with its default', () => {
    const table = section('Configuration');
    for (const variable of CONFIG_VARIABLES) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${variable.name}\` |`));
      expect(row, variable.name).toBeDefined();
      if (!variable.default.startsWith('(')) expect(row).toContain(`\`${variable.default}\``);
    }
    expect(table).toContain(String(DEFAULT_BODY_LIMIT_BYTES));
  });

  it('states the limits the server enforces', () => {
    const limits = section('Limits');
    const row = (name: string) => limits.split('\n').find((line) => line.startsWith(`| ${name} |`)) ?? '';
    expect(row('Query depth')).toContain(`| ${GRAPHQL_LIMITS.maxDepth} |`);
    expect(row('Aliases')).toContain(`| ${GRAPHQL_LIMITS.maxAliases} per operation |`);
    expect(row('Tokens')).toContain(`| ${GRAPHQL_LIMITS.maxTokens} per document |`);
    expect(row('Directives')).toContain(`| ${GRAPHQL_LIMITS.maxDirectives} per operation |`);
    expect(row('Cost')).toContain(`| ${GRAPHQL_LIMITS.maxCost} |`);
    expect(row('Cost')).toContain(`times its selections`);
    expect(row('Cost')).toContain(`${GRAPHQL_LIMITS.depthCostFactor} times`);
    for (const header of CSRF_HEADERS) expect(limits).toContain(`\`${header}\``);
  });

  it('states the health and shutdown timeouts', () => {
    const health = prose('Health endpoints');
    expect(health).toContain(`gives up after ${READINESS_TIMEOUT_MS / 1000} s`);
    expect(health).toContain(`up to ${DRAIN_TIMEOUT_MS / 1000} s`);
  });

  it('states the bounds of the Reliability section', () => {
    const reliability = prose('Reliability');
    expect(reliability).toContain(`bounded by ${DB_CONNECT_TIMEOUT_MS / 1000} s (\`DB_CONNECT_TIMEOUT_MS\``);
    expect(reliability).toContain(`a token not verified in the last ${TOKEN_CACHE_MS / 1000} s`);
    expect(reliability).toContain(`in-flight requests (up to ${DRAIN_TIMEOUT_MS / 1000} s)`);
    expect(reliability).toContain('Idempotency keys are kept forever');
  });
});
