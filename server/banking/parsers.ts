/**
 * Bank statement files read into lines (issue 17): CSV through the account's column mapping, OFX
 * (1.x SGML and 2.x XML) through `ofx-js`, ISO 20022 camt.053 through `fast-xml-parser`. Each
 * parser answers the statement or every problem it finds, by the file's line; amounts stay text
 * (signed: positive is money in) for the use case to check against the account's unit.
 *
 * camt.053: only booked entries count (`Sts` BOOK; pending and information-only entries are not
 * on the statement yet); the reference is the bank's (`AcctSvcrRef`), else the end-to-end id. A
 * file of several statements of one account (a day's each) is read as one statement, from the
 * first one's opening balance to the last one's closing balance.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseSync as parseOfx } from 'ofx-js';
import { Decimal } from '../core/index.js';
import { CsvFileError, readCsv } from '../ledger/index.js';
import type { BankRowError, CsvMapping, ParsedLine, ParsedStatement } from './records.js';

/** Lines per file: a year of a busy account. */
export const BANK_FILE_LINES_MAX = 10_000;

type Outcome = ParsedStatement | { errors: BankRowError[] };

/** Lines of account details a CSV file may hold above its header. */
const PREAMBLE_LINES_MAX = 20;

const problem = (
  row: number,
  column: string | null,
  message: string,
  code: BankRowError['code'] = 'INVALID_BANK_FILE',
): BankRowError => ({
  row,
  column,
  code,
  message,
});

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
function isDay(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

/** A date of a CSV column in the mapping's format as YYYY-MM-DD, or null. */
export function csvDate(text: string, format: CsvMapping['dateFormat']): string | null {
  const t = text.trim();
  // Each format: its pattern and where year, month and day are among the groups.
  const shapes: Record<CsvMapping['dateFormat'], [RegExp, number, number, number]> = {
    'YYYY-MM-DD': [/^(\d{4})-(\d{1,2})-(\d{1,2})$/, 1, 2, 3],
    YYYYMMDD: [/^(\d{4})(\d{2})(\d{2})$/, 1, 2, 3],
    'DD/MM/YYYY': [/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, 3, 2, 1],
    'MM/DD/YYYY': [/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, 3, 1, 2],
    'DD.MM.YYYY': [/^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, 3, 2, 1],
  };
  const [pattern, y, mo, d] = shapes[format];
  const m = pattern.exec(t);
  if (!m) return null;
  const iso = `${m[y]}-${m[mo]!.padStart(2, '0')}-${m[d]!.padStart(2, '0')}`;
  return isDay(iso) ? iso : null;
}

/**
 * An amount as a bank writes it, as a plain signed decimal: `1.234,56` (decimalComma) or
 * `1,234.56`, the integer part grouped by thousands with the other mark, a space or an apostrophe
 * (one kind of mark per amount, groups of three, or of two above the thousands as Indian banks
 * write them); a leading or trailing minus (- or U+2212) and parentheses count as negative. Null
 * when it is not a number so written: a decimal point where a decimal comma is expected (`12.50`
 * under decimalComma) or the reverse is refused, not read as thousands (12.50 would otherwise
 * import as 1,250.00).
 */
export function csvAmount(text: string, decimalComma: boolean): string | null {
  // The minus sign U+2212 (as typeset exports write it) is a minus.
  let t = text.trim().replace(/\u2212/g, '-');
  let negative = false;
  if (/^\(.*\)$/.test(t)) {
    negative = true;
    t = t.slice(1, -1).trim();
  }
  if (t.endsWith('-')) {
    negative = !negative;
    t = t.slice(0, -1).trim();
  }
  if (t.startsWith('-')) {
    negative = !negative;
    t = t.slice(1).trim();
  } else if (t.startsWith('+')) t = t.slice(1).trim();
  const [whole, fraction, ...rest] = t.split(decimalComma ? ',' : '.');
  if (rest.length > 0 || (fraction !== undefined && !/^\d+$/.test(fraction))) return null;
  // Thousands: the mark that is not the decimal mark, a space (no-break and narrow too) or an apostrophe.
  const group = decimalComma ? "[.\\s\u00a0\u202f'\u2019]" : "[,\\s\u00a0\u202f'\u2019]";
  // A grouped number starts with a digit other than 0 (0,965 is no thousands).
  const thousands = new RegExp(`^[1-9]\\d{0,2}(${group})\\d{3}(?:\\1\\d{3})*$`);
  // Indian grouping (lakh, crore): 1,23,45,678.
  const lakhs = new RegExp(`^[1-9]\\d?(${group})(?:\\d{2}\\1)*\\d{3}$`);
  if (!/^\d+$/.test(whole!) && !thousands.test(whole!) && !lakhs.test(whole!)) return null;
  t = whole!.replace(/\D/g, '').replace(/^0+(?=\d)/, '') + (fraction === undefined ? '' : `.${fraction}`);
  return negative && !/^0(\.0+)?$/.test(t) ? `-${t}` : t;
}

/** Running balances that add up only read newest first (each one the next one's plus its own line). */
function runsNewestFirst(rows: { value: string; amount: string | null }[]): boolean {
  let oldestFirst = true;
  let newestFirst = true;
  for (let i = 1; i < rows.length; i++) {
    const [earlier, later] = [rows[i - 1]!, rows[i]!];
    const step = new Decimal(later.value).minus(earlier.value);
    oldestFirst &&= later.amount !== null && step.equals(later.amount);
    newestFirst &&= earlier.amount !== null && step.negated().equals(earlier.amount);
  }
  return newestFirst && !oldestFirst;
}

export function parseCsvStatement(content: string, mapping: CsvMapping): Outcome {
  let rows: { line: number; fields: string[] }[];
  try {
    rows = readCsv(content, mapping.delimiter);
  } catch (error) {
    if (error instanceof CsvFileError) return { errors: [problem(error.line, null, error.message)] };
    throw error;
  }
  // Banks put the account's details above the table (a German bank's export opens with lines
  // such as "Kontonummer:";"DE.."): the header is the first of the file's first lines that holds
  // every column the mapping names, the lines above it are skipped; without one, the first line.
  const named = [
    mapping.dateColumn,
    mapping.amountColumn,
    mapping.moneyInColumn,
    mapping.moneyOutColumn,
    ...mapping.descriptionColumns,
    mapping.referenceColumn,
    mapping.counterpartyColumn,
    mapping.balanceColumn,
  ].flatMap((c) => (c === null ? [] : [c.trim().toLowerCase()]));
  const start = Math.max(
    0,
    rows.slice(0, PREAMBLE_LINES_MAX + 1).findIndex((r) => {
      const fields = new Set(r.fields.map((h) => h.trim().toLowerCase()));
      return named.every((c) => fields.has(c));
    }),
  );
  rows = rows.slice(start);
  if (rows.length < 2) return { errors: [problem(1, null, 'the file has no header line and rows')] };
  const header = rows[0]!.fields.map((h) => h.trim().toLowerCase());
  const errors: BankRowError[] = [];
  const index = (column: string | null): number | null => {
    if (column === null) return null;
    const i = header.indexOf(column.trim().toLowerCase());
    if (i < 0)
      errors.push(
        problem(
          rows[0]!.line,
          column,
          `the mapping names a column "${column}" that the header does not have`,
        ),
      );
    return i;
  };
  const at = {
    date: index(mapping.dateColumn),
    amount: index(mapping.amountColumn),
    in: index(mapping.moneyInColumn),
    out: index(mapping.moneyOutColumn),
    description: mapping.descriptionColumns.map((c) => index(c)),
    reference: index(mapping.referenceColumn),
    counterparty: index(mapping.counterpartyColumn),
    balance: index(mapping.balanceColumn),
  };
  const body = rows.slice(1);
  if (body.length > BANK_FILE_LINES_MAX)
    errors.push(
      problem(body[BANK_FILE_LINES_MAX]!.line, null, `a file holds at most ${BANK_FILE_LINES_MAX} lines`),
    );
  if (errors.length > 0) return { errors };
  const field = (r: { fields: string[] }, i: number | null) =>
    i === null || i < 0 ? '' : (r.fields[i] ?? '').trim();
  const written = mapping.decimalComma
    ? 'written with a decimal comma (1.234,56), as the mapping says'
    : 'written with a decimal point (1,234.56), as the mapping says';
  const lines: ParsedLine[] = [];
  const balances: { day: string; value: string; amount: string | null }[] = [];
  for (const r of body) {
    const bookedOn = csvDate(field(r, at.date), mapping.dateFormat);
    if (!bookedOn)
      errors.push(
        problem(
          r.line,
          mapping.dateColumn,
          `"${field(r, at.date)}" is not a date ${mapping.dateFormat}`,
          'INVALID_DATE',
        ),
      );
    let amount: string | null = null;
    if (at.amount !== null) {
      amount = csvAmount(field(r, at.amount), mapping.decimalComma);
      if (amount === null)
        errors.push(
          problem(
            r.line,
            mapping.amountColumn,
            `"${field(r, at.amount)}" is not an amount ${written}`,
            'INVALID_AMOUNT',
          ),
        );
    } else {
      const inText = field(r, at.in);
      const outText = field(r, at.out);
      const money = (t: string) => (t === '' ? null : csvAmount(t, mapping.decimalComma));
      const min = money(inText);
      const mout = money(outText);
      if (
        (inText !== '' && min === null) ||
        (outText !== '' && mout === null) ||
        (inText === '') === (outText === '')
      )
        errors.push(
          problem(
            r.line,
            mapping.moneyInColumn,
            `give an amount in the money-in column or the money-out column, exactly one, ${written}`,
            'INVALID_AMOUNT',
          ),
        );
      else amount = min !== null ? min.replace(/^-/, '') : `-${mout!.replace(/^-/, '')}`;
    }
    if (amount !== null && /^-?0(\.0+)?$/.test(amount)) {
      errors.push(
        problem(
          r.line,
          mapping.amountColumn ?? mapping.moneyInColumn,
          'the amount is zero',
          'INVALID_AMOUNT',
        ),
      );
      amount = null;
    }
    if (at.balance !== null && bookedOn) {
      const b = csvAmount(field(r, at.balance), mapping.decimalComma);
      if (b === null)
        errors.push(
          problem(
            r.line,
            mapping.balanceColumn,
            `"${field(r, at.balance)}" is not an amount ${written}`,
            'INVALID_AMOUNT',
          ),
        );
      else balances.push({ day: bookedOn, value: b, amount });
    }
    if (bookedOn && amount !== null)
      lines.push({
        lineNo: r.line,
        bookedOn,
        valueOn: null,
        amount,
        description: at.description
          .map((i) => field(r, i))
          .filter((t) => t !== '')
          .join(' '),
        reference: field(r, at.reference) || null,
        counterparty: field(r, at.counterparty) || null,
      });
  }
  if (errors.length > 0) return { errors };
  const days = lines.map((l) => l.bookedOn).sort();
  // The running balance of the chronologically last line (files are newest first or last).
  let closingBalance: string | null = null;
  if (balances.length > 0) {
    const firstDay = balances[0]!.day;
    const lastDay = balances[balances.length - 1]!.day;
    // Within one day the order shows only in the running balance: newest first when each balance
    // is the next one's plus its own line (and not, as oldest first, the one before's plus its line).
    const newestFirst = firstDay !== lastDay ? firstDay > lastDay : runsNewestFirst(balances);
    closingBalance = newestFirst ? balances[0]!.value : balances[balances.length - 1]!.value;
  }
  return {
    currency: null,
    periodStart: days[0] ?? null,
    periodEnd: days.at(-1) ?? null,
    openingBalance: null,
    closingBalance,
    lines,
  };
}

// ---------- OFX ----------

/** The 1-based lines where each `<TAG>` opens, in order (case-insensitive, any namespace prefix). */
function tagLines(text: string, tag: string): number[] {
  const out: number[] = [];
  const re = new RegExp(`<(?:\\w+:)?${tag}[\\s>]`, 'gi');
  let line = 1;
  let last = 0;
  for (const m of text.matchAll(re)) {
    for (let i = text.indexOf('\n', last); i !== -1 && i < m.index; i = text.indexOf('\n', i + 1)) line++;
    last = m.index;
    out.push(line);
  }
  return out;
}

/** An OFX date-time (YYYYMMDD[HHMMSS[.XXX][[+-]h:TZ]]) as its calendar day, or null. */
function ofxDay(text: unknown): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(String(text ?? '').trim());
  if (!m) return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  return isDay(iso) ? iso : null;
}

