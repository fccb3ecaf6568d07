/**
 * Bank files as banks write them (the treasurer's desk audit, issue 17), imported through HTTP and
 * the SDK into a USD bank account: a byte-order mark, CR LF line ends, quoted thousands,
 * parentheses and trailing minus for money out, two identical lines in one file, the same file
 * again; and files whose decimal mark is not the mapping's, which must be refused by line (not
 * read with the mark as a thousands separator, 100 times too large). Figures are worked by hand
 * in the comments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BankCsvMappingInput, LedgerClient } from '../../client-sdk/index.js';
import { createAccounts, createBook, decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let bookId: string;
const acc: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  bookId = (await createBook(admin, { maxBackdateDays: 36_600 })).id;
  const created = await createAccounts(admin, bookId, [
    { code: '1010', type: 'ASSET' },
    { code: '1020', type: 'ASSET' },
    { code: '1030', type: 'ASSET' },
    { code: '1040', type: 'ASSET' },
    { code: '1050', type: 'ASSET' },
    { code: '1060', type: 'ASSET' },
    { code: '1070', type: 'ASSET' },
    { code: '1080', type: 'ASSET' },
    { code: '1090', type: 'ASSET' },
    { code: '1110', type: 'ASSET' },
    { code: '1120', type: 'ASSET' },
    { code: '2100', type: 'LIABILITY' },
    { code: '1130', type: 'ASSET' },
    { code: '1140', type: 'ASSET' },
    { code: '5100', type: 'EXPENSE' },
    { code: '3000', type: 'EQUITY' },
  ]);
  for (const [code, a] of Object.entries(created)) acc[code] = a.id;
});

afterAll(async () => {
  await server?.stop();
});

const SIGNED: BankCsvMappingInput = {
  delimiter: 'COMMA',
  dateColumn: 'Date',
  dateFormat: 'ISO',
  amountColumn: 'Amount',
  decimalComma: false,
  descriptionColumns: ['Description'],
  balanceColumn: 'Balance',
};

async function lines(accountId: string) {
  const page = (await admin.bankLines({ accountId, first: 100 }))!;
  return page.edges.map((e) => [e.node.bookedOn, e.node.amount, e.node.description]);
}

describe('a CSV file with a byte-order mark, CR LF, thousands and money out in parentheses', () => {
  // Opening 0.00: +1,234.56 = 1,234.56; two coffees of 3.50 (identical lines, both real) =
  // 1,227.56; 10.00 out written "10.00-" = 1,217.56; 2,000.00 in = 3,217.56 (the closing balance).
  const file = `\uFEFF${[
    'Date,Description,Amount,Balance',
    '2025-06-01,"Deposit, cash","1,234.56","1,234.56"',
    '2025-06-02,Coffee,(3.50),"1,231.06"',
    '2025-06-02,Coffee,(3.50),"1,227.56"',
    '2025-06-03,Card fee,10.00-,"1,217.56"',
    '2025-06-04,Grant,"+2,000.00","3,217.56"',
  ].join('\r\n')}\r\n`;

  it('imports every line once with the hand-worked amounts and balances; the same file again adds nothing', async () => {
    const first = await admin.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: file,
      csvMapping: SIGNED,
      idempotencyKey: newKey('bom'),
    });
    expect(first.userErrors).toEqual([]);
    expect(first.rowErrors).toEqual([]);
    expect(first.statement).toMatchObject({
      lineCount: 5,
      importedCount: 5,
      duplicateCount: 0,
      openingBalance: '0.00',
      closingBalance: '3217.56',
      periodStart: '2025-06-01',
      periodEnd: '2025-06-04',
    });
    expect(await lines(acc['1010']!)).toEqual([
      ['2025-06-01', '1234.56', 'Deposit, cash'],
      ['2025-06-02', '-3.50', 'Coffee'],
      ['2025-06-02', '-3.50', 'Coffee'],
      ['2025-06-03', '-10.00', 'Card fee'],
      ['2025-06-04', '2000.00', 'Grant'],
    ]);
    const again = await admin.importBankStatement({
      accountId: acc['1010']!,
      format: 'CSV',
      content: file,
      idempotencyKey: newKey('bom'),
    });
    expect(again.statement).toMatchObject({ lineCount: 5, importedCount: 0, duplicateCount: 5 });
    expect(await lines(acc['1010']!)).toHaveLength(5);
  });
});

describe('a file whose decimal mark is not the mapping’s', () => {
  it('is refused line by line when the mapping expects decimal commas and the file has points', async () => {
    const result = await admin.importBankStatement({
      accountId: acc['1020']!,
      format: 'CSV',
      // Read with "." as thousands, 12.50 would be 1,250.00 and 0.99 would be 99.00.
      content: [
        'Datum;Text;Betrag',
        '2025-06-02;Kaffee;-12.50',
        '2025-06-03;Zins;0.99',
        '2025-06-04;Miete;-1.250,00',
      ].join('\n'),
      csvMapping: {
        ...SIGNED,
        delimiter: 'SEMICOLON',
        dateColumn: 'Datum',
        amountColumn: 'Betrag',
        descriptionColumns: ['Text'],
        balanceColumn: null,
        decimalComma: true,
      },
      idempotencyKey: newKey('mark'),
    });
    expect(result.imported).toBe(false);
    expect(result.rowErrors.map((e) => [e.row, e.code, e.column])).toEqual([
      [2, 'INVALID_AMOUNT', 'Betrag'],
      [3, 'INVALID_AMOUNT', 'Betrag'],
    ]);
    expect(result.rowErrors[0]!.message).toContain('decimal comma');
    expect(await lines(acc['1020']!)).toEqual([]);
  });

  it('is refused line by line when the mapping expects decimal points and the file has commas', async () => {
    const result = await admin.importBankStatement({
      accountId: acc['1030']!,
      format: 'CSV',
      // Read with "," as thousands, 12,50 would be 1,250.00.
      content: ['Date,Description,In,Out', '2025-06-02,Coffee,,"12,50"', '2025-06-03,Sale,"1,234",'].join(
        '\n',
      ),
      csvMapping: {
        ...SIGNED,
        amountColumn: null,
        moneyInColumn: 'In',
        moneyOutColumn: 'Out',
        balanceColumn: null,
      },
      idempotencyKey: newKey('mark'),
    });
    expect(result.imported).toBe(false);
    expect(result.rowErrors.map((e) => [e.row, e.code])).toEqual([[2, 'INVALID_AMOUNT']]);
    expect(await lines(acc['1030']!)).toEqual([]);
  });
});

describe('a reference that repeats on lines that are not the same', () => {
  // A direct debit's mandate reference is the same every month (and a bank may give a batch's lines
  // one reference): a line is a duplicate of another only with the same reference, day and amount.
  const mapping: BankCsvMappingInput = { ...SIGNED, referenceColumn: 'Reference', balanceColumn: null };
  const file = (rows: string[]) => ['Date,Description,Reference,Amount', ...rows].join('\n');

  it("imports each month's debit and both lines of a batch; an overlapping file adds only what is new", async () => {
    const january = await admin.importBankStatement({
      accountId: acc['1040']!,
      format: 'CSV',
      content: file([
        '2025-01-05,Rent,MANDATE-7,-800.00',
        '2025-01-20,Payroll Ann,BATCH-1,-1500.00',
        '2025-01-20,Payroll Bo,BATCH-1,-1250.00',
      ]),
      csvMapping: mapping,
      idempotencyKey: newKey('ref'),
    });
    expect(january.statement).toMatchObject({ lineCount: 3, importedCount: 3, duplicateCount: 0 });
    // February's export starts with the last days of January (the batch again).
    const february = await admin.importBankStatement({
      accountId: acc['1040']!,
      format: 'CSV',
      content: file([
        '2025-01-20,Payroll Ann,BATCH-1,-1500.00',
        '2025-01-20,Payroll Bo,BATCH-1,-1250.00',
        '2025-02-05,Rent,MANDATE-7,-800.00',
      ]),
      idempotencyKey: newKey('ref'),
    });
    expect(february.statement).toMatchObject({ lineCount: 3, importedCount: 1, duplicateCount: 2 });
    expect(await lines(acc['1040']!)).toEqual([
      ['2025-01-05', '-800.00', 'Rent'],
      ['2025-01-20', '-1500.00', 'Payroll Ann'],
      ['2025-01-20', '-1250.00', 'Payroll Bo'],
      ['2025-02-05', '-800.00', 'Rent'],
    ]);
  });
});

describe('a one-day file, newest line first', () => {
  it('takes the closing balance from the newest line, told by the running balance', async () => {
    // Oldest first the day reads: 0.00 + 100.00 = 100.00, then - 20.00 = 80.00, then + 5.00 =
    // 85.00. The bank lists it newest first, so the first row's balance (85.00) is the closing
    // one and the opening is 85.00 - 85.00 = 0.00.
    const result = await admin.importBankStatement({
      accountId: acc['1050']!,
      format: 'CSV',
      content: [
        'Date,Description,Amount,Balance',
        '2025-07-01,Interest,5.00,85.00',
        '2025-07-01,Fee,-20.00,80.00',
        '2025-07-01,Deposit,100.00,100.00',
      ].join('\n'),
      csvMapping: SIGNED,
      idempotencyKey: newKey('day'),
    });
    expect(result.rowErrors).toEqual([]);
    expect(result.statement).toMatchObject({ closingBalance: '85.00', openingBalance: '0.00' });
  });
});

describe('suggestions when the nearest pair is not the best', () => {
  it('pairs every line when a one-to-one pairing exists', async () => {
    // Lines of 50.00 on 2 and 4 August, entries of 50.00 on 31 July and 3 August, a window of 3
    // days. Nearest first pairs (2 Aug, 3 Aug) and leaves 4 August alone (31 July is 4 days from
    // it); the pairing (2 Aug, 31 July) and (4 Aug, 3 Aug) matches both, 2 + 1 days apart.
    for (const [day, memo] of [
      ['2025-07-31', 'Dues A'],
      ['2025-08-03', 'Dues B'],
    ]) {
      const posted = await admin.postJournalEntry({
        bookId,
        idempotencyKey: newKey('dues'),
        effectiveAt: `${day}T00:00:00.000Z`,
        memo,
        lines: [
          { accountCode: '1060', side: 'DEBIT', amount: '50.00', unit: 'USD' },
          { accountCode: '3000', side: 'CREDIT', amount: '50.00', unit: 'USD' },
        ],
      });
      expect(posted.userErrors).toEqual([]);
    }
    const imported = await admin.importBankStatement({
      accountId: acc['1060']!,
      format: 'CSV',
      content: ['Date,Description,Amount', '2025-08-02,Dues,50.00', '2025-08-04,Dues,50.00'].join('\n'),
      csvMapping: { ...SIGNED, balanceColumn: null },
      idempotencyKey: newKey('dues'),
    });
    expect(imported.rowErrors).toEqual([]);
    const suggestions = (await admin.bankMatchSuggestions({ accountId: acc['1060']! }))!;
    expect(suggestions.map((s) => [s.line.bookedOn, s.entry.memo, s.dayDifference])).toEqual([
      ['2025-08-02', 'Dues A', -2],
      ['2025-08-04', 'Dues B', -1],
    ]);
  });
});

describe("a CSV export with the account's details above the table", () => {
  it('finds the header under them and imports the rows, naming lines as the file numbers them', async () => {
    // As a German bank writes it: details, a blank line, then the table (semicolons, 1.234,56).
    const content = [
      '"Kontonummer:";"DE02 1203 0000 0000 2020 51 / Girokonto";',
      '"Von:";"01.09.2025";',
      '"Bis:";"30.09.2025";',
      '"Kontostand vom 30.09.2025:";"1.190,00 EUR";',
      '',
      '"Buchungstag";"Wertstellung";"Buchungstext";"Verwendungszweck";"Betrag (EUR)";',
      '"01.09.2025";"01.09.2025";"Gutschrift";"Mitgliedsbeitrag";"1.200,00";',
      '"15.09.2025";"15.09.2025";"Lastschrift";"Kontoführung";"-10,00";',
      '"31.09.2025";"31.09.2025";"Lastschrift";"Kein Tag";"-1,00";',
    ].join('\r\n');
    const mapping: BankCsvMappingInput = {
      delimiter: 'SEMICOLON',
      dateColumn: 'Buchungstag',
      dateFormat: 'DMY_DOT',
      amountColumn: 'Betrag (EUR)',
      decimalComma: true,
      descriptionColumns: ['Buchungstext', 'Verwendungszweck'],
    };
    const bad = await admin.importBankStatement({
      accountId: acc['1070']!,
      format: 'CSV',
      content,
      csvMapping: mapping,
      idempotencyKey: newKey('pre'),
    });
    // 31 September is no day: line 9 of the file.
    expect(bad.rowErrors.map((e) => [e.row, e.code])).toEqual([[9, 'INVALID_DATE']]);
    const good = await admin.importBankStatement({
      accountId: acc['1070']!,
      format: 'CSV',
      content: content.split('\r\n').slice(0, -1).join('\r\n'),
      csvMapping: mapping,
      idempotencyKey: newKey('pre'),
    });
    expect(good.rowErrors).toEqual([]);
    expect(good.statement).toMatchObject({ lineCount: 2, importedCount: 2 });
    expect(await lines(acc['1070']!)).toEqual([
      ['2025-09-01', '1200.00', 'Gutschrift Mitgliedsbeitrag'],
      ['2025-09-15', '-10.00', 'Lastschrift Kontoführung'],
    ]);
  });
});

describe('a file read in another encoding than its own', () => {
  it('is refused naming the first line with a character that was not decoded', async () => {
    // A Windows-1252 export ("Müller", "Gebühr") read as UTF-8: each ü became U+FFFD.
    const bytes = Buffer.from(
      ['Date,Description,Amount', '2025-10-01,M\u00fcller rent,-800.00', '2025-10-02,Geb\u00fchr,-2.00'].join(
        '\n',
      ),
      'latin1',
    );
    const result = await admin.importBankStatement({
      accountId: acc['1080']!,
      format: 'CSV',
      content: bytes.toString('utf8'),
      csvMapping: { ...SIGNED, balanceColumn: null },
      idempotencyKey: newKey('enc'),
    });
    expect(result.imported).toBe(false);
    expect(result.rowErrors.map((e) => [e.row, e.code])).toEqual([[2, 'INVALID_BANK_FILE']]);
    expect(result.rowErrors[0]!.message).toContain('encoding');
    // Read as what it is, the same file imports with its letters.
    const decoded = await admin.importBankStatement({
      accountId: acc['1080']!,
      format: 'CSV',
      content: bytes.toString('latin1'),
      csvMapping: { ...SIGNED, balanceColumn: null },
      idempotencyKey: newKey('enc'),
    });
    expect(decoded.rowErrors).toEqual([]);
    expect((await lines(acc['1080']!)).map((l) => l[2])).toContain('Müller rent');
  });
});

describe('a camt.053 file of daily statements', () => {
  /** One day's statement of an account: its opening and closing balance and its entries. */
  const day = (
    iban: string,
    date: string,
    opening: string,
    closing: string,
    entries: [string, 'CRDT' | 'DBIT', string][],
  ) => `
    <Stmt>
      <Id>${iban}-${date}</Id>
      <FrToDt><FrDtTm>${date}T00:00:00</FrDtTm><ToDtTm>${date}T23:59:59</ToDtTm></FrToDt>
      <Acct><Id><IBAN>${iban}</IBAN></Id><Ccy>USD</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">${opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">${closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>${date}</Dt></Dt></Bal>
      ${entries
        .map(
          ([amount, indicator, ref]) => `<Ntry>
        <Amt Ccy="USD">${amount}</Amt><CdtDbtInd>${indicator}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>${date}</Dt></BookgDt><AcctSvcrRef>${ref}</AcctSvcrRef>
      </Ntry>`,
        )
        .join('\n      ')}
    </Stmt>`;
  const file = (statements: string[]) => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>DAILY</MsgId><CreDtTm>2025-11-04T06:00:00</CreDtTm></GrpHdr>${statements.join('')}
  </BkToCstmrStmt>
