/**
 * Exports a book's posted journal as hledger or beancount text (or CSV for spreadsheets), through the
 * GraphQL API and the SDK.
 *
 *   LEDGER_URL=http://localhost:4000/graphql LEDGER_TOKEN=slt_... npx tsx scripts/export-ledger.ts --book <Book id> --format hledger > book.journal
 *   hledger -f book.journal check && hledger -f book.journal balance
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectionHelp, connectLedger } from './lib/cli.js';
import { type ExportFormat, renderJournal } from './lib/plain-text-export.js';

const usage = `Usage: npx tsx scripts/export-ledger.ts --book ID [--url URL] [--format hledger|beancount|csv] [--out FILE] [--token T]

Writes the posted entries of a book as a plain-text journal for hledger or beancount, so that an
independent tool can check that every transaction balances and recompute the balances; or as CSV
(one row per line: date, seq, entry, kind, memo, account, unit, debit, credit) for a spreadsheet.

  --book ID        the book's global id (required)
  --url URL        the service's GraphQL endpoint (default: $LEDGER_URL, else http://localhost:4000/graphql)
  --format F       hledger (default), beancount or csv
  --out FILE       write to FILE instead of standard output
  --token T        bearer token of someone who may read the book (default: $LEDGER_TOKEN)

${connectionHelp('the bearer token of someone who may read the book')}

Fails at once when nothing listens at the address.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      book: { type: 'string' },
      url: { type: 'string' },
      format: { type: 'string', default: 'hledger' },
      out: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  if (!values.book) throw new Error(`--book is required\n\n${usage}`);
  if (values.format !== 'hledger' && values.format !== 'beancount' && values.format !== 'csv') {
    throw new Error(`--format must be hledger, beancount or csv, not "${values.format}"`);
  }
  const { client, address } = await connectLedger({ url: values.url, token: values.token });
  const book = await client.book({ id: values.book });
  if (!book) throw new Error(`no book with id ${values.book} at ${address.url} that this token may read`);
  const accounts = [];
  for await (const a of client.iterateAccounts({ bookId: values.book })) accounts.push(a);
  const entries = [];
  for await (const e of client.iterateJournalEntries({ bookId: values.book })) {
    entries.push(e);
    if (entries.length % 5000 === 0) process.stderr.write(`\r${entries.length} entries read`);
  }
  if (entries.length >= 5000) process.stderr.write('\n');
  const text = renderJournal(accounts, entries, values.format as ExportFormat, book.name);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
}

main().catch((error) => {
  // A mistyped option or a stray argument (node:util parseArgs): a usage error, exit 2.
  if (String((error as { code?: unknown } | null)?.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`export-ledger: ${(error as Error).message}\n\nRun with --help for the options.`);
    process.exit(2);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