const asArray = <T>(v: T | T[] | undefined | null): T[] =>
  v === undefined || v === null || (v as unknown) === '' ? [] : Array.isArray(v) ? v : [v];
const text = (v: unknown): string =>
  typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v).trim();

/**
 * Numeric character references (`M&#252;ller`, `&#xFC;`) as the characters they stand for: the
 * OFX reader keeps them as written. `&`, `<` and `>` stay references (the reader decodes those
 * it knows), and `&amp;#252;` is left alone (its `&` is not followed by `#`).
 */
function decodeCharacterReferences(content: string): string {
  return content.replace(/&#(?:(\d{1,7})|[xX]([0-9a-fA-F]{1,6}));/g, (ref, decimal, hex) => {
    const code = decimal !== undefined ? Number(decimal) : Number.parseInt(hex, 16);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return valid && ![38, 60, 62].includes(code) ? String.fromCodePoint(code) : ref;
  });
}

export function parseOfxStatement(content: string): Outcome {
  if (!/<OFX>/i.test(content)) return { errors: [problem(1, null, 'not an OFX file: no <OFX> element')] };
  // biome-ignore lint/suspicious/noExplicitAny: OFX is loosely typed; every field is checked below
  let ofx: any;
  try {
    ofx = parseOfx(decodeCharacterReferences(content).replace(/<ofx>/i, '<OFX>')).OFX;
  } catch (error) {
    return { errors: [problem(1, null, `the OFX file cannot be read: ${(error as Error).message}`)] };
  }
  const statements = [
    ...asArray(ofx?.BANKMSGSRSV1?.STMTTRNRS).map((t: Record<string, unknown>) => t?.STMTRS),
    ...asArray(ofx?.CREDITCARDMSGSRSV1?.CCSTMTTRNRS).map((t: Record<string, unknown>) => t?.CCSTMTRS),
  ].filter((s) => s);
  if (statements.length !== 1)
    return {
      errors: [
        problem(
          1,
          null,
          `the file holds ${statements.length} account statements; import one account's statement at a time`,
        ),
      ],
    };
  // biome-ignore lint/suspicious/noExplicitAny: OFX is loosely typed; every field is checked below
  const stmt: any = statements[0];
  const list = stmt.BANKTRANLIST ?? {};
  const transactions = asArray(list.STMTTRN);
  const lineNos = tagLines(content, 'STMTTRN');
  if (transactions.length > BANK_FILE_LINES_MAX)
    return {
      errors: [
        problem(lineNos[BANK_FILE_LINES_MAX] ?? 1, null, `a file holds at most ${BANK_FILE_LINES_MAX} lines`),
      ],
    };
  const errors: BankRowError[] = [];
  const lines: ParsedLine[] = [];
  transactions.forEach((t: Record<string, unknown>, i: number) => {
    const row = lineNos[i] ?? 1;
    const bookedOn = ofxDay(t.DTPOSTED);
    if (!bookedOn)
      errors.push(problem(row, 'DTPOSTED', `"${text(t.DTPOSTED)}" is not an OFX date`, 'INVALID_DATE'));
    const raw = text(t.TRNAMT);
    const amount = csvAmount(raw.includes('.') ? raw : raw.replace(',', '.'), false);
    if (amount === null || /^-?0(\.0+)?$/.test(amount))
      errors.push(problem(row, 'TRNAMT', `"${raw}" is not a non-zero amount`, 'INVALID_AMOUNT'));
    const payee = text(t.NAME) || text((t.PAYEE as Record<string, unknown> | undefined)?.NAME);
    const memo = text(t.MEMO);
    if (bookedOn && amount !== null && !/^-?0(\.0+)?$/.test(amount))
      lines.push({
        lineNo: row,
        bookedOn,
        valueOn: null,
        amount,
        description: [payee, memo].filter((x) => x !== '').join(' - '),
        reference: text(t.FITID) || text(t.REFNUM) || text(t.CHECKNUM) || null,
        counterparty: payee || null,
      });
  });
  if (errors.length > 0) return { errors };
  const closing = stmt.LEDGERBAL
    ? csvAmount(text(stmt.LEDGERBAL.BALAMT).replace(/^([^.]*),/, '$1.'), false)
    : null;
  return {
    currency: text(stmt.CURDEF) || null,
    periodStart: ofxDay(list.DTSTART),
    periodEnd: ofxDay(stmt.LEDGERBAL?.DTASOF) ?? ofxDay(list.DTEND),
    openingBalance: null,
    closingBalance: closing,
    lines,
  };
}

