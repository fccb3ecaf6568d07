/**
 * The public directory: a co-op's public profile (DirectoryEntry), only the fields it publishes,
 * never members, money or consent. coopDirectory (schema/coops/queries.ts) lists the co-ops that
 * chose to be listed, to anyone.
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { directoryProfilePath, murmurationsProfile } from '../../server/coops/index.js';
import { connectionType } from '../connection.js';
import { badInput } from '../errors.js';
import { CoopKindEnum, DirectoryEntryRef } from './refs.js';

export const DirectoryEntryConnection = connectionType('DirectoryEntry', DirectoryEntryRef);

DirectoryEntryRef.implement({
  description:
    "A co-op's public profile in the directory: only the fields it publishes, never members, money or consent.",
  fields: (t) => ({
    id: t.id({
      description: "The Coop's global id (coop(id:) answers it only to the co-op's treasurers).",
      resolve: (c) => encodeGlobalID('Coop', c.id),
    }),
    name: t.exposeString('name'),
    kind: t.field({ type: CoopKindEnum, resolve: (c) => c.kind }),
    naicsCode: t.exposeString('naicsCode'),
    city: t.exposeString('city'),
    neighbourhood: t.exposeString('neighbourhood'),
    latitude: t.string({ nullable: true, resolve: (c) => c.latitude }),
    longitude: t.string({ nullable: true, resolve: (c) => c.longitude }),
    foundedOn: t.field({ type: 'Date', resolve: (c) => c.foundedOn }),
    legalForm: t.exposeString('legalForm'),
    description: t.exposeString('description'),
    website: t.exposeString('website'),
    profilePath: t.string({
      description:
        "Path of the co-op's Murmurations profile on this server, e.g. /directory/coops/<uuid>.json (served while the co-op is listed).",
      resolve: (c) => directoryProfilePath(c.id),
    }),
    murmurationsProfile: t.string({
      description:
        'The Murmurations profile (schema solidarity_economy_initiatives-v0.2.0) as JSON text. With `publicBaseUrl` ' +
        '(where this server is reachable, e.g. https://ledger.example), a co-op without a website gets its profile URL as primary_url.',
      args: { publicBaseUrl: t.arg.string() },
      resolve: (c, args) => {
        const base = args.publicBaseUrl ?? null;
        if (base !== null && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(base)) {
          throw badInput('publicBaseUrl must be an http(s) URL');
        }
        const profileUrl = base === null ? null : `${base.replace(/\/+$/, '')}${directoryProfilePath(c.id)}`;
        return JSON.stringify(murmurationsProfile(c, { profileUrl }));
      },
    }),
  }),
});
