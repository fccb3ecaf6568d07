/**
 * An outside audit of balances (issues 2 and 10): a random book of a few thousand entries in two
 * units, posted out of date order (backdated at random instants), with reversals (some dated later
 * than their original), reversals of reversals, pending entries committed (dated later), voided
 * or left open, is exported by scripts/export-ledger.ts and hledger's balances at several UTC days
 * are compared with the API's trial balance as of the last millisecond before each day, and both
 * with an independent sum kept by this test. The API is also compared with that sum at random
 * instants inside days, where the per-day totals and the day's lines meet.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalLineInput } from '../../client-sdk/index.js';
import { builtArgs } from '../helpers/build.js';
import { type CreatedAccount, createAccount, createBook, newKey } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const run = promisify(execFile);
const unavailable = process.env.PLAIN_TEXT_TOOLS === 'unavailable';
const ctx = useLedgerServer({ config: { rateLimitPerSecond: 0 } });
const DAY_MS = 24 * 3600 * 1000;

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Movement {
  code: string;
  /** Debit less credit, in minor units. */
  minor: bigint;
  at: number;
}

const SEED = 20261207;
const ENTRIES = 2500;
const scale: Record<string, number> = { USD: 2, HOUR: 0 };

function text(minor: bigint, unit: string): string {
  const s = scale[unit]!;
  if (s === 0) return minor.toString();
  const digits = minor.toString().padStart(s + 1, '0');
  return `${digits.slice(0, -s)}.${digits.slice(-s)}`;
}

