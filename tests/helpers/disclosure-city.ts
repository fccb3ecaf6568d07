/**
 * Small hand-built or random cities for the disclosure tests (issue 15): co-ops with a
 * neighbourhood, a sector and monthly figures, turned into a cube by the core's own aggregator.
 */
import {
  buildCube,
  type Cube,
  type CubeContributor,
  periodValues,
} from '../../server/core/disclosure-cube.js';
import { totalDimension } from '../../server/core/disclosure-dimensions.js';
import {
  type MeasureDef,
  measurePeriodDimension,
  tablePeriods,
} from '../../server/core/disclosure-periods.js';
import { DEFAULT_DISCLOSURE_POLICY, type DisclosurePolicy } from '../../server/core/disclosure-rules.js';
import { TableShape } from '../../server/core/disclosure-table.js';

export interface TestCoop {
  id: string;
  group?: string;
  neighbourhood: string;
  sector: string;
  /** measure -> month -> value */
  monthly: Record<string, Record<string, number>>;
}

export interface TestCity {
  neighbourhoods: string[];
  sectors: string[];
  measures: MeasureDef[];
  lastMonth: string;
  firstYear?: number;
  coops: TestCoop[];
  policy?: DisclosurePolicy;
}

export function cityCube(city: TestCity): Cube {
  const periods = tablePeriods(city.firstYear ?? 2026, city.lastMonth);
  const mp = measurePeriodDimension({ name: 'measure-period', measures: city.measures, periods });
  const nbh = totalDimension('neighbourhood', city.neighbourhoods);
  const sec = totalDimension('sector', city.sectors);
  const shape = new TableShape([nbh, sec, mp]);
  const contributors: CubeContributor[] = city.coops.map((c) => ({
    group: c.group ?? c.id,
    parts: [nbh.codeIndex(c.neighbourhood), sec.codeIndex(c.sector)],
    values: periodValues(
      mp,
      city.measures,
      periods,
      new Map(Object.entries(c.monthly).map(([m, byMonth]) => [m, new Map(Object.entries(byMonth))])),
    ),
  }));
  return buildCube(shape, contributors, city.policy ?? DEFAULT_DISCLOSURE_POLICY);
}

export const REVENUE: MeasureDef = { code: 'REVENUE', temporal: 'FLOW', grain: 'MONTH' };

/** A cell index by its codes. */
export function at(cube: Cube, nbh: string, sector: string, code: string): number {
  return cube.shape.cellOf([nbh, sector, code]);
}