</Document>`;
  const IBAN = 'DE89370400440532013000';

  it('reads the days of one account as one statement, from the first opening to the last closing balance', async () => {
    // 1 November: 100.00 + 50.00 = 150.00; 2 November: nothing; 3 November: 150.00 - 20.00 = 130.00.
    const result = await admin.importBankStatement({
      accountId: acc['1090']!,
      format: 'CAMT053',
      content: file([
        day(IBAN, '2025-11-01', '100.00', '150.00', [['50.00', 'CRDT', 'D1-1']]),
        day(IBAN, '2025-11-02', '150.00', '150.00', []),
        day(IBAN, '2025-11-03', '150.00', '130.00', [['20.00', 'DBIT', 'D3-1']]),
      ]),
      idempotencyKey: newKey('daily'),
    });
    expect(result.rowErrors).toEqual([]);
    expect(result.statement).toMatchObject({
      lineCount: 2,
      importedCount: 2,
      periodStart: '2025-11-01',
      periodEnd: '2025-11-03',
      openingBalance: '100.00',
      closingBalance: '130.00',
    });
    expect(await lines(acc['1090']!)).toEqual([
      ['2025-11-01', '50.00', ''],
      ['2025-11-03', '-20.00', ''],
    ]);
  });

  it('refuses statements of two accounts in one file', async () => {
    const result = await admin.importBankStatement({
      accountId: acc['1090']!,
      format: 'CAMT053',
      content: file([
        day(IBAN, '2025-11-04', '130.00', '131.00', [['1.00', 'CRDT', 'D4-1']]),
        day('DE02120300000000202051', '2025-11-04', '0.00', '5.00', [['5.00', 'CRDT', 'X4-1']]),
      ]),
      idempotencyKey: newKey('daily'),
    });
    expect(result.imported).toBe(false);
    expect(result.rowErrors.map((e) => [e.row, e.code])).toEqual([[1, 'INVALID_BANK_FILE']]);
  });
});

describe('character references in OFX and camt.053 files', () => {
  it('reads M&#252;ller as Müller in both', async () => {
    const ofx = `OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>2<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20251201<DTEND>20251231
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20251203<TRNAMT>-9.99<FITID>R-1<NAME>M&#252;ller &amp; S&#xF6;hne</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>-9.99<DTASOF>20251231</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
`;
    const fromOfx = await admin.importBankStatement({
      accountId: acc['1110']!,
      format: 'OFX',
      content: ofx,
      idempotencyKey: newKey('ref'),
    });
    expect(fromOfx.rowErrors).toEqual([]);
    const camt = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
  <GrpHdr><MsgId>M</MsgId><CreDtTm>2026-01-01T06:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>USD</Ccy></Acct>
    <Ntry><Amt Ccy="USD">9.99</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2025-12-03</Dt></BookgDt>
      <AcctSvcrRef>C-1</AcctSvcrRef>
      <NtryDtls><TxDtls><RltdPties><Cdtr><Nm>M&#252;ller &amp; S&#xF6;hne</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>
    </Ntry>
  </Stmt>
</BkToCstmrStmt></Document>`;
    const fromCamt = await admin.importBankStatement({
      accountId: acc['1120']!,
      format: 'CAMT053',
      content: camt,
      idempotencyKey: newKey('ref'),
    });
    expect(fromCamt.rowErrors).toEqual([]);
    expect((await lines(acc['1110']!)).map((l) => l[2])).toEqual(['Müller & Söhne']);
    expect((await lines(acc['1120']!)).map((l) => l[2])).toEqual(['Müller & Söhne']);
  });
});

