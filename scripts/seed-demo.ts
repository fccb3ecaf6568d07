/**
 * npm run seed:demo -- [options]: a realistic demo city, made through the API with the SDK, for the
 * example dashboard (client-sdk/examples/dashboard) and for trying the service.
 *
 * What it creates (the plan is scripts/lib/demo-city.ts, the same for the same --seed and day):
 * co-ops of seven kinds and fourteen sectors across eight neighbourhoods, most listed in the public
 * directory with coordinates, most consenting to data sharing; their members (imported as CSV,
 * with their buy-in payments; some joined during the two years, some leave); two years of monthly
 * revenue and expenses in each co-op's book; a patronage run per worker co-op for the last
 * calendar year, its cash paid; a mutual-credit network of about half the co-ops with eleven
 * months of payments, a few payments today, invoices between members and an exact clearing; the
 * treasurers' profile reports for city reporting (workers who are not members, worker-owners by
 * gender and race/ethnicity, jobs at founding, city contracts); and, last, a published city
 * report release (publishCityReport through the last complete month, protected and audited by the
 * service), so the dashboard has protected figures with suppressed cells.
 *
 * Consent: most consenting co-ops had consented before the two years began (createCoop's
 * dataSharingConsentOn), so their months count in the release; some consented during them.
 *
 * Dates: payInNetwork dates every payment now, so the network's earlier months are posted as
 * journal entries of the network's book shaped as payInNetwork posts them (metadata
 * credit.kind=PAYMENT, payer, payee; `demo.history` marks them), within the 366 days the network's
 * book may be backdated. Everything else goes through the domain's own mutations.
 *
 * Writes that take an idempotency key get one derived from the seed and the city. createCoop takes
 * none, so a city the directory already lists is refused (a second run would make every co-op
 * twice): after a run that stopped half way, seed another --city (or a fresh service).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type LedgerClient,
  LedgerClientError,
  type PostJournalEntriesInput,
  settle,
} from '../client-sdk/index.js';
import { CliError, commandLine, connectionHelp, connectLedger } from './lib/cli.js';
import { type CityPlan, money, planCity } from './lib/demo-city.js';
import { ProgressBar } from './lib/progress.js';

/** The SDK's time limit per request here: the release request runs for minutes at the default size. */
const RELEASE_TIMEOUT_MS = 30 * 60_000;

const HELP = `Usage: npm run seed:demo -- [options]

Creates a demo city through the API (co-ops, members, two years of entries, patronage runs,
a mutual-credit network with clearing, data-sharing consents, the treasurers' reporting profiles)
deterministically from a seed, then publishes the city's first protected report release.
Needs an ADMIN token. Under a minute on a 2-core machine at the default size, then the release:
the service's LP audit takes seconds per month of a sparse city's table, so a release of all 24
months takes many minutes (--consent-from a few months back makes it short: three months, 36 s
in all); progress on stderr.

Options:
  --seed N        the city's seed (default 1): the same seed and day give the same city
  --city NAME     the city's name (default Riverton); refused when the directory already lists
                  co-ops in it
  --coops N       co-ops (default 64, at least 7)
  --members N     members in all (default 1500, at least 3 per co-op)
  --today DATE    the plan's today, YYYY-MM-DD (default: today, UTC); not in the future
  --consent-from DATE
                  the day by which consenting co-ops had consented (default: the first day of
                  the two years); a later day leaves the release fewer months to protect
  --url URL       the service (see below)
  --token TOKEN   an ADMIN token (see below)
  --quiet         no progress bar
  -h, --help      this help

${connectionHelp('an ADMIN token')}

Then: npm run dashboard (serves the example dashboard against the same service).`;

