/**
 * An outside audit of the trial balance (issues 2 and 10): 2,730 accounts in a three-level
 * hierarchy (30 roots, 10 children each, 8 grandchildren each; some trees in HOUR), 2,000 entries
 * posted through the API at random instants of the last 30 days, between accounts at every level.
 * At several instants the trial balance, read whole through the SDK's pages, folded at depth 2
 * and at depth 1, must be the figures of an independent sum kept by this test: each line's debits
 * and credits (own, or with its sub-accounts where folded), its net balance, and each unit's
 * totals. The accounts are inserted by SQL (through the API they would take minutes here).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntryInput } from '../../client-sdk/index.js';
import { createBook, decodeGlobalId, newKey } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ config: { rateLimitPerSecond: 0 }, db: true });
const DAY_MS = 24 * 3600 * 1000;
const TYPES = ['ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE'] as const;

interface Node {
  code: string;
  unit: 'USD' | 'HOUR';
  depth: number;
  /** Codes of the node and every ancestor. */
  path: string[];
}

interface Move {
  code: string;
  side: 'DEBIT' | 'CREDIT';
  minor: bigint;
  at: number;
}

let bookId: string;
const nodes: Node[] = [];
const moves: Move[] = [];
let now = 0;

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

const scaleOf = (unit: string) => (unit === 'USD' ? 2 : 0);
function text(minor: bigint, unit: string): string {
  const s = scaleOf(unit);
  const neg = minor < 0n;
  const abs = neg ? -minor : minor;
  if (s === 0) return `${neg ? '-' : ''}${abs}`;
  const digits = abs.toString().padStart(s + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -s)}.${digits.slice(-s)}`;
}
const pad = (n: number) => n.toString().padStart(2, '0');

beforeAll(async () => {
  const book = await createBook(ctx.ledger, {
    units: [
      { code: 'USD', scale: 2 },
      { code: 'HOUR', scale: 0 },
    ],
  });
  bookId = book.id;
  const uuid = decodeGlobalId(bookId).id;
  const rows: [string, string, string, string, string | null][] = [];
  for (let r = 0; r < 30; r++) {
    const unit = r % 6 === 5 ? 'HOUR' : 'USD';
    const type = TYPES[r % 5]!;
    const root = `R${pad(r)}`;
    nodes.push({ code: root, unit, depth: 1, path: [root] });
    rows.push([root, type, unit, root, null]);
    for (let c = 0; c < 10; c++) {
      const child = `${root}.${pad(c)}`;
      nodes.push({ code: child, unit, depth: 2, path: [child, root] });
      rows.push([child, type, unit, child, root]);
      for (let g = 0; g < 8; g++) {
        const grandchild = `${child}.${pad(g)}`;
        nodes.push({ code: grandchild, unit, depth: 3, path: [grandchild, child, root] });
        rows.push([grandchild, type, unit, grandchild, child]);
      }
    }
  }
  // Parents first (rows are in that order), each parent found by code.
  await ctx.db.query(
    `insert into account (book_id, id, code, name, type, unit_code, created_at)
     select $1, gen_random_uuid(), r.code, r.code, r.type, r.unit, now()
       from unnest($2::text[], $3::text[], $4::text[]) as r(code, type, unit)`,
    [uuid, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
  );
  await ctx.db.query(
    `update account c set parent_id = p.id
       from unnest($2::text[], $3::text[]) as x(child, parent)
       join account p on p.book_id = $1 and p.code = x.parent
      where c.book_id = $1 and c.code = x.child`,
    [
      uuid,
      rows.filter((r) => r[4] !== null).map((r) => r[0]),
      rows.filter((r) => r[4] !== null).map((r) => r[4]),
    ],
  );
  const rnd = generator(20261207);
  now = Date.now();
  const byUnit = { USD: nodes.filter((n) => n.unit === 'USD'), HOUR: nodes.filter((n) => n.unit === 'HOUR') };
  for (let b = 0; b < 2; b++) {
    const entries: JournalEntryInput[] = [];
    const planned: Move[][] = [];
    for (let i = 0; i < 1000; i++) {
      const unit = rnd() < 0.8 ? 'USD' : 'HOUR';
      const pool = byUnit[unit];
      const from = pool[Math.floor(rnd() * pool.length)]!;
      let to = pool[Math.floor(rnd() * pool.length)]!;
      while (to === from) to = pool[Math.floor(rnd() * pool.length)]!;
      const minor = BigInt(1 + Math.floor(rnd() * 1_000_000));
      const at = now - 60_000 - Math.floor(rnd() * 30 * DAY_MS);
      entries.push({
        idempotencyKey: newKey('tree'),
        effectiveAt: new Date(at).toISOString(),
        lines: [
          { accountCode: to.code, side: 'DEBIT', amount: text(minor, unit), unit },
          { accountCode: from.code, side: 'CREDIT', amount: text(minor, unit), unit },
        ],
      });
      planned.push([
        { code: to.code, side: 'DEBIT', minor, at },
        { code: from.code, side: 'CREDIT', minor, at },
      ]);
    }
    const answer = await ctx.ledger.postJournalEntries({ bookId, mode: 'ATOMIC', entries });
    expect(answer.userErrors).toEqual([]);
    expect(answer.postedCount).toBe(1000);
    for (const p of planned) moves.push(...p);
  }
}, 300_000);

/** Debits and credits per code as of `asOf` (inclusive), own or with every sub-account. */
function model(asOf: number): { own: Map<string, [bigint, bigint]>; tree: Map<string, [bigint, bigint]> } {
  const own = new Map<string, [bigint, bigint]>();
  const tree = new Map<string, [bigint, bigint]>();
  const pathOf = new Map(nodes.map((n) => [n.code, n.path]));
  const add = (m: Map<string, [bigint, bigint]>, code: string, mv: Move) => {
    const t = m.get(code) ?? [0n, 0n];
    if (mv.side === 'DEBIT') t[0] += mv.minor;
    else t[1] += mv.minor;
    m.set(code, t);
  };
  for (const mv of moves) {
    if (mv.at > asOf) continue;
    add(own, mv.code, mv);
    for (const code of pathOf.get(mv.code)!) add(tree, code, mv);
  }
  return { own, tree };
}

/** The expected line of an account: [code, depth, rolledUp, debits, credits, debitBalance, creditBalance]. */
function expectedLine(n: Node, sums: [bigint, bigint] | undefined, rolledUp: boolean) {
  const [d, c] = sums ?? [0n, 0n];
  const net = d - c;
  return [
    n.code,
    n.depth,
    rolledUp,
    text(d, n.unit),
    text(c, n.unit),
    text(net > 0n ? net : 0n, n.unit),
    text(net < 0n ? -net : 0n, n.unit),
  ];
}

describe('a trial balance of 2,730 accounts in a hierarchy', () => {
  it('is the independent sum at several instants, whole and folded at depths 2 and 1', {
    timeout: 300_000,
  }, async () => {
    const rnd = generator(7);
    const instants = [
      now,
      now - 10 * DAY_MS,
      now - Math.floor(rnd() * 30 * DAY_MS),
      moves[17]!.at,
      moves[17]!.at - 1,
    ];
    for (const at of instants) {
      const asOf = new Date(at).toISOString();
      const { own, tree } = model(at);
      for (const depth of [undefined, 2, 1]) {
        const tb = (await ctx.ledger.trialBalanceAllLines({
          bookId,
          asOf,
          ...(depth === undefined ? {} : { rollupDepth: depth }),
        }))!;
        const shown = nodes.filter((n) => depth === undefined || n.depth <= depth);
        const want = shown.map((n) =>
          depth !== undefined && n.depth === depth && n.depth < 3
            ? expectedLine(n, tree.get(n.code), true)
            : expectedLine(n, own.get(n.code), false),
        );
        const got = tb.lines.map((l) => [
          l.account.code,
          l.depth,
          l.rolledUp,
          l.debits,
          l.credits,
          l.debitBalance,
          l.creditBalance,
        ]);
        expect([asOf, depth, tb.lineCount, got.length]).toEqual([asOf, depth, shown.length, shown.length]);
        const wrong = got.filter((g, i) => JSON.stringify(g) !== JSON.stringify(want[i]));
        expect([asOf, depth, wrong.slice(0, 5)]).toEqual([asOf, depth, []]);
        // Unit totals: the columns of the lines shown (a folded line nets its sub-accounts),
        // equal on both sides.
        for (const unit of ['USD', 'HOUR'] as const) {
          let total = 0n;
          for (const [i, n] of shown.entries())
            if (n.unit === unit) total += BigInt(String(want[i]![5]).replace('.', ''));
          const u = tb.units.find((x) => x.unit.code === unit)!;
          expect([asOf, depth, unit, u.debitBalanceTotal, u.creditBalanceTotal, u.balanced]).toEqual([
            asOf,
            depth,
            unit,
            text(total, unit),
            text(total, unit),
            true,
          ]);
        }
      }
    }
  });
});
