/**
 * Reading the ledger through real HTTP and the SDK: balances as of past instants against a hand
 * computation (exact, in minor units), trial balances, roll-ups of account trees, cursor
 * pagination and its filters, node lookups and chain verification of a healthy book.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntryInput, JournalLineInput, LedgerClient, Side } from '../../client-sdk/index.js';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  encodeGlobalId,
  expectClientError,
  fromMinor,
  newKey,
  rawGraphQL,
  seededRandom,
  toMinor,
  uniqueSuffix,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer();

const DAY_MS = 24 * 3600 * 1000;
const SCALES: Record<string, number> = { USD: 2, HOUR: 0 };

/** A posted movement as the hand computation sees it. */
interface ModelLine {
  accountId: string;
  side: Side;
  minor: bigint;
}
interface ModelEntry {
  at: number;
  lines: ModelLine[];
}

function toModelLines(lines: JournalLineInput[]): ModelLine[] {
  return lines.map((l) => ({
    accountId: String(l.accountId),
    side: l.side,
    minor: toMinor(l.amount, SCALES[l.unit]!),
  }));
}

/** Posted debits and credits of one account as of `t` (inclusive), by hand. */
function totalsAsOf(
  model: ModelEntry[],
  accountIds: string[],
  t: number,
): { debits: bigint; credits: bigint } {
  let debits = 0n;
  let credits = 0n;
  for (const entry of model) {
    if (entry.at > t) continue;
    for (const line of entry.lines) {
      if (!accountIds.includes(line.accountId)) continue;
      if (line.side === 'DEBIT') debits += line.minor;
      else credits += line.minor;
    }
  }
  return { debits, credits };
}

const debitNormal = (account: CreatedAccount) => account.type === 'ASSET' || account.type === 'EXPENSE';