// ---------- ISO 20022 camt.053 ----------

export function parseCamt053Statement(content: string): Outcome {
  const valid = XMLValidator.validate(content);
  if (valid !== true)
    return { errors: [problem(valid.err.line, null, `the XML cannot be read: ${valid.err.msg}`)] };
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    // Numeric character references (M&#252;ller) are XML: the parser decodes them only so asked.
    htmlEntities: true,
    isArray: (name) => ['Stmt', 'Ntry', 'Bal', 'TxDtls', 'Ustrd'].includes(name),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the XML is checked field by field below
  const doc: any = parser.parse(content);
  const statements = asArray(doc?.Document?.BkToCstmrStmt?.Stmt);
  if (statements.length === 0)
    return { errors: [problem(1, null, 'not a camt.053 file: no BkToCstmrStmt/Stmt')] };
  // A bank may send a day's statement each in one file: those of one account are read as one.
  const accountOf = (stmt: Record<string, unknown>) => {
    const id = ((stmt.Acct as Record<string, unknown> | undefined)?.Id ?? {}) as Record<string, unknown>;
    return text(id.IBAN) || text((id.Othr as Record<string, unknown> | undefined)?.Id);
  };
  const accounts = new Set(statements.map((st: Record<string, unknown>) => accountOf(st)));
  if (accounts.size > 1)
    return {
      errors: [
        problem(
          1,
          null,
          `the file holds statements of ${accounts.size} accounts (${[...accounts].join(', ')}); import one account's at a time`,
        ),
      ],
    };
  const lineNos = tagLines(content, 'Ntry');
  if (lineNos.length > BANK_FILE_LINES_MAX)
    return {
      errors: [
        problem(lineNos[BANK_FILE_LINES_MAX]!, null, `a file holds at most ${BANK_FILE_LINES_MAX} lines`),
      ],
    };
  const parts: ParsedStatement[] = [];
  const errors: BankRowError[] = [];
  let offset = 0;
  for (const stmt of statements) {
    const count = asArray((stmt as Record<string, unknown>).Ntry).length;
    const part = camtStatement(stmt, lineNos.slice(offset, offset + count));
    offset += count;
    if ('errors' in part) errors.push(...part.errors);
    else parts.push(part);
  }
  if (errors.length > 0) return { errors };
  const currencies = new Set(parts.flatMap((p) => (p.currency === null ? [] : [p.currency])));
  if (currencies.size > 1)
    return {
      errors: [
        problem(1, 'Ccy', `the statement mixes currencies: ${[...currencies].join(', ')}`, 'UNIT_MISMATCH'),
      ],
    };
  // In the order of their days: the first one's opening balance, the last one's closing balance.
  const byDay = parts
    .map((p, i) => ({ p, i }))
    .sort((a, b) =>
      (a.p.periodStart ?? '') < (b.p.periodStart ?? '')
        ? -1
        : (a.p.periodStart ?? '') > (b.p.periodStart ?? '')
          ? 1
          : a.i - b.i,
    )
    .map((x) => x.p);
  const first = byDay[0]!;
  const last = byDay[byDay.length - 1]!;
  return {
    currency: [...currencies][0] ?? null,
    periodStart: first.periodStart,
    periodEnd: last.periodEnd,
    openingBalance: first.openingBalance,
    closingBalance: last.closingBalance,
    lines: parts.flatMap((p) => p.lines),
  };
}