describe('a credit card (a LIABILITY account) reconciled from its OFX statement', () => {
  it('matches, agrees and closes with the signs the bank uses', async () => {
    // Books: a purchase of 45.00 on the card (Dr 5100 / Cr 2100), a payment of 100.00 to it
    // (Dr 2100 / Cr 1010), a purchase of 12.00 on 30 December that the bank books in January.
    // The card's money in is positive, as on the bank's statement: -45.00 + 100.00 = 55.00 at the
    // end of December (the bank's LEDGERBAL); the books' debits less credits: 100.00 - 57.00 =
    // 43.00, and less the outstanding -12.00: 55.00. They agree.
    const post = async (day: string, debit: string, credit: string, amount: string, memo: string) => {
      const posted = await admin.postJournalEntry({
        bookId,
        idempotencyKey: newKey('cc'),
        effectiveAt: `${day}T00:00:00.000Z`,
        memo,
        lines: [
          { accountCode: debit, side: 'DEBIT', amount, unit: 'USD' },
          { accountCode: credit, side: 'CREDIT', amount, unit: 'USD' },
        ],
      });
      expect(posted.userErrors).toEqual([]);
    };
    await post('2025-12-05', '5100', '2100', '45.00', 'Paper');
    await post('2025-12-20', '2100', '1010', '100.00', 'Card payment');
    await post('2025-12-30', '5100', '2100', '12.00', 'Stamps');
    const ofx = `OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<CCSTMTRS><CURDEF>USD<CCACCTFROM><ACCTID>4111</CCACCTFROM>
<BANKTRANLIST><DTSTART>20251201<DTEND>20251231
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20251206<TRNAMT>-45.00<FITID>CC-1<NAME>Paper shop</STMTTRN>
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20251221<TRNAMT>100.00<FITID>CC-2<NAME>Payment thank you</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>55.00<DTASOF>20251231</LEDGERBAL></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1>
</OFX>
`;
    const imported = await admin.importBankStatement({
      accountId: acc['2100']!,
      format: 'OFX',
      content: ofx,
      idempotencyKey: newKey('cc'),
    });
    expect(imported.rowErrors).toEqual([]);
    expect(imported.statement).toMatchObject({ closingBalance: '55.00', openingBalance: '0.00' });
    const accepted = await admin.acceptBankSuggestions({ accountId: acc['2100']! });
    expect(accepted.userErrors).toEqual([]);
    expect(accepted.lines).toHaveLength(2);
    const started = await admin.startBankReconciliation({
      accountId: acc['2100']!,
      periodStart: '2025-12-01',
      periodEnd: '2025-12-31',
    });
    expect(started.userErrors).toEqual([]);
    expect(started.reconciliation).toMatchObject({
      statementBalance: '55.00',
      bookBalance: '43.00',
      outstandingTotal: '-12.00',
      difference: '0.00',
      agrees: true,
    });
    const closed = await admin.closeBankReconciliation({ reconciliationId: started.reconciliation!.id });
    expect(closed.userErrors).toEqual([]);
  });
});

