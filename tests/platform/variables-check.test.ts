/**
 * The lean route's allocation-free variables check (server/platform/http/variables-check.ts)
 * never says "coerces" where graphql-js's getVariableValues finds an error, and says it wherever
 * graphql-js finds none for the shapes it models: checked on the real schema with the hot
 * mutations' documents and variables good and bad in every way the rules distinguish.
 */
import { getVariableValues, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../schema/index.js';
import { variablesCheck } from '../../server/platform/http/variables-check.js';

const schema = buildSchema();

const BATCH = `mutation M($input: PostJournalEntriesInput!) {
  postJournalEntries(input: $input) { postedCount }
}`;
const SINGLE = `mutation S($input: PostJournalEntryInput!, $extra: String, $withDefault: Int = 3) {
  postJournalEntry(input: $input) { replayed }
}`;

function operationOf(text: string): OperationDefinitionNode {
  return parse(text).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
}

const line = (over: Record<string, unknown> = {}) => ({
  accountId: 'QWNjb3VudDp4',
  side: 'DEBIT',
  amount: '12.50',
  unit: 'EUR',
  ...over,
});
const entry = (over: Record<string, unknown> = {}) => ({
  idempotencyKey: 'k-1',
  lines: [line(), line({ side: 'CREDIT' })],
  ...over,
});

const batchCases: [string, unknown][] = [
  ['valid', { input: { bookId: 'b', mode: 'INDEPENDENT', entries: [entry(), entry()] } }],
  [
    'valid, optional fields',
    {
      input: {
        bookId: 'b',
        mode: 'ATOMIC',
        entries: [
          entry({ memo: 'm', effectiveAt: '2026-01-02T03:04:05Z', metadata: [{ key: 'a', value: 'b' }] }),
        ],
      },
    },
  ],
  [
    'valid, nulls for optional fields',
    {
      input: {
        bookId: 'b',
        mode: 'ATOMIC',
        entries: [entry({ memo: null, effectiveAt: null, metadata: null })],
      },
    },
  ],
  [
    'valid, a single entry given as a list of one',
    { input: { bookId: 'b', mode: 'ATOMIC', entries: entry() } },
  ],
  ['valid, integer id', { input: { bookId: 12, mode: 'ATOMIC', entries: [entry()] } }],
  [
    'valid, accountCode instead of id',
    {
      input: {
        bookId: 'b',
        mode: 'ATOMIC',
        entries: [entry({ lines: [line({ accountId: undefined, accountCode: '1010' }), line()] })],
      },
    },
  ],
  ['no input', {}],
  ['input null', { input: null }],
  ['input a string', { input: 'x' }],
  ['input an array', { input: [] }],
  ['unknown field', { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry()], extra: 1 } }],
  [
    'unknown field in a line',
    {
      input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ lines: [line({ colour: 'red' }), line()] })] },
    },
  ],
  ['missing required field', { input: { mode: 'ATOMIC', entries: [entry()] } }],
  ['required field null', { input: { bookId: null, mode: 'ATOMIC', entries: [entry()] } }],
  ['bad enum', { input: { bookId: 'b', mode: 'atomic', entries: [entry()] } }],
  ['enum not a string', { input: { bookId: 'b', mode: 1, entries: [entry()] } }],
  ['float id', { input: { bookId: 1.5, mode: 'ATOMIC', entries: [entry()] } }],
  ['boolean id', { input: { bookId: true, mode: 'ATOMIC', entries: [entry()] } }],
  ['object id', { input: { bookId: {}, mode: 'ATOMIC', entries: [entry()] } }],
  [
    'amount a number',
    { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ lines: [line({ amount: 12.5 }), line()] })] } },
  ],
  [
    'amount with an exponent',
    {
      input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ lines: [line({ amount: '1e3' }), line()] })] },
    },
  ],
  [
    'amount null',
    { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ lines: [line({ amount: null }), line()] })] } },
  ],
  [
    'side missing',
    {
      input: {
        bookId: 'b',
        mode: 'ATOMIC',
        entries: [entry({ lines: [line({ side: undefined }), line()] })],
      },
    },
  ],
  [
    'bad DateTime',
    { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ effectiveAt: 'yesterday' })] } },
  ],
  ['null entry in the list', { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry(), null] } }],
  ['lines an object', { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ lines: { a: 1 } })] } }],
  [
    'metadata value a number',
    { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ metadata: [{ key: 'a', value: 1 }] })] } },
  ],
  [
    'idempotency key a number',
    { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ idempotencyKey: 7 })] } },
  ],
  ['memo an array of strings', { input: { bookId: 'b', mode: 'ATOMIC', entries: [entry({ memo: ['a'] })] } }],
  ['__proto__ key', JSON.parse('{"input":{"bookId":"b","mode":"ATOMIC","entries":[],"__proto__":{"x":1}}}')],
];

const singleCases: [string, unknown][] = [
  ['valid', { input: { bookId: 'b', ...entry() } }],
  ['valid with the optional variables', { input: { bookId: 'b', ...entry() }, extra: 'x', withDefault: 4 }],
  ['optional variable null', { input: { bookId: 'b', ...entry() }, extra: null, withDefault: null }],
  ['optional variable of the wrong type', { input: { bookId: 'b', ...entry() }, extra: 3 }],
  ['defaulted variable of the wrong type', { input: { bookId: 'b', ...entry() }, withDefault: 'x' }],
  ['Int out of range', { input: { bookId: 'b', ...entry() }, withDefault: 2 ** 40 }],
  ['unknown variable (ignored)', { input: { bookId: 'b', ...entry() }, nobody: 1 }],
];

describe('the lean route variables check agrees with graphql-js', () => {
  for (const [text, cases] of [
    [BATCH, batchCases],
    [SINGLE, singleCases],
  ] as const) {
    const operation = operationOf(text);
    const check = variablesCheck(schema, operation.variableDefinitions ?? []);
    for (const [name, variables] of cases) {
      it(`${operation.name?.value}: ${name}`, () => {
        const inputs = JSON.parse(JSON.stringify(variables)) as Record<string, unknown>;
        const graphqlJs = getVariableValues(schema, operation.variableDefinitions ?? [], inputs);
        expect(check(inputs)).toBe(graphqlJs.errors === undefined);
      });
    }
  }
});
