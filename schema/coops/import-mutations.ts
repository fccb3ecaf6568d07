/**
 * The CSV import of members or buy-in payments, all or nothing: a file with a bad row changes
 * nothing and names every bad row. Conventions as in coop-mutations.ts.
 */
import type { ImportResult, RowError } from '../../server/coops/index.js';
import { IMPORT_KEY_LENGTH_MAX, IMPORT_ROWS_MAX } from '../../server/coops/index.js';
import { LedgerError } from '../../server/core/index.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { ErrorCodeEnum, guard, UserErrorRef } from '../errors.js';
import { decodeCoopId } from '../ids.js';

const ImportKindEnum = builder.enumType('CoopImportKind', {
  description:
    'MEMBERS: a register of people and their memberships. PAYMENTS: buy-in payments of existing members.',
  values: ['MEMBERS', 'PAYMENTS'] as const,
});

const ImportMembersCsvInput = builder.inputType('ImportMembersCsvInput', {
  fields: (t) => ({
    coopId: t.id({ required: true }),
    kind: t.field({ type: ImportKindEnum, required: true }),
    csv: t.string({
      required: true,
      description:
        `The file as text, a header line first (column names in any order, case-insensitive), at most ${IMPORT_ROWS_MAX} rows. ` +
        'MEMBERS: name, class (a member class code), applied_on (YYYY-MM-DD) required; kind (person | organization), ' +
        'email, phone, address, external_ref, status (applicant | candidate | active), status_on optional. ' +
        'PAYMENTS: member (member number, leading zeros allowed, or external_ref; a reference written exactly as the cell wins), paid_on, amount required; method (cash | bank, default bank), ' +
        'reference (the memo) optional.',
    }),
    idempotencyKey: t.string({
      required: true,
      description: `Names this import (1 to ${IMPORT_KEY_LENGTH_MAX} characters): the same key and file answer the first import again (replayed); another file is IDEMPOTENCY_KEY_REUSED.`,
    }),
  }),
});

const ImportRowErrorRef = builder.objectRef<RowError>('ImportRowError').implement({
  description: 'A problem with one row of an imported file.',
  fields: (t) => ({
    row: t.exposeInt('row', { description: 'Line number in the file; the header is line 1.' }),
    column: t.string({
      nullable: true,
      description: 'The column at fault, when it is one.',
      resolve: (e) => e.column,
    }),
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

type ImportPayloadValue = ImportResult & { userErrors: LedgerError[] };

const ImportMembersCsvPayload = builder.objectRef<ImportPayloadValue>('ImportMembersCsvPayload').implement({
  description:
    'The outcome of an import. All or nothing: with any rowErrors, `imported` is false and nothing was changed.',
  fields: (t) => ({
    imported: t.exposeBoolean('imported', { description: 'True when the whole file landed.' }),
    replayed: t.exposeBoolean('replayed', {
      description: 'True when this repeats an earlier import with the same idempotencyKey and file.',
    }),
    rows: t.exposeInt('rows', { description: 'Data rows in the file (the header not counted).' }),
    membershipsCreated: t.exposeInt('membershipsCreated'),
    paymentsPosted: t.exposeInt('paymentsPosted'),
    rowErrors: t.field({
      type: [ImportRowErrorRef],
      description: 'Every bad row, in file order.',
      resolve: (p) => p.rowErrors,
    }),
    userErrors: t.field({
      type: [UserErrorRef],
      description: 'Errors of the request as a whole (unknown co-op, a reused key, ...).',
      resolve: (p) => p.userErrors,
    }),
  }),
});

function rejectedImport(error: LedgerError): ImportPayloadValue {
  return {
    imported: false,
    replayed: false,
    rows: 0,
    membershipsCreated: 0,
    paymentsPosted: 0,
    rowErrors: [],
    userErrors: [error],
  };
}

builder.mutationFields((t) => ({
  importMembersCsv: t.field({
    type: ImportMembersCsvPayload,
    description:
      'Imports members (MEMBERS) or buy-in payments (PAYMENTS) from a CSV file, all or nothing: a file with a bad row ' +
      'changes nothing and names every bad row.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ImportMembersCsvInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await guard(() =>
        ctx.services.coops.importCsv(
          {
            bookId: decodeCoopId(input.coopId),
            kind: input.kind,
            csv: input.csv,
            idempotencyKey: input.idempotencyKey,
          },
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError) return rejectedImport(result);
      return { ...result, userErrors: [] };
    },
  }),
}));
