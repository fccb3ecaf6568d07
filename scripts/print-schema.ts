/**
 * Prints the GraphQL schema from the Pothos builder to schema/schema.graphql.
 * Usage: npm run generate:schema   (`npm run check:generated` checks the committed files)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchemaSdl } from '../schema/index.js';

const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('Usage: npm run generate:schema\n\nWrites schema/schema.graphql from the Pothos builder.');
  process.exit(0);
}
writeFileSync(target, printSchemaSdl());
console.log(`wrote ${target}`);