describe('a line posted by a request that died before matching it', () => {
  it('is matched to that entry by the next request for it, not posted a second time', async () => {
    const imported = await admin.importBankStatement({
      accountId: acc['1130']!,
      format: 'CSV',
      content: ['Date,Description,Amount', '2025-12-10,Office rent,-300.00'].join('\n'),
      csvMapping: { ...SIGNED, balanceColumn: null },
      idempotencyKey: newKey('died'),
    });
    expect(imported.rowErrors).toEqual([]);
    const line = (await admin.bankLines({ accountId: acc['1130']!, first: 1 }))!.edges[0]!.node;
    // What postBankLine's ledger write leaves when the process dies before the match commits: the
    // entry for the line under the request's key (bank:<digest of the key>:<line id>), unmatched.
    const lineId = decodeGlobalId(line.id).id;
    const orphan = await admin.postJournalEntry({
      bookId,
      idempotencyKey: `bank:${'0'.repeat(24)}:${lineId}`,
      effectiveAt: '2025-12-10T00:00:00.000Z',
      memo: 'Office rent',
      metadata: [{ key: 'bank.line', value: lineId }],
      lines: [
        { accountCode: '1130', side: 'CREDIT', amount: '300.00', unit: 'USD' },
        { accountCode: '5100', side: 'DEBIT', amount: '300.00', unit: 'USD' },
      ],
    });
    expect(orphan.userErrors).toEqual([]);
    // The treasurer tries again (a new request, a new key): the entry already in the books stands
    // for the line; nothing is posted twice.
    const again = await admin.postBankLine({
      lineId: line.id,
      counterAccountCode: '5100',
      idempotencyKey: newKey('died'),
    });
    expect(again.userErrors).toEqual([]);
    expect(again.posting!.entry!.id).toBe(orphan.entry!.id);
    const entries = [];
    for await (const e of admin.iterateJournalEntries({ bookId, accountId: acc['1130']! }))
      entries.push(e.id);
    expect(entries).toEqual([orphan.entry!.id]);

    // The same through the rules: a line a rule's run posted and died on is matched by the next run.
    const cleaning = await admin.importBankStatement({
      accountId: acc['1130']!,
      format: 'CSV',
      content: ['Date,Description,Amount', '2025-12-11,Cleaning,-50.00'].join('\n'),
      idempotencyKey: newKey('died'),
    });
    expect(cleaning.rowErrors).toEqual([]);
    const rule = await admin.createBankRule({
      accountId: acc['1130']!,
      descriptionContains: 'cleaning',
      counterAccountCode: '5100',
    });
    expect(rule.userErrors).toEqual([]);
    const second = (await admin.bankLines({ accountId: acc['1130']!, status: 'UNMATCHED', first: 1 }))!
      .edges[0]!.node;
    const secondId = decodeGlobalId(second.id).id;
    const left = await admin.postJournalEntry({
      bookId,
      idempotencyKey: `bank:${'1'.repeat(24)}:${secondId}`,
      effectiveAt: '2025-12-11T00:00:00.000Z',
      memo: 'Cleaning',
      lines: [
        { accountCode: '1130', side: 'CREDIT', amount: '50.00', unit: 'USD' },
        { accountCode: '5100', side: 'DEBIT', amount: '50.00', unit: 'USD' },
      ],
    });
    expect(left.userErrors).toEqual([]);
    const applied = await admin.applyBankRules({ accountId: acc['1130']!, idempotencyKey: newKey('died') });
    expect(applied.userErrors).toEqual([]);
    expect(applied.postings.map((p) => p.entry?.id)).toEqual([left.entry!.id]);
    const after = [];
    for await (const e of admin.iterateJournalEntries({ bookId, accountId: acc['1130']! })) after.push(e.id);
    expect(after).toHaveLength(2);
  });
});

