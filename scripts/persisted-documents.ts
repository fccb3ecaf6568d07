/**
 * Writes server/persisted-documents.json: every operation of the SDK (client-sdk/generated, made
 * from client-sdk/operations) as the service's persisted documents, `{ "<id>": "<text>" }`.
 *
 * - The id is `sha256:<hex>` of the normalised document, computed as GraphQL Code Generator's
 *   client preset computes it with `persistedDocuments: { hashAlgorithm: 'sha256' }`, so an SDK
 *   built later with persisted documents sends ids this manifest knows.
 * - The text is the document exactly as the SDK sends it today (graphql-request prints the
 *   generated document with graphql's `print`), so the service recognises the SDK's requests by
 *   their text as well, without any change to the SDK.
 *
 * Run by `npm run generate` (after the SDK); `--help` for usage.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printExecutableGraphQLDocument } from '@graphql-tools/documents';
import { type DocumentNode, Kind, print } from 'graphql';

const root = fileURLToPath(new URL('..', import.meta.url));
export const MANIFEST_PATH = join(root, 'server', 'persisted-documents.json');

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'Usage: npx tsx scripts/persisted-documents.ts   (npm run generate runs it)\n\nWrites server/persisted-documents.json from the SDK in client-sdk/generated.',
  );
  process.exit(0);
}

const isOperationDocument = (value: unknown): value is DocumentNode =>
  typeof value === 'object' &&
  value !== null &&
  (value as { kind?: unknown }).kind === Kind.DOCUMENT &&
  (value as DocumentNode).definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION);

const generated = (await import('../client-sdk/generated/graphql.js')) as Record<string, unknown>;
const manifest: Record<string, string> = {};
for (const value of Object.values(generated)) {
  if (!isOperationDocument(value)) continue;
  const id = `sha256:${createHash('sha256').update(printExecutableGraphQLDocument(value)).digest('hex')}`;
  manifest[id] = print(value);
}
const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(MANIFEST_PATH, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`wrote ${Object.keys(sorted).length} persisted documents to server/persisted-documents.json`);
