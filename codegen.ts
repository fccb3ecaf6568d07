/**
 * GraphQL Code Generator config for the client SDK: typed documents and result/input types from the
 * committed schema (schema/schema.graphql, printed from the Pothos builder) and the operation
 * documents in client-sdk/operations. Run with `npm run generate:sdk` (or `npm run generate` for
 * schema and SDK); the output in client-sdk/generated/ is committed and checked in CI by
 * `npm run check:generated`.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  overwrite: true,
  schema: 'schema/schema.graphql',
  documents: ['client-sdk/operations/**/*.graphql'],
  // Fail when an operation document matches nothing rather than emitting an empty SDK.
  ignoreNoDocuments: false,
  generates: {
    'client-sdk/generated/': {
      preset: 'client',
      presetConfig: {
        // The facade returns plain result objects; masked fragments would force every caller
        // through `useFragment` to read fields it already received.
        fragmentMasking: false,
        // Each document gets its persisted document id (`__meta__.hash`, `sha256:<hex>` of the
        // normalised document) and persisted-documents.json maps ids to texts: the SDK sends the id,
        // the service knows the SDK's documents by it (server/persisted-documents.json).
        persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' },
      },
      config: {
        // NodeNext needs explicit extensions on relative imports (STACK-NOTES: inside `config`,
        // not `presetConfig`).
        importExtension: '.js',
        scalars: { Decimal: 'string', DateTime: 'string', Date: 'string' },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
