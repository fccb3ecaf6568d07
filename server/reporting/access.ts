/**
 * Who reads a city's reports (issue 15): a CITY_ANALYST whose grant names the city (compared
 * without case or surrounding spaces, as the directory compares cities), or an ADMIN. Nobody reads a
 * co-op's own figures through reporting: every answer is a cell of a protected release.
 */
import { isAdmin, type Principal } from '../core/index.js';

export function cityKeyOf(city: string): string {
  return city.trim().toLowerCase();
}

export function mayReadCity(actor: Principal | null, city: string): boolean {
  if (!actor) return false;
  const key = cityKeyOf(city);
  if (key === '') return false;
  return isAdmin(actor) || actor.grants.some((g) => g.role === 'CITY_ANALYST' && cityKeyOf(g.scope) === key);
}

/** The cities a principal's CITY_ANALYST grants name. */
export function analystCities(actor: Principal | null): string[] {
  return (actor?.grants ?? []).filter((g) => g.role === 'CITY_ANALYST').map((g) => g.scope.trim());
}
