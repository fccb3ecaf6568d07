/**
 * Financial statements from the command line (issue 17), through the API and the SDK: the income
 * statement, the balance sheet and the trial balance as CSV, a printable PDF or text.
 *
 *   LEDGER_URL=... LEDGER_TOKEN=slt_... npm run statements -- income --book <id> --from 2026-01-01 --to 2026-03-31 --format pdf --out q1.pdf
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError, connectionHelp, connectLedger } from './lib/cli.js';

const usage = `Usage: npm run statements -- <income|balance|trial> --book ID [options]

Downloads a book's statements, as the API makes them (the figures reconcile with the trial balance).

  income    revenue and expenses over --from .. --to (calendar days, both included)
  balance   assets, liabilities and equity at the end of --as-of, with the result since
            --period-start (default 1 January of that year)
  trial     the trial balance at the end of --as-of (default: now), optionally rolled up

Options:
  --book ID            the book's (or co-op's) id (required)
  --from DATE          income: the first day
  --to DATE            income: the last day
  --as-of DATE         balance, trial: the day
  --period-start DATE  balance: the first day of the period whose result is shown
  --depth N            roll sub-accounts up into their ancestor at depth N (1: top-level accounts)
  --compare C          income, balance: none (default), previous-period or previous-year
  --omit-zero          leave out accounts that are zero in every column
  --format F           csv (default), pdf (income and balance) or text
  --out FILE           write to FILE (required for pdf) instead of standard output
  --url URL            the service's GraphQL endpoint
  --token T            the bearer token of one of the book's treasurers

${connectionHelp("the bearer token of one of the book's treasurers")}

Exit status: 0 written, 1 refused (the message says why), 2 bad usage.`;

const COMPARE = {
  none: 'NONE',
  'previous-period': 'PREVIOUS_PERIOD',
  'previous-year': 'PREVIOUS_YEAR',
} as const;

class UsageError extends Error {}

/**
 * A text table under column headers: the first column left-aligned, the amounts right-aligned, each
 * column as wide as its widest cell and two spaces between columns, so a long account name or an
 * amount of many digits never runs into its neighbour.
 */
