/**
 * Documents of patronage: each member's written notice of allocation (HTML and PDF, made with
 * pdfkit) and the co-op's year-end 1099-PATR data as CSV.
 *
 * The notice states the member's patronage, share, allocation, its cash and retained parts, whether
 * the retained part is a qualified or non-qualified written notice, the member's consent, for a
 * qualified notice the right to redeem it in cash within 90 days of the notice, and when the
 * retained part is expected to revolve.
 *
 * 1099-PATR (IRS instructions): box 1 patronage dividends = cash paid in the year plus qualified
 * written notices issued in it; box 5 = redemptions of non-qualified notices paid in it; a form
 * only for a recipient paid $10 or more. Rows are per person or organisation (a member who
 * rejoined has one row for both memberships). The recipient's TIN is not kept by this ledger: the
 * column is left for the co-op to fill in.
 */

import { memberRoster, type RosterMember } from '../coops/index.js';
import {
  addDaysTo,
  addMonths,
  type Decimal,
  FORM_1099_PATR_THRESHOLD_MINOR,
  LedgerError,
  toMinor,
  ZERO,
} from '../core/index.js';
import { isUuid } from '../platform/ids.js';
import { loadPdfKit, unicodeSansFonts } from '../platform/pdfkit.js';
import type { PatronageDeps } from './deps.js';
import { coopOf } from './policy.js';
import { allocationLine, getRuns } from './reading.js';
import type { AllocationLine, NoticeDocument, RunRecord, TaxFormRow } from './records.js';
import { memberAllocations, taxYearSums } from './store.js';

/** Days a qualified notice may be redeemed in cash at the member's option (26 U.S.C. 1388(c)). */
export const QUALIFIED_REDEMPTION_DAYS = 90;

export interface NoticeContent {
  title: string;
  coopName: string;
  lines: { label: string; value: string }[];
  paragraphs: string[];
}

const CONSENT_TEXT = {
  BYLAW: "given by the co-op's bylaws",
  WRITTEN: 'given in writing',
  NONE: 'not given',
} as const;

/** How the run's loss rule charged the loss (each run states its own policy version's rule). */
const LOSS_RULE_TEXT = {
  RESERVE_FIRST: 'to the collective reserve first (up to its balance) and then to members by patronage',
  MEMBERS_BY_PATRONAGE: 'to members by patronage',
  RESERVE_ONLY: 'to the collective reserve only',
} as const;