/** One statement (Stmt) of a camt.053 file; `lineNos` are the file lines of its entries. */
// biome-ignore lint/suspicious/noExplicitAny: the XML is checked field by field below
function camtStatement(stmt: any, lineNos: number[]): Outcome {
  const amountOf = (amt: unknown, indicator: unknown): string | null => {
    const raw = text(
      typeof amt === 'object' && amt !== null ? (amt as Record<string, unknown>)['#text'] : amt,
    );
    const a = csvAmount(raw, false);
    if (a === null || a.startsWith('-')) return null;
    const ind = text(indicator);
    if (ind !== 'CRDT' && ind !== 'DBIT') return null;
    return ind === 'DBIT' && !/^0(\.0+)?$/.test(a) ? `-${a}` : a;
  };
  const dayOf = (d: Record<string, unknown> | undefined): string | null => {
    const t = text(d?.Dt) || text(d?.DtTm).slice(0, 10);
    return isDay(t) ? t : null;
  };
  const currencyOf = (amt: unknown) =>
    typeof amt === 'object' && amt !== null ? text((amt as Record<string, unknown>)['@Ccy']) : '';
  let opening: string | null = null;
  let closing: string | null = null;
  let closingDay: string | null = null;
  for (const bal of asArray(stmt.Bal) as Record<string, unknown>[]) {
    const tp = bal.Tp as Record<string, Record<string, unknown>> | undefined;
    const code = text(tp?.CdOrPrtry?.Cd);
    const value = amountOf(bal.Amt, bal.CdtDbtInd);
    if (code === 'OPBD' || code === 'PRCD') opening ??= value;
    if (code === 'CLBD') {
      closing = value;
      closingDay = dayOf(bal.Dt as Record<string, unknown>);
    }
  }
  const entries = asArray(stmt.Ntry) as Record<string, unknown>[];
  if (entries.length > BANK_FILE_LINES_MAX)
    return {
      errors: [
        problem(lineNos[BANK_FILE_LINES_MAX] ?? 1, null, `a file holds at most ${BANK_FILE_LINES_MAX} lines`),
      ],
    };
  const errors: BankRowError[] = [];
  const lines: ParsedLine[] = [];
  const currencies = new Set<string>();
  const acctCcy = text(stmt.Acct?.Ccy);
  if (acctCcy) currencies.add(acctCcy);
  entries.forEach((e, i) => {
    const row = lineNos[i] ?? 1;
    const status = text(
      typeof e.Sts === 'object' && e.Sts !== null ? (e.Sts as Record<string, unknown>).Cd : e.Sts,
    );
    if (status !== '' && status !== 'BOOK') return;
    const amount = amountOf(e.Amt, e.CdtDbtInd);
    if (amount === null || /^-?0(\.0+)?$/.test(amount))
      errors.push(
        problem(row, 'Amt', 'expected a positive amount with CdtDbtInd CRDT or DBIT', 'INVALID_AMOUNT'),
      );
    const ccy = currencyOf(e.Amt);
    if (ccy) currencies.add(ccy);
    const bookedOn = dayOf(e.BookgDt as Record<string, unknown>) ?? dayOf(e.ValDt as Record<string, unknown>);
    if (!bookedOn) errors.push(problem(row, 'BookgDt', 'the entry has no booking date', 'INVALID_DATE'));
    const details = asArray((e.NtryDtls as Record<string, unknown> | undefined)?.TxDtls) as Record<
      string,
      unknown
    >[];
    const first = details[0] ?? {};
    const refs = (first.Refs ?? {}) as Record<string, unknown>;
    const endToEnd = text(refs.EndToEndId);
    const reference =
      text(e.AcctSvcrRef) ||
      text(refs.AcctSvcrRef) ||
      (endToEnd && endToEnd !== 'NOTPROVIDED' ? endToEnd : '') ||
      null;
    const remittance = details
      .flatMap((d) => asArray((d.RmtInf as Record<string, unknown> | undefined)?.Ustrd).map(text))
      .filter((t) => t !== '')
      .join(' ');
    const parties = (first.RltdPties ?? {}) as Record<string, Record<string, unknown>>;
    const partyName = (p: Record<string, unknown> | undefined) =>
      text(p?.Nm) || text((p?.Pty as Record<string, unknown> | undefined)?.Nm);
    const counterparty =
      (amount?.startsWith('-') ? partyName(parties.Cdtr) : partyName(parties.Dbtr)) || null;
    const description = [counterparty ?? '', remittance || text(e.AddtlNtryInf)]
      .filter((t) => t !== '')
      .join(' - ');
    if (amount !== null && bookedOn && !/^-?0(\.0+)?$/.test(amount))
      lines.push({
        lineNo: row,
        bookedOn,
        valueOn: dayOf(e.ValDt as Record<string, unknown>),
        amount,
        description,
        reference,
        counterparty,
      });
  });
  if (currencies.size > 1)
    errors.push(
      problem(1, 'Ccy', `the statement mixes currencies: ${[...currencies].join(', ')}`, 'UNIT_MISMATCH'),
    );
  if (errors.length > 0) return { errors };
  const period = (stmt.FrToDt ?? {}) as Record<string, unknown>;
  const fromDay = text(period.FrDtTm).slice(0, 10);
  const toDay = text(period.ToDtTm).slice(0, 10);
  const days = lines.map((l) => l.bookedOn).sort();
  return {
    currency: [...currencies][0] ?? null,
    periodStart: isDay(fromDay) ? fromDay : (days[0] ?? null),
    periodEnd: closingDay ?? (isDay(toDay) ? toDay : (days.at(-1) ?? null)),
    openingBalance: opening,
    closingBalance: closing,
    lines,
  };
}
