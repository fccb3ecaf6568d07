/**
 * Bank statements and reconciliation (issue 17) through HTTP, the SDK and PostgreSQL: a CSV export
 * (a column mapping chosen once), an OFX file and a camt.053 file are each imported into a bank
 * account of a book, matched to the book's entries (suggested and accepted, or chosen), the rest
 * posted from a rule or by hand, reconciled and closed. Duplicate imports add nothing; a
 * reconciliation that does not agree cannot be closed; a closed one never changes.
 *
 * The book (USD): 1010 / 1011 / 1012 Bank accounts (one per file format), 1100 Receivables,
 * 2000 Payables, 3000 Capital, 4000 Revenue, 5100 Rent, 5200 Bank fees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BankCsvMappingInput, LedgerClient } from '../../client-sdk/index.js';
import { createAccounts, createBook, decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let treasurer: LedgerClient;
let bookId: string;
const acc: Record<string, string> = {};

async function post(
  day: string,
  debit: string,
  credit: string,
  amount: string,
  memo: string,
  key = newKey('e'),
): Promise<string> {
  const posted = await treasurer.postJournalEntry({
    bookId,
    idempotencyKey: key,
    effectiveAt: `${day}T00:00:00.000Z`,
    memo,
    lines: [
      { accountCode: debit, side: 'DEBIT', amount, unit: 'USD' },
      { accountCode: credit, side: 'CREDIT', amount, unit: 'USD' },
    ],
  });
  expect(posted.userErrors).toEqual([]);
  return posted.entry!.id;
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const book = await createBook(admin, { maxBackdateDays: 36_600 });
  bookId = book.id;
  const issued = await issueToken(admin, {
    grants: [{ role: 'TREASURER', scope: decodeGlobalId(book.id).bookId }],
  });
  treasurer = ledgerClient(server.url, { token: issued.token });
  const created = await createAccounts(treasurer, bookId, [
    { code: '1010', type: 'ASSET' },
    { code: '1011', type: 'ASSET' },
    { code: '1012', type: 'ASSET' },
    { code: '1100', type: 'ASSET' },
    { code: '2000', type: 'LIABILITY' },
    { code: '3000', type: 'EQUITY' },
    { code: '4000', type: 'REVENUE' },
    { code: '5100', type: 'EXPENSE' },
    { code: '5200', type: 'EXPENSE' },
  ]);
  for (const [code, a] of Object.entries(created)) acc[code] = a.id;
});

afterAll(async () => {
  await server?.stop();
});

// ---------- CSV ----------

/** A German bank's export: semicolons, day-first dates, decimal commas, money in and out columns. */
const CSV_MAPPING: BankCsvMappingInput = {
  delimiter: 'SEMICOLON',
  dateColumn: 'Datum',
  dateFormat: 'DMY_SLASH',
  moneyInColumn: 'Eingang',
  moneyOutColumn: 'Ausgang',
  decimalComma: true,
  descriptionColumns: ['Text'],
  referenceColumn: 'Referenz',
  balanceColumn: 'Saldo',
};

const CSV_MARCH = [
  'Datum;Text;Referenz;Eingang;Ausgang;Saldo',
  '04/03/2025;INV-1001 Customer A;REF001;1.200,00;;6.200,00',
  '10/03/2025;Supplier paint;REF002;;300,00;5.900,00',
  '31/03/2025;RENT MARCH Landlord;REF003;;800,00;5.100,00',
  '31/03/2025;Bank fee;REF004;;4,50;5.095,50',
].join('\r\n');

