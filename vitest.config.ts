import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Test files that run in a fresh process of their own (the project "alone"), never in the shared
 * one of the other files: those that change what every module of their process sees (a module mock
 * of a dependency, fake timers), and those that need a module's state as a fresh process has it
 * (uuidv7: the id generator never goes back in time, and its test asks for instants from 1 ms on;
 * in the shared process it failed after other files had made ids at the present time).
 */
const ALONE = [
  'tests/sdk/transport.test.ts',
  'tests/ledger/read-turn.test.ts',
  'tests/platform/uuidv7.test.ts',
];

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
    // One forked process runs the files of a project one after the other (isolate: false), so the
    // service's modules (schema, ORM, yoga, pdfkit...) are loaded once, not once per file: that
    // took about 1.5 to 5 s of each file (vitest's "import" share, measured 2026-12-06), half of a
    // small file's time. What the default (a fresh process per file) guarded against is kept by
    // the files themselves: every file stops the servers, pools and clusters it starts (afterAll,
    // finally or cleanups), the service's signal handlers live only in server/main.ts (spawned,
    // never imported), no test writes process.env, and the files that mock a module, fake the
    // timers or need a module's fresh state run alone (ALONE). Each project gets processes of its
    // own, so the lean project's LEDGER_TEST_HTTP_PATH never reaches the default project's files.
    // A new test that needs a fresh process (it fails after other files but passes alone) goes
    // into ALONE.
    pool: 'forks',
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...ALONE],
        },
      },
      { extends: true, test: { name: 'alone', include: ALONE, isolate: true } },
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