interface Options {
  seed: number;
  city: string;
  coops: number;
  members: number;
  today: string;
  consentFrom?: string;
  url: string | undefined;
  token: string | undefined;
  quiet: boolean;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seed: { type: 'string' },
      city: { type: 'string' },
      coops: { type: 'string' },
      members: { type: 'string' },
      today: { type: 'string' },
      'consent-from': { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}" (see --help)`);
  const integer = (name: string, value: string | undefined, fallback: number, min: number, max: number) => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
      throw new CliError(`--${name} must be an integer from ${min} to ${max}, not "${value}"`);
    return Number(value);
  };
  const now = new Date().toISOString().slice(0, 10);
  const today = values.today ?? now;
  if (!isCalendarDate(today) || today > now)
    throw new CliError(`--today must be a date YYYY-MM-DD not after ${now}, not "${today}"`);
  const consentFrom = values['consent-from'];
  if (consentFrom !== undefined && (!isCalendarDate(consentFrom) || consentFrom >= today))
    throw new CliError(`--consent-from must be a date YYYY-MM-DD before ${today}, not "${consentFrom}"`);
  const coops = integer('coops', values.coops, 64, 7, 2000);
  const members = integer('members', values.members, 1500, 1, 200_000);
  if (members < coops * 3) throw new CliError(`--members must be at least 3 per co-op (${coops * 3})`);
  const city = (values.city ?? 'Riverton').trim();
  if (city.length < 1 || city.length > 80) throw new CliError('--city must be 1 to 80 characters');
  return {
    seed: integer('seed', values.seed, 1, 0, 2 ** 31 - 1),
    city,
    coops,
    members,
    today,
    ...(consentFrom === undefined ? {} : { consentFrom }),
    url: values.url,
    token: values.token,
    quiet: values.quiet === true,
  };
}

/** A mutation's payload: its userErrors, if any, stop the run with a message naming the step. */
function check<T extends { userErrors: readonly { code: string; message: string; field?: string | null }[] }>(
  step: string,
  payload: T,
): T {
  if (payload.userErrors.length > 0) {
    const problems = payload.userErrors.map(
      (e) => `${e.code}${e.field ? ` (${e.field})` : ''}: ${e.message}`,
    );
    throw new CliError(`${step} was refused: ${problems.join('; ')}`);
  }
  return payload;
}

/** A batch must post whole: an ATOMIC batch's refusals are in its results, not its userErrors. */
function checkBatch(
  step: string,
  payload: {
    postedCount: number;
    userErrors: readonly { code: string; message: string; field?: string | null }[];
    results: readonly {
      index: number;
      userErrors: readonly { code: string; message: string; field?: string | null }[];
    }[];
  },
  expected: number,
): number {
  check(step, payload);
  if (payload.postedCount !== expected) {
    const failed = payload.results.find((r) => r.userErrors.some((e) => e.code !== 'BATCH_ITEM_FAILED'));
    const why = failed?.userErrors.map((e) => `${e.code}: ${e.message}`).join('; ') ?? 'no reason given';
    throw new CliError(
      `${step}: ${payload.postedCount} of ${expected} entries posted; entry ${failed?.index}: ${why}`,
    );
  }
  return payload.postedCount;
}