describe('a CSV statement, matched, completed by a rule and by hand, reconciled', () => {
  // The book before the statement: 5,000.00 paid in (February), a customer's 1,200.00 (3 March),
  // the supplier paid 300.00 (10 March), cheque 1045 of 150.00 written on 28 March (not cashed yet).
  let cheque = '';
  let reconciliationId = '';

  it('imports the file once, with the mapping remembered; the same file again imports nothing new', async () => {
    await post('2025-02-20', '1010', '3000', '5000.00', 'Capital paid in');
    await post('2025-03-03', '1010', '1100', '1200.00', 'Invoice INV-1001 paid');
    await post('2025-03-10', '2000', '1010', '300.00', 'Supplier paint');
    cheque = await post('2025-03-28', '2000', '1010', '150.00', 'Cheque 1045');

    // Without a mapping the account cannot read CSV yet.
    const noMapping = await treasurer.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: CSV_MARCH,
      idempotencyKey: newKey('csv'),
    });
    expect(noMapping.userErrors).toEqual([expect.objectContaining({ code: 'BANK_MAPPING_REQUIRED' })]);

    const key = newKey('csv');
    const first = await treasurer.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: CSV_MARCH,
      fileName: 'march.csv',
      csvMapping: CSV_MAPPING,
      idempotencyKey: key,
    });
    expect(first.userErrors).toEqual([]);
    expect(first.statement).toMatchObject({
      format: 'CSV',
      periodStart: '2025-03-04',
      periodEnd: '2025-03-31',
      lineCount: 4,
      importedCount: 4,
      duplicateCount: 0,
      // The running balance of the last line; the opening is it less the lines: 5,095.50 - 895.50.
      closingBalance: '5095.50',
      openingBalance: '5000.00',
    });
    // The mapping is remembered: the same export next time needs none.
    expect((await treasurer.bankAccount({ accountId: acc['1010']! }))!.csvMapping).toMatchObject({
      delimiter: 'SEMICOLON',
      decimalComma: true,
      dateFormat: 'DMY_SLASH',
    });
    const replay = await treasurer.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: CSV_MARCH,
      fileName: 'march.csv',
      csvMapping: CSV_MAPPING,
      idempotencyKey: key,
    });
    expect(replay).toMatchObject({ replayed: true, statement: { id: first.statement!.id } });
    const again = await treasurer.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: CSV_MARCH,
      idempotencyKey: newKey('csv-again'),
    });
    expect(again.statement).toMatchObject({ lineCount: 4, importedCount: 0, duplicateCount: 4 });
    const lines = (await treasurer.bankLines({ accountId: acc['1010']!, first: 100 }))!;
    expect(lines.totalCount).toBe(4);
    expect(lines.edges.map((e) => [e.node.bookedOn, e.node.amount, e.node.reference])).toEqual([
      ['2025-03-04', '1200.00', 'REF001'],
      ['2025-03-10', '-300.00', 'REF002'],
      ['2025-03-31', '-800.00', 'REF003'],
      ['2025-03-31', '-4.50', 'REF004'],
    ]);
  });

  it('suggests entries for lines of the same amount within the window, and accepts them', async () => {
    const suggestions = (await treasurer.bankMatchSuggestions({ accountId: acc['1010']! }))!;
    expect(suggestions.map((s) => [s.line.reference, s.entry.memo, s.dayDifference])).toEqual([
      ['REF001', 'Invoice INV-1001 paid', -1],
      ['REF002', 'Supplier paint', 0],
    ]);
    const accepted = await treasurer.acceptBankSuggestions({ accountId: acc['1010']! });
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.lines.map((l) => l.match?.how)).toEqual(['SUGGESTION', 'SUGGESTION']);
    expect((await treasurer.bankMatchSuggestions({ accountId: acc['1010']! }))!).toEqual([]);
  });

  it('cannot close while statement lines are unmatched', async () => {
    const started = await treasurer.startBankReconciliation({
      accountId: acc['1010']!,
      periodStart: '2025-03-01',
      periodEnd: '2025-03-31',
    });
    expect(started.userErrors).toEqual([]);
    const rec = started.reconciliation!;
    reconciliationId = rec.id;
    // The statement balance comes from the imported file; the books: 5,000.00 + 1,200.00 - 300.00 - 150.00.
    expect(rec).toMatchObject({
      status: 'OPEN',
      statementBalance: '5095.50',
      bookBalance: '5750.00',
      matchedCount: 2,
      matchedTotal: '900.00',
      unmatchedLinesTotal: '-804.50',
      outstandingTotal: '-150.00',
      agrees: false,
    });
    expect(rec.outstandingEntries.map((e) => e.id)).toEqual([cheque]);
    // 5,095.50 - (5,750.00 + 150.00 - 804.50) = 0.00: everything is explained, but two lines are not in the books.
    expect(rec.difference).toBe('0.00');
    const closed = await treasurer.closeBankReconciliation({ reconciliationId });
    expect(closed.userErrors).toEqual([expect.objectContaining({ code: 'RECONCILIATION_NOT_BALANCED' })]);
    expect(closed.userErrors[0]!.message).toContain('2 statement line(s) not matched');
  });

  it('posts the rent from a rule and the fee by hand, each matched at once', async () => {
    const rule = await treasurer.createBankRule({
      accountId: acc['1010']!,
      descriptionContains: 'rent',
      direction: 'OUT',
      counterAccountCode: '5100',
      memo: 'Rent',
    });
    expect(rule.userErrors).toEqual([]);
    // A rule for money in does not touch money out.
    await treasurer.createBankRule({
      accountId: acc['1010']!,
      descriptionContains: 'fee',
      direction: 'IN',
      counterAccountCode: '4000',
    });
    const key = newKey('rules');
    const applied = await treasurer.applyBankRules({ accountId: acc['1010']!, idempotencyKey: key });
    expect(applied.userErrors).toEqual([]);
    expect(applied.postedCount).toBe(1);
    const posting = applied.postings[0]!;
    expect(posting.line.reference).toBe('REF003');
    expect(posting.entry).toMatchObject({ memo: 'Rent', effectiveAt: '2025-03-31T00:00:00.000Z' });
    expect(posting.entry!.lines.map((l) => [l.account.code, l.side, l.amount])).toEqual([
      ['1010', 'CREDIT', '800.00'],
      ['5100', 'DEBIT', '800.00'],
    ]);
    expect(posting.line.match).toMatchObject({ how: 'RULE', rule: { id: rule.rule!.id } });
    const replay = await treasurer.applyBankRules({ accountId: acc['1010']!, idempotencyKey: key });
    expect(replay).toMatchObject({ replayed: true, postedCount: 1 });
    const fee = (await treasurer.bankLines({ accountId: acc['1010']!, status: 'UNMATCHED', first: 10 }))!
      .edges[0]!.node;
    expect(fee.reference).toBe('REF004');
    const byHand = await treasurer.postBankLine({
      lineId: fee.id,
      counterAccountCode: '5200',
      idempotencyKey: newKey('fee'),
    });
    expect(byHand.userErrors).toEqual([]);
    expect(byHand.posting!.line.match?.how).toBe('BY_HAND');
    const twice = await treasurer.postBankLine({
      lineId: fee.id,
      counterAccountCode: '5200',
      idempotencyKey: newKey('fee'),
    });
    expect(twice.userErrors).toEqual([expect.objectContaining({ code: 'LINE_ALREADY_MATCHED' })]);
  });

  it('agrees now (the cheque outstanding), closes, and then never changes', async () => {
    const rec = (await treasurer.bankReconciliation({ id: reconciliationId }))!;
    // Books 5,750.00 - 800.00 - 4.50 = 4,945.50; less the outstanding cheque (-150.00): 5,095.50, the statement's.
    expect(rec).toMatchObject({
      bookBalance: '4945.50',
      outstandingTotal: '-150.00',
      matchedCount: 4,
      unmatchedLines: [],
      difference: '0.00',
      agrees: true,
    });
    const closed = await treasurer.closeBankReconciliation({ reconciliationId });
    expect(closed.userErrors).toEqual([]);
    expect(closed.reconciliation).toMatchObject({ status: 'CLOSED', agrees: true });
    expect(closed.reconciliation!.closedAt).not.toBeNull();

    // Closed: the figures stay as closed even when the books move inside the period.
    await post('2025-03-15', '1010', '4000', '10.00', 'Late entry in March');
    const after = (await treasurer.bankReconciliation({ id: reconciliationId }))!;
    expect(after).toMatchObject({ status: 'CLOSED', bookBalance: '4945.50', agrees: true });
    const again = await treasurer.closeBankReconciliation({ reconciliationId });
    expect(again.userErrors).toEqual([expect.objectContaining({ code: 'RECONCILIATION_CLOSED' })]);
    const line = (await treasurer.bankLines({ accountId: acc['1010']!, first: 1 }))!.edges[0]!.node;
    const unmatch = await treasurer.unmatchBankLine({ lineId: line.id });
    expect(unmatch.userErrors).toEqual([expect.objectContaining({ code: 'RECONCILIATION_CLOSED' })]);
    // A new line dated inside the closed period is refused, by line; known lines are still duplicates.
    const late = await treasurer.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: `${CSV_MARCH}\r\n20/03/2025;Forgotten deposit;REF009;10,00;;5.105,50`,
      idempotencyKey: newKey('late'),
    });
    expect(late.imported).toBe(false);
    expect(late.rowErrors).toEqual([expect.objectContaining({ row: 6, code: 'RECONCILIATION_CLOSED' })]);
    const listed = (await treasurer.bankReconciliations({ accountId: acc['1010']!, status: 'CLOSED' }))!;
    expect(listed.edges.map((e) => e.node.id)).toEqual([reconciliationId]);
    // The next period starts the day after.
    const gap = await treasurer.startBankReconciliation({
      accountId: acc['1010']!,
      periodStart: '2025-04-02',
      periodEnd: '2025-04-30',
      statementBalance: '5095.50',
    });
    expect(gap.userErrors).toEqual([expect.objectContaining({ code: 'RECONCILIATION_PERIOD' })]);
  });

  it('names every problem of a bad file by line and imports nothing', async () => {
    const bad = [
      'Datum;Text;Referenz;Eingang;Ausgang;Saldo',
      '31/04/2025;No such day;R1;1,00;;1,00',
      '01/04/2025;Two amounts;R2;1,00;2,00;1,00',
      '02/04/2025;Fine;R3;;3,00;1,00',
      '03/04/2025;Too fine;R4;;3,001;1,00',
    ].join('\n');
    const result = await treasurer.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: bad,
      idempotencyKey: newKey('bad'),
    });
    expect(result.imported).toBe(false);
    expect(result.rowErrors.map((e) => [e.row, e.code])).toEqual([
      [2, 'INVALID_DATE'],
      [3, 'INVALID_AMOUNT'],
    ]);
    const scale = await treasurer.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: bad
        .split('\n')
        .filter((_, i) => i === 0 || i >= 3)
        .join('\n'),
      idempotencyKey: newKey('bad'),
    });
    expect(scale.rowErrors.map((e) => [e.row, e.code])).toEqual([[3, 'INVALID_AMOUNT']]);
    expect(
      (await treasurer.bankLines({ accountId: acc['1010']!, from: '2025-04-01', first: 10 }))!.totalCount,
    ).toBe(0);
  });
});

