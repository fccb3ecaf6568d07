import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // `graphql` must load once: vite would pick its ESM build for our files while dependencies
    // load the CommonJS one, and yoga then masks every resolver error (see STACK-NOTES).
    // A regex so that subpaths such as `graphql/language/parser` are left alone.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // One PostgreSQL (embedded, or a fresh database on DATABASE_URL's server) for the whole run,
    // migrated once; tests read its URL with inject('databaseUrl').
    globalSetup: ['tests/setup/global-setup.ts'],
    // Forks: each test file is its own process, so in-process HTTP servers, pools and signal
    // handlers never leak between files.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
