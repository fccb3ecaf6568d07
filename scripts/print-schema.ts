/**
 * Prints the GraphQL schema from the Pothos builder to schema/schema.graphql.
 * Usage: npm run generate:schema [-- --check]   (--check: exit 1 if the committed file is stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchemaSdl } from '../schema/index.js';

const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    'Usage: tsx scripts/print-schema.ts [--check]\n\nWrites schema/schema.graphql from the Pothos builder.\n  --check  do not write; exit 1 when the committed file differs',
  );
  process.exit(0);
}
const sdl = printSchemaSdl();
if (args.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== sdl) {
    console.error('schema/schema.graphql is stale: run `npm run generate` and commit the result.');
    process.exit(1);
  }
  console.log('schema/schema.graphql is up to date.');
} else {
  writeFileSync(target, sdl);
  console.log(`wrote ${target}`);
}
