/**
 * The plan of a demo city, made from a seed with no I/O: co-ops of several kinds and sectors across
 * neighbourhoods, their members (who joined when, who left), two years of monthly revenue and
 * expenses, a year of patronage hours in the worker co-ops, and a mutual-credit network's payments
 * and invoices, and what the co-ops' treasurers report for city reporting (workers who are not
 * members, worker-owners by gender and race/ethnicity, jobs at founding, city contracts) with the
 * day each consenting co-op gave its consent. The same seed, sizes and day give the same plan, byte
 * for byte; scripts/seed-demo.ts carries it out through the API.
 *
 * Amounts are strings at two decimals (never floats on the wire): figures are drawn in whole
 * cents as integers and formatted.
 */

/** A small, fast, seedable generator (mulberry32): the same seed gives the same sequence everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type CoopKind =
  | 'WORKER'
  | 'CONSUMER'
  | 'HOUSING'
  | 'PRODUCER'
  | 'MULTI_STAKEHOLDER'
  | 'PLATFORM'
  | 'CREDIT_UNION';

export interface Neighbourhood {
  name: string;
  latitude: number;
  longitude: number;
}

interface Sector {
  naics: string;
  label: string;
  kinds: CoopKind[];
  /** Monthly revenue per member, in cents (a rough figure for the demo). */
  revenuePerMemberCents: number;
  names: string[];
}

const NEIGHBOURHOODS: Neighbourhood[] = [
  { name: 'Old Harbour', latitude: 44.952, longitude: -93.262 },
  { name: 'Millbrook', latitude: 44.991, longitude: -93.241 },
  { name: 'Eastgate', latitude: 44.962, longitude: -93.178 },
  { name: 'Northfield', latitude: 45.018, longitude: -93.214 },
  { name: 'Riverside', latitude: 44.927, longitude: -93.221 },
  { name: 'Southside', latitude: 44.902, longitude: -93.258 },
  { name: 'Union Square', latitude: 44.975, longitude: -93.271 },
  { name: 'West End', latitude: 44.958, longitude: -93.318 },
];

