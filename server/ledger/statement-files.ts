/**
 * Statements as files (issue 17): CSV for spreadsheets (one table, one row per line, with the
 * comparison beside each amount) and a printable PDF made with pdfkit (A4, DejaVu Sans, accounts
 * indented by depth, amounts right-aligned, pages broken between rows). DejaVu Sans is embedded
 * (the glyphs used): pdfkit's built-in Helvetica writes only Windows-1252, and an account or book
 * named with ő, ł, č, Greek or Cyrillic letters came out as other letters (Kasse ő ł č printed as
 * "Kasse B Ò ^"). Amounts are written at
 * their unit's scale; a PDF is dated with the statement's last day, so the same statement gives
 * the same bytes.
 *
 * CSV text fields (account names, the book's name) that a spreadsheet would read as a formula
 * (starting with = + - @ or a tab) are prefixed with an apostrophe, the usual guard; amounts are
 * plain numbers.
 */

import {
  csvText,
  type Decimal,
  formatAmount,
  type StatementLine,
  type StatementSection,
} from '../core/index.js';
import { loadPdfKit, unicodeSansFonts } from '../platform/pdfkit.js';
import type { RolledTrialBalance, StatementReport } from './statements.js';

const SECTION_TITLES = {
  ASSET: 'Assets',
  LIABILITY: 'Liabilities',
  EQUITY: 'Equity',
  REVENUE: 'Revenue',
  EXPENSE: 'Expenses',
} as const;

/** A row of the statement as the files show it. */
interface Row {
  unit: string;
  section: string;
  kind: 'ACCOUNT' | 'TOTAL' | 'RESULT';
  code: string;
  label: string;
  depth: number;
  amounts: string[];
}

function rowsOf(report: StatementReport): Row[] {
  const rows: Row[] = [];
  for (const u of report.units) {
    const fmt = (d: Decimal) => formatAmount(d, u.unit.scale);
    const sectionRows = (s: StatementSection) => {
      for (const l of s.lines as StatementLine[]) {
        const a = report.accounts.get(l.accountId)!;
        rows.push({
          unit: u.unit.code,
          section: s.type,
          kind: 'ACCOUNT',
          code: a.code,
          label: a.name,
          depth: l.depth,
          amounts: l.amounts.map(fmt),
        });
      }
      rows.push({
        unit: u.unit.code,
        section: s.type,
        kind: 'TOTAL',
        code: '',
        label: `Total ${SECTION_TITLES[s.type].toLowerCase()}`,
        depth: 0,
        amounts: s.totals.map(fmt),
      });
    };
    const result = (label: string, amounts: Decimal[], section = 'RESULT') =>
      rows.push({
        unit: u.unit.code,
        section,
        kind: 'RESULT',
        code: '',
        label,
        depth: 0,
        amounts: amounts.map(fmt),
      });
    if ('revenue' in u) {
      sectionRows(u.revenue);
      sectionRows(u.expenses);
      result('Result for the period (revenue less expenses)', u.results);
    } else {
      sectionRows(u.assets);
      sectionRows(u.liabilities);
      sectionRows(u.equity);
      result('Result for the period', u.periodResults, 'EQUITY');
      result('Results of earlier periods not closed to equity', u.earlierResults, 'EQUITY');
      result('Total equity', u.totalEquity, 'EQUITY');
      result('Total liabilities and equity', u.totalLiabilitiesAndEquity, 'EQUITY');
    }
  }
  return rows;
}

const titleOf = (r: StatementReport) =>
  r.kind === 'INCOME_STATEMENT' ? 'Income statement' : 'Balance sheet';

function describePeriod(r: StatementReport, period = r.period): string {
  return r.kind === 'INCOME_STATEMENT'
    ? `${period.from} to ${period.to}`
    : `as of ${period.to} (result of the period from ${period.from})`;
}

/** A file name for the statement: `income-statement-2026-01-01-2026-03-31.csv`. */
export function statementFileName(r: StatementReport, extension: 'csv' | 'pdf'): string {
  return r.kind === 'INCOME_STATEMENT'
    ? `income-statement-${r.period.from}-${r.period.to}.${extension}`
    : `balance-sheet-${r.period.to}.${extension}`;
}

