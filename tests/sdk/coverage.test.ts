/**
 * The SDK covers the whole API: every root field of the printed schema (each query and mutation)
 * is selected by an operation document in client-sdk/operations and has a typed method of the same
 * name on the client. A new query or mutation without its SDK method fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLedgerClient } from '../../client-sdk/index.js';
import { repoRoot } from '../../server/platform/config.js';

const schema = buildSchema(readFileSync(path.join(repoRoot, 'schema', 'schema.graphql'), 'utf8'));
const operationsDir = path.join(repoRoot, 'client-sdk', 'operations');

/** Root fields each operation type selects, over every document of the SDK. */
function selectedRootFields(): Record<'query' | 'mutation', Set<string>> {
  const selected = { query: new Set<string>(), mutation: new Set<string>() };
  for (const file of readdirSync(operationsDir).filter((f) => f.endsWith('.graphql'))) {
    const document = parse(readFileSync(path.join(operationsDir, file), 'utf8'));
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation === 'subscription') continue;
      for (const selection of definition.selectionSet.selections) {
        if (selection.kind === Kind.FIELD) selected[definition.operation].add(selection.name.value);
      }
    }
  }
  return selected;
}

describe('the SDK covers every query and mutation', () => {
  const selected = selectedRootFields();
  const client = createLedgerClient({ url: 'http://127.0.0.1:1/graphql' }) as unknown as Record<
    string,
    unknown
  >;

  for (const kind of ['query', 'mutation'] as const) {
    const type = kind === 'query' ? schema.getQueryType() : schema.getMutationType();
    const fields = Object.keys(type?.getFields() ?? {});

    it(`every ${kind} field has an operation document`, () => {
      expect(fields.length).toBeGreaterThan(20);
      expect(fields.filter((field) => !selected[kind].has(field))).toEqual([]);
    });

    it(`every ${kind} field has a method of its name`, () => {
      expect(fields.filter((field) => typeof client[field] !== 'function')).toEqual([]);
    });
  }
});
