/**
 * The treasurer's patronage CLI (issue 13), over the GraphQL API through the SDK:
 *
 *   npm run patronage -- <command> --coop <Coop id> [options]
 *
 * Commands: policy, set-policy, import, preview, commit, runs, reverse, pay, redeem, notice, tax.
 * Money-moving commands take --key (an idempotency key): running the same command again with the
 * same key answers the first result and changes nothing. Every command reads LEDGER_URL and
 * LEDGER_TOKEN (or --url and --token).
 *
 * Exit status: 0 done (or replayed); 1 the service refused it (userErrors, printed); 2 usage error,
 * unreadable file, or nothing listens at the address.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LedgerClient, SetPatronagePolicyInput } from '../client-sdk/index.js';
import { coopGlobalId } from '../schema/ids.js';
import { CliError, connectionHelp, connectLedger, ledgerToken } from './lib/cli.js';

const usage = `Usage: npm run patronage -- <command> [options]

Patronage for a co-op's treasurer: the policy, members' patronage records, allocation runs, payouts,
notices of allocation and 1099-PATR data.

Commands:
  policy        show the co-op's patronage policy (latest version, or --version N)
  set-policy    set a new policy version from --file policy.json: what policy prints, edited
                (SetPatronagePolicyInput; its coopId is --coop's). The printed version, createdAt
                and createdBy are read-only and not sent; when the file has a version and the
                co-op's latest policy is another one (changed since it was printed), nothing is set:
                print it again and redo the edit, or remove "version" to set it anyway
  import        import patronage records from --file records.csv
                (columns: member, measure, period_start, period_end, quantity)
  preview       preview fiscal year --year Y [--surplus S] [--allocated-on D]: pools and every member
  commit        commit fiscal year --year Y [--surplus S] [--allocated-on D] --key K
  runs          list the co-op's runs, newest first
  reverse       reverse run --run ID --key K
  pay           pay the cash parts of run --run ID --paid-on D [--method bank|cash] --key K
  redeem        revolving redemption --as-of D [--cap AMOUNT] [--method bank|cash] --key K
  notice        write a member's notice: --run ID --member MEMBERSHIP_ID --out FILE (.pdf or .html)
  tax           write 1099-PATR data for calendar year --year Y to --out FILE (CSV)

Options:
  --coop ID         the co-op: its Coop id or raw uuid (all commands but reverse, pay and notice)
  --csv             preview: print every member as CSV instead of a table
  --url URL         the service's GraphQL endpoint (default: $LEDGER_URL, else http://localhost:4000/graphql)
  --token T         bearer token of one of the co-op's treasurers (default: $LEDGER_TOKEN)
  -h, --help        this help

${connectionHelp("the token of one of the co-op's treasurers")}

Exit status: 0 done or replayed; 1 refused by the service (its userErrors are printed); 2 usage
error, unreadable file, or nothing listens at the address.`;

const COMMANDS = [
  'policy',
  'set-policy',
  'import',
  'preview',
  'commit',
  'runs',
  'reverse',
  'pay',
  'redeem',
  'notice',
  'tax',
] as const;
type Command = (typeof COMMANDS)[number];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class UsageError extends Error {}
type Values = Record<string, string | boolean | undefined>;

function parse(argv: string[]): { command: Command; values: Values } | 'help' {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        coop: { type: 'string' },
        file: { type: 'string' },
        year: { type: 'string' },
        version: { type: 'string' },
        surplus: { type: 'string' },
        'allocated-on': { type: 'string' },
        key: { type: 'string' },
        run: { type: 'string' },
        'paid-on': { type: 'string' },
        'as-of': { type: 'string' },
        cap: { type: 'string' },
        method: { type: 'string' },
        member: { type: 'string' },
        out: { type: 'string' },
        csv: { type: 'boolean' },
        url: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help) return 'help';
  const [command, ...rest] = parsed.positionals;
  if (!command) throw new UsageError(`a command is needed: ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(command))
    throw new UsageError(`unknown command "${command}" (one of ${COMMANDS.join(', ')})`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  return { command: command as Command, values: parsed.values };
}

/**
 * Fields the policy command prints that SetPatronagePolicyInput does not take (coopId it does):
 * read-only, dropped by set-policy (version checked against the latest first).
 */