describe('balances as of past instants', () => {
  let book: CreatedBook;
  let acc: Record<
    'assets' | 'cash' | 'bank' | 'savings' | 'contra' | 'sales' | 'costs' | 'loan' | 'time' | 'owed',
    CreatedAccount
  >;
  const model: ModelEntry[] = [];
  /** UTC midnight 20 days ago: every generated entry falls within the next 17 days. */
  const day0 = Math.floor((Date.now() - 20 * DAY_MS) / DAY_MS) * DAY_MS;
  const interesting = new Set<number>();

  beforeAll(async () => {
    book = await createBook(ctx.ledger, {
      units: [
        { code: 'USD', scale: 2 },
        { code: 'HOUR', scale: 0 },
      ],
    });
    const make = (
      code: string,
      type: CreatedAccount['type'],
      extra: { unit?: string; parentId?: string } = {},
    ) => createAccount(ctx.ledger, book.id, { code, type, ...extra });
    const assets = await make('1000-assets', 'ASSET');
    const bank = await make('1200-bank', 'ASSET', { parentId: assets.id });
    acc = {
      assets,
      cash: await make('1100-cash', 'ASSET', { parentId: assets.id }),
      bank,
      savings: await make('1210-savings', 'ASSET', { parentId: bank.id }),
      // A credit-normal child under a debit-normal parent: the roll-up is in the parent's direction.
      contra: await make('1900-allowance', 'LIABILITY', { parentId: assets.id }),
      sales: await make('4000-sales', 'REVENUE'),
      costs: await make('5000-costs', 'EXPENSE'),
      loan: await make('2000-loan', 'LIABILITY'),
      time: await make('7000-time', 'ASSET', { unit: 'HOUR' }),
      owed: await make('7100-owed', 'LIABILITY', { unit: 'HOUR' }),
    };

    // Generated entries at chosen instants, posted in shuffled order (so most are backdated
    // behind later ones), some on the exact edges of UTC days.
    const random = seededRandom(20_261_125);
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
    const usd = [acc.assets, acc.cash, acc.bank, acc.savings, acc.contra, acc.sales, acc.costs, acc.loan];
    const hours = [acc.time, acc.owed];
    const generated: (JournalEntryInput & { at: number })[] = [];
    for (let i = 0; i < 48; i++) {
      const day = Math.floor(random() * 16);
      const timeOfDay = pick([0, DAY_MS - 1, 12 * 3600 * 1000, Math.floor(random() * DAY_MS)]);
      const at = day0 + day * DAY_MS + timeOfDay;
      const [accounts, unit, scale] = random() < 0.8 ? [usd, 'USD', 2] : [hours, 'HOUR', 0];
      const total = BigInt(1 + Math.floor(random() * 100_000));
      const split =
        total > 1n && random() < 0.5 ? BigInt(1 + Math.floor(random() * Number(total - 1n))) : total;
      // Credits on accounts other than the debited one: an account is on one side of an entry.
      const debited = pick(accounts);
      const others = accounts.filter((a) => a !== debited);
      const lines: JournalLineInput[] = [
        { accountId: debited.id, side: 'DEBIT', amount: fromMinor(total, scale), unit },
        { accountId: pick(others).id, side: 'CREDIT', amount: fromMinor(split, scale), unit },
      ];
      if (split !== total)
        lines.push({
          accountId: pick(others).id,
          side: 'CREDIT',
          amount: fromMinor(total - split, scale),
          unit,
        });
      generated.push({ idempotencyKey: newKey('asof'), effectiveAt: new Date(at).toISOString(), lines, at });
    }
    // Two entries at the very same instant, posted apart.
    generated.push({ ...generated[0]!, idempotencyKey: newKey('twin') });
    for (let i = generated.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [generated[i], generated[j]] = [generated[j]!, generated[i]!];
    }
    const posted: { id: string; at: number; lines: JournalLineInput[] }[] = [];
    for (let i = 0; i < generated.length; i += 10) {
      const chunk = generated.slice(i, i + 10);
      const batch = await ctx.ledger.postJournalEntries({
        bookId: book.id,
        mode: 'INDEPENDENT',
        entries: chunk.map(({ at: _at, ...entry }) => entry),
      });
      expect(batch.postedCount).toBe(chunk.length);
      for (const [k, entry] of chunk.entries()) {
        posted.push({ id: batch.results[k]!.entry!.id, at: entry.at, lines: entry.lines });
      }
    }
    for (const entry of posted) model.push({ at: entry.at, lines: toModelLines(entry.lines) });

    // A reversal at the original's instant (nets to zero from then on), one at a later instant.
    const mirror = (lines: JournalLineInput[]) =>
      toModelLines(lines).map((l) => ({ ...l, side: (l.side === 'DEBIT' ? 'CREDIT' : 'DEBIT') as Side }));
    const sameInstant = await ctx.ledger.reverseJournalEntry({
      entryId: posted[3]!.id,
      idempotencyKey: newKey(),
    });
    expect(sameInstant.userErrors).toEqual([]);
    model.push({ at: posted[3]!.at, lines: mirror(posted[3]!.lines) });
    const laterAt = day0 + 16 * DAY_MS + 3600 * 1000;
    const later = await ctx.ledger.reverseJournalEntry({
      entryId: posted[5]!.id,
      idempotencyKey: newKey(),
      effectiveAt: new Date(laterAt).toISOString(),
    });
    expect(later.userErrors).toEqual([]);
    model.push({ at: laterAt, lines: mirror(posted[5]!.lines) });

    // A pending entry never counts in a posted balance; its commit counts from the commit's instant.
    const pendingLines = [debit(acc.cash, '777.77'), credit(acc.sales, '777.77')];
    const held = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      effectiveAt: new Date(day0 + 2 * DAY_MS + 6 * 3600 * 1000).toISOString(),
      lines: pendingLines,
    });
    expect(held.userErrors).toEqual([]);
    const commitAt = day0 + 9 * DAY_MS + 18 * 3600 * 1000;
    const commit = await ctx.ledger.commitPendingEntry({
      entryId: held.entry!.id,
      idempotencyKey: newKey(),
      effectiveAt: new Date(commitAt).toISOString(),
    });
    expect(commit.userErrors).toEqual([]);
    model.push({ at: commitAt, lines: toModelLines(pendingLines) });
    const voided = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      effectiveAt: new Date(day0 + 3 * DAY_MS).toISOString(),
      lines: [debit(acc.bank, '55.55'), credit(acc.loan, '55.55')],
    });
    expect(
      (await ctx.ledger.voidPendingEntry({ entryId: voided.entry!.id, idempotencyKey: newKey() })).userErrors,
    ).toEqual([]);

    for (const entry of model) for (const d of [-1, 0, 1]) interesting.add(entry.at + d);
    for (let k = -1; k <= 18; k++) {
      interesting.add(day0 + k * DAY_MS);
      interesting.add(day0 + k * DAY_MS - 1);
    }
  });

  function expectedLine(account: CreatedAccount, t: number) {
    const { debits, credits } = totalsAsOf(model, [account.id], t);
    const net = debits - credits;
    const scale = SCALES[account.unit]!;
    return {
      debits: fromMinor(debits, scale),
      credits: fromMinor(credits, scale),
      debitBalance: fromMinor(net > 0n ? net : 0n, scale),
      creditBalance: fromMinor(net < 0n ? -net : 0n, scale),
    };
  }

  it('gives every account the hand-computed totals at each instant around every entry and day edge', async () => {
    const instants = [...interesting].sort((x, y) => x - y);
    expect(instants.length).toBeGreaterThan(100);
    const accounts = Object.values(acc);
    const check = async (t: number) => {
      const asOf = new Date(t).toISOString();
      const trial = await ctx.ledger.trialBalance({ bookId: book.id, asOf });
      expect(trial).not.toBeNull();
      expect(trial!.asOf).toBe(asOf);
      const got = Object.fromEntries(
        trial!.lines.map((l) => [
          l.account.id,
          {
            debits: l.debits,
            credits: l.credits,
            debitBalance: l.debitBalance,
            creditBalance: l.creditBalance,
          },
        ]),
      );
      const want = Object.fromEntries(accounts.map((a) => [a.id, expectedLine(a, t)]));
      expect({ asOf, lines: got }).toEqual({ asOf, lines: want });
      expect(trial!.balanced).toBe(true);
      for (const unit of trial!.units) {
        expect(unit.balanced).toBe(true);
        expect(unit.debitBalanceTotal).toBe(unit.creditBalanceTotal);
      }
    };
    for (let i = 0; i < instants.length; i += 8) await Promise.all(instants.slice(i, i + 8).map(check));
  });

  it('answers accountBalance(asOf) with posted figures only, inclusive of an entry at exactly asOf', async () => {
    const entryInstants = [...new Set(model.map((e) => e.at))].sort((x, y) => x - y);
    const sample = [
      day0 - 1,
      ...entryInstants.filter((_, i) => i % 6 === 0),
      day0 + 9 * DAY_MS + 18 * 3600 * 1000 - 1,
    ];
    for (const t of sample) {
      for (const t2 of [t, t - 1]) {
        const asOf = new Date(t2).toISOString();
        const results = await Promise.all(
          Object.values(acc).map(
            async (account) =>
              [account, await ctx.ledger.accountBalance({ accountId: account.id, asOf })] as const,
          ),
        );
        for (const [account, balance] of results) {
          const { debits, credits } = totalsAsOf(model, [account.id], t2);
          const scale = SCALES[account.unit]!;
          const posted = debitNormal(account) ? debits - credits : credits - debits;
          expect({ code: account.code, asOf, ...balance }).toMatchObject({
            code: account.code,
            asOf,
            debits: fromMinor(debits, scale),
            credits: fromMinor(credits, scale),
            posted: fromMinor(posted, scale),
            pendingDebits: null,
            pendingCredits: null,
            available: null,
            projected: null,
          });
        }
      }
    }
  });

  it('rolls up a parent with its children and grandchildren, now and as of the past', async () => {
    const tree = {
      assets: [acc.assets, acc.cash, acc.bank, acc.savings, acc.contra],
      bank: [acc.bank, acc.savings],
      cash: [acc.cash],
    } as const;
    const now = Date.now() + 1000;
    for (const t of [now, day0 + 5 * DAY_MS, day0 + 9 * DAY_MS + 18 * 3600 * 1000, day0 - 1]) {
      const asOf = t === now ? undefined : new Date(t).toISOString();
      for (const [name, members] of Object.entries(tree)) {
        const root = acc[name as keyof typeof tree];
        const { debits, credits } = totalsAsOf(
          model,
          members.map((m) => m.id),
          t,
        );
        const balance = await ctx.ledger.accountBalance({ accountId: root.id, ...(asOf ? { asOf } : {}) });
        expect({ name, asOf, rollup: balance!.rollup }).toEqual({
          name,
          asOf,
          rollup: fromMinor(debits - credits, 2),
        });
      }
    }
    // A leaf's roll-up is its own balance; a credit-normal leaf reports it credit-normal.
    const contra = await ctx.ledger.accountBalance({ accountId: acc.contra.id });
    expect(contra!.rollup).toBe(contra!.posted);
  });

  it('gives the current trial balance and balances from the running totals, matching the model', async () => {
    const trial = await ctx.ledger.trialBalance({ bookId: book.id });
    expect(trial!.asOf).toBeNull();
    expect(trial!.balanced).toBe(true);
    expect(trial!.units.map((u) => u.unit.code).sort()).toEqual(['HOUR', 'USD']);
    // Every account of the book, closed or not, zero or not, in code order: the loop below checks
    // each one (it would pass on an empty list).
    expect(trial!.lines.map((line) => line.account.code)).toEqual([
      '1000-assets',
      '1100-cash',
      '1200-bank',
      '1210-savings',
      '1900-allowance',
      '2000-loan',
      '4000-sales',
      '5000-costs',
      '7000-time',
      '7100-owed',
    ]);
    const now = Date.now() + 1000;
    // The totals per unit are the sums of the hand-computed balances, and the model moves both units.
    for (const unit of trial!.units) {
      const ofUnit = Object.values(acc).filter((account) => account.unit === unit.unit.code);
      const sum = (side: 'debitBalance' | 'creditBalance') =>
        fromMinor(
          ofUnit.reduce(
            (total, account) => total + toMinor(expectedLine(account, now)[side], unit.unit.scale),
            0n,
          ),
          unit.unit.scale,
        );
      expect(unit).toMatchObject({
        balanced: true,
        debitBalanceTotal: sum('debitBalance'),
        creditBalanceTotal: sum('creditBalance'),
      });
      expect(toMinor(unit.debitBalanceTotal, unit.unit.scale)).toBeGreaterThan(0n);
    }
    for (const line of trial!.lines) {
      const account = Object.values(acc).find((a) => a.id === line.account.id)!;
      expect({ code: account.code, ...line }).toMatchObject({
        code: account.code,
        ...expectedLine(account, now),
      });
      const balance = await ctx.ledger.accountBalance({ accountId: account.id });
      expect(balance).toMatchObject({
        asOf: null,
        debits: line.debits,
        credits: line.credits,
        pendingDebits: fromMinor(0n, SCALES[account.unit]!),
      });
    }
  });
});