function textTable(headers: string[], rows: string[][]): string[] {
  // A loop, not Math.max(...rows): a book of 100,000 accounts would pass too many arguments.
  const widths = headers.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map((r) => (r.length === 0 ? '' : line(r)))];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      book: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'as-of': { type: 'string' },
      'period-start': { type: 'string' },
      depth: { type: 'string' },
      compare: { type: 'string', default: 'none' },
      'omit-zero': { type: 'boolean', default: false },
      format: { type: 'string', default: 'csv' },
      out: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const [command] = positionals;
  if (command !== 'income' && command !== 'balance' && command !== 'trial')
    throw new UsageError('say which statement: income, balance or trial');
  if (!values.book) throw new UsageError('--book is required');
  const format = values.format;
  if (format !== 'csv' && format !== 'pdf' && format !== 'text')
    throw new UsageError('--format must be csv, pdf or text');
  if (format === 'pdf' && (command === 'trial' || !values.out))
    throw new UsageError(command === 'trial' ? 'the trial balance is CSV or text' : 'a PDF needs --out FILE');
  const compare = COMPARE[values.compare as keyof typeof COMPARE];
  if (!compare) throw new UsageError('--compare must be none, previous-period or previous-year');
  const depth = values.depth === undefined ? null : Number(values.depth);
  if (depth !== null && !(Number.isInteger(depth) && depth >= 1))
    throw new UsageError('--depth must be a whole number from 1');
  const { client, address } = await connectLedger({ url: values.url, token: values.token });
  const missing = () => new CliError(`no book ${values.book} at ${address.url} that this token may read`);
  const write = (data: string | Uint8Array) => {
    if (values.out) writeFileSync(values.out, data);
    else process.stdout.write(data);
  };
  // The comparison column only when one was asked for.
  const amounts = (amount: string, comparison: string | null | undefined) =>
    compare === 'NONE' ? [amount] : [amount, comparison ?? ''];
  const headers = (
    period: { from?: string; to: string },
    comparison: { period: { from?: string; to: string } } | null | undefined,
  ) => {
    const name = (p: { from?: string; to: string }) => (p.from ? `${p.from} to ${p.to}` : p.to);
    return compare === 'NONE' || !comparison
      ? ['Account', name(period)]
      : ['Account', name(period), name(comparison.period)];
  };

  if (command === 'trial') {
    const asOf = values['as-of'] ? `${values['as-of']}T23:59:59.999Z` : null;
    const vars = { bookId: values.book, asOf, rollupDepth: depth };
    if (format === 'csv') {
      const csv = await client.trialBalanceCsv(vars);
      if (csv === null) throw missing();
      return write(csv);
    }
    // Paged: one request answers at most TRIAL_BALANCE_PAGE_MAX lines.
    const tb = await client.trialBalanceAllLines(vars);
    if (!tb) throw missing();
    const rows: [string, string, string][] = tb.lines.map((l) => [
      `${'  '.repeat(l.depth - 1)}${l.account.code} ${l.account.name}`,
      l.debitBalance ?? '',
      l.creditBalance ?? '',
    ]);
    for (const u of tb.units) rows.push([`Total ${u.unit.code}`, u.debitBalanceTotal, u.creditBalanceTotal]);
    const title = `Trial balance as of ${tb.asOf}${tb.rollupDepth ? ` (rolled up to depth ${tb.rollupDepth})` : ''}`;
    return write(`${[title, '', ...textTable(['Account', 'Debit', 'Credit'], rows)].join('\n')}\n`);
  }
  if (command === 'income') {
    if (!values.from || !values.to) throw new UsageError('income needs --from and --to');
    const vars = {
      bookId: values.book,
      from: values.from,
      to: values.to,
      depth,
      compare,
      omitZero: values['omit-zero'],
    };
    if (format !== 'text') {
      const files = await client.incomeStatementFiles(vars);
      if (!files) throw missing();
      return write(format === 'csv' ? files.csv : files.pdf);
    }
    const s = await client.incomeStatement(vars);
    if (!s) throw missing();
    const rows: string[][] = [];
    for (const u of s.units) {
      rows.push([], [`In ${u.unit.code}`]);
      for (const section of [u.revenue, u.expenses]) {
        for (const l of section.lines)
          rows.push([
            `${'  '.repeat(l.depth - 1)}${l.account.code} ${l.account.name}`,
            ...amounts(l.amount, l.comparisonAmount),
          ]);
        rows.push([
          `Total ${section.type.toLowerCase()}`,
          ...amounts(section.total, section.comparisonTotal),
        ]);
      }
      rows.push(['Result', ...amounts(u.result, u.comparisonResult)]);
    }
    const title = `Income statement ${s.period.from} to ${s.period.to}`;
    return write(`${[title, '', ...textTable(headers(s.period, s.comparison), rows)].join('\n')}\n`);
  }
  if (!values['as-of']) throw new UsageError('balance needs --as-of');
  const vars = {
    bookId: values.book,
    asOf: values['as-of'],
    periodStart: values['period-start'] ?? null,
    depth,
    compare,
    omitZero: values['omit-zero'],
  };
  if (format !== 'text') {
    const files = await client.balanceSheetFiles(vars);
    if (!files) throw missing();
    return write(format === 'csv' ? files.csv : files.pdf);
  }
  const s = await client.balanceSheet(vars);
  if (!s) throw missing();
  const rows: string[][] = [];
  for (const u of s.units) {
    rows.push([], [`In ${u.unit.code}`]);
    for (const section of [u.assets, u.liabilities, u.equity]) {
      for (const l of section.lines)
        rows.push([
          `${'  '.repeat(l.depth - 1)}${l.account.code} ${l.account.name}`,
          ...amounts(l.amount, l.comparisonAmount),
        ]);
      rows.push([`Total ${section.type.toLowerCase()}`, ...amounts(section.total, section.comparisonTotal)]);
    }
    rows.push(['Result for the period', ...amounts(u.resultOfPeriod, u.comparisonResultOfPeriod)]);
    rows.push(['Results of earlier periods', ...amounts(u.earlierResults, u.comparisonEarlierResults)]);
    rows.push([
      'Total liabilities and equity',
      ...amounts(u.totalLiabilitiesAndEquity, u.comparisonTotalLiabilitiesAndEquity),
    ]);
  }
  const title = `Balance sheet as of ${s.asOf} (result since ${s.periodStart})`;
  return write(`${[title, '', ...textTable(headers({ to: s.asOf }, s.comparison), rows)].join('\n')}\n`);
}

main().catch((error) => {
  // A UsageError of ours, or a mistyped option (node:util parseArgs): bad usage, exit 2.
  if (
    error instanceof UsageError ||
    String((error as { code?: unknown } | null)?.code).startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  const graphqlErrors = (error as { errors?: { message: string }[] }).errors;
  console.error(graphqlErrors?.[0]?.message ?? (error instanceof Error ? error.message : String(error)));
  process.exit(1);
});