// ---------- OFX ----------

const OFX = (currency = 'USD') => `OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20250501120000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1>
<STMTTRNRS>
<TRNUID>1
<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS>
<CURDEF>${currency}
<BANKACCTFROM><BANKID>121000248<ACCTID>000123456<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST>
<DTSTART>20250401
<DTEND>20250430
<STMTTRN>
<TRNTYPE>CREDIT
<DTPOSTED>20250402120000[-5:EST]
<TRNAMT>2500.00
<FITID>OFX-0001
<NAME>Bakery wholesale
<MEMO>Invoice 77
</STMTTRN>
<STMTTRN>
<TRNTYPE>DEBIT
<DTPOSTED>20250415
<TRNAMT>-640.25
<FITID>OFX-0002
<NAME>Power company
</STMTTRN>
<STMTTRN>
<TRNTYPE>SRVCHG
<DTPOSTED>20250430
<TRNAMT>-12.00
<FITID>OFX-0003
<NAME>Monthly service charge
</STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>1847.75<DTASOF>20250430</LEDGERBAL>
</STMTRS>
</STMTTRNRS>
</BANKMSGSRSV1>
</OFX>
`;

describe('an OFX statement', () => {
  it('is imported (duplicates by FITID), matched, the fee posted by a rule, reconciled and closed', async () => {
    await post('2025-04-02', '1011', '4000', '2500.00', 'Invoice 77 wholesale');
    await post('2025-04-14', '5100', '1011', '640.25', 'Power bill');
    const wrongCurrency = await treasurer.importBankStatement({
      accountId: acc['1011']!,
      format: 'OFX',
      content: OFX('EUR'),
      idempotencyKey: newKey('ofx'),
    });
    expect(wrongCurrency.rowErrors).toEqual([expect.objectContaining({ code: 'UNIT_MISMATCH' })]);
    const imported = await treasurer.importBankStatement({
      accountId: acc['1011']!,
      format: 'OFX',
      content: OFX(),
      idempotencyKey: newKey('ofx'),
    });
    expect(imported.userErrors).toEqual([]);
    expect(imported.statement).toMatchObject({
      importedCount: 3,
      periodStart: '2025-04-01',
      periodEnd: '2025-04-30',
      closingBalance: '1847.75',
      // 1,847.75 - (2,500.00 - 640.25 - 12.00)
      openingBalance: '0.00',
    });
    // An OFX 1 file's transactions are named by the line each starts on.
    const lines = (await treasurer.bankLines({ accountId: acc['1011']!, first: 10 }))!.edges.map(
      (e) => e.node,
    );
    expect(lines.map((l) => [l.lineNumber, l.reference, l.amount, l.description])).toEqual([
      [23, 'OFX-0001', '2500.00', 'Bakery wholesale - Invoice 77'],
      [31, 'OFX-0002', '-640.25', 'Power company'],
      [38, 'OFX-0003', '-12.00', 'Monthly service charge'],
    ]);
    const duplicate = await treasurer.importBankStatement({
      accountId: acc['1011']!,
      format: 'OFX',
      content: OFX(),
      idempotencyKey: newKey('ofx'),
    });
    expect(duplicate.statement).toMatchObject({ importedCount: 0, duplicateCount: 3 });

    const accepted = await treasurer.acceptBankSuggestions({ accountId: acc['1011']! });
    expect(accepted.lines.map((l) => l.reference)).toEqual(['OFX-0001', 'OFX-0002']);
    await treasurer.createBankRule({
      accountId: acc['1011']!,
      descriptionContains: 'service charge',
      counterAccountCode: '5200',
    });
    expect(
      (await treasurer.applyBankRules({ accountId: acc['1011']!, idempotencyKey: newKey('r') })).postedCount,
    ).toBe(1);
    const started = await treasurer.startBankReconciliation({
      accountId: acc['1011']!,
      periodStart: '2025-04-01',
      periodEnd: '2025-04-30',
    });
    expect(started.reconciliation).toMatchObject({
      statementBalance: '1847.75',
      bookBalance: '1847.75',
      outstandingTotal: '0.00',
      agrees: true,
    });
    const closed = await treasurer.closeBankReconciliation({ reconciliationId: started.reconciliation!.id });
    expect(closed.reconciliation?.status).toBe('CLOSED');
  });
});