const SECTORS: Sector[] = [
  {
    naics: '311811',
    label: 'Bakery',
    kinds: ['WORKER'],
    revenuePerMemberCents: 620_000,
    names: ['Bread & Roses Bakery', 'Rising Dough', 'Common Crumb', 'Daily Loaf'],
  },
  {
    naics: '445110',
    label: 'Grocery',
    kinds: ['CONSUMER', 'MULTI_STAKEHOLDER'],
    revenuePerMemberCents: 90_000,
    names: ['Harvest Moon Food Co-op', 'Seward Street Grocery', 'Commons Market', 'Good Roots Grocery'],
  },
  {
    naics: '722511',
    label: 'Restaurant',
    kinds: ['WORKER'],
    revenuePerMemberCents: 540_000,
    names: ['Red Kettle Kitchen', 'The People’s Table', 'Cooperative Cantina', 'Union Noodle'],
  },
  {
    naics: '236118',
    label: 'Renovation',
    kinds: ['WORKER'],
    revenuePerMemberCents: 980_000,
    names: ['Solid Ground Builders', 'Keystone Renovation', 'Plumb Line Co-op', 'Timber & Trowel'],
  },
  {
    naics: '541511',
    label: 'Software',
    kinds: ['WORKER', 'PLATFORM'],
    revenuePerMemberCents: 1_150_000,
    names: ['Open Circuit', 'Loomio Works', 'Commons Code', 'Fairshare Platform'],
  },
  {
    naics: '561720',
    label: 'Cleaning',
    kinds: ['WORKER'],
    revenuePerMemberCents: 410_000,
    names: ['Clean Sweep Cooperative', 'Green Clean Co-op', 'Sparkle Together', 'Fresh Start Cleaning'],
  },
  {
    naics: '624120',
    label: 'Home care',
    kinds: ['WORKER', 'MULTI_STAKEHOLDER'],
    revenuePerMemberCents: 450_000,
    names: ['Cooperative Care', 'Caring Hands Home Care', 'Neighbour to Neighbour Care', 'Home Together'],
  },
  {
    naics: '492210',
    label: 'Delivery',
    kinds: ['WORKER', 'PLATFORM'],
    revenuePerMemberCents: 380_000,
    names: ['Pedal Couriers', 'CoopCycle Riverton', 'Last Mile Collective', 'Cargo Bike Co-op'],
  },
  {
    naics: '531110',
    label: 'Housing',
    kinds: ['HOUSING'],
    revenuePerMemberCents: 95_000,
    names: ['Elm Street Housing Co-op', 'Sunrise Commons', 'Maple Court Co-op', 'Harbour View Housing'],
  },
  {
    naics: '111419',
    label: 'Urban farm',
    kinds: ['PRODUCER', 'WORKER'],
    revenuePerMemberCents: 260_000,
    names: ['Rooftop Greens', 'Good Earth Growers', 'Riverbend Farm Co-op', 'Seed Library Farm'],
  },
  {
    naics: '522130',
    label: 'Credit union',
    kinds: ['CREDIT_UNION'],
    revenuePerMemberCents: 12_000,
    names: ['Riverton Community Credit Union', 'Northside Federal Credit Union'],
  },
  {
    naics: '336991',
    label: 'Bicycles',
    kinds: ['WORKER'],
    revenuePerMemberCents: 520_000,
    names: ['Anvil Bicycle Works', 'Spoke & Chain', 'Freewheel Co-op'],
  },
  {
    naics: '541430',
    label: 'Design',
    kinds: ['WORKER'],
    revenuePerMemberCents: 780_000,
    names: ['Ink & Commons', 'Collective Press', 'Together Design Studio'],
  },
  {
    naics: '812111',
    label: 'Barbers',
    kinds: ['WORKER'],
    revenuePerMemberCents: 300_000,
    names: ['Union Cuts', 'The Barber Collective'],
  },
];

/** Sector labels by NAICS code (the dashboard's legend says the same). */
export const SECTOR_LABELS: Record<string, string> = Object.fromEntries(
  SECTORS.map((s) => [s.naics, s.label]),
);

export interface PlannedMember {
  /** external_ref in the co-op's register: `m<coop>-<n>`. */
  ref: string;
  name: string;
  appliedOn: string;
  /** ACTIVE from this day (the import's status_on). */
  activeOn: string;
  /** Withdraws on this day, or null. */
  leavesOn: string | null;
  buyInCents: number;
  /** Hours worked in the patronage year (worker co-ops with patronage), 0 otherwise. */
  patronageHours: number;
}

export interface PlannedMonth {
  /** The day the month's result is posted (the 28th). */
  on: string;
  revenueCents: number;
  expenseCents: number;
}

export interface PlannedCoop {
  index: number;
  name: string;
  kind: CoopKind;
  naicsCode: string;
  neighbourhood: string;
  latitude: string | null;
  longitude: string | null;
  foundedOn: string;
  publicListing: boolean;
  dataSharingConsent: boolean;
  buyInCents: number;
  members: PlannedMember[];
  months: PlannedMonth[];
  /** Allocates patronage for `patronageYear`. */
  patronage: boolean;
  /** Joins the mutual-credit network. */
  inNetwork: boolean;
  /**
   * With dataSharingConsent: the day consent was given (most before the two years, so their
   * months count in city reporting; some during them, counting from the month after).
   */
  consentOn: string | null;
  /** What the treasurer reports for city reporting (reportCoopProfile), oldest first. */
  profiles: PlannedProfile[];
}

export const GENDER_CATEGORIES = ['WOMEN', 'MEN', 'NON_BINARY'] as const;
export const RACE_CATEGORIES = [
  'ASIAN',
  'BLACK',
  'HISPANIC_LATINO',
  'INDIGENOUS',
  'WHITE',
  'MULTIRACIAL',
  'OTHER',
] as const;

