/**
 * Writes a book's posted entries as a plain-text accounting journal (hledger or beancount), so an
 * independent tool (`hledger check`, `bean-check`) can confirm that every transaction balances and
 * recompute balances the ledger reports. Pending and void entries move no posted money and are
 * left out; reversals and commits are ordinary posted transactions.
 */

export interface ExportAccount {
  id: string;
  code: string;
  type: 'ASSET' | 'LIABILITY' | 'EQUITY' | 'REVENUE' | 'EXPENSE';
}

export interface ExportEntry {
  id: string;
  seq: string;
  kind: string;
  effectiveAt: string;
  memo: string;
  lines: { side: 'DEBIT' | 'CREDIT'; amount: string; unit: { code: string }; account: { id: string } }[];
}

export type ExportFormat = 'hledger' | 'beancount' | 'csv';

const POSTED_KINDS = new Set(['STANDARD', 'REVERSAL', 'COMMIT']);

const BEANCOUNT_ROOT: Record<ExportAccount['type'], string> = {
  ASSET: 'Assets',
  LIABILITY: 'Liabilities',
  EQUITY: 'Equity',
  REVENUE: 'Income',
  EXPENSE: 'Expenses',
};

/** hledger's account types (the `type:` tag of an account directive). */
const HLEDGER_TYPE: Record<ExportAccount['type'], string> = {
  ASSET: 'A',
  LIABILITY: 'L',
  EQUITY: 'E',
  REVENUE: 'R',
  EXPENSE: 'X',
};

/** Account names per format, unique even when two codes sanitise to the same text. */
export function accountNames(accounts: ExportAccount[], format: ExportFormat): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const a of [...accounts].sort((x, y) => (x.code < y.code ? -1 : 1))) {
    let name: string;
    if (format === 'hledger') {
      // hledger separates components with ':' and ends a name at two spaces: codes have neither issue.
      name = `${a.type.toLowerCase()}:${a.code}`;
    } else {
      const component = a.code.replace(/[^A-Za-z0-9-]/g, '-');
      name = `${BEANCOUNT_ROOT[a.type]}:${/^[A-Z0-9]/.test(component) ? component : `X${component}`}`;
    }
    let unique = name;
    for (let n = 2; taken.has(unique); n++) unique = `${name}-${n}`;
    taken.add(unique);
    names.set(a.id, unique);
  }
  return names;
}

/** beancount's commodity syntax: 2 to 24 characters, A-Z first, A-Z or 0-9 last. */
const BEANCOUNT_COMMODITY = /^[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]$/;

/**
 * Commodity names for beancount by unit code. A unit code may end in `_`, which beancount refuses
 * (bean-check: "Invalid token"); such a unit is written with its trailing underscores as X
 * (`KG_` -> `KGX`), made unique against every other unit, and declared by a `commodity`
 * directive whose `unit` metadata is the unit's code.
 */
export function beancountCommodities(unitCodes: Iterable<string>): Map<string, string> {
  const codes = [...new Set(unitCodes)].sort();
  const out = new Map<string, string>();
  const taken = new Set(codes.filter((c) => BEANCOUNT_COMMODITY.test(c)));
  for (const code of codes) {
    if (BEANCOUNT_COMMODITY.test(code)) {
      out.set(code, code);
      continue;
    }
    const base = code
      .replace(/[^A-Z0-9'._-]/g, 'X')
      .replace(/[^A-Z0-9]+$/, (tail) => 'X'.repeat(tail.length));
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
    taken.add(name);
    out.set(code, name);
  }
  return out;
}

function signed(side: 'DEBIT' | 'CREDIT', amount: string): string {
  return side === 'DEBIT' ? amount : `-${amount}`;
}

export function renderJournal(
  accounts: ExportAccount[],
  entries: ExportEntry[],
  format: ExportFormat,
  bookName: string,
): string {
  if (format === 'csv') return journalCsv(accounts, entries);
  const names = accountNames(accounts, format);
  // In date order (then the book's sequence), whatever order they came in: hledger's ordereddates.
  const posted = entries
    .filter((e) => POSTED_KINDS.has(e.kind))
    .sort(
      (x, y) =>
        Date.parse(x.effectiveAt) - Date.parse(y.effectiveAt) || Number(BigInt(x.seq) - BigInt(y.seq)),
    );
  const out: string[] = [];
  out.push(
    `; Solidarity Ledger export of book "${bookName.replace(/\s+/g, ' ')}": ${posted.length} posted entries`,
  );
  out.push('');
  const commodities = beancountCommodities(posted.flatMap((e) => e.lines.map((l) => l.unit.code)));
  if (format === 'hledger') {
    // Declared, so that `hledger check --strict` accepts the file and `hledger bs` / `is` know
    // each account's type; a commodity directive without an amount leaves display as written.
    for (const unit of commodities.keys()) out.push(`commodity "${unit}"`);
    for (const a of accounts) out.push(`account ${names.get(a.id)}  ; type: ${HLEDGER_TYPE[a.type]}`);
    out.push('');
  }
  if (format === 'beancount') {
    const first = posted.map((e) => e.effectiveAt.slice(0, 10)).sort()[0] ?? '1970-01-01';
    for (const [unit, commodity] of commodities)
      if (unit !== commodity) out.push(`${first} commodity ${commodity}`, `  unit: "${unit}"`);
    for (const a of accounts) out.push(`${first} open ${names.get(a.id)}`);
    out.push('');
  }
  for (const e of posted) {
    const date = e.effectiveAt.slice(0, 10);
    const memo = e.memo.replace(/[\r\n"\\]+/g, ' ').trim() || `${e.kind.toLowerCase()} ${e.seq}`;
    if (format === 'hledger') {
      out.push(`${date} * ${memo}  ; seq:${e.seq}, kind:${e.kind}, id:${e.id}`);
    } else {
      out.push(`${date} * "${memo}"`);
      out.push(`  seq: "${e.seq}"`);
    }
    for (const l of e.lines) {
      const amount = signed(l.side, l.amount);
      const commodity = format === 'hledger' ? `"${l.unit.code}"` : commodities.get(l.unit.code);
      out.push(`    ${names.get(l.account.id) ?? `unknown:${l.account.id}`}  ${amount} ${commodity}`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** A text cell a spreadsheet will not read as a formula (a leading = + - @ gets an apostrophe). */
function csvText(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The journal for spreadsheets (issue 17): one row per line of every posted entry, in the order
 * given (effective date, then sequence): date, seq, entry id, kind, memo, account code and type,
 * unit, debit, credit. Amounts are plain numbers at the unit's scale; text cells are guarded.
 */
export function journalCsv(accounts: ExportAccount[], entries: ExportEntry[]): string {
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const rows = ['date,effective_at,seq,entry_id,kind,memo,account_code,account_type,unit,debit,credit'];
  for (const e of entries.filter((x) => POSTED_KINDS.has(x.kind))) {
    for (const l of e.lines) {
      const a = byId.get(l.account.id);
      rows.push(
        [
          e.effectiveAt.slice(0, 10),
          e.effectiveAt,
          e.seq,
          e.id,
          e.kind,
          csvText(e.memo),
          csvText(a?.code ?? l.account.id),
          a?.type ?? '',
          l.unit.code,
          l.side === 'DEBIT' ? l.amount : '',
          l.side === 'CREDIT' ? l.amount : '',
        ].join(','),
      );
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}
