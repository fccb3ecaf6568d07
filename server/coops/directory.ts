/**
 * The public directory of co-ops, as Murmurations profiles so other solidarity-economy maps can
 * pick them up.
 *
 * Schema: Murmurations "Solidarity Economy Initiatives", `solidarity_economy_initiatives-v0.2.0`
 * (MurmurationsNetwork/MurmurationsLibrary, schemas/solidarity_economy_initiatives-v0.2.0.json,
 * by the Solidarity Economy Association). Its fields: linked_schemas, ld_uri, name, description,
 * primary_url, website, locality, region, country_name, geolocation {lat, lon}, tags; required are
 * linked_schemas, name, ld_uri and primary_url. Property names are snake_case (`^[a-z0-9_]*$`).
 *
 * Only public fields of a co-op go in (those it chose to list): never members, money, consent or
 * anything personal. Pure: no I/O; the caller passes where the profile is published.
 */
import type { PublicRoute } from '../platform/http/app.js';
import type { CoopRecord } from './records.js';

export const MURMURATIONS_SCHEMA = 'solidarity_economy_initiatives-v0.2.0';

export interface MurmurationsProfile {
  linked_schemas: string[];
  /** A stable URI for the co-op: its id as a URN, the same wherever the profile is served. */
  ld_uri: string;
  name: string;
  description?: string;
  /** The co-op's website, or else the URL of this profile (the schema requires one). */
  primary_url?: string;
  website?: string;
  locality: string;
  geolocation?: { lat: number; lon: number };
  tags: string[];
}

/** The public fields a profile is built from (a CoopRecord has them). */
export type DirectoryCoop = Pick<
  CoopRecord,
  | 'id'
  | 'name'
  | 'kind'
  | 'naicsCode'
  | 'city'
  | 'neighbourhood'
  | 'latitude'
  | 'longitude'
  | 'legalForm'
  | 'description'
  | 'website'
>;

/** Path of a listed co-op's profile on this server (served by `directoryRoute`). */
export function directoryProfilePath(coopId: string): string {
  return `/directory/coops/${coopId}.json`;
}

/**
 * A co-op's Murmurations profile. `profileUrl` is where it is published (e.g.
 * https://ledger.example/directory/coops/<id>.json); it becomes `primary_url` when the co-op has
 * no website of its own, and without either `primary_url` is left out.
 */
export function murmurationsProfile(
  coop: DirectoryCoop,
  options: { profileUrl?: string | null } = {},
): MurmurationsProfile {
  const primaryUrl = coop.website !== '' ? coop.website : (options.profileUrl ?? null);
  const kind = coop.kind.toLowerCase().replaceAll('_', '-');
  const tags = [
    'cooperative',
    `${kind} cooperative`,
    coop.legalForm,
    `naics:${coop.naicsCode}`,
    ...(coop.neighbourhood !== '' ? [coop.neighbourhood] : []),
  ];
  const profile: MurmurationsProfile = {
    linked_schemas: [MURMURATIONS_SCHEMA],
    ld_uri: `urn:uuid:${coop.id}`,
    name: coop.name,
    locality: coop.city,
    tags: [...new Set(tags)],
  };
  if (coop.description !== '') profile.description = coop.description;
  if (primaryUrl) profile.primary_url = primaryUrl;
  if (coop.website !== '') profile.website = coop.website;
  if (coop.latitude !== null && coop.longitude !== null) {
    profile.geolocation = { lat: Number(coop.latitude), lon: Number(coop.longitude) };
  }
  return profile;
}

/**
 * `GET /directory/coops/:id.json`: the Murmurations profile of a listed co-op, no token needed.
 * `publicUrl` is where the service is reached from outside (PUBLIC_URL, e.g.
 * https://ledger.example.org): a co-op without a website of its own gets
 * `<publicUrl>/directory/coops/<id>.json` as `primary_url`, or the path alone when it is not
 * configured. Never anything from the request (its Host header is the client's to choose).
 */
export function directoryRoute(
  getCoops: (ids: string[]) => Promise<CoopRecord[]>,
  { publicUrl }: { publicUrl: string | null },
): PublicRoute {
  return {
    path: '/directory/coops/:id.json',
    async handle(params) {
      const [coop] = await getCoops([String(params.id)]);
      if (!coop?.publicListing) return { status: 404, body: { error: 'no listed co-op with this id' } };
      const profileUrl = `${publicUrl ?? ''}${directoryProfilePath(coop.id)}`;
      return { status: 200, body: murmurationsProfile(coop, { profileUrl }), cacheControl: 'no-cache' };
    },
  };
}