/** One report of a co-op's treasurer (reportCoopProfile): counts, never money as a float. */
export interface PlannedProfile {
  asOf: string;
  workerOwners: number;
  workersNotMembers: number;
  /** Self-reported counts adding up to at most workerOwners (the rest is UNDISCLOSED). */
  byGender: { category: string; count: number }[];
  byRace: { category: string; count: number }[];
  /** Jobs created at founding or conversion (given in the first report). */
  jobsCreatedAtFounding: number | null;
  cityContractsAwarded: number;
  cityContractsValueCents: number;
  /** The federation whose co-ops count as one contributor, or null. */
  reportingGroup: string | null;
}

export interface PlannedPayment {
  /** Indexes into the network's members (plan order). */
  payer: number;
  payee: number;
  cents: number;
  /** The day it is effective; null for payments made today (through payInNetwork). */
  on: string | null;
}

export interface PlannedObligation {
  debtor: number;
  creditor: number;
  cents: number;
  dueOn: string;
  reference: string;
}

export interface CityPlan {
  city: string;
  seed: number;
  today: string;
  /** The first day of the two years of entries. */
  from: string;
  neighbourhoods: Neighbourhood[];
  coops: PlannedCoop[];
  patronageYear: number;
  /** Patronage is allocated on this day and its cash paid a fortnight later. */
  allocatedOn: string;
  cashPaidOn: string;
  network: {
    name: string;
    unit: string;
    /** Co-op indexes, in joining order. */
    members: number[];
    defaultLimitCents: number;
    payments: PlannedPayment[];
    obligations: PlannedObligation[];
  };
}

export interface PlanOptions {
  seed: number;
  coops: number;
  members: number;
  city: string;
  /** YYYY-MM-DD: the plan's "today" (its dates never pass it). */
  today: string;
  /**
   * YYYY-MM-DD: the day by which consenting co-ops had consented (default: the first of the two
   * years). A later day gives a city report release fewer months to protect and audit.
   */
  consentFrom?: string;
}

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);
const addDays = (date: string, days: number) => iso(dayMs(date) + days * DAY_MS);
const FIRST_NAMES = [
  'Ada',
  'Bea',
  'Cam',
  'Dev',
  'Eli',
  'Fay',
  'Gus',
  'Hana',
  'Ines',
  'Jo',
  'Kofi',
  'Lena',
  'Mo',
  'Nia',
  'Omar',
  'Pia',
  'Quinn',
  'Rosa',
  'Sam',
  'Tariq',
  'Uma',
  'Vic',
  'Wen',
  'Xavi',
  'Yara',
  'Zeke',
];
const LAST_NAMES = [
  'Abara',
  'Berg',
  'Castillo',
  'Diallo',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jensen',
  'Kim',
  'Lopez',
  'Moreau',
  'Nguyen',
  'Okafor',
  'Patel',
  'Quispe',
  'Rossi',
  'Silva',
  'Tanaka',
  'Usman',
  'Varga',
  'Wright',
  'Xu',
  'Yilmaz',
  'Zhou',
];