// ---------- camt.053 ----------

const CAMT = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>STMT-2025-05</MsgId><CreDtTm>2025-06-01T06:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>2025-05</Id>
      <CreDtTm>2025-06-01T06:00:00</CreDtTm>
      <FrToDt><FrDtTm>2025-05-01T00:00:00</FrDtTm><ToDtTm>2025-05-31T23:59:59</ToDtTm></FrToDt>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>USD</Ccy></Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="USD">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-05-01</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="USD">700.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-05-31</Dt></Dt>
      </Bal>
      <Ntry>
        <Amt Ccy="USD">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2025-05-05</Dt></BookgDt><ValDt><Dt>2025-05-05</Dt></ValDt>
        <AcctSvcrRef>CAMT-A1</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E2E-77</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>Grocery Co-op</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>Order 5512</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="USD">300.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2025-05-20</Dt></BookgDt>
        <AcctSvcrRef>CAMT-A2</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <RltdPties><Cdtr><Nm>Printer Ltd</Nm></Cdtr></RltdPties>
          <RmtInf><Ustrd>Flyers</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="USD">55.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>PDNG</Sts>
        <BookgDt><Dt>2025-05-31</Dt></BookgDt>
        <AcctSvcrRef>CAMT-A3</AcctSvcrRef>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
`;

describe('a camt.053 statement', () => {
  it('is imported (booked entries only), matched by reference, one suggestion overridden, reconciled', async () => {
    // Two entries of 300.00: the suggestion takes the nearer date, the treasurer knows better.
    await post('2025-05-05', '1012', '4000', '1000.00', 'Sale, order 5512 (CAMT-A1)');
    const near = await post('2025-05-20', '5100', '1012', '300.00', 'Shelving (a cheque, not the printer)');
    const printer = await post('2025-05-18', '5100', '1012', '300.00', 'Printer Ltd flyers');
    const imported = await treasurer.importBankStatement({
      accountId: acc['1012']!,
      format: 'CAMT053',
      content: CAMT,
      idempotencyKey: newKey('camt'),
    });
    expect(imported.userErrors).toEqual([]);
    expect(imported.rowErrors).toEqual([]);
    expect(imported.statement).toMatchObject({
      importedCount: 2,
      openingBalance: '0.00',
      closingBalance: '700.00',
      periodEnd: '2025-05-31',
    });
    const suggestions = (await treasurer.bankMatchSuggestions({ accountId: acc['1012']! }))!;
    expect(
      suggestions.map((s) => [s.line.reference, s.line.description, s.entry.id, s.referenceMatched]),
    ).toEqual([
      ['CAMT-A1', 'Grocery Co-op - Order 5512', expect.any(String), true],
      ['CAMT-A2', 'Printer Ltd - Flyers', near, false],
    ]);
    const lines = suggestions.map((s) => s.line);
    const chosen = await treasurer.confirmBankMatches({
      accountId: acc['1012']!,
      matches: [
        { lineId: lines[0]!.id, entryId: suggestions[0]!.entry.id },
        { lineId: lines[1]!.id, entryId: printer },
      ],
    });
    expect(chosen.userErrors).toEqual([]);
    expect(chosen.lines.map((l) => [l.match?.how, l.match?.entry.id])).toEqual([
      ['CHOSEN', suggestions[0]!.entry.id],
      ['CHOSEN', printer],
    ]);
    // The books hold the shelving cheque the bank has not seen: 1,000.00 - 300.00 - 300.00 = 400.00, outstanding -300.00.
    const started = await treasurer.startBankReconciliation({
      accountId: acc['1012']!,
      periodStart: '2025-05-01',
      periodEnd: '2025-05-31',
    });
    expect(started.reconciliation).toMatchObject({
      statementBalance: '700.00',
      bookBalance: '400.00',
      outstandingTotal: '-300.00',
      agrees: true,
    });
    expect(started.reconciliation!.outstandingEntries.map((e) => e.id)).toEqual([near]);
    expect(
      (await treasurer.closeBankReconciliation({ reconciliationId: started.reconciliation!.id }))
        .reconciliation?.status,
    ).toBe('CLOSED');
  });

  it('refuses a match of another amount or an entry that already stands for a line, and broken XML by line', async () => {
    const other = await post('2025-05-25', '1012', '4000', '12.34', 'Unrelated');
    const line = (await treasurer.bankLines({ accountId: acc['1012']!, first: 1 }))!.edges[0]!.node;
    const wrong = await treasurer.confirmBankMatches({
      accountId: acc['1012']!,
      matches: [{ lineId: line.id, entryId: other }],
    });
    expect(wrong.userErrors[0]?.code).toBe('LINE_ALREADY_MATCHED');
    const broken = await treasurer.importBankStatement({
      accountId: acc['1012']!,
      format: 'CAMT053',
      content: CAMT.replace('<Ntry>', '<Ntry><Oops>'),
      idempotencyKey: newKey('camt'),
    });
    expect(broken.imported).toBe(false);
    expect(broken.rowErrors[0]).toMatchObject({ code: 'INVALID_BANK_FILE' });
    expect(broken.rowErrors[0]!.row).toBeGreaterThan(1);
  });
});

describe('a reconciliation that does not agree', () => {
  it('cannot be closed: a statement balance the books do not reach', async () => {
    // 1012 is reconciled to 31 May; June: the books have 12.34 in (25 May... and nothing else in June).
    const started = await treasurer.startBankReconciliation({
      accountId: acc['1012']!,
      periodStart: '2025-06-01',
      periodEnd: '2025-06-30',
      statementBalance: '750.00',
    });
    expect(started.userErrors).toEqual([]);
    // Books at 30 June: 400.00 + 12.34; outstanding: the shelving cheque -300.00 and the 12.34 never seen by the bank.
    expect(started.reconciliation).toMatchObject({
      bookBalance: '412.34',
      outstandingTotal: '-287.66',
      agrees: false,
    });
    // 750.00 - (412.34 + 287.66) = 50.00 that nothing explains.
    expect(started.reconciliation!.difference).toBe('50.00');
    const closed = await treasurer.closeBankReconciliation({ reconciliationId: started.reconciliation!.id });
    expect(closed.reconciliation).toBeNull();
    expect(closed.userErrors).toEqual([expect.objectContaining({ code: 'RECONCILIATION_NOT_BALANCED' })]);
    expect(closed.userErrors[0]!.message).toContain('difference 50.00');
    expect((await treasurer.bankReconciliation({ id: started.reconciliation!.id }))!.status).toBe('OPEN');
    // Only one open period at a time.
    const second = await treasurer.startBankReconciliation({
      accountId: acc['1012']!,
      periodStart: '2025-07-01',
      periodEnd: '2025-07-31',
      statementBalance: '1.00',
    });
    expect(second.userErrors).toEqual([expect.objectContaining({ code: 'RECONCILIATION_PERIOD' })]);
  });

  it('another tenant sees nothing and changes nothing', async () => {
    const other = await createBook(admin);
    const issued = await issueToken(admin, {
      grants: [{ role: 'TREASURER', scope: decodeGlobalId(other.id).bookId }],
    });
    const stranger = ledgerClient(server.url, { token: issued.token });
    expect(await stranger.bankAccount({ accountId: acc['1012']! })).toBeNull();
    const tried = await stranger.importBankStatement({
      accountId: acc['1012']!,
      format: 'CAMT053',
      content: CAMT,
      idempotencyKey: newKey('x'),
    });
    expect(tried.userErrors).toEqual([expect.objectContaining({ code: 'UNKNOWN_ACCOUNT' })]);
    const rule = await stranger.createBankRule({
      accountId: acc['1012']!,
      descriptionContains: 'x',
      counterAccountCode: '4000',
    });
    expect(rule.userErrors).toEqual([expect.objectContaining({ code: 'UNKNOWN_ACCOUNT' })]);
  });
});