describe('a bank reference inside a longer one', () => {
  it('is not taken as found there: INV-1 is suggested the entry of INV-1, not of INV-12', async () => {
    for (const [day, memo] of [
      ['2025-12-15', 'Invoice INV-12 paid'],
      ['2025-12-17', 'Invoice INV-1 paid'],
    ]) {
      const posted = await admin.postJournalEntry({
        bookId,
        idempotencyKey: newKey('inv'),
        effectiveAt: `${day}T00:00:00.000Z`,
        memo,
        lines: [
          { accountCode: '1140', side: 'DEBIT', amount: '100.00', unit: 'USD' },
          { accountCode: '3000', side: 'CREDIT', amount: '100.00', unit: 'USD' },
        ],
      });
      expect(posted.userErrors).toEqual([]);
    }
    const imported = await admin.importBankStatement({
      accountId: acc['1140']!,
      format: 'CSV',
      content: ['Date,Description,Reference,Amount', '2025-12-15,Customer,INV-1,100.00'].join('\n'),
      csvMapping: { ...SIGNED, referenceColumn: 'Reference', balanceColumn: null },
      idempotencyKey: newKey('inv'),
    });
    expect(imported.rowErrors).toEqual([]);
    const suggestions = (await admin.bankMatchSuggestions({ accountId: acc['1140']! }))!;
    expect(suggestions.map((s) => [s.entry.memo, s.referenceMatched, s.dayDifference])).toEqual([
      ['Invoice INV-1 paid', true, 2],
    ]);
  });
});