/** The whole city from the seed. */
export function planCity(options: PlanOptions): CityPlan {
  const random = rng(options.seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const today = options.today;
  const todayMs = dayMs(today);
  // Two years of months, ending with the last full month.
  const lastMonth = new Date(todayMs);
  lastMonth.setUTCDate(1);
  lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
  const firstMonth = new Date(lastMonth);
  firstMonth.setUTCMonth(firstMonth.getUTCMonth() - 23);
  const from = iso(firstMonth.getTime());
  const monthStarts: string[] = [];
  for (let m = new Date(firstMonth); m <= lastMonth; m.setUTCMonth(m.getUTCMonth() + 1)) {
    monthStarts.push(iso(m.getTime()));
  }
  // The last calendar year wholly inside the two years: its patronage is allocated in the spring.
  const patronageYear = Number(today.slice(0, 4)) - 1;
  const allocatedOnCandidate = `${patronageYear + 1}-03-31`;
  const allocatedOn = allocatedOnCandidate < today ? allocatedOnCandidate : addDays(today, -1);
  const cashPaidOn = addDays(allocatedOn, 14) < today ? addDays(allocatedOn, 14) : allocatedOn;

  // Kinds: mostly worker co-ops, as a city's co-op economy is.
  const kindsByShare: [CoopKind, number][] = [
    ['WORKER', 0.58],
    ['CONSUMER', 0.12],
    ['HOUSING', 0.09],
    ['PRODUCER', 0.07],
    ['MULTI_STAKEHOLDER', 0.07],
    ['PLATFORM', 0.04],
    ['CREDIT_UNION', 0.03],
  ];
  const kindOf = (i: number): CoopKind => {
    // Every kind appears at least once in a city of 7 co-ops or more, then by share.
    if (i < kindsByShare.length) return kindsByShare[i]![0];
    let r = random();
    for (const [kind, share] of kindsByShare) {
      if (r < share) return kind;
      r -= share;
    }
    return 'WORKER';
  };

  // Sizes: weights drawn per co-op, scaled to the members asked for (largest remainder), at least 3.
  const kinds = Array.from({ length: options.coops }, (_, i) => kindOf(i));
  const weights = kinds.map((kind) => {
    const base = kind === 'CONSUMER' || kind === 'CREDIT_UNION' ? 5 : kind === 'HOUSING' ? 2.2 : 1;
    return base * (0.4 + random() * random() * 2.6);
  });
  const minimum = 3;
  const spare = Math.max(0, options.members - minimum * options.coops);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const quotas = weights.map((w) => (w / totalWeight) * spare);
  const sizes = quotas.map((q) => minimum + Math.floor(q));
  let left = options.members - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = quotas
    .map((q, i) => [q - Math.floor(q), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left <= 0) break;
    sizes[i]!++;
    left--;
  }

  const usedNames = new Set<string>();
  const coops: PlannedCoop[] = kinds.map((kind, index) => {
    const sectors = SECTORS.filter((s) => s.kinds.includes(kind));
    const sector = pick(sectors.length > 0 ? sectors : SECTORS);
    let name = pick(sector.names).replace('Riverton', options.city);
    for (let n = 2; usedNames.has(name); n++) name = `${pick(sector.names)}${n > 3 ? ` ${n}` : ''}`;
    usedNames.add(name);
    const hood = pick(NEIGHBOURHOODS);
    const located = random() < 0.85;
    // About one co-op in ten was founded during the two years, so the count grows.
    const recent = index >= 7 && random() < 0.1;
    const foundedMs = recent
      ? dayMs(from) + Math.floor(random() * (todayMs - dayMs(from) - 120 * DAY_MS))
      : Date.UTC(1978 + int(0, 44), int(0, 11), int(1, 28));
    const foundedOn = iso(recent ? foundedMs : Math.min(foundedMs, dayMs(from) - DAY_MS));
    const buyInCents =
      kind === 'CONSUMER' || kind === 'CREDIT_UNION'
        ? int(2, 10) * 1000
        : kind === 'HOUSING'
          ? int(5, 20) * 10_000
          : int(5, 30) * 10_000;
    const members: PlannedMember[] = [];
    const size = sizes[index]!;
    const joinWindowStart = dayMs(foundedOn);
    for (let m = 0; m < size; m++) {
      // A quarter joined during the two years (new memberships); the rest before.
      const joinedRecently = recent || random() < 0.25;
      const start = joinedRecently ? Math.max(joinWindowStart, dayMs(from)) : joinWindowStart;
      const end = joinedRecently
        ? todayMs - 45 * DAY_MS
        : Math.max(joinWindowStart + DAY_MS, dayMs(from) - DAY_MS);
      const appliedMs = start + Math.floor(random() * Math.max(DAY_MS, end - start));
      const appliedOn = iso(Math.min(appliedMs, todayMs - 45 * DAY_MS));
      const activeOn = addDays(appliedOn, int(0, 30));
      // About 6% leave during the two years, before patronage is allocated (see seed-demo.ts).
      let leavesOn: string | null = null;
      if (random() < 0.06) {
        const earliest = Math.max(dayMs(activeOn) + 30 * DAY_MS, dayMs(from));
        const latest = dayMs(allocatedOn) - DAY_MS;
        if (earliest < latest) leavesOn = iso(earliest + Math.floor(random() * (latest - earliest)));
      }
      members.push({
        ref: `m${index + 1}-${m + 1}`,
        name: `${pick(FIRST_NAMES)} ${pick(LAST_NAMES)}`,
        appliedOn,
        activeOn,
        leavesOn,
        buyInCents,
        patronageHours: 0,
      });
    }
    // Two years of results: revenue follows the members active that month, a season and growth.
    const months: PlannedMonth[] = monthStarts
      .map((monthStart, i) => {
        const on = addDays(monthStart, 27);
        const active = members.filter(
          (m) => m.activeOn <= on && (m.leavesOn === null || m.leavesOn > on),
        ).length;
        const season = 1 + 0.12 * Math.sin(((i + int(0, 2)) / 12) * 2 * Math.PI);
        const growth = 1 + 0.004 * i;
        const revenueCents =
          active === 0
            ? 0
            : Math.round(active * sector.revenuePerMemberCents * season * growth * (0.85 + random() * 0.3));
        // Most months end in surplus; a few in deficit.
        const margin = random() < 0.12 ? 1.02 + random() * 0.05 : 0.86 + random() * 0.11;
        return { on, revenueCents, expenseCents: Math.round(revenueCents * margin) };
      })
      .filter((month) => month.revenueCents > 0 && month.on >= foundedOn);
    return {
      index,
      name,
      kind,
      naicsCode: sector.naics,
      neighbourhood: hood.name,
      latitude: located ? (hood.latitude + (random() - 0.5) * 0.024).toFixed(6) : null,
      longitude: located ? (hood.longitude + (random() - 0.5) * 0.034).toFixed(6) : null,
      foundedOn,
      publicListing: random() < 0.9,
      dataSharingConsent: random() < 0.82,
      buyInCents,
      members,
      months,
      patronage: false,
      inNetwork: false,
      consentOn: null,
      profiles: [],
    };
  });
  planReporting(coops, options, from, options.consentFrom ?? from);

  // Patronage: worker co-ops with five members or more that were active in the patronage year and
  // ended it in surplus.
  const yearFrom = `${patronageYear}-01-01`;
  const yearTo = `${patronageYear}-12-31`;
  for (const coop of coops) {
    if (coop.kind !== 'WORKER' || coop.foundedOn > yearFrom) continue;
    const yearMonths = coop.months.filter((m) => m.on >= yearFrom && m.on <= yearTo);
    const surplus = yearMonths.reduce((s, m) => s + m.revenueCents - m.expenseCents, 0);
    const working = coop.members.filter(
      (m) => m.activeOn <= yearTo && (m.leavesOn === null || m.leavesOn > yearFrom),
    );
    if (working.length < 5 || surplus <= 0) continue;
    coop.patronage = true;
    for (const member of working) {
      const start = member.activeOn > yearFrom ? member.activeOn : yearFrom;
      const end =
        member.leavesOn !== null && member.leavesOn <= yearTo ? addDays(member.leavesOn, -1) : yearTo;
      const share = Math.max(0, (dayMs(end) - dayMs(start)) / DAY_MS + 1) / 365;
      member.patronageHours = Math.round(share * (1400 + random() * 700) * 100) / 100;
    }
  }

  // The mutual-credit network: producing co-ops (not housing, not credit unions), about half.
  const candidates = coops.filter(
    (c) => c.kind !== 'HOUSING' && c.kind !== 'CREDIT_UNION' && c.foundedOn <= addDays(today, -60),
  );
  const networkMembers = candidates.filter((_, i) => i % 2 === 0 || random() < 0.2).map((c) => c.index);
  for (const i of networkMembers) coops[i]!.inNetwork = true;
  const defaultLimitCents = 500_000;
  // Payments: history over the network's months (it began eleven months ago: the network's book
  // takes entries at most 366 days back), then a few today. Balances are tracked so that no payer
  // goes past its limit.
  const networkStart = new Date(todayMs);
  networkStart.setUTCDate(1);
  networkStart.setUTCMonth(networkStart.getUTCMonth() - 10);
  const balances = networkMembers.map(() => 0);
  const payments: PlannedPayment[] = [];
  const n = networkMembers.length;
  const pay = (on: string | null) => {
    if (n < 2) return;
    const payer = int(0, n - 1);
    let payee = int(0, n - 2);
    if (payee >= payer) payee++;
    const cents = int(40, 1500) * 100 + int(0, 99);
    if (balances[payer]! - cents < -defaultLimitCents * 0.9) return;
    balances[payer]! -= cents;
    balances[payee]! += cents;
    payments.push({ payer, payee, cents, on });
  };
  for (let m = new Date(networkStart); m.getTime() < todayMs; m.setUTCMonth(m.getUTCMonth() + 1)) {
    const monthStart = m.getTime();
    const next = new Date(m);
    next.setUTCMonth(next.getUTCMonth() + 1);
    const monthEnd = Math.min(next.getTime(), todayMs) - DAY_MS;
    if (monthEnd < monthStart) continue;
    const count = Math.round(n * (0.8 + random() * 0.9) * (1 + payments.length / 2000));
    // In date order: the ledger keeps every balance within its bounds at every instant, in the
    // order entries are effective, so the limits are tracked in that order too.
    const days = Array.from(
      { length: count },
      () => monthStart + Math.floor(random() * (monthEnd - monthStart + DAY_MS)),
    );
    for (const day of days.sort((a, b) => a - b)) pay(iso(day));
  }
  for (let k = 0; k < Math.min(12, n * 2); k++) pay(null);
  // Invoices in USD between members, partly in cycles so that clearing has something to set off.
  const obligations: PlannedObligation[] = [];
  for (let k = 0; k < Math.min(60, n * 3) && n >= 3; k++) {
    const a = int(0, n - 1);
    const b = (a + 1 + int(0, n - 2)) % n;
    const c = (b + 1 + int(0, n - 2)) % n;
    const cents = int(200, 4000) * 100;
    const dueOn = addDays(today, int(5, 60));
    obligations.push({ debtor: a, creditor: b, cents, dueOn, reference: `INV-${k + 1}-A` });
    if (c !== a) {
      obligations.push({
        debtor: b,
        creditor: c,
        cents: Math.round(cents * (0.6 + random() * 0.6)),
        dueOn,
        reference: `INV-${k + 1}-B`,
      });
      obligations.push({
        debtor: c,
        creditor: a,
        cents: Math.round(cents * (0.5 + random() * 0.5)),
        dueOn,
        reference: `INV-${k + 1}-C`,
      });
    }
  }

  return {
    city: options.city,
    seed: options.seed,
    today,
    from,
    neighbourhoods: NEIGHBOURHOODS,
    coops,
    patronageYear,
    allocatedOn,
    cashPaidOn,
    network: {
      name: `${options.city} Exchange`,
      unit: 'CRX',
      members: networkMembers,
      defaultLimitCents,
      payments,
      obligations,
    },
  };
}

/** Sectors whose co-ops report as one federation (one contributor in city reports). */
const FEDERATED_SECTORS: Record<string, string> = { '624120': 'Care Federation' };

/**
 * What city reporting needs: the day each consenting co-op consented, and its treasurer's reports
 * (one at the start of the two years, or at the founding, then one each January and one last
 * month). Drawn from a generator of its own, so the rest of the plan is what it was before.
 */
function planReporting(coops: PlannedCoop[], options: PlanOptions, from: string, consentFrom: string): void {
  const random = rng(options.seed ^ 0x5eed_c17e);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const today = options.today;
  const lastMonth = addDays(`${today.slice(0, 7)}-01`, -20).slice(0, 7);
  for (const coop of coops) {
    const start = coop.foundedOn > from ? coop.foundedOn : from;
    const consentStart = coop.foundedOn > consentFrom ? coop.foundedOn : consentFrom;
    if (coop.dataSharingConsent) {
      // One in eight consented during the two years; the rest had by their first day (or founding).
      const later = random() < 0.125;
      // Drawn whatever the branch, so that --consent-from moves only the consents.
      const offset = random();
      const latest = dayMs(today) - 75 * DAY_MS;
      const earliest = dayMs(consentStart) + 30 * DAY_MS;
      coop.consentOn =
        later && earliest < latest ? iso(earliest + Math.floor(offset * (latest - earliest))) : consentStart;
    }
    const days = [start];
    for (let year = Number(start.slice(0, 4)) + 1; `${year}-01-15` < today; year++) {
      if (`${year}-01-15` > start) days.push(`${year}-01-15`);
    }
    const recent = `${lastMonth}-10`;
    if (recent > days[days.length - 1]! && recent < today) days.push(recent);
    const federation = FEDERATED_SECTORS[coop.naicsCode];
    coop.profiles = days.map((asOf, k) => {
      const active = coop.members.filter(
        (m) => m.activeOn <= asOf && (m.leavesOn === null || m.leavesOn > asOf),
      ).length;
      // Worker co-ops' members are its workers; in platform and multi-stakeholder co-ops some
      // members are workers; consumer, housing, producer co-ops and credit unions employ staff.
      const workerOwners =
        coop.kind === 'WORKER'
          ? active
          : coop.kind === 'PLATFORM' || coop.kind === 'MULTI_STAKEHOLDER'
            ? Math.round(active * (0.2 + random() * 0.2))
            : 0;
      const staff: Record<CoopKind, [number, number]> = {
        WORKER: [0, Math.max(1, Math.ceil(active * 0.25))],
        PLATFORM: [1, 6],
        MULTI_STAKEHOLDER: [2, 12],
        CONSUMER: [4, 30],
        CREDIT_UNION: [6, 25],
        HOUSING: [0, 2],
        PRODUCER: [0, 6],
      };
      const [low, high] = staff[coop.kind];
      const split = (categories: readonly string[], disclosed: number) => {
        const weights = categories.map(() => random() ** 2);
        const total = weights.reduce((a, b) => a + b, 0) || 1;
        const counts = weights.map((w) => Math.floor((w / total) * disclosed));
        return categories.map((category, i) => ({ category, count: counts[i]! })).filter((c) => c.count > 0);
      };
      // Most worker-owners say; a few do not (they are UNDISCLOSED).
      const disclosed = Math.round(workerOwners * (0.75 + random() * 0.25));
      const contracts = random() < 0.2 ? int(1, 3) : 0;
      return {
        asOf,
        workerOwners,
        workersNotMembers: int(low, high),
        byGender: split(GENDER_CATEGORIES, disclosed),
        byRace: split(RACE_CATEGORIES, disclosed),
        jobsCreatedAtFounding: k === 0 ? int(2, 9) : null,
        cityContractsAwarded: contracts,
        cityContractsValueCents: contracts * int(50, 900) * 10_000,
        reportingGroup: federation ? `${options.city} ${federation}` : null,
      };
    });
  }
}

/** Cents as a Decimal string with two places ("1234.05"). */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