let dir: string;
let bookId: string;
const accounts: CreatedAccount[] = [];
const movements: Movement[] = [];
let now = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'random-book-hledger-'));
  const rnd = generator(SEED);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const book = await createBook(ctx.ledger, {
    units: [
      { code: 'USD', scale: 2 },
      { code: 'HOUR', scale: 0 },
    ],
  });
  bookId = book.id;
  const types = ['ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE'] as const;
  for (let i = 0; i < 14; i++) {
    const parent = i >= 4 && i % 3 === 0 ? accounts[i - 3] : undefined;
    accounts.push(
      await createAccount(ctx.ledger, bookId, {
        code: parent ? `${parent.code}:${i}` : `u${i}`,
        type: parent ? parent.type : types[i % 5]!,
        ...(parent ? { parentId: parent.id } : {}),
      }),
    );
  }
  for (let i = 0; i < 5; i++)
    accounts.push(await createAccount(ctx.ledger, bookId, { code: `h${i}`, type: types[i]!, unit: 'HOUR' }));
  const byUnit = (unit: string) => accounts.filter((a) => a.unit === unit);
  now = Date.now();
  const start = now - 80 * DAY_MS;
  const randomAt = (from: number) => from + Math.floor(rnd() * (now - 60_000 - from));
  const amount = (): bigint =>
    rnd() < 0.02 ? BigInt(Math.floor(rnd() * 1e15)) + 1n : BigInt(Math.floor(rnd() * 1e7)) + 1n;
  /** Lines for one unit: 1-2 debited accounts, 1-2 credited ones, none on both sides. */
  const unitLines = (unit: string): JournalLineInput[] => {
    const pool = [...byUnit(unit)].sort(() => rnd() - 0.5);
    const nd = rnd() < 0.7 ? 1 : 2;
    const nc = rnd() < 0.7 ? 1 : 2;
    const debits = pool.slice(0, nd);
    const credits = pool.slice(nd, nd + nc);
    const parts = debits.map(() => amount());
    const total = parts.reduce((s, x) => s + x, 0n);
    const out: JournalLineInput[] = debits.map((a, i) => ({
      accountId: a.id,
      side: 'DEBIT',
      amount: text(parts[i]!, unit),
      unit,
    }));
    if (credits.length === 1 || total < 2n)
      out.push({ accountId: credits[0]!.id, side: 'CREDIT', amount: text(total, unit), unit });
    else {
      const first = 1n + (total - 1n) / 2n;
      out.push({ accountId: credits[0]!.id, side: 'CREDIT', amount: text(first, unit), unit });
      out.push({ accountId: credits[1]!.id, side: 'CREDIT', amount: text(total - first, unit), unit });
    }
    return out;
  };
  const codeOf = new Map(accounts.map((a) => [a.id, a.code]));
  const record = (lines: JournalLineInput[], at: number, sign = 1n) => {
    for (const l of lines) {
      const minor = BigInt(String(l.amount).replace('.', ''));
      movements.push({
        code: codeOf.get(String(l.accountId))!,
        minor: (l.side === 'DEBIT' ? minor : -minor) * sign,
        at,
      });
    }
  };
  const posted: { id: string; lines: JournalLineInput[]; at: number }[] = [];
  for (let b = 0; b < ENTRIES / 500; b++) {
    const batch = Array.from({ length: 500 }, () => {
      const lines =
        rnd() < 0.3 ? [...unitLines('USD'), ...unitLines('HOUR')] : unitLines(pick(['USD', 'USD', 'HOUR']));
      return { lines, at: randomAt(start) };
    });
    const answer = await ctx.ledger.postJournalEntries({
      bookId,
      mode: 'ATOMIC',
      entries: batch.map((e) => ({
        idempotencyKey: newKey('rb'),
        effectiveAt: new Date(e.at).toISOString(),
        lines: e.lines,
      })),
    });
    expect(answer.userErrors).toEqual([]);
    for (const r of answer.results) {
      expect(r.userErrors).toEqual([]);
      const e = batch[r.index]!;
      record(e.lines, e.at);
      posted.push({ id: r.entry!.id, ...e });
    }
  }
  // Reversals: half at the original's instant (the default), half later; then reversals of some of them.
  const reversals: { id: string; lines: JournalLineInput[]; at: number }[] = [];
  for (const e of [...posted].sort(() => rnd() - 0.5).slice(0, 200)) {
    const at = rnd() < 0.5 ? e.at : randomAt(e.at);
    const r = await ctx.ledger.reverseJournalEntry({
      entryId: e.id,
      idempotencyKey: newKey('rv'),
      ...(at === e.at ? {} : { effectiveAt: new Date(at).toISOString() }),
    });
    expect(r.userErrors).toEqual([]);
    expect(Date.parse(r.entry!.effectiveAt)).toBe(at);
    record(e.lines, at, -1n);
    reversals.push({ id: r.entry!.id, lines: e.lines, at });
  }
  for (const r of reversals.slice(0, 50)) {
    const rr = await ctx.ledger.reverseJournalEntry({ entryId: r.id, idempotencyKey: newKey('rr') });
    expect(rr.userErrors).toEqual([]);
    record(r.lines, r.at);
  }
  // Pending entries: committed later, voided, or left open (none of the last two moves posted money).
  for (let i = 0; i < 150; i++) {
    const lines = unitLines(pick(['USD', 'HOUR']));
    const at = randomAt(start);
    const p = await ctx.ledger.postPendingEntry({
      bookId,
      idempotencyKey: newKey('pp'),
      effectiveAt: new Date(at).toISOString(),
      lines,
    });
    expect(p.userErrors).toEqual([]);
    if (i % 3 === 0) {
      const commitAt = randomAt(at);
      const c = await ctx.ledger.commitPendingEntry({
        entryId: p.entry!.id,
        idempotencyKey: newKey('pc'),
        effectiveAt: new Date(commitAt).toISOString(),
      });
      expect(c.userErrors).toEqual([]);
      record(lines, commitAt);
    } else if (i % 3 === 1) {
      const v = await ctx.ledger.voidPendingEntry({ entryId: p.entry!.id, idempotencyKey: newKey('pv') });
      expect(v.userErrors).toEqual([]);
    }
  }
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The independent sum: debit less credit per `code unit`, of movements strictly before `before`. */
function modelAsOf(before: number): Map<string, string> {
  const unitOf = new Map(accounts.map((a) => [a.code, a.unit]));
  const sums = new Map<string, bigint>();
  for (const m of movements) if (m.at < before) sums.set(m.code, (sums.get(m.code) ?? 0n) + m.minor);
  const out = new Map<string, string>();
  for (const [code, minor] of sums) {
    if (minor === 0n) continue;
    const unit = unitOf.get(code)!;
    out.set(`${code} ${unit}`, (minor < 0n ? '-' : '') + text(minor < 0n ? -minor : minor, unit));
  }
  return out;
}

