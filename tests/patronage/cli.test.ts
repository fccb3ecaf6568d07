/**
 * The treasurer's patronage CLI (scripts/patronage.ts) against a running service: --help, usage
 * errors, importing records from a file, previewing, committing (a replay with the same key),
 * writing a notice PDF and the 1099-PATR CSV. It reads LEDGER_URL and LEDGER_TOKEN.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { builtArgs } from '../helpers/build.js';
import type { CoopFixture } from '../helpers/coop.js';
import { ledgerClient } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { activeMember, type Member, patronageCoop, postResult, record, setPolicy } from './helpers.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let a: Member;
let b: Member;
const dir = mkdtempSync(path.join(os.tmpdir(), 'patronage-cli-'));

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...builtArgs('scripts/patronage.ts'), ...args], {
      env: { ...process.env, LEDGER_URL: server.url, LEDGER_TOKEN: coop.treasurerToken, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const setup = await patronageCoop(server.url, admin);
  coop = setup.coop;
  a = await activeMember(coop, setup.classId, 'Alma Cli', '2024-01-01');
  b = await activeMember(coop, setup.classId, 'Bert Cli', '2024-01-01');
  await setPolicy(coop, {
    measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
    reservePercent: '20',
    revolvingYears: 5,
  });
  await postResult(coop, '2025-05-01', '1500.00', '500.00');
});

afterAll(async () => {
  await server?.stop();
});

describe('scripts/patronage.ts', () => {
  it('prints its help, and refuses an unknown command or a missing option with exit 2', async () => {
    const help = await cli(['--help']);
    expect([help.code, help.out]).toEqual([
      0,
      expect.stringContaining('Usage: npm run patronage -- <command>'),
    ]);
    expect(help.out).toContain('LEDGER_TOKEN');
    expect((await cli(['fly'])).code).toBe(2);
    const missing = await cli(['commit', '--coop', coop.id, '--year', '2025']);
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('--key is required')]);
    const noToken = await cli(['runs', '--coop', coop.id], { LEDGER_TOKEN: '' });
    expect([noToken.code, noToken.err]).toEqual([2, expect.stringContaining('a token is needed')]);
    // A version that is not a whole number is refused, not read as the latest version (a NaN
    // sent as JSON is null, the API's "latest").
    for (const version of ['abc', '0', '1.5', '', '1e0']) {
      const bad = await cli(['policy', '--coop', coop.id, '--version', version]);
      expect([version, bad.code, bad.out, bad.err]).toEqual([
        version,
        2,
        '',
        expect.stringContaining('--version must be a policy version: a whole number from 1'),
      ]);
    }
    const first = await cli(['policy', '--coop', coop.id, '--version', '1']);
    expect([first.code, JSON.parse(first.out).version]).toEqual([0, 1]);
  }, 60_000);

  it('imports records, previews, commits (a repeat is a replay) and writes a notice and tax data', async () => {
    // Surplus 1,000.00: reserve 20% = 200.00, members 800.00 by hours 300 : 100 -> 600.00 and 200.00;
    // cash 20%: 120.00 and 40.00.
    const file = path.join(dir, 'hours.csv');
    writeFileSync(
      file,
      `member,measure,period_start,period_end,quantity\n${a.number},HOURS,2025-01-01,2025-12-31,300.00\n${b.number},HOURS,2025-01-01,2025-12-31,100.00\n`,
    );
    const imported = await cli(['import', '--coop', coop.id, '--file', file]);
    expect([imported.code, imported.out.trim()]).toEqual([0, '2 records imported']);
    const again = await cli(['import', '--coop', coop.id, '--file', file]);
    expect(again.out.trim()).toBe('2 records imported (replayed: nothing new)');

    const preview = await cli([
      'preview',
      '--coop',
      coop.id,
      '--year',
      '2025',
      '--allocated-on',
      '2026-01-10',
      '--csv',
    ]);
    expect(preview.code).toBe(0);
    expect(preview.out.trim().split('\n')).toEqual([
      'member,patronage,share,allocation,cash,retained,notice',
      `${a.number},HOURS 300.00,0.7500000000,600.00,120.00,480.00,qualified`,
      `${b.number},HOURS 100.00,0.2500000000,200.00,40.00,160.00,qualified`,
    ]);

    const args = [
      'commit',
      '--coop',
      coop.id,
      '--year',
      '2025',
      '--allocated-on',
      '2026-01-10',
      '--key',
      'cli-run-2025',
    ];
    const committed = await cli(args);
    expect(committed.code).toBe(0);
    expect(committed.out).toContain('surplus 1000.00, reserve 200.00, community 0.00, members 800.00');
    const replay = await cli(args);
    expect(replay.out).toContain('(replayed)');
    const runId = /run (\S+):/.exec(committed.out)![1]!;
    const refused = await cli(['commit', '--coop', coop.id, '--year', '2025', '--key', 'cli-run-2025-b']);
    expect([refused.code, refused.err]).toEqual([1, expect.stringContaining('PATRONAGE_RUN_EXISTS')]);

    const pdf = path.join(dir, 'notice.pdf');
    const notice = await cli(['notice', '--run', runId, '--member', a.id, '--out', pdf]);
    expect(notice.code).toBe(0);
    expect(readFileSync(pdf).subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const paid = await cli(['pay', '--run', runId, '--paid-on', '2026-01-15', '--key', 'cli-pay']);
    expect([paid.code, paid.out]).toEqual([0, expect.stringContaining('160.00 paid on 2026-01-15 by bank')]);
    const csv = path.join(dir, '1099.csv');
    const tax = await cli(['tax', '--coop', coop.id, '--year', '2026', '--out', csv]);
    expect(tax.code).toBe(0);
    expect(readFileSync(csv, 'utf8').split('\r\n')[1]).toContain(
      `Alma Cli,,,${a.number},600.00,0.00,0.00,0.00,0.00`,
    );
  }, 180_000);

  it('refuses a preview whose pages were computed from different inputs', async () => {
    // 101 members: two pages of 100. Between the first page and the second a record is added (by a
    // proxy in front of the service, after it has answered the first page), and the second page is
    // answered by another instance of the service on the same database (as behind a load
    // balancer), which does not hold the first page's preview: the pages come from two
    // computations, and their lines must not be printed as one preview. (One instance answers the
    // later pages from the first page's computation: tests/patronage/preview-pages.test.ts.)
    const setup = await patronageCoop(server.url, admin);
    const members: Member[] = [];
    for (let i = 0; i < 101; i += 20)
      members.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(20, 101 - i) }, (_, j) =>
            activeMember(setup.coop, setup.classId, `Paged ${i + j}`, '2024-01-01'),
          ),
        )),
      );
    await setPolicy(setup.coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      revolvingYears: 5,
    });
    await record(
      setup.coop,
      members.map((m) => ({
        member: m,
        measure: 'HOURS',
        from: '2025-01-01',
        to: '2025-01-31',
        quantity: '10.00',
      })),
    );
    let previews = 0;
    const other = await startTestServer({ config: { rateLimitPerSecond: 0 } });
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        const answer = await fetch(previews === 0 ? server.url : other.url, {
          method: req.method,
          headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
          body,
        });
        const text = await answer.text();
        if (body.toString().includes('"PreviewPatronageAllocation"') && ++previews === 1)
          await record(setup.coop, [
            { member: members[0]!, measure: 'HOURS', from: '2025-02-01', to: '2025-02-28', quantity: '1.00' },
          ]);
        res.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'application/json',
        });
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`;
      const result = await cli(
        [
          'preview',
          '--coop',
          setup.coop.id,
          '--year',
          '2025',
          '--surplus',
          '1000.00',
          '--allocated-on',
          '2026-01-10',
        ],
        { LEDGER_URL: url, LEDGER_TOKEN: setup.coop.treasurerToken },
      );
      expect(previews).toBe(2);
      expect([result.code, result.out]).toEqual([1, '']);
      expect(result.err).toContain('changed while the preview was read');
      // Read again, unchanged, it is whole.
      const again = await cli(
        [
          'preview',
          '--coop',
          setup.coop.id,
          '--year',
          '2025',
          '--surplus',
          '1000.00',
          '--allocated-on',
          '2026-01-10',
          '--csv',
        ],
        { LEDGER_TOKEN: setup.coop.treasurerToken },
      );
      expect([again.code, again.out.trim().split('\n').length]).toEqual([0, 102]);
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await other.stop();
    }
  }, 180_000);
});