const POLICY_RECORD_FIELDS = ['version', 'createdAt', 'createdBy'] as const;

function need(values: Values, name: string, what: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} is required (${what})`);
  return v.trim();
}

function year(values: Values): number {
  const y = Number(need(values, 'year', 'a year such as 2025'));
  if (!Number.isInteger(y)) throw new UsageError('--year must be a whole year such as 2025');
  return y;
}

/**
 * A policy version: a whole number from 1. Checked here because Number('abc') is NaN, which JSON
 * sends as null, the API's "latest version": a mistyped version would show the latest one.
 */
function policyVersion(text: string): number {
  const v = text.trim();
  if (!/^[1-9][0-9]{0,8}$/.test(v))
    throw new UsageError(`--version must be a policy version: a whole number from 1 (not "${text}")`);
  return Number(v);
}

function method(values: Values): 'BANK' | 'CASH' {
  const m = String(values.method ?? 'bank').toUpperCase();
  if (m !== 'BANK' && m !== 'CASH') throw new UsageError('--method must be bank or cash');
  return m;
}

const coopOf = (values: Values) => {
  const coop = need(values, 'coop', 'the Coop id');
  return UUID.test(coop) ? coopGlobalId(coop.toLowerCase()) : coop;
};

/** A table with a header row, columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Prints userErrors and answers 1, or 0 when there are none. */
function refused(errors: { code: string; message: string; field?: string | null }[]): number {
  if (errors.length === 0) return 0;
  for (const e of errors) console.error(`refused: ${e.code}${e.field ? ` (${e.field})` : ''}: ${e.message}`);
  return 1;
}

const progress = (message: string) => process.stderr.write(`patronage: ${message}\n`);

async function run(client: LedgerClient, command: Command, values: Values): Promise<number> {
  switch (command) {
    case 'policy': {
      const version = values.version === undefined ? null : policyVersion(String(values.version));
      const policy = await client.patronagePolicy({ coopId: coopOf(values), version });
      if (!policy) {
        console.error('no policy (or no such co-op for this token)');
        return 1;
      }
      console.log(JSON.stringify(policy, null, 2));
      return 0;
    }
    case 'set-policy': {
      const file = need(values, 'file', 'a JSON file of the policy');
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new UsageError(`cannot read ${file} as JSON: ${(error as Error).message}`);
      }
      if (input === null || typeof input !== 'object' || Array.isArray(input))
        throw new UsageError(`${file} is not a JSON object of the policy`);
      // What `policy` prints about a version (its number, when and by whom it was made) is no
      // field of a new version: dropped, so that the printed file, edited, can be fed back.
      const { version: printedVersion, ...rest } = input;
      const fields = Object.fromEntries(
        Object.entries(rest).filter(([name]) => !(POLICY_RECORD_FIELDS as readonly string[]).includes(name)),
      );
      const coopId = coopOf(values);
      if (printedVersion !== undefined && printedVersion !== null) {
        if (!Number.isInteger(printedVersion) || (printedVersion as number) < 1)
          throw new UsageError(
            `${file}: "version" must be the printed policy's version, a whole number from 1`,
          );
        // The edit was made to that version: when another was set since, setting the file would
        // silently undo that change (a lost update). The latest is read just before setting.
        const latest = await client.patronagePolicy({ coopId, version: null });
        if (latest && latest.version !== printedVersion) {
          console.error(
            `patronage: ${file} was printed from policy version ${printedVersion}, but the co-op's latest is version ` +
              `${latest.version}; nothing set: print the policy again and redo the edit, or remove "version" from ` +
              'the file to set it anyway',
          );
          return 1;
        }
      }
      const payload = await client.setPatronagePolicy({
        ...(fields as unknown as SetPatronagePolicyInput),
        coopId,
      });
      if (refused(payload.userErrors)) return 1;
      console.log(`policy version ${payload.policy!.version}${payload.replayed ? ' (replayed)' : ''}`);
      return 0;
    }
    case 'import': {
      const file = need(values, 'file', 'the CSV file of patronage records');
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
      }
      const key =
        (values.key as string | undefined) ??
        `patronage-csv-${createHash('sha256').update(bytes).digest('hex')}`;
      progress(`importing ${file}`);
      const result = await client.importPatronageCsv({
        coopId: coopOf(values),
        csv: bytes.toString('utf8'),
        idempotencyKey: key,
      });
      if (refused(result.userErrors)) return 1;
      if (!result.imported) {
        console.error('nothing imported: the file has bad rows');
        console.error(
          table(
            ['line', 'column', 'code', 'problem'],
            result.rowErrors.map((e) => [String(e.row), e.column ?? '', e.code, e.message]),
          ),
        );
        return 1;
      }
      console.log(`${result.recorded} records imported${result.replayed ? ' (replayed: nothing new)' : ''}`);
      return 0;
    }
    case 'preview':
    case 'commit': {
      const base = {
        coopId: coopOf(values),
        fiscalYear: year(values),
        surplus: (values.surplus as string | undefined) ?? null,
        allocatedOn: (values['allocated-on'] as string | undefined) ?? null,
      };
      if (command === 'commit') {
        const key = need(values, 'key', 'an idempotency key naming this run, e.g. run-2025');
        progress(`committing fiscal year ${base.fiscalYear}`);
        const payload = await client.commitPatronageAllocation({ ...base, idempotencyKey: key });
        if (refused(payload.userErrors)) return 1;
        const r = payload.run!;
        console.log(
          `run ${r.id}${payload.replayed ? ' (replayed)' : ''}: surplus ${r.surplus}, reserve ${r.reserve}, ` +
            `community ${r.community}, members ${r.memberPool} (cash ${r.cashTotal}, retained ${r.retainedTotal}), ` +
            `${r.memberCount} members; inputs ${r.inputsHash}`,
        );
        return 0;
      }
      const lines: string[][] = [];
      let header: { inputsHash: string; text: string } | null = null;
      for (let after: string | null = null; ; ) {
        const page = await client.previewPatronageAllocation({ ...base, first: 100, after });
        if (refused(page.userErrors)) return 1;
        const p = page.preview!;
        // The pages after the first are slices of the first page's computation while the service
        // holds it (a minute, in the process that answered); a page computed anew (another
        // instance, or later) is of other inputs when records or members changed meanwhile: two
        // previews, not one.
        if (header && p.inputsHash !== header.inputsHash) {
          console.error(
            `patronage: the co-op's patronage changed while the preview was read (inputs ${header.inputsHash}, ` +
              `then ${p.inputsHash}); nothing printed: run it again`,
          );
          return 1;
        }
        header ??= {
          inputsHash: p.inputsHash,
          text:
            `fiscal year ${p.fiscalYear} (${p.periodStart} to ${p.periodEnd}), ${p.kind}: surplus ${p.surplus} ${p.currency.code} ` +
            `(${p.surplusSource}); reserve ${p.reserve}, community ${p.community}, members ${p.memberPool} ` +
            `(below minimum ${p.belowMinimum}); cash ${p.cashTotal}, retained ${p.retainedTotal}; inputs ${p.inputsHash}`,
        };
        for (const e of p.allocations.edges) {
          const n = e.node;
          lines.push([
            String(n.memberNumber),
            n.patronage
              .map(
                (m) =>
                  `${m.measure} ${m.counted}${Number(m.excluded) !== 0 ? ` (+${m.excluded} excluded)` : ''}`,
              )
              .join('; '),
            n.share,
            n.allocation,
            n.cash,
            n.retained,
            n.qualified ? 'qualified' : 'non-qualified',
          ]);
        }
        if (!p.allocations.pageInfo.hasNextPage) break;
        after = p.allocations.pageInfo.endCursor ?? null;
        progress(`${lines.length} members read`);
      }
      const columns = ['member', 'patronage', 'share', 'allocation', 'cash', 'retained', 'notice'];
      if (values.csv) {
        console.log(columns.join(','));
        for (const l of lines)
          console.log(l.map((c) => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(','));
      } else {
        console.log(header?.text ?? '');
        console.log(table(columns, lines));
      }
      return 0;
    }
    case 'runs': {
      const rows: string[][] = [];
      for (let after: string | null = null; ; ) {
        const page = await client.patronageRuns({ coopId: coopOf(values), first: 100, after });
        for (const { node: r } of page.edges)
          rows.push([
            r.id,
            String(r.fiscalYear),
            r.status,
            r.kind,
            r.allocatedOn,
            r.surplus,
            String(r.memberCount),
          ]);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor ?? null;
      }
      console.log(table(['run', 'year', 'status', 'kind', 'allocated on', 'surplus', 'members'], rows));
      return 0;
    }
    case 'reverse': {
      const payload = await client.reversePatronageAllocation({
        runId: need(values, 'run', 'the run id'),
        idempotencyKey: need(values, 'key', 'an idempotency key naming this reversal'),
      });
      if (refused(payload.userErrors)) return 1;
      console.log(`run ${payload.run!.id} ${payload.run!.status}${payload.replayed ? ' (replayed)' : ''}`);
      return 0;
    }
    case 'pay':
    case 'redeem': {
      const payload =
        command === 'pay'
          ? await client.payPatronageCash({
              runId: need(values, 'run', 'the run id'),
              paidOn: need(values, 'paid-on', 'the payment date YYYY-MM-DD'),
              method: method(values),
              idempotencyKey: need(values, 'key', 'an idempotency key naming this payout'),
            })
          : await client.redeemRetainedPatronage({
              coopId: coopOf(values),
              asOf: need(values, 'as-of', 'the redemption date YYYY-MM-DD'),
              cap: (values.cap as string | undefined) ?? null,
              method: method(values),
              idempotencyKey: need(values, 'key', 'an idempotency key naming this redemption'),
            });
      if (refused(payload.userErrors)) return 1;
      const p = payload.payout!;
      console.log(
        `${p.kind === 'CASH' ? 'cash payout' : 'redemption'} ${p.id}${payload.replayed ? ' (replayed)' : ''}: ` +
          `${p.total} paid on ${p.paidOn} by ${p.method.toLowerCase()} to ${p.payments.length} allocations` +
          (p.carried.length > 0
            ? `; ${p.carried.length} cash parts below the minimum cheque stay payable`
            : ''),
      );
      console.log(
        table(
          ['member', 'year', 'amount'],
          p.payments.map((l) => [String(l.memberNumber), String(l.fiscalYear), l.amount]),
        ),
      );
      return 0;
    }
    case 'notice': {
      const out = need(values, 'out', 'the file to write, .pdf or .html');
      const notice = await client.patronageNotice({
        runId: need(values, 'run', 'the run id'),
        membershipId: need(values, 'member', 'the Membership id'),
      });
      if (!notice) {
        console.error('no such notice for this token (unknown run or member, or no allocation)');
        return 1;
      }
      writeFileSync(out, out.endsWith('.html') ? notice.html : Buffer.from(notice.pdfBase64, 'base64'));
      console.log(`wrote ${out}`);
      return 0;
    }
    case 'tax': {
      const out = need(values, 'out', 'the CSV file to write');
      const { forms, userErrors } = await client.patronageTaxForms({
        coopId: coopOf(values),
        taxYear: year(values),
      });
      if (refused(userErrors)) return 1;
      writeFileSync(out, forms!.csv);
      console.log(`wrote ${out}: ${forms!.rows.length} recipients paid $10 or more`);
      return 0;
    }
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`patronage: ${error.message}\n\n${usage}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(usage);
    return 0;
  }
  if (ledgerToken(parsed.values.token as string | undefined) === undefined) {
    console.error('patronage: a token is needed: --token T or the environment variable LEDGER_TOKEN');
    return 2;
  }
  try {
    const { client } = await connectLedger({
      url: parsed.values.url as string | undefined,
      token: parsed.values.token as string | undefined,
    });
    return await run(client, parsed.command, parsed.values);
  } catch (error) {
    if (error instanceof UsageError || error instanceof CliError) {
      console.error(`patronage: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`patronage: ${(error as Error).message}`);
    process.exit(2);
  },
);
