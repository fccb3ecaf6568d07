/**
 * Sums a V8 CPU profile (`node --cpu-prof`, e.g. from `npm run bench:ledger -- --cpu-prof <dir>`)
 * by where its self time went: each sample's function is put in a group by its file (yoga,
 * whatwg-node, graphql-js, pg, pino, express, the posting engine, the schema...) and by name.
 *
 * Usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile> [--top N] [--per <count>]
 *   --per <count>  also print each group's CPU in ms per request (count = requests answered)
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help')) {
  process.stdout.write(
    'Usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile> [--top N] [--per <requests>]\n',
  );
  process.exit(args.length === 0 ? 2 : 0);
}
const file = args[0]!;
const top = Number(args[args.indexOf('--top') + 1]) || 30;
const per = args.includes('--per') ? Number(args[args.indexOf('--per') + 1]) : undefined;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

const GROUPS: [RegExp, string][] = [
  [/\(garbage collector\)/, 'GC'],
  [/\(idle\)/, 'idle'],
  [/\(program\)/, 'program (native, unattributed)'],
  [/node_modules\/@whatwg-node\//, 'whatwg-node (request adapter)'],
  [/node_modules\/graphql-yoga\//, 'yoga core'],
  [/node_modules\/@envelop\//, 'envelop'],
  [/node_modules\/graphql\/(execution|type\/definition)/, 'graphql-js executor'],
  [/node_modules\/graphql\/(utilities\/coerce|execution\/values)/, 'graphql-js variable coercion'],
  [/node_modules\/graphql\//, 'graphql-js other'],
  [/node_modules\/@escape\.tech\//, 'graphql-armor'],
  [/node_modules\/@pothos\//, 'pothos (scope-auth, relay...)'],
  [/node_modules\/(pg|pg-protocol|pg-pool|pg-types)\//, 'pg driver'],
  [/node_modules\/(pino|pino-http|sonic-boom)/, 'pino'],
  [
    /node_modules\/(express|router|body-parser|finalhandler|send|on-finished|helmet|cors|qs|type-is|accepts)/,
    'express & middleware',
  ],
  [/node_modules\/decimal\.js\//, 'decimal.js'],
  [/node_modules\/@mikro-orm\//, 'mikro-orm'],
  [/node_modules\//, 'other packages'],
  [/server\/ledger\/(posting|flush|decide|store)\./, 'posting engine'],
  [/server\/ledger\//, 'ledger other'],
  [/server\/core\//, 'core rules'],
  [/server\/platform\/http\//, 'platform http'],
  [/server\/platform\//, 'platform other'],
  [/schema\//, 'schema (resolvers, plugins)'],
  [/server\//, 'server other'],
  [/^node:|^$/, 'node internals (http, streams, crypto...)'],
];
const groupOf = (node: Node) => {
  const { url, functionName } = node.callFrame;
  for (const [pattern, name] of GROUPS) if (pattern.test(url) || pattern.test(functionName)) return name;
  return 'other';
};

const groupMicros = new Map<string, number>();
const fnMicros = new Map<string, number>();
let total = 0;
let idle = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i + 1] ?? 0;
  const node = byId.get(id)!;
  const group = groupOf(node);
  if (group === 'idle') {
    idle += delta;
    return;
  }
  total += delta;
  groupMicros.set(group, (groupMicros.get(group) ?? 0) + delta);
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(server|schema)\//, '$1/')}:${lineNumber + 1}`;
  fnMicros.set(key, (fnMicros.get(key) ?? 0) + delta);
});
const ms = (micros: number) => (micros / 1000).toFixed(0);
const row = (name: string, micros: number) =>
  `${name.padEnd(48)} ${ms(micros).padStart(7)} ms ${((micros / total) * 100).toFixed(1).padStart(5)}%` +
  (per ? `  ${(micros / 1000 / per).toFixed(4)} ms/request` : '');
process.stdout.write(`busy ${ms(total)} ms, idle ${ms(idle)} ms\n\nby group (self time):\n`);
for (const [name, micros] of [...groupMicros].sort((a, b) => b[1] - a[1]))
  process.stdout.write(`${row(name, micros)}\n`);
process.stdout.write(`\ntop ${top} functions (self time):\n`);
for (const [name, micros] of [...fnMicros].sort((a, b) => b[1] - a[1]).slice(0, top))
  process.stdout.write(`${row(name.slice(0, 120), micros)}\n`);