/** Runs `work` over `items`, at most `limit` at a time, in order of start. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

interface Created {
  coopId: string;
  accounts: Record<string, string>;
}

export async function seed(ledger: LedgerClient, plan: CityPlan, progress: ProgressBar): Promise<Summary> {
  const key = (what: string) =>
    `demo-${plan.seed}-${plan.city.replace(/[^A-Za-z0-9]/g, '')}-${what}`.slice(0, 100);
  const created = new Map<number, Created>();
  let entries = 0;
  let memberships = 0;
  let departures = 0;

  // 1. Co-ops, their member class, members and buy-ins, two years of results.
  progress.phase('co-ops and members');
  await inParallel(plan.coops, 4, async (coop) => {
    const { coop: made } = check(
      `createCoop ${coop.name}`,
      await ledger.createCoop({
        name: coop.name,
        kind: coop.kind,
        naicsCode: coop.naicsCode,
        city: plan.city,
        neighbourhood: coop.neighbourhood,
        foundedOn: coop.foundedOn,
        legalForm: coop.kind === 'HOUSING' ? 'housing cooperative' : 'cooperative corporation',
        baseCurrency: { code: 'USD', scale: 2 },
        redemptionRule: 'HOLD',
        // Members who joined decades ago bring their buy-ins: the book reaches back to the founding.
        maxBackdateDays: Math.min(36_600, daysSince(coop.foundedOn, plan.today) + 30),
        publicListing: coop.publicListing,
        dataSharingConsent: coop.dataSharingConsent,
        ...(coop.consentOn === null ? {} : { dataSharingConsentOn: coop.consentOn }),
        description: `A ${coop.kind.toLowerCase().replace('_', '-')} co-op in ${coop.neighbourhood}, ${plan.city}.`,
        ...(coop.latitude === null ? {} : { latitude: coop.latitude, longitude: coop.longitude }),
      }),
    );
    const coopId = made!.id;
    const accounts = Object.fromEntries(made!.chartOfAccounts.map((a) => [a.account.code, a.account.id]));
    created.set(coop.index, { coopId, accounts });
    progress.tick(coop.name);

    const { memberClass } = check(
      `createMemberClass ${coop.name}`,
      await ledger.createMemberClass({
        coopId,
        code: 'MEMBER',
        name: coop.kind === 'WORKER' ? 'Worker-owner' : 'Member',
        buyIn: money(coop.buyInCents),
        instalmentCount: 1,
        voting: true,
        idempotencyKey: key(`class-${coop.index}`),
      }),
    );
    const rows = coop.members.map((m) =>
      [m.name, memberClass!.code, m.appliedOn, 'person', m.ref, 'active', m.activeOn].join(','),
    );
    const imported = check(
      `importMembersCsv ${coop.name}`,
      await ledger.importMembersCsv({
        coopId,
        kind: 'MEMBERS',
        idempotencyKey: key(`members-${coop.index}`),
        csv: `name,class,applied_on,kind,external_ref,status,status_on\n${rows.join('\n')}\n`,
      }),
    );
    if (!imported.imported)
      throw new CliError(`importMembersCsv ${coop.name}: ${JSON.stringify(imported.rowErrors)}`);
    memberships += imported.membershipsCreated;
    const payments = coop.members
      .filter((m) => m.buyInCents > 0)
      .map((m) => [m.ref, m.appliedOn, money(m.buyInCents), 'bank', 'buy-in'].join(','));
    if (payments.length > 0) {
      const paid = check(
        `importMembersCsv (payments) ${coop.name}`,
        await ledger.importMembersCsv({
          coopId,
          kind: 'PAYMENTS',
          idempotencyKey: key(`buyins-${coop.index}`),
          csv: `member,paid_on,amount,method,reference\n${payments.join('\n')}\n`,
        }),
      );
      if (!paid.imported) throw new CliError(`buy-ins of ${coop.name}: ${JSON.stringify(paid.rowErrors)}`);
    }
    progress.tick(`${coop.name}: ${coop.members.length} members`);

    const results: PostJournalEntriesInput['entries'] = coop.months.flatMap((month) => [
      {
        idempotencyKey: key(`rev-${coop.index}-${month.on}`),
        effectiveAt: month.on,
        memo: `Sales, ${month.on.slice(0, 7)}`,
        lines: [
          {
            accountId: accounts['1010']!,
            side: 'DEBIT' as const,
            amount: money(month.revenueCents),
            unit: 'USD',
          },
          {
            accountId: accounts['4000']!,
            side: 'CREDIT' as const,
            amount: money(month.revenueCents),
            unit: 'USD',
          },
        ],
      },
      {
        idempotencyKey: key(`exp-${coop.index}-${month.on}`),
        effectiveAt: month.on,
        memo: `Wages and costs, ${month.on.slice(0, 7)}`,
        lines: [
          {
            accountId: accounts['5000']!,
            side: 'DEBIT' as const,
            amount: money(month.expenseCents),
            unit: 'USD',
          },
          {
            accountId: accounts['1010']!,
            side: 'CREDIT' as const,
            amount: money(month.expenseCents),
            unit: 'USD',
          },
        ],
      },
    ]);
    if (results.length > 0) {
      entries += checkBatch(
        `postJournalEntries ${coop.name}`,
        await ledger.postJournalEntries({ bookId: coopId, mode: 'ATOMIC', entries: results }),
        results.length,
      );
    }
    progress.tick(`${coop.name}: ${results.length} entries`);
  });

  // 2. Departures (before patronage is allocated, so a leaver's allocation is paid in cash).
  progress.phase('departures');
  const leavers = plan.coops.flatMap((coop) =>
    coop.members.filter((m) => m.leavesOn !== null).map((m) => ({ coop, member: m })),
  );
  const membershipIds = new Map<string, string>();
  await inParallel(
    plan.coops.filter((c) => c.members.some((m) => m.leavesOn !== null) || c.patronage),
    4,
    async (coop) => {
      const { coopId } = created.get(coop.index)!;
      // Members were imported in plan order, so member number n is the plan's n-th member.
      for await (const membership of ledger.iterateMemberships({ coopId })) {
        const member = coop.members[membership.memberNumber - 1];
        if (member) membershipIds.set(`${coop.index}:${member.ref}`, membership.id);
      }
    },
  );
  await inParallel(leavers, 4, async ({ coop, member }) => {
    check(
      `withdrawal of ${member.ref}`,
      await ledger.changeMembershipState({
        membershipId: membershipIds.get(`${coop.index}:${member.ref}`)!,
        toState: 'WITHDRAWN',
        effectiveOn: member.leavesOn!,
        note: 'moved away',
        idempotencyKey: key(`leave-${member.ref}`),
      }),
    );
    departures++;
    progress.tick(`${coop.name}: ${member.name} leaves`);
  });

  // 3. Patronage: policy, the year's hours, the run, its cash.
  progress.phase(`patronage ${plan.patronageYear}`);
  let runs = 0;
  await inParallel(
    plan.coops.filter((c) => c.patronage),
    3,
    async (coop) => {
      const { coopId } = created.get(coop.index)!;
      check(
        `setPatronagePolicy ${coop.name}`,
        await ledger.setPatronagePolicy({
          coopId,
          measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
          reservePercent: '30',
          communityPercent: '10',
          revolvingYears: 5,
          idempotencyKey: key(`policy-${coop.index}`),
        }),
      );
      const year = plan.patronageYear;
      const rows = coop.members
        .filter((m) => m.patronageHours > 0)
        .map((m) => {
          const start = m.activeOn > `${year}-01-01` ? m.activeOn : `${year}-01-01`;
          const end =
            m.leavesOn !== null && m.leavesOn <= `${year}-12-31` ? dayBefore(m.leavesOn) : `${year}-12-31`;
          return [m.ref, 'HOURS', start, end, m.patronageHours.toFixed(2)].join(',');
        });
      const recorded = check(
        `importPatronageCsv ${coop.name}`,
        await ledger.importPatronageCsv({
          coopId,
          idempotencyKey: key(`hours-${coop.index}`),
          csv: `member,measure,period_start,period_end,quantity\n${rows.join('\n')}\n`,
        }),
      );
      if (!recorded.imported)
        throw new CliError(`hours of ${coop.name}: ${JSON.stringify(recorded.rowErrors)}`);
      const { run } = check(
        `commitPatronageAllocation ${coop.name}`,
        await ledger.commitPatronageAllocation({
          coopId,
          fiscalYear: year,
          allocatedOn: plan.allocatedOn,
          idempotencyKey: key(`run-${coop.index}-${year}`),
        }),
      );
      check(
        `payPatronageCash ${coop.name}`,
        await ledger.payPatronageCash({
          runId: run!.id,
          paidOn: plan.cashPaidOn,
          method: 'BANK',
          idempotencyKey: key(`cash-${coop.index}-${year}`),
        }),
      );
      runs++;
      progress.tick(`${coop.name}: run ${year}`);
    },
  );

  // 4. Mutual credit.
  progress.phase('mutual credit');
  const networkPlan = plan.network;
  const { network } = check(
    'createCreditNetwork',
    await ledger.createCreditNetwork({
      name: networkPlan.name,
      unit: { code: networkPlan.unit, scale: 2 },
      pegCurrency: 'USD',
      pegRate: '1',
      currencies: [{ code: 'USD', scale: 2 }],
      policy: { defaultLimit: money(networkPlan.defaultLimitCents), softLimitPercent: 80 },
      idempotencyKey: key('network'),
    }),
  );
  const networkId = network!.id;
  const memberIds: string[] = [];
  const memberAccounts: string[] = [];
  for (const index of networkPlan.members) {
    const { member } = check(
      `joinCreditNetwork ${plan.coops[index]!.name}`,
      await ledger.joinCreditNetwork({
        networkId,
        coopId: created.get(index)!.coopId,
        idempotencyKey: key(`join-${index}`),
      }),
    );
    memberIds.push(member!.id);
    memberAccounts.push(member!.accountCode);
    progress.tick(`${plan.coops[index]!.name} joins`);
  }
  const accountIds = new Map<string, string>();
  for await (const account of ledger.iterateAccounts({ bookId: network!.bookId })) {
    accountIds.set(account.code, account.id);
  }
  const history = networkPlan.payments.filter((p) => p.on !== null);
  for (let i = 0; i < history.length; i += 500) {
    const batch = history.slice(i, i + 500).map((p, k) => {
      const amount = money(p.cents);
      return {
        idempotencyKey: key(`pay-history-${i + k}`),
        effectiveAt: p.on!,
        memo: `Trade between members (${p.on!.slice(0, 7)})`,
        metadata: [
          { key: 'credit.kind', value: 'PAYMENT' },
          { key: 'credit.payer', value: memberIds[p.payer]! },
          { key: 'credit.payee', value: memberIds[p.payee]! },
          { key: 'demo.history', value: 'true' },
        ],
        lines: [
          {
            accountId: accountIds.get(memberAccounts[p.payer]!)!,
            side: 'DEBIT' as const,
            amount,
            unit: networkPlan.unit,
          },
          {
            accountId: accountIds.get(memberAccounts[p.payee]!)!,
            side: 'CREDIT' as const,
            amount,
            unit: networkPlan.unit,
          },
        ],
      };
    });
    checkBatch(
      'network history',
      await ledger.postJournalEntries({ bookId: network!.bookId, mode: 'ATOMIC', entries: batch }),
      batch.length,
    );
    progress.tick(`${Math.min(i + 500, history.length)} of ${history.length} earlier payments`);
  }
  let paidToday = 0;
  for (const [k, p] of networkPlan.payments.filter((q) => q.on === null).entries()) {
    const outcome = await settle(
      ledger.payInNetwork({
        payerId: memberIds[p.payer]!,
        payeeId: memberIds[p.payee]!,
        amount: money(p.cents),
        memo: 'Trade between members',
        idempotencyKey: key(`pay-today-${k}`),
      }),
    );
    // A payment the limits refuse today is part of a network's life, not a failure of the seed.
    if (outcome.ok) paidToday++;
    else if (!outcome.rejected) throw outcome.error;
  }
  progress.tick(`${paidToday} payments today`);
  if (networkPlan.obligations.length > 0) {
    check(
      'recordObligations',
      await ledger.recordObligations({
        networkId,
        idempotencyKey: key('invoices'),
        obligations: networkPlan.obligations.map((o) => ({
          debtorId: memberIds[o.debtor]!,
          creditorId: memberIds[o.creditor]!,
          currency: 'USD',
          amount: money(o.cents),
          dueOn: o.dueOn,
          reference: o.reference,
        })),
      }),
    );
  }
  const preview = await ledger.previewClearing({ networkId, currency: 'USD', mode: 'SETOFF' });
  let clearedCents = '0.00';
  if (preview.preview && preview.preview.setoffTotal !== '0.00') {
    check(
      'commitClearing',
      await ledger.commitClearing({
        networkId,
        currency: 'USD',
        mode: 'SETOFF',
        snapshotHash: preview.preview.snapshotHash,
        idempotencyKey: key('clearing'),
      }),
    );
    clearedCents = preview.preview.setoffTotal;
  }
  progress.tick(`clearing: ${clearedCents} USD set off`);

  // 5. What the treasurers report for city reporting.
  progress.phase('reporting profiles');
  let profileReports = 0;
  await inParallel(plan.coops, 4, async (coop) => {
    const { coopId } = created.get(coop.index)!;
    for (const [k, report] of coop.profiles.entries()) {
      check(
        `reportCoopProfile ${coop.name} ${report.asOf}`,
        await ledger.reportCoopProfile({
          coopId,
          asOf: report.asOf,
          workerOwners: report.workerOwners,
          workersNotMembers: report.workersNotMembers,
          byGender: report.byGender,
          byRace: report.byRace,
          jobsCreatedAtFounding: report.jobsCreatedAtFounding,
          cityContractsAwarded: report.cityContractsAwarded,
          cityContractsValue: money(report.cityContractsValueCents),
          reportingGroup: report.reportingGroup,
          idempotencyKey: key(`profile-${coop.index}-${k}`),
        }),
      );
      profileReports++;
    }
    progress.tick(`${coop.name}: ${coop.profiles.length} reports`);
  });

  // 6. The city's first report release (protected and audited by the service).
  progress.phase('city report release');
  const { release } = check(
    'publishCityReport',
    await ledger.publishCityReport({ city: plan.city, currency: 'USD' }),
  );
  progress.tick(`release ${release!.seq} through ${release!.throughMonth}`);

  return {
    city: plan.city,
    seed: plan.seed,
    coops: created.size,
    memberships,
    departures,
    entries,
    patronageRuns: runs,
    networkId,
    networkMembers: memberIds.length,
    networkPayments: history.length + paidToday,
    cleared: clearedCents,
    consenting: plan.coops.filter((c) => c.dataSharingConsent).length,
    profileReports,
    release: {
      id: release!.id,
      seq: release!.seq,
      throughMonth: release!.throughMonth,
      contributors: release!.contributors,
      primarySuppressed: release!.primarySuppressed,
      complementarySuppressed: release!.complementarySuppressed,
    },
  };
}

export interface Summary {
  city: string;
  seed: number;
  coops: number;
  memberships: number;
  departures: number;
  entries: number;
  patronageRuns: number;
  networkId: string;
  networkMembers: number;
  networkPayments: number;
  cleared: string;
  consenting: number;
  profileReports: number;
  release: {
    id: string;
    seq: number;
    throughMonth: string;
    contributors: number;
    primarySuppressed: number;
    complementarySuppressed: number;
  };
}

/**
 * A day of the calendar written YYYY-MM-DD. Date.parse alone takes "2026-02-30" (as 2 March): such a
 * --today passed and the seed failed half-way, a city of co-ops left behind.
 */