describe('journalEntries pagination and filters', () => {
  let book: CreatedBook;
  let a: Record<'cash' | 'bank' | 'sales', CreatedAccount>;
  /** Every entry of the book in the documented order: (effectiveAt, seq). */
  let expected: { id: string; at: number; seq: bigint; kind: string; accounts: Set<string> }[] = [];
  const base = Math.floor((Date.now() - 10 * DAY_MS) / 1000) * 1000;

  beforeAll(async () => {
    book = await createBook(ctx.ledger);
    a = {
      cash: await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' }),
      bank: await createAccount(ctx.ledger, book.id, { code: 'bank', type: 'ASSET' }),
      sales: await createAccount(ctx.ledger, book.id, { code: 'sales', type: 'REVENUE' }),
    };
    const random = seededRandom(7);
    const entries: JournalEntryInput[] = [];
    for (let i = 0; i < 230; i++) {
      // Only 20 distinct instants: many entries tie on effectiveAt and are ordered by seq.
      const at = base + Math.floor(random() * 20) * 3_600_000;
      const account = random() < 0.5 ? a.cash : a.bank;
      const lines =
        i % 17 === 0
          ? // Two lines on cash in one entry: it must be listed once for cash.
            [debit(a.cash, '1.00'), debit(a.cash, '2.00'), credit(a.sales, '3.00')]
          : [debit(account, `${1 + i}.00`), credit(a.sales, `${1 + i}.00`)];
      entries.push({ idempotencyKey: newKey('page'), effectiveAt: new Date(at).toISOString(), lines });
    }
    const batch = await ctx.ledger.postJournalEntries({ bookId: book.id, mode: 'ATOMIC', entries });
    expect(batch.postedCount).toBe(230);
    const reversal = await ctx.ledger.reverseJournalEntry({
      entryId: batch.results[0]!.entry!.id,
      idempotencyKey: newKey(),
    });
    const pending = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      lines: [debit(a.bank, '9.00'), credit(a.sales, '9.00')],
    });
    const commit = await ctx.ledger.commitPendingEntry({
      entryId: pending.entry!.id,
      idempotencyKey: newKey(),
    });
    const all = [...batch.results.map((r) => r.entry!), reversal.entry!, pending.entry!, commit.entry!];
    expected = all
      .map((e) => ({
        id: e.id,
        at: Date.parse(e.effectiveAt),
        seq: BigInt(e.seq),
        kind: e.kind,
        accounts: new Set(e.lines.map((l) => l.account.id)),
      }))
      .sort((x, y) => x.at - y.at || Number(x.seq - y.seq));
  });

  async function walk(variables: Omit<Parameters<LedgerClient['journalEntries']>[0], 'after'>) {
    const ids: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 500; pages++) {
      const page = await ctx.ledger.journalEntries({ ...variables, ...(after ? { after } : {}) });
      expect(page.edges.length).toBeLessThanOrEqual(variables.first ?? 50);
      ids.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) return ids;
      expect(page.edges.length).toBe(variables.first ?? 50);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
      after = page.pageInfo.endCursor!;
    }
    throw new Error('pagination did not end');
  }

  it('walks every entry exactly once in (effectiveAt, seq) order, whatever the page size', async () => {
    for (const first of [1, 7, 50, 100]) {
      if (first === 1) {
        // One-entry pages over 233 entries are a lot of round trips: check the first page only.
        const page = await ctx.ledger.journalEntries({ bookId: book.id, first: 1 });
        expect(page.edges.map((e) => e.node.id)).toEqual([expected[0]!.id]);
        continue;
      }
      expect(await walk({ bookId: book.id, first })).toEqual(expected.map((e) => e.id));
    }
    const iterated: string[] = [];
    for await (const entry of ctx.ledger.iterateJournalEntries({ bookId: book.id })) iterated.push(entry.id);
    expect(iterated).toEqual(expected.map((e) => e.id));
  });

  // The walk is not a snapshot: a page after a cursor lists the entries whose (effectiveAt, seq)
  // comes after the cursor's, as they stand when the page is read (README, "Reading": forward-only
  // connections in (effectiveAt, seq) order; a cursor is the last edge's pair). So, during a walk:
  // - every entry that existed when it began is listed exactly once, in order, whatever is posted;
  // - an entry posted ahead of the cursor (effective now, or backdated to a point not yet reached)
  //   is listed in its place;
  // - an entry backdated behind the cursor is not listed by this walk (it sorts before pages
  //   already read; listing it would break the order), and no entry is listed twice for it (as an
  //   offset would do): the next walk lists it in its place.
  it('stays complete and duplicate-free while new entries are posted during the walk, backdated ones too', async () => {
    const post = async (effectiveAt?: number) => {
      const extra = await ctx.ledger.postJournalEntry({
        bookId: book.id,
        idempotencyKey: newKey(),
        ...(effectiveAt === undefined ? {} : { effectiveAt: new Date(effectiveAt).toISOString() }),
        lines: [debit(a.cash, '1.00'), credit(a.sales, '1.00')],
      });
      expect(extra.userErrors).toEqual([]);
      const entry = {
        id: extra.entry!.id,
        at: Date.parse(extra.entry!.effectiveAt),
        seq: BigInt(extra.entry!.seq),
        kind: 'STANDARD',
        accounts: new Set([a.cash.id, a.sales.id]),
      };
      expected.push(entry);
      return entry;
    };
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    let behind: Awaited<ReturnType<typeof post>> | undefined;
    let ahead: Awaited<ReturnType<typeof post>> | undefined;
    for (;;) {
      const page = await ctx.ledger.journalEntries({
        bookId: book.id,
        first: 40,
        ...(after ? { after } : {}),
      });
      seen.push(...page.edges.map((e) => e.node.id));
      pages++;
      if (pages <= 3) {
        // Effective now: later than everything already listed, so it belongs at the end.
        await post();
      }
      if (pages === 1) {
        // Backdated behind the cursor: before every entry of the book (the cursor is past the
        // first 40). And backdated ahead of it: after the batch's last instant (base + 19 h).
        behind = await post(base - 60_000);
        ahead = await post(base + 19 * 3_600_000 + 60_000);
        expect(behind.at).toBeLessThan(Date.parse(page.edges.at(-1)!.node.effectiveAt));
        expect(ahead.at).toBeGreaterThan(Date.parse(page.edges.at(-1)!.node.effectiveAt));
      }
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expected.sort((x, y) => x.at - y.at || Number(x.seq - y.seq));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(ahead!.id);
    expect(seen).not.toContain(behind!.id);
    expect(seen).toEqual(expected.filter((e) => e.id !== behind!.id).map((e) => e.id));
    // A walk begun afterwards lists the backdated entry first, in its place.
    const again = await walk({ bookId: book.id, first: 100 });
    expect(again[0]).toBe(behind!.id);
    expect(again).toEqual(expected.map((e) => e.id));
  });

  it('filters by account (an entry with two lines on it listed once), by [from, to) and by kind', async () => {
    const cashIds = expected.filter((e) => e.accounts.has(a.cash.id)).map((e) => e.id);
    expect(await walk({ bookId: book.id, accountId: a.cash.id, first: 9 })).toEqual(cashIds);

    const instants = [...new Set(expected.map((e) => e.at))].sort((x, y) => x - y);
    const from = instants[3]!;
    const to = instants[11]!;
    const window = expected.filter((e) => e.at >= from && e.at < to);
    const fromIso = new Date(from).toISOString();
    const toIso = new Date(to).toISOString();
    const listed = await walk({ bookId: book.id, from: fromIso, to: toIso, first: 6 });
    expect(listed).toEqual(window.map((e) => e.id));
    // Both bounds fall on entries: the one at `from` is listed (inclusive), the one at `to` is not.
    const atOf = new Map(expected.map((e) => [e.id, e.at]));
    expect(listed.map((id) => atOf.get(id))).toContain(from);
    expect(listed.map((id) => atOf.get(id))).not.toContain(to);
    expect(await walk({ bookId: book.id, accountId: a.bank.id, from: fromIso, to: toIso, first: 4 })).toEqual(
      window.filter((e) => e.accounts.has(a.bank.id)).map((e) => e.id),
    );

    for (const kinds of [['REVERSAL'], ['PENDING', 'COMMIT']] as const) {
      expect(await walk({ bookId: book.id, kinds: [...kinds], first: 100 })).toEqual(
        expected.filter((e) => (kinds as readonly string[]).includes(e.kind)).map((e) => e.id),
      );
    }
  });

  it('lists nothing for an account of another book or an unknown book', async () => {
    const other = await createBook(ctx.ledger);
    const foreign = await createAccount(ctx.ledger, other.id, { code: 'x', type: 'ASSET' });
    expect(
      (await ctx.ledger.journalEntries({ bookId: book.id, accountId: foreign.id, first: 10 })).edges,
    ).toEqual([]);
    expect(
      (await ctx.ledger.journalEntries({ bookId: encodeGlobalId('Book', randomUUID()), first: 10 })).edges,
    ).toEqual([]);
  });

  it('refuses a page size outside 1..100 and a cursor it did not make, with a top-level error', async () => {
    for (const first of [0, -1, 101]) {
      const error = await expectClientError(ctx.ledger.journalEntries({ bookId: book.id, first }));
      expect(error.code).toBe('BAD_USER_INPUT');
    }
    expect((await ctx.ledger.journalEntries({ bookId: book.id, first: 100 })).edges).toHaveLength(100);
    for (const after of ['garbage', Buffer.from('["x","y"]').toString('base64url')]) {
      const error = await expectClientError(ctx.ledger.journalEntries({ bookId: book.id, first: 5, after }));
      expect(error.code).toBe('BAD_USER_INPUT');
    }
  });

  it('serves the same listing through Account.journalEntries', async () => {
    const query = `query($id: ID!, $after: String) { node(id: $id) { ... on Account {
      journalEntries(first: 25, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } } }`;
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { body } = await rawGraphQL(ctx.server.url, query, { id: a.bank.id, after });
      expect(body.errors).toBeUndefined();
      const connection = (
        body.data!.node as {
          journalEntries: {
            edges: { node: { id: string } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        }
      ).journalEntries;
      ids.push(...connection.edges.map((e) => e.node.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(ids).toEqual(expected.filter((e) => e.accounts.has(a.bank.id)).map((e) => e.id));
  });
});

describe('accounts and books', () => {
  it('lists accounts by code, by type, with or without closed ones, over pages', async () => {
    const book = await createBook(ctx.ledger);
    const codes = ['c-3', 'a-1', 'b-2', 'e-5', 'd-4'];
    const made: Record<string, CreatedAccount> = {};
    for (const [i, code] of codes.entries()) {
      made[code] = await createAccount(ctx.ledger, book.id, {
        code,
        type: i % 2 === 0 ? 'ASSET' : 'EXPENSE',
      });
    }
    expect((await ctx.ledger.closeAccount({ accountId: made['b-2']!.id })).userErrors).toEqual([]);
    const collect = async (vars: { type?: 'ASSET'; includeClosed?: boolean }) => {
      const out: string[] = [];
      for await (const account of ctx.ledger.paginate((after) =>
        ctx.ledger.accounts({ bookId: book.id, first: 2, after, ...vars }),
      )) {
        out.push(account.code);
      }
      return out;
    };
    expect(await collect({})).toEqual(['a-1', 'b-2', 'c-3', 'd-4', 'e-5']);
    expect(await collect({ includeClosed: false })).toEqual(['a-1', 'c-3', 'd-4', 'e-5']);
    expect(await collect({ type: 'ASSET' })).toEqual(['b-2', 'c-3', 'd-4']);
    expect((await ctx.ledger.accounts({ bookId: book.id, first: 1 })).pageInfo.hasNextPage).toBe(true);
    await expect(ctx.ledger.accounts({ bookId: book.id, first: 101 })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });

  it('lists children of an account', async () => {
    const book = await createBook(ctx.ledger);
    const parent = await createAccount(ctx.ledger, book.id, { code: 'p', type: 'ASSET' });
    const kids = [
      await createAccount(ctx.ledger, book.id, { code: 'p.2', type: 'ASSET', parentId: parent.id }),
      await createAccount(ctx.ledger, book.id, { code: 'p.1', type: 'ASSET', parentId: parent.id }),
    ];
    await createAccount(ctx.ledger, book.id, { code: 'q', type: 'ASSET' });
    const { body } = await rawGraphQL(
      ctx.server.url,
      'query($id: ID!) { account(id: $id) { children(first: 10) { nodes { id code parent { id } } } } }',
      {
        id: parent.id,
      },
    );
    expect(body.errors).toBeUndefined();
    expect((body.data!.account as { children: { nodes: unknown[] } }).children.nodes).toEqual([
      { id: kids[1]!.id, code: 'p.1', parent: { id: parent.id } },
      { id: kids[0]!.id, code: 'p.2', parent: { id: parent.id } },
    ]);
  });

  it('lists books in creation order', async () => {
    const made = [await createBook(ctx.ledger), await createBook(ctx.ledger), await createBook(ctx.ledger)];
    const all: string[] = [];
    for await (const b of ctx.ledger.iterateBooks({ first: 50 })) all.push(b.id);
    expect(new Set(all).size).toBe(all.length);
    const positions = made.map((b) => all.indexOf(b.id));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  });
});

describe('node and lookups by id', () => {
  let book: CreatedBook;
  let account: CreatedAccount;
  let entryId: string;
  beforeAll(async () => {
    book = await createBook(ctx.ledger);
    account = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
    const posted = await ctx.ledger.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      lines: [debit(account, '1.00'), credit(equity, '1.00')],
    });
    entryId = posted.entry!.id;
  });

  it('resolves Book, Account and JournalEntry global ids', async () => {
    expect(await ctx.ledger.node({ id: book.id })).toMatchObject({
      __typename: 'Book',
      id: book.id,
      name: book.name,
    });
    expect(await ctx.ledger.node({ id: account.id })).toMatchObject({
      __typename: 'Account',
      id: account.id,
      code: 'cash',
    });
    expect(await ctx.ledger.node({ id: entryId })).toMatchObject({
      __typename: 'JournalEntry',
      id: entryId,
      seq: '1',
    });
    expect((await ctx.ledger.book({ id: book.id }))!.id).toBe(book.id);
    expect((await ctx.ledger.account({ id: account.id }))!.id).toBe(account.id);
    expect((await ctx.ledger.journalEntry({ id: entryId }))!.id).toBe(entryId);
  });

  it('answers null for garbage, unknown and mistyped ids', async () => {
    const { bookId, id } = decodeGlobalId(account.id);
    const otherBook = await createBook(ctx.ledger);
    const otherBookUuid = decodeGlobalId(otherBook.id).id;
    const garbage = [
      encodeGlobalId('Book', randomUUID()),
      encodeGlobalId('Book', 'not-a-uuid'),
      encodeGlobalId('Account', `${bookId}:${randomUUID()}`),
      // The right account under the wrong book.
      encodeGlobalId('Account', `${otherBookUuid}:${id}`),
      encodeGlobalId('JournalEntry', `${bookId}:${randomUUID()}`),
      encodeGlobalId('Account', 'x'),
    ];
    for (const g of garbage)
      expect({ id: g, node: await ctx.ledger.node({ id: g }) }).toEqual({ id: g, node: null });
    expect(await ctx.ledger.book({ id: account.id })).toBeNull();
    expect(await ctx.ledger.account({ id: book.id })).toBeNull();
    expect(await ctx.ledger.account({ id: encodeGlobalId('Account', `${otherBookUuid}:${id}`) })).toBeNull();
    expect(await ctx.ledger.journalEntry({ id: account.id })).toBeNull();
    expect(await ctx.ledger.accountBalance({ accountId: 'garbage' })).toBeNull();
    expect(await ctx.ledger.trialBalance({ bookId: 'garbage' })).toBeNull();
    expect(await ctx.ledger.trialBalance({ bookId: encodeGlobalId('Book', randomUUID()) })).toBeNull();
    expect(await ctx.ledger.verifyBookChain({ bookId: encodeGlobalId('Book', randomUUID()) })).toBeNull();
  });

  // An id that is not base64 of "<Type>:<id>", or names a type that is not a Node, answers null as
  // book/account/journalEntry do (the relay plugin alone would raise an uncoded top-level error).
  it('answers null, not a top-level error, for ids that are not global ids at all', async () => {
    for (const g of ['garbage', '', 'Zm9v', encodeGlobalId('Nope', randomUUID())]) {
      const { body } = await rawGraphQL(ctx.server.url, 'query($id: ID!) { node(id: $id) { id } }', {
        id: g,
      });
      expect({ id: g, body }).toEqual({ id: g, body: { data: { node: null } } });
    }
  });
});

describe('verifyBookChain', () => {
  it('confirms a healthy book: every entry checked, head hash that of the last entry', async () => {
    const book = await createBook(ctx.ledger);
    const cash = await createAccount(ctx.ledger, book.id, { code: `cash-${uniqueSuffix()}`, type: 'ASSET' });
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
    const empty = await ctx.ledger.verifyBookChain({ bookId: book.id });
    expect(empty).toMatchObject({
      ok: true,
      entriesChecked: 0,
      headHash: '0'.repeat(64),
      firstMismatch: null,
      book: { id: book.id },
    });

    let last = '';
    for (let i = 0; i < 5; i++) {
      const posted = await ctx.ledger.postJournalEntry({
        bookId: book.id,
        idempotencyKey: newKey(),
        lines: [debit(cash, '1.00'), credit(equity, '1.00')],
      });
      last = posted.entry!.hash;
    }
    const held = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey(),
      lines: [debit(cash, '1.00'), credit(equity, '1.00')],
    });
    const voided = await ctx.ledger.voidPendingEntry({ entryId: held.entry!.id, idempotencyKey: newKey() });
    last = voided.entry!.hash;
    const verified = await ctx.ledger.verifyBookChain({ bookId: book.id });
    const head = await ctx.ledger.book({ id: book.id });
    expect(verified).toMatchObject({ ok: true, entriesChecked: 7, firstMismatch: null, headHash: last });
    expect(head!.headHash).toBe(last);
    expect(head!.entryCount).toBe('7');
  });
});
