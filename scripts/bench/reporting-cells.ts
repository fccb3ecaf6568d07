/**
 * In-process micro-bench of cityReport's cell writer (server/reporting/query.ts slice().cellsJson):
 * CPU time per cell, no HTTP, no database. A synthetic release of the full-size shape
 * (30 neighbourhoods x 20 sectors x 4 kinds with TOTAL margins, every measure over 36 months with
 * its quarters and years): each neighbourhood, sector and kind has co-ops with probability 0.57
 * (2,000 co-ops over 2,400 of them) and then all its cells stored, margins always; of stored cells
 * 10% hidden (a random reason), 10% zero, the rest 0 to 10^7 (minor units or counts). Slices are
 * drawn as scripts/bench/reporting-serve.ts draws them (one measure, each dimension grouped with
 * probability 0.4, margins, a granularity, a `from` month). Prints the sha256 of every slice's JSON,
 * so two versions of the writer can be checked byte for byte, and the least CPU per cell over the
 * rounds (each round writes every slice once). Run it alternately with the version to compare, and
 * note the load average it prints.
 *
 *   npx tsx scripts/bench/reporting-cells.ts [--rounds 15] [--slices 400] [--seed 12345]
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildReleaseShape } from '../../server/reporting/cube.js';
import { MEASURES } from '../../server/reporting/measures.js';
import {
  CELL_JSON_FIELDS,
  loadRelease,
  type SliceInput,
  type SliceResult,
  slice,
} from '../../server/reporting/query.js';
import type { ReleaseRow } from '../../server/reporting/store.js';

const usage = `Usage: npx tsx scripts/bench/reporting-cells.ts [options]

CPU time per cell of cityReport's JSON writer on a synthetic full-size release (no HTTP, no database).

  --rounds N   rounds of writing every slice; the least per cell is printed (default 15)
  --slices N   random slices drawn (queries refused as too large are dropped; default 400)
  --seed N     seed of the release's cells and of the slices (default 12345)
  -h, --help   this text`;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    slices: { type: 'string', default: '400' },
    seed: { type: 'string', default: '12345' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
let seed = Number(values.seed);
const r = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
};
const nb = Array.from({ length: 30 }, (_, i) => `N${i}`);
const se = Array.from({ length: 20 }, (_, i) => `S${i}`);
const ki = Array.from({ length: 4 }, (_, i) => `K${i}`);
const { shape } = buildReleaseShape({
  neighbourhoods: nb,
  sectors: se,
  kinds: ki,
  firstYear: 2023,
  throughMonth: '2025-12',
});
const mpCodes = [...shape.dims[3]!.codes];
const nmp = mpCodes.length;
const parts: Buffer[] = [];
const chunk = Buffer.alloc(nmp * 13);
for (let a = 0; a < 31; a++)
  for (let b = 0; b < 21; b++)
    for (let c = 0; c < 5; c++) {
      if (a > 0 && b > 0 && c > 0 && r() > 0.57) continue;
      const base = ((a * 21 + b) * 5 + c) * nmp;
      for (let m = 0; m < nmp; m++) {
        const at = m * 13;
        const x = r();
        const reason = x < 0.1 ? 1 + Math.floor(r() * 4) : 0;
        chunk.writeUInt32LE(base + m, at);
        chunk.writeDoubleLE(reason ? Number.NaN : x < 0.2 ? 0 : Math.floor(r() * 1e7), at + 4);
        chunk[at + 12] = reason;
      }
      parts.push(Buffer.from(chunk));
    }
const row: ReleaseRow = {
  id: '00000000-0000-4000-8000-000000000015',
  cityKey: 'bench',
  city: 'bench',
  seq: 1,
  currency: 'USD',
  firstMonth: '2023-01',
  throughMonth: '2025-12',
  policy: {},
  dimensions: {
    neighbourhoods: nb,
    sectors: se,
    kinds: ki,
    measurePeriods: mpCodes,
    firstYear: 2023,
    throughMonth: '2025-12',
    scale: 2,
  },
  cells: Buffer.concat(parts),
  protection: Buffer.alloc(0),
  summary: {},
  createdAt: new Date(),
  createdBy: 'bench',
};
const loadStarted = performance.now();
loadRelease(row);
const loadMs = performance.now() - loadStarted;
// The release is cached by id: releaseFor finds it without the pool.
const deps = { pool: null as never, latest: { get: async () => row.id } } as never;
const actor = { grants: [{ role: 'ADMIN', scope: '*' }] } as never;
const months: string[] = [];
for (let y = 2023; y <= 2025; y++)
  for (let m = 1; m <= 12; m++) months.push(`${y}-${String(m).padStart(2, '0')}`);
const measures = MEASURES.map((m) => m.code);
const results: SliceResult[] = [];
for (let i = 0; i < Number(values.slices); i++) {
  const input: SliceInput = {
    city: 'bench',
    releaseId: null,
    measures: [measures[Math.floor(r() * measures.length)]!],
    neighbourhoods: null,
    sectors: null,
    kinds: null,
    groupBy: (['NEIGHBOURHOOD', 'SECTOR', 'KIND'] as const).filter(() => r() < 0.4),
    granularity: (['MONTH', 'QUARTER', 'YEAR'] as const)[Math.floor(r() * 3)]!,
    from: months[Math.floor(r() * months.length)]!,
    to: null,
    margins: true,
  };
  const s = await slice(deps, input, actor);
  if ('cellsJson' in s) results.push(s);
}
const fields = CELL_JSON_FIELDS.map((f) => ({ key: f, field: f }));
const hash = createHash('sha256');
let cells = 0;
for (const s of results) {
  const json = s.cellsJson(fields);
  hash.update(json);
  cells += (JSON.parse(json.toString()) as unknown[]).length;
}
const rounds = Number(values.rounds);
let best = Number.POSITIVE_INFINITY;
for (let k = 0; k < rounds; k++) {
  const started = process.cpuUsage();
  for (const s of results) s.cellsJson(fields);
  const used = process.cpuUsage(started);
  best = Math.min(best, ((used.user + used.system) * 1000) / cells);
}
console.log(
  `release: ${shape.cellCount} cells, ${row.cells.length / 13} stored, loaded in ${loadMs.toFixed(0)} ms\n` +
    `slices: ${results.length}, ${(cells / results.length).toFixed(0)} cells each on average, sha256 ${hash.digest('hex')}\n` +
    `cellsJson: ${best.toFixed(1)} ns of CPU a cell (least of ${rounds} rounds); load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