function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const day = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === text;
}

function daysSince(date: string, today: string): number {
  return Math.ceil((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${date}T00:00:00Z`)) / 86_400_000);
}

function dayBefore(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

/** Steps the progress bar counts, from the plan. */
export function plannedSteps(plan: CityPlan): number {
  const leavers = plan.coops.reduce((n, c) => n + c.members.filter((m) => m.leavesOn !== null).length, 0);
  const history = plan.network.payments.filter((p) => p.on !== null).length;
  return (
    plan.coops.length * 3 +
    leavers +
    plan.coops.filter((c) => c.patronage).length +
    plan.network.members.length +
    Math.ceil(history / 500) +
    2 +
    plan.coops.length +
    1
  );
}

async function refuseSeededCity(ledger: LedgerClient, city: string): Promise<void> {
  const page = await ledger.coopDirectory({ city, first: 1 });
  if (page.totalCount > 0) {
    throw new CliError(
      `the directory already lists ${page.totalCount} co-op(s) in ${city}: seed another city with --city (or another service)`,
    );
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(HELP);
    return;
  }
  // The release at the end protects and audits the whole city's table in one request, which takes
  // minutes at the default size: far beyond the SDK's default 30 s.
  const { client, address } = await connectLedger({
    url: options.url,
    token: options.token,
    timeoutMs: RELEASE_TIMEOUT_MS,
  });
  const viewer = await client.viewer();
  if (!viewer)
    throw new CliError('no token, or a token the service does not know: set LEDGER_TOKEN to an ADMIN token');
  if (!viewer.grants.some((g) => g.role === 'ADMIN'))
    throw new CliError(
      `the token (${viewer.principalName}) is not an ADMIN token: creating co-ops needs one`,
    );
  await refuseSeededCity(client, options.city);
  const plan = planCity(options);
  const progress = new ProgressBar(plannedSteps(plan), { quiet: options.quiet });
  const summary = await seed(client, plan, progress);
  progress.finish(`seeded ${summary.city}`);
  console.log(
    [
      `Seeded ${summary.city} (seed ${summary.seed}) at ${address.url}:`,
      `  ${summary.coops} co-ops (${summary.consenting} consenting to data sharing), ${summary.memberships} memberships, ${summary.departures} departures`,
      `  ${summary.entries} journal entries of results, ${summary.patronageRuns} patronage runs for ${plan.patronageYear}`,
      `  mutual credit: ${summary.networkMembers} members, ${summary.networkPayments} payments, ${summary.cleared} USD of invoices set off`,
      `  ${summary.profileReports} reporting profiles; city report release ${summary.release.seq} through ${summary.release.throughMonth}: ${summary.release.contributors} contributing co-ops, ${summary.release.primarySuppressed} cells suppressed by the rules and ${summary.release.complementarySuppressed} to protect them`,
      `  reproduce: ${commandLine(process.argv.slice(2), ['seed:demo'], 'scripts/seed-demo.ts')}`,
      `Next: npm run dashboard`,
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((error: unknown) => {
    if (
      error instanceof CliError ||
      String((error as { code?: unknown } | null)?.code).startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(
        `seed:demo: ${(error as Error).message}${error instanceof CliError ? '' : '\n\nRun with --help for the options.'}`,
      );
      process.exit(2);
    }
    if (error instanceof LedgerClientError) {
      const hint =
        error.code === 'UNAUTHENTICATED'
          ? ' Set LEDGER_TOKEN (or --token) to an ADMIN token: npm start prints one on its first start.'
          : error.code === 'FORBIDDEN'
            ? ' The token is not an ADMIN token.'
            : '';
      console.error(`seed:demo: ${error.message}.${hint}`);
      process.exit(1);
    }
    console.error(error);
    process.exit(1);
  });
}