/** The statement as CSV: unit, section, line_type, code, account, depth, amount (and comparison_amount). */
export function statementCsv(report: StatementReport): string {
  const header = ['unit', 'section', 'line_type', 'code', 'account', 'depth', 'amount'];
  if (report.comparison) header.push('comparison_amount');
  const lines = [header.join(',')];
  for (const r of rowsOf(report)) {
    lines.push(
      [
        r.unit,
        r.section,
        r.kind,
        csvText(r.code),
        csvText(r.label),
        r.depth === 0 ? '' : String(r.depth),
        ...r.amounts,
      ].join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The trial balance's CSV header (trialBalanceCsv here; the service's csv in reports.ts). */
export const TRIAL_BALANCE_CSV_HEADER =
  'unit,code,account,depth,rolled_up,debits,credits,debit_balance,credit_balance';

/** The trial balance as CSV: unit, code, account, depth, rolled_up, debits, credits, debit_balance, credit_balance. */
export function trialBalanceCsv(tb: RolledTrialBalance): string {
  const lines = [TRIAL_BALANCE_CSV_HEADER];
  for (const l of tb.lines) {
    const s = l.account.unit.scale;
    lines.push(
      [
        l.account.unit.code,
        csvText(l.account.code),
        csvText(l.account.name),
        String(l.depth),
        l.rolledUp ? 'true' : 'false',
        formatAmount(l.debits, s),
        formatAmount(l.credits, s),
        formatAmount(l.debitBalance, s),
        formatAmount(l.creditBalance, s),
      ].join(','),
    );
  }
  for (const u of tb.units)
    lines.push(
      [
        u.unit.code,
        '',
        'Total',
        '',
        '',
        '',
        '',
        formatAmount(u.debitBalanceTotal, u.unit.scale),
        formatAmount(u.creditBalanceTotal, u.unit.scale),
      ].join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}

/** The statement as a printable PDF (A4). */
export async function statementPdf(report: StatementReport): Promise<Buffer> {
  const PDFDocument = await loadPdfKit();
  const { regular, bold } = await unicodeSansFonts();
  return new Promise((resolve, reject) => {
    const date = new Date(`${report.period.to}T00:00:00.000Z`);
    const title = titleOf(report);
    const doc = new PDFDocument({
      size: 'A4',
      margin: 50,
      info: {
        Title: `${title} - ${report.book.name}`,
        Author: report.book.name,
        CreationDate: date,
        ModDate: date,
      },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.registerFont('Sans', regular);
    doc.registerFont('Sans-Bold', bold);
    const left = doc.page.margins.left;
    const right = doc.page.width - doc.page.margins.right;
    const amountWidth = 95;
    const compareX = right - amountWidth;
    const amountX = report.comparison ? compareX - amountWidth - 10 : compareX;
    const labelWidth = amountX - left - 10;
    const bottom = () => doc.page.height - doc.page.margins.bottom - 14;

    doc.font('Sans-Bold').fontSize(16).text(title, left, doc.y);
    doc.font('Sans').fontSize(11).text(report.book.name);
    doc.fontSize(9).fillColor('#444').text(describePeriod(report));
    if (report.comparison)
      doc.text(
        `Comparison (${report.comparison.kind === 'PREVIOUS_YEAR' ? 'previous year' : 'previous period'}): ${describePeriod(report, report.comparison.period)}`,
      );
    doc.fillColor('black').moveDown();

    const headings = () => {
      const y = doc.y;
      doc.font('Sans-Bold').fontSize(9);
      doc.text('Account', left, y, { width: labelWidth });
      const heading = (p: { from: string; to: string }) =>
        report.kind === 'INCOME_STATEMENT' ? `${p.from} - ${p.to}` : p.to;
      doc.text(heading(report.period), amountX, y, { width: amountWidth, align: 'right' });
      if (report.comparison)
        doc.text(heading(report.comparison.period), compareX, y, { width: amountWidth, align: 'right' });
      doc
        .moveTo(left, doc.y + 2)
        .lineTo(right, doc.y + 2)
        .lineWidth(0.5)
        .stroke();
      doc.y += 6;
    };
    const row = (label: string, amounts: string[], options: { bold?: boolean; indent?: number } = {}) => {
      if (doc.y > bottom()) {
        doc.addPage();
        headings();
      }
      const y = doc.y;
      doc.font(options.bold ? 'Sans-Bold' : 'Sans').fontSize(9);
      const indent = (options.indent ?? 0) * 12;
      doc.text(label, left + indent, y, { width: labelWidth - indent, lineBreak: false, ellipsis: true });
      doc.text(amounts[0] ?? '', amountX, y, { width: amountWidth, align: 'right', lineBreak: false });
      if (report.comparison)
        doc.text(amounts[1] ?? '', compareX, y, { width: amountWidth, align: 'right', lineBreak: false });
      doc.y = y + 13;
    };

    let unit = '';
    for (const r of rowsOf(report)) {
      if (r.unit !== unit) {
        unit = r.unit;
        if (doc.y > bottom() - 40) doc.addPage();
        doc.moveDown(0.5).font('Sans-Bold').fontSize(11).text(`In ${unit}`, left, doc.y);
        doc.moveDown(0.3);
        headings();
      }
      if (r.kind === 'ACCOUNT') row(`${r.code}  ${r.label}`, r.amounts, { indent: r.depth - 1 });
      else row(r.label, r.amounts, { bold: true });
      if (r.kind === 'TOTAL') doc.y += 6;
    }
    doc.end();
  });
}