/** The API's trial balance as of an instant, as debit less credit per `code unit`. */
async function apiAsOf(asOf: number): Promise<Map<string, string>> {
  const tb = (await ctx.ledger.trialBalance({ bookId, asOf: new Date(asOf).toISOString() }))!;
  expect(tb.balanced).toBe(true);
  const unitOf = new Map(accounts.map((a) => [a.code, a.unit]));
  const out = new Map<string, string>();
  for (const l of tb.lines) {
    const unit = unitOf.get(l.account.code)!;
    const net = BigInt(l.debitBalance.replace('.', '')) - BigInt(l.creditBalance.replace('.', ''));
    if (net !== 0n)
      out.set(`${l.account.code} ${unit}`, (net < 0n ? '-' : '') + text(net < 0n ? -net : net, unit));
  }
  return out;
}

function exportBook(): Promise<string> {
  const out = path.join(dir, 'book.journal');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...builtArgs('scripts/export-ledger.ts'), '--book', bookId, '--format', 'hledger', '--out', out],
      {
        env: { ...process.env, LEDGER_URL: ctx.server.url, LEDGER_TOKEN: ctx.server.adminToken },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`export exited ${code}: ${stderr}`)),
    );
  });
}

async function hledgerBefore(file: string, day: string): Promise<Map<string, string>> {
  const { stdout } = await run(
    'hledger',
    ['-f', file, 'balance', '--flat', '--empty', '--no-total', '-O', 'csv', '--layout=bare', '-e', day],
    { maxBuffer: 1 << 26 },
  );
  const out = new Map<string, string>();
  for (const line of stdout.trim().split('\n').slice(1)) {
    const [account, commodity, balance] = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
    if (!account) continue;
    const code = account.slice(account.indexOf(':') + 1);
    const unit = commodity!;
    const minor = BigInt(balance!.replace('.', ''));
    if (minor !== 0n) out.set(`${code} ${unit}`, balance!);
  }
  return out;
}

describe('a random book against hledger and an independent sum', () => {
  it('agrees with the independent sum at random instants, day edges included', {
    timeout: 300_000,
  }, async () => {
    const rnd = generator(SEED + 1);
    const instants: number[] = [now + 1000];
    for (let i = 0; i < 8; i++) instants.push(now - Math.floor(rnd() * 82 * DAY_MS));
    // An instant of an entry itself, and a millisecond before it.
    const some = movements[Math.floor(rnd() * movements.length)]!.at;
    instants.push(some, some - 1);
    // u3 heads a chain of sub-accounts u3:6, u3:6:9, u3:6:9:12 (REVENUE: credit-normal).
    const root = accounts.find((a) => a.code === 'u3')!;
    for (const at of instants) {
      const model = modelAsOf(at + 1);
      expect([new Date(at).toISOString(), Object.fromEntries(await apiAsOf(at))]).toEqual([
        new Date(at).toISOString(),
        Object.fromEntries(model),
      ]);
      let tree = 0n;
      for (const [key, value] of model) if (key.startsWith('u3')) tree -= BigInt(value.replace('.', ''));
      const rolled = await ctx.ledger.accountBalance({
        accountId: root.id,
        asOf: new Date(at).toISOString(),
      });
      expect([new Date(at).toISOString(), rolled!.rollup]).toEqual([
        new Date(at).toISOString(),
        (tree < 0n ? '-' : '') + text(tree < 0n ? -tree : tree, 'USD'),
      ]);
    }
  });

  it.skipIf(unavailable)(
    'hledger on the export gives the same balances at several days',
    { timeout: 300_000 },
    async () => {
      const file = await exportBook();
      await run('hledger', ['-f', file, 'check', 'ordereddates'], { maxBuffer: 1 << 26 });
      const today = new Date(now);
      const midnight = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
      for (const daysAgo of [79, 60, 41, 20, 7, 1, 0, -1]) {
        const edge = midnight - daysAgo * DAY_MS;
        const day = new Date(edge).toISOString().slice(0, 10);
        const tool = Object.fromEntries(await hledgerBefore(file, day));
        expect([day, Object.fromEntries(await apiAsOf(edge - 1))]).toEqual([day, tool]);
        expect([day, Object.fromEntries(modelAsOf(edge))]).toEqual([day, tool]);
        if (daysAgo <= 20) expect(Object.keys(tool).length).toBeGreaterThan(10);
      }
    },
  );
});
