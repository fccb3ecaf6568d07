/**
 * The demo city's plan (scripts/lib/demo-city.ts): deterministic for a seed and day, of the sizes
 * asked for, and within what the API accepts (dates not in the future, payments within credit
 * limits, patronage years inside the two years of entries, treasurers' reports and consent dates
 * reportCoopProfile and createCoop accept). The seed script carries it out through
 * the API; tests/dashboard/dashboard.test.ts runs it against a service.
 */
import { describe, expect, it } from 'vitest';
import { GENDER_CATEGORIES, planCity, RACE_CATEGORIES } from '../../scripts/lib/demo-city.js';

const options = { seed: 7, coops: 64, members: 1500, city: 'Riverton', today: '2026-12-05' };

describe('the demo city plan', () => {
  it('is the same for the same seed and day, and another for another seed', () => {
    expect(planCity(options)).toEqual(planCity(options));
    expect(JSON.stringify(planCity({ ...options, seed: 8 }))).not.toBe(JSON.stringify(planCity(options)));
  });

  it('has the co-ops and members asked for, of every kind, across sectors and neighbourhoods', () => {
    const plan = planCity(options);
    expect(plan.coops).toHaveLength(64);
    expect(plan.coops.reduce((n, c) => n + c.members.length, 0)).toBe(1500);
    expect(plan.coops.every((c) => c.members.length >= 3)).toBe(true);
    expect(new Set(plan.coops.map((c) => c.kind)).size).toBe(7);
    expect(new Set(plan.coops.map((c) => c.naicsCode)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(plan.coops.map((c) => c.neighbourhood)).size).toBeGreaterThanOrEqual(7);
    expect(new Set(plan.coops.map((c) => c.name)).size).toBe(64);
    const located = plan.coops.filter((c) => c.latitude !== null).length;
    expect(located).toBeGreaterThan(40);
    expect(located).toBeLessThan(64);
    const consenting = plan.coops.filter((c) => c.dataSharingConsent).length;
    expect(consenting).toBeGreaterThan(32);
    expect(consenting).toBeLessThan(64);
  });

  it('dates everything within two years before today, never after it', () => {
    const plan = planCity(options);
    expect(plan.from).toBe('2024-12-01');
    for (const coop of plan.coops) {
      expect(coop.foundedOn <= plan.today).toBe(true);
      for (const month of coop.months) {
        expect(month.on >= plan.from && month.on < plan.today).toBe(true);
        expect(month.expenseCents).toBeGreaterThan(0);
      }
      for (const m of coop.members) {
        expect(m.appliedOn >= coop.foundedOn && m.activeOn >= m.appliedOn && m.activeOn < plan.today).toBe(
          true,
        );
        if (m.leavesOn !== null) expect(m.leavesOn > m.activeOn && m.leavesOn < plan.allocatedOn).toBe(true);
      }
    }
    // Old co-ops have all 24 months; some co-ops were founded during the two years.
    expect(plan.coops.filter((c) => c.months.length === 24).length).toBeGreaterThan(50);
    expect(plan.coops.some((c) => c.foundedOn >= plan.from)).toBe(true);
    expect(plan.coops.some((c) => c.members.some((m) => m.appliedOn >= plan.from))).toBe(true);
    expect(plan.coops.some((c) => c.members.some((m) => m.leavesOn !== null))).toBe(true);
  });

  it('allocates patronage in worker co-ops for the last calendar year, with hours of their members', () => {
    const plan = planCity(options);
    expect(plan.patronageYear).toBe(2025);
    expect(plan.allocatedOn).toBe('2026-03-31');
    const runs = plan.coops.filter((c) => c.patronage);
    expect(runs.length).toBeGreaterThan(10);
    for (const coop of runs) {
      expect(coop.kind).toBe('WORKER');
      expect(coop.members.filter((m) => m.patronageHours > 0).length).toBeGreaterThanOrEqual(5);
    }
  });

  it('dates consents so that most consenting co-ops count from the first of the two years, some later', () => {
    const plan = planCity(options);
    for (const coop of plan.coops) {
      if (!coop.dataSharingConsent) {
        expect(coop.consentOn).toBeNull();
        continue;
      }
      expect(coop.consentOn! >= coop.foundedOn && coop.consentOn! < plan.today).toBe(true);
    }
    const consenting = plan.coops.filter((c) => c.dataSharingConsent);
    const fromTheStart = consenting.filter((c) => c.consentOn === plan.from);
    const later = consenting.filter((c) => c.consentOn! > plan.from && c.consentOn !== c.foundedOn);
    expect(fromTheStart.length).toBeGreaterThan(consenting.length / 2);
    expect(later.length).toBeGreaterThan(0);
  });

  it('moves consents to --consent-from when asked, and nothing else', () => {
    const later = planCity({ ...options, consentFrom: '2026-09-01' });
    const plan = planCity(options);
    for (const [i, coop] of later.coops.entries()) {
      const { consentOn, ...rest } = coop;
      const { consentOn: before, ...same } = plan.coops[i]!;
      expect(rest).toEqual(same);
      if (!coop.dataSharingConsent) continue;
      expect(consentOn! >= '2026-09-01' || consentOn === coop.foundedOn).toBe(true);
      expect(consentOn! >= before!).toBe(true);
    }
    expect(later.coops.filter((c) => c.consentOn === '2026-09-01').length).toBeGreaterThan(30);
  });

  it("gives every co-op its treasurer's reports: worker-owners, staff, breakdowns within them, jobs at founding", () => {
    const plan = planCity(options);
    for (const coop of plan.coops) {
      expect(coop.profiles.length).toBeGreaterThanOrEqual(2);
      // biome-ignore lint/complexity/useMathMinMax: ISO dates compared as strings (Math.max gives NaN)
      const start = coop.foundedOn > plan.from ? coop.foundedOn : plan.from;
      expect(coop.profiles[0]!.asOf).toBe(start);
      expect(coop.profiles[0]!.jobsCreatedAtFounding).toBeGreaterThan(0);
      for (const [k, p] of coop.profiles.entries()) {
        if (k > 0) {
          expect(p.asOf > coop.profiles[k - 1]!.asOf).toBe(true);
          expect(p.jobsCreatedAtFounding).toBeNull();
        }
        expect(p.asOf < plan.today).toBe(true);
        expect(Number.isInteger(p.workerOwners) && p.workerOwners >= 0).toBe(true);
        expect(Number.isInteger(p.workersNotMembers) && p.workersNotMembers >= 0).toBe(true);
        const active = coop.members.filter(
          (m) => m.activeOn <= p.asOf && (m.leavesOn === null || m.leavesOn > p.asOf),
        ).length;
        if (coop.kind === 'WORKER') expect(p.workerOwners).toBe(active);
        else expect(p.workerOwners).toBeLessThanOrEqual(active);
        for (const [list, categories] of [
          [p.byGender, GENDER_CATEGORIES],
          [p.byRace, RACE_CATEGORIES],
        ] as const) {
          expect(list.reduce((n, c) => n + c.count, 0)).toBeLessThanOrEqual(p.workerOwners);
          for (const c of list) expect((categories as readonly string[]).includes(c.category)).toBe(true);
          expect(new Set(list.map((c) => c.category)).size).toBe(list.length);
        }
        expect(p.cityContractsValueCents === 0).toBe(p.cityContractsAwarded === 0);
      }
    }
    const last = plan.coops.map((c) => c.profiles[c.profiles.length - 1]!);
    expect(last.reduce((n, p) => n + p.workerOwners, 0)).toBeGreaterThan(500);
    expect(last.filter((p) => p.cityContractsAwarded > 0).length).toBeGreaterThan(0);
    expect(plan.coops.some((c) => c.profiles.some((p) => p.reportingGroup !== null))).toBe(true);
  });

  it('keeps every payer of the network within its credit limit, at every payment', () => {
    const plan = planCity(options);
    const { network } = plan;
    expect(network.members.length).toBeGreaterThan(15);
    expect(network.payments.filter((p) => p.on === null).length).toBeGreaterThan(0);
    const history = network.payments.filter((p) => p.on !== null);
    expect(new Set(history.map((p) => p.on!.slice(0, 7))).size).toBeGreaterThanOrEqual(10);
    const balances = network.members.map(() => 0);
    for (const p of network.payments) {
      expect(p.payer).not.toBe(p.payee);
      balances[p.payer]! -= p.cents;
      balances[p.payee]! += p.cents;
      expect(balances[p.payer]).toBeGreaterThanOrEqual(-network.defaultLimitCents);
    }
    expect(balances.reduce((a, b) => a + b, 0)).toBe(0);
    expect(network.obligations.length).toBeGreaterThan(30);
  });
});