/** The notice's words and figures, shared by the HTML and the PDF. */
export function noticeContent(
  coopName: string,
  run: RunRecord,
  line: AllocationLine,
  member: RosterMember,
): NoticeContent {
  const scale = run.currency.scale;
  const money = (d: Decimal) => `${d.toFixed(scale)} ${run.currency.code}`;
  const loss = run.kind === 'LOSS';
  const lines: { label: string; value: string }[] = [
    { label: 'Member', value: `${member.partyName} (member number ${member.memberNumber})` },
    { label: 'Fiscal year', value: `${run.fiscalYear} (${run.periodStart} to ${run.periodEnd})` },
    { label: 'Notice date', value: run.allocatedOn },
  ];
  for (const p of line.patronage) {
    const unit = ` ${p.unit.code}`;
    const scale = p.unit.scale;
    lines.push({
      label: `Patronage: ${p.measure}`,
      value: `${p.counted.toFixed(scale)}${unit} counted${p.excluded.isZero() ? '' : `; ${p.excluded.toFixed(scale)}${unit} recorded outside your membership, not counted`}`,
    });
  }
  lines.push({ label: 'Your share of the member pool', value: line.share });
  lines.push({ label: loss ? 'Loss charged to members' : 'Member pool', value: money(run.memberPool.abs()) });
  const paragraphs: string[] = [];
  if (loss) {
    lines.push({ label: 'Your share of the loss', value: money(line.allocation.neg()) });
    lines.push({ label: 'Charged to your internal capital account', value: money(line.retained.neg()) });
    paragraphs.push(
      `The co-op had a net loss of ${money(run.surplus.neg())} in fiscal year ${run.fiscalYear}. Its policy charges a loss ` +
        `${LOSS_RULE_TEXT[run.lossRule]}; your share above was charged to your internal ` +
        'capital account and is written off your retained allocations, oldest first.',
    );
  } else {
    const status = line.qualified ? 'QUALIFIED' : 'NON-QUALIFIED';
    lines.push({ label: 'Your patronage allocation', value: money(line.allocation) });
    lines.push({ label: 'Paid in cash', value: money(line.cash) });
    lines.push({ label: 'Retained in your internal capital account', value: money(line.retained) });
    lines.push({ label: 'Written notice', value: status });
    lines.push({ label: 'Consent to include in income', value: CONSENT_TEXT[line.consent] });
    if (!line.belowMinimum.isZero())
      paragraphs.push(
        `Your allocation of ${money(line.belowMinimum)} was below the co-op's minimum allocation and was added to the collective reserve.`,
      );
    if (line.qualified) {
      // The 90-day right is to redeem what is retained: none when nothing was (an allocation below
      // the minimum, or a former member paid all in cash).
      paragraphs.push(
        line.retained.gt(ZERO)
          ? `This is a qualified written notice of allocation. You may redeem the retained amount of ${money(line.retained)} ` +
              `in cash by written request within ${QUALIFIED_REDEMPTION_DAYS} days of the notice date, that is until ` +
              `${addDaysTo(run.allocatedOn, QUALIFIED_REDEMPTION_DAYS)}.`
          : 'This is a qualified written notice of allocation. Nothing of it is retained.',
      );
      paragraphs.push(
        'Report the cash paid and the stated amount of this qualified notice as income for the year you receive it ' +
          '(Form 1099-PATR, box 1).',
      );
    } else {
      paragraphs.push(
        'This is a non-qualified written notice of allocation: the retained amount is not income to you now; it is ' +
          'taxable when it is redeemed (Form 1099-PATR, box 5). The cash part is income for the year it is paid (box 1).',
      );
    }
    if (line.retained.gt(ZERO))
      paragraphs.push(
        `The retained amount revolves ${run.revolvingYears} years after fiscal year ${run.fiscalYear} ends: it is expected ` +
          `to be redeemed on or after ${addMonths(run.periodEnd, 12 * run.revolvingYears)}, oldest years first, as the ` +
          "co-op's finances allow.",
      );
  }
  return {
    title: loss ? 'Notice of loss allocation' : 'Written notice of allocation',
    coopName,
    lines,
    paragraphs,
  };
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function noticeHtml(c: NoticeContent): string {
  const rows = c.lines
    .map((l) => `      <tr><th scope="row">${escapeHtml(l.label)}</th><td>${escapeHtml(l.value)}</td></tr>`)
    .join('\n');
  const paragraphs = c.paragraphs.map((p) => `    <p>${escapeHtml(p)}</p>`).join('\n');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${escapeHtml(`${c.title} - ${c.coopName}`)}</title>
    <style>body{font-family:sans-serif;max-width:40em;margin:2em auto}th{text-align:left;padding-right:1em}</style>
  </head>
  <body>
    <h1>${escapeHtml(c.title)}</h1>
    <h2>${escapeHtml(c.coopName)}</h2>
    <table>
${rows}
    </table>
${paragraphs}
  </body>
</html>
`;
}

/**
 * The PDF's built-in Helvetica is encoded in WinAnsi: a member or co-op name with a letter outside
 * it (Ł, ễ, Ψ, Cyrillic) came out as other glyphs and threw off the text after it on the line, the
 * member number included. A notice whose text is all printable ASCII and Latin-1 is written in
 * Helvetica as before (about 10 ms); any other is written in DejaVu Sans, embedded and subset by
 * pdfkit (Latin, Greek, Cyrillic, Hebrew and Arabic letters; CJK shows as blanks without
 * disturbing the rest), which costs about 70 ms more a notice, the font being parsed for each.
 * The font files are read once per process (unicodeSansFonts).
 */
/** Printable ASCII and Latin-1: what Helvetica's WinAnsi encoding writes as it is. */
const LATIN1_PRINTABLE = /^[\x20-\x7E\xA0-\xFF]*$/;

function fitsHelvetica(c: NoticeContent): boolean {
  return [c.title, c.coopName, ...c.lines.flatMap((l) => [l.label, l.value]), ...c.paragraphs].every((t) =>
    LATIN1_PRINTABLE.test(t),
  );
}

/** The notice as a PDF (US Letter), dated with its notice date so the bytes are reproducible. */
export async function noticePdf(c: NoticeContent, noticeDate: string): Promise<Buffer> {
  const PDFDocument = await loadPdfKit();
  const unicode = fitsHelvetica(c) ? null : await unicodeSansFonts();
  return new Promise((resolve, reject) => {
    const date = new Date(`${noticeDate}T00:00:00.000Z`);
    const doc = new PDFDocument({
      size: 'LETTER',
      margin: 54,
      info: { Title: `${c.title} - ${c.coopName}`, Author: c.coopName, CreationDate: date, ModDate: date },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    let regular = 'Helvetica';
    let bold = 'Helvetica-Bold';
    if (unicode) {
      doc.registerFont('Notice', unicode.regular);
      doc.registerFont('Notice-Bold', unicode.bold);
      regular = 'Notice';
      bold = 'Notice-Bold';
    }
    doc.font(bold).fontSize(16).text(c.title);
    doc.font(regular).fontSize(12).text(c.coopName);
    doc.moveDown();
    doc.fontSize(10);
    for (const l of c.lines) {
      doc.font(bold).text(`${l.label}: `, { continued: true });
      doc.font(regular).text(l.value);
    }
    doc.moveDown();
    for (const p of c.paragraphs) {
      doc.text(p, { align: 'left' });
      doc.moveDown(0.5);
    }
    doc.end();
  });
}

/** A member's notice of a run; null when the run or the member's allocation in it is unknown. */
export async function notice(
  deps: PatronageDeps,
  bookId: string,
  runId: string,
  membershipId: string,
): Promise<NoticeDocument | null> {
  if (!isUuid(bookId) || !isUuid(runId) || !isUuid(membershipId)) return null;
  const [run] = await getRuns(deps, [{ bookId, id: runId }]);
  if (!run) return null;
  const row = (await memberAllocations(deps.pool, [{ bookId, membershipId }])).find((a) => a.runId === runId);
  if (!row) return null;
  const [member] = await memberRoster(deps.pool, bookId, [membershipId]);
  const coop = await coopOf(deps, bookId);
  const content = noticeContent(coop!.name, run, allocationLine(row), member!);
  return {
    runId,
    membershipId,
    fileName: `patronage-notice-${run.fiscalYear}-member-${member!.memberNumber}.pdf`,
    html: noticeHtml(content),
    pdf: await noticePdf(content, run.allocatedOn),
  };
}

// ---------- 1099-PATR ----------

export const TAX_CSV_COLUMNS = [
  'tax_year',
  'payer_name',
  'recipient_name',
  'recipient_tin',
  'recipient_address',
  'member_numbers',
  'box1_patronage_dividends',
  'box2_nonpatronage_distributions',
  'box3_per_unit_retain_allocations',
  'box4_federal_income_tax_withheld',
  'box5_redemption_of_nonqualified_notices',
] as const;

const csvField = (s: string) => (/[",\r\n]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Every recipient's 1099-PATR figures for a calendar year, only those paid $10 or more. */
export async function taxForms(
  deps: PatronageDeps,
  bookId: string,
  year: number,
): Promise<{ rows: TaxFormRow[]; csv: string } | LedgerError> {
  const coop = await coopOf(deps, bookId);
  if (!coop) return new LedgerError('UNKNOWN_COOP', 'no such co-op', 'coopId');
  if (!Number.isInteger(year) || year < 1900 || year > 2999)
    return new LedgerError('INVALID_INPUT', 'taxYear must be a year from 1900 to 2999', 'taxYear');
  if (coop.baseCurrency.code !== 'USD')
    return new LedgerError(
      'UNIT_MISMATCH',
      `Form 1099-PATR reports US dollars; this co-op keeps its books in ${coop.baseCurrency.code}`,
      'coopId',
    );
  const sums = await taxYearSums(deps.pool, bookId, year);
  const roster =
    sums.length === 0
      ? []
      : await memberRoster(
          deps.pool,
          bookId,
          sums.map((s) => s.membershipId),
        );
  const byMembership = new Map(roster.map((m) => [m.membershipId, m]));
  const byParty = new Map<string, TaxFormRow>();
  for (const s of sums) {
    const m = byMembership.get(s.membershipId)!;
    const row = byParty.get(m.partyId) ?? {
      partyId: m.partyId,
      name: m.partyName,
      address: m.partyAddress,
      memberNumbers: [],
      box1: ZERO,
      box5: ZERO,
    };
    row.memberNumbers.push(m.memberNumber);
    row.box1 = row.box1.plus(s.cashPaid).plus(s.qualifiedNotices);
    row.box5 = row.box5.plus(s.nonQualifiedRedeemed);
    byParty.set(m.partyId, row);
  }
  const scale = coop.baseCurrency.scale;
  const rows = [...byParty.values()]
    .filter((r) => toMinor(r.box1.plus(r.box5), scale) >= FORM_1099_PATR_THRESHOLD_MINOR)
    .map((r) => ({ ...r, memberNumbers: r.memberNumbers.sort((a, b) => a - b) }))
    .sort((a, b) => a.memberNumbers[0]! - b.memberNumbers[0]!);
  const zero = ZERO.toFixed(scale);
  const csv = [
    TAX_CSV_COLUMNS.join(','),
    ...rows.map((r) =>
      [
        String(year),
        coop.name,
        r.name,
        '',
        r.address,
        r.memberNumbers.join(' '),
        r.box1.toFixed(scale),
        zero,
        zero,
        zero,
        r.box5.toFixed(scale),
      ]
        .map(csvField)
        .join(','),
    ),
  ].join('\r\n');
  return { rows, csv: `${csv}\r\n` };
}
