/**
 * Clearing benchmark (issue 14), the solver part: the exact clearing of a Sardex-size network
 * (3,200 co-ops, 140,000 open obligations, random but with realistic cycles: trade within sectors
 * and along supply chains that close) in this process, as previewClearing and commitClearing run
 * it, beside the issue's targets. Run `npx tsx scripts/bench-clearing.ts --help`. Prints each
 * figure beside its target on stdout, progress on stderr, and writes its section of BENCHMARKS.md
 * (between the markers below; the rest of the file is left as it is).
 *
 * What it does not measure yet: previewClearing and commitClearing through the API on a database
 * holding those obligations (reading them, posting the entries, the commit-time assertions), and
 * payments through the API at 16 clients. Those need the service started as scripts/bench-ledger.ts
 * does; the figures here are the solver's share of them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { greedyCycleSetoff, type ObligationInput, planClearing } from '../server/core/index.js';
import { writeReportSection } from './lib/report-section.js';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const TARGETS = { previewMs: 2_000, commitMs: 10_000 } as const;

const USAGE = `Clearing benchmark: the exact clearing solver on a Sardex-size obligation network.

Usage: npx tsx scripts/bench-clearing.ts [options]

Options:
  --coops <n>        co-ops (default 3200)
  --obligations <n>  open obligations (default 140000)
  --repeat <n>       solves timed per mode (default 3)
  --seed <n>         random seed (default 14)
  --output <file>    report file whose clearing section is written (default BENCHMARKS.md)
  --no-write         print only, write no file
  -h, --help         this text
`;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Obligations with structure: co-ops in 40 sectors; 45% of invoices inside a sector, 35% to the
 * next sector along a supply chain whose last sector sells to the first (so chains close into
 * cycles), 20% anywhere. Amounts log-uniform from 50.00 to 50,000.00, due dates over six months.
 */
function network(coops: number, count: number, seed: number): ObligationInput[] {
  const random = rng(seed);
  const sectors = 40;
  const pick = (sector: number) => {
    const size = Math.ceil(coops / sectors);
    return Math.min(coops - 1, sector * size + Math.floor(random() * size));
  };
  const out: ObligationInput[] = [];
  for (let i = 0; i < count; i++) {
    const debtor = Math.floor(random() * coops);
    const sector = Math.floor(debtor / Math.ceil(coops / sectors));
    const r = random();
    let creditor =
      r < 0.45 ? pick(sector) : r < 0.8 ? pick((sector + 1) % sectors) : Math.floor(random() * coops);
    if (creditor === debtor) creditor = (debtor + 1) % coops;
    const cents = BigInt(Math.round(5_000 * 1_000 ** random()));
    const day = 1 + Math.floor(random() * 180);
    const due = new Date(Date.UTC(2026, 0, day)).toISOString().slice(0, 10);
    out.push({
      id: `o${String(i).padStart(7, '0')}`,
      debtor: `c${String(debtor).padStart(5, '0')}`,
      creditor: `c${String(creditor).padStart(5, '0')}`,
      outstanding: cents,
      dueOn: due,
    });
  }
  return out;
}

const money = (minor: bigint) => `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;
const pct = (part: bigint, whole: bigint) =>
  whole === 0n ? '0' : (Number((part * 10_000n) / whole) / 100).toFixed(2);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      coops: { type: 'string' },
      obligations: { type: 'string' },
      repeat: { type: 'string' },
      seed: { type: 'string' },
      output: { type: 'string' },
      'no-write': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const int = (v: string | undefined, d: number, name: string) => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
    return n;
  };
  const coops = int(values.coops, 3200, 'coops');
  const count = int(values.obligations, 140_000, 'obligations');
  const repeat = int(values.repeat, 3, 'repeat');
  const seed = int(values.seed, 14, 'seed');
  process.stderr.write(`generating ${count} obligations among ${coops} co-ops (seed ${seed})...\n`);
  const obligations = network(coops, count, seed);
  const liquidity = [...new Set(obligations.flatMap((o) => [o.debtor, o.creditor]))].map((member, i) => ({
    member,
    payMax: BigInt(100_000 + (i % 7) * 50_000),
    receiveMax: i % 5 === 0 ? BigInt(200_000) : null,
  }));
  const times: Record<string, number[]> = { setoff: [], liquidity: [], greedy: [] };
  let plan = planClearing(obligations);
  let withLiquidity = planClearing(obligations, liquidity);
  let greedy = 0n;
  for (let r = 1; r <= repeat; r++) {
    process.stderr.write(`round ${r}/${repeat}: set-off...`);
    let t = performance.now();
    plan = planClearing(obligations);
    times.setoff!.push(performance.now() - t);
    process.stderr.write(' liquidity mode...');
    t = performance.now();
    withLiquidity = planClearing(obligations, liquidity);
    times.liquidity!.push(performance.now() - t);
    process.stderr.write(' greedy cycles...\n');
    t = performance.now();
    greedy = greedyCycleSetoff(obligations);
    times.greedy!.push(performance.now() - t);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = [
    ['exact set-off (preview and commit solve)', median(times.setoff!), TARGETS.previewMs],
    ['set-off then liquidity mode', median(times.liquidity!), TARGETS.previewMs],
    ['greedy cycle clearing (for comparison)', median(times.greedy!), null],
  ] as const;
  const table = [
    '| solve | median ms | target (whole preview through the API) |',
    '|---|---:|---:|',
    ...rows.map(
      ([name, ms, target]) => `| ${name} | ${ms.toFixed(0)} | ${target === null ? '-' : `< ${target}`} |`,
    ),
  ].join('\n');
  const figures = [
    `| outstanding before | ${money(plan.outstandingBefore)} |`,
    `| exact set-off | ${money(plan.setoffTotal)} (${pct(plan.setoffTotal, plan.outstandingBefore)}%) |`,
    `| greedy set-off | ${money(greedy)} (${pct(greedy, plan.outstandingBefore)}%) |`,
    `| net internal debt (unchanged by set-off) | ${money(plan.netInternalDebtBefore)} |`,
    `| liquidity mode on top | ${money(withLiquidity.liquidityTotal)} (${pct(withLiquidity.liquidityTotal, plan.outstandingBefore)}%), using ${money(withLiquidity.liquidityUsed)} of network credit |`,
    `| net internal debt after the liquidity mode | ${money(withLiquidity.netInternalDebtAfter)} |`,
  ];
  const section = `## Clearing

\`npx tsx scripts/bench-clearing.ts --coops ${coops} --obligations ${count} --repeat ${repeat} --seed ${seed}\`, run ${new Date().toISOString().slice(0, 10)}
on a shared 2-core machine (load from other work; figures are upper bounds). The exact solver of
server/core/clearing.ts on ${count} obligations among ${coops} co-ops (sectors trading inside and
along closing supply chains), in one process, as previewClearing and commitClearing call it.
Targets are the issue's for the whole preview (2 s) and commit (10 s) through the API; the API
figures (reading the obligations, posting the entries, the commit-time assertions) and payments
at 16 clients are not measured by this script yet.

${table}

| figure | value |
|---|---|
${figures.join('\n')}`;
  process.stdout.write(`${table}\n\n| figure | value |\n|---|---|\n${figures.join('\n')}\n`);
  if (!values['no-write']) {
    const file = path.resolve(values.output ?? path.join(repoRoot, 'BENCHMARKS.md'));
    await writeReportSection(file, 'bench-clearing', section);
    process.stderr.write(`wrote the clearing section of ${file}\n`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
