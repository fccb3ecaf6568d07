import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // `graphql` must load once: vite would pick its ESM build for our files while dependencies
    // load the CommonJS one, and yoga then masks every resolver error (see STACK-NOTES).
    // A regex so that subpaths such as `graphql/language/parser` are left alone.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    // One PostgreSQL (embedded, or a fresh database on DATABASE_URL's server) for the whole run,
    // migrated once; tests read its URL with inject('databaseUrl').
    globalSetup: ['tests/setup/global-setup.ts'],
    // Forks: each test file is its own process, so in-process HTTP servers, pools and signal
    // handlers never leak between files.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'default', include: ['tests/**/*.test.ts'] } },
      {
        // The suites that pin what every request is checked for, again with every valid request
        // that carries a token served by the lean route (server/platform/http/persisted.ts), so the
        // lean route and yoga answer each case alike (see tests/helpers/server.ts). Only suites
        // whose requests go through an in-process test server: use-case-authorization (use cases
        // called directly, no HTTP) and the service as a child process (server-process, which
        // never reads LEDGER_TEST_HTTP_PATH) would only run again exactly as in "default".
        extends: true,
        test: {
          name: 'lean',
          include: [
            'tests/auth/authorization.test.ts',
            'tests/auth/tenant-isolation.test.ts',
            'tests/platform/bad-input.test.ts',
            'tests/platform/error-vocabulary.test.ts',
            'tests/platform/well-formed-input.test.ts',
            'tests/platform/access-log.test.ts',
            'tests/platform/anonymous-throttle.test.ts',
            'tests/platform/route-limits.test.ts',
            'tests/platform/infra.test.ts',
            'tests/platform/document-limits.test.ts',
          ],
          env: { LEDGER_TEST_HTTP_PATH: 'lean' },
        },
      },
    ],
  },
});
