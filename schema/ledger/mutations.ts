/**
 * Mutations: one `input`, a payload whose rejections are `userErrors` with stable codes. Every
 * money-moving mutation takes an `idempotencyKey`: the same key with the same input answers with
 * the original entry (`replayed: true`) and posts nothing; with different input it is
 * IDEMPOTENCY_KEY_REUSED. Keys are scoped to the book and kept as long as the entry (forever).
 *
 * Resolvers decode ids and call one use case with the caller (LedgerService checks what the caller
 * may write, after scope-auth here; a caller of another book gets UNKNOWN_BOOK / UNKNOWN_ACCOUNT /
 * UNKNOWN_ENTRY from it).
 */

import { LedgerError } from '../../server/core/index.js';
import type { EntryDraft, OpResult } from '../../server/ledger/index.js';
import { builder, type InputFields } from '../builder.js';
import { actorOf, type GraphQLContext } from '../context.js';
import { guard, UserErrorRef } from '../errors.js';
import { type BookScopedId, decodeBookId, decodeScopedId } from '../ids.js';
import { loaders } from '../loaders.js';
import { AccountRef, AccountTypeEnum, BookRef, JournalEntryRef, MetadataInput, SideEnum } from '../refs.js';

const UnitInput = builder.inputType('UnitInput', {
  fields: (t) => ({
    code: t.string({ required: true, description: 'ISO 4217 code or a custom code: 2-16 of A-Z, 0-9, _.' }),
    scale: t.int({ required: true, description: 'Decimal places, 0 to 18.' }),
  }),
});

const JournalLineInput = builder.inputType('JournalLineInput', {
  description:
    'One line of an entry. Name its account by `accountId` or by `accountCode`, exactly one of the two.',
  fields: (t) => ({
    accountId: t.id({ description: 'The account, by id; or give `accountCode`.' }),
    accountCode: t.string({
      description:
        'The account by its code in the book (e.g. "1010"), instead of `accountId`; an unknown code is UNKNOWN_ACCOUNT at `lines[i].accountCode`.',
    }),
    side: t.field({ type: SideEnum, required: true }),
    amount: t.field({
      type: 'Decimal',
      required: true,
      description: "Positive, at most the unit's scale in decimal places.",
    }),
    unit: t.string({
      required: true,
      description: "Must be the account's unit (a guard against posting in the wrong unit).",
    }),
  }),
});

const entryFields = (t: InputFields) => ({
  idempotencyKey: t.string({
    required: true,
    description: '1-128 printable ASCII characters, unique per book.',
  }),
  lines: t.field({
    type: [JournalLineInput],
    required: true,
    description: '2 to 100 lines; debits equal credits per unit.',
  }),
  effectiveAt: t.field({
    type: 'DateTime',
    description:
      "When the entry counts; defaults to now. Not in the future; at most the book's maxBackdateDays in the past.",
  }),
  memo: t.string({ description: 'Up to 1000 characters.' }),
  metadata: t.field({ type: [MetadataInput] }),
});

const JournalEntryInput = builder.inputType('JournalEntryInput', { fields: (t) => entryFields(t) });

const BatchModeEnum = builder.enumType('BatchMode', {
  values: {
    ATOMIC: { description: 'All entries post or none does.' },
    INDEPENDENT: { description: 'Each entry posts or is rejected on its own.' },
  },
});

// ---------- payloads ----------

interface EntryPayload {
  entry: OpResult & { ok: true } extends { entry: infer E } ? E | null : never;
  replayed: boolean;
  userErrors: LedgerError[];
  bookId: string | null;
  relatedId: string | null;
}

function entryPayload(name: string, related?: { field: string; description: string }) {
  return builder.objectRef<EntryPayload>(name).implement({
    fields: (t) => ({
      entry: t.field({ type: JournalEntryRef, nullable: true, resolve: (p) => p.entry }),
      replayed: t.boolean({
        description:
          'True when this answer repeats an earlier request with the same idempotencyKey; nothing new was posted.',
        resolve: (p) => p.replayed,
      }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
      ...(related
        ? {
            [related.field]: t.field({
              type: JournalEntryRef,
              nullable: true,
              description: related.description,
              resolve: (p, _a, ctx) =>
                p.relatedId && p.bookId ? loaders(ctx).entry.load(`${p.bookId}:${p.relatedId}`) : null,
            }),
          }
        : {}),
    }),
  });
}

function toPayload(result: OpResult, relatedId: string | null = null): EntryPayload {
  return result.ok
    ? {
        entry: result.entry,
        replayed: result.replayed,
        userErrors: [],
        bookId: result.entry.bookId,
        relatedId,
      }
    : { entry: null, replayed: false, userErrors: [result.error], bookId: null, relatedId: null };
}

/** A batch's result for one entry: toPayload's object with the index set on it (one object). */
function batchResult(result: OpResult, index: number): EntryPayload & { index: number } {
  const payload = toPayload(result) as EntryPayload & { index: number };
  payload.index = index;
  return payload;
}

const PostJournalEntryPayload = entryPayload('PostJournalEntryPayload');
const PostPendingEntryPayload = entryPayload('PostPendingEntryPayload');
const ReverseJournalEntryPayload = entryPayload('ReverseJournalEntryPayload', {
  field: 'reversedEntry',
  description: 'The entry that was reversed.',
});
const CommitPendingEntryPayload = entryPayload('CommitPendingEntryPayload', {
  field: 'pendingEntry',
  description: 'The pending entry that was posted.',
});
const VoidPendingEntryPayload = entryPayload('VoidPendingEntryPayload', {
  field: 'pendingEntry',
  description: 'The pending entry that was voided.',
});

const BatchResultRef = builder
  .objectRef<EntryPayload & { index: number }>('PostJournalEntriesResult')
  .implement({
    fields: (t) => ({
      index: t.exposeInt('index', { description: 'Position of the entry in the input list.' }),
      entry: t.field({ type: JournalEntryRef, nullable: true, resolve: (p) => p.entry }),
      replayed: t.boolean({ resolve: (p) => p.replayed }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

const PostJournalEntriesPayload = builder
  .objectRef<{ results: (EntryPayload & { index: number })[]; userErrors: LedgerError[] }>(
    'PostJournalEntriesPayload',
  )
  .implement({
    fields: (t) => ({
      results: t.field({
        type: [BatchResultRef],
        description: 'One result per input entry, in input order.',
        resolve: (p) => p.results,
      }),
      postedCount: t.int({
        description: 'Entries posted by this call (replays not counted).',
        resolve: (p) => p.results.filter((r) => r.entry && !r.replayed).length,
      }),
      userErrors: t.field({
        type: [UserErrorRef],
        description:
          'Errors of the whole batch; per-entry errors are in `results` (paths start with entries[i]).',
        resolve: (p) => p.userErrors,
      }),
    }),
  });

const BookPayload = builder
  .objectRef<{ book: unknown; userErrors: LedgerError[] }>('CreateBookPayload')
  .implement({
    fields: (t) => ({
      book: t.field({ type: BookRef, nullable: true, resolve: (p) => p.book as never }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });

function accountPayload(name: string) {
  return builder.objectRef<{ account: unknown; userErrors: LedgerError[] }>(name).implement({
    fields: (t) => ({
      account: t.field({ type: AccountRef, nullable: true, resolve: (p) => p.account as never }),
      userErrors: t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors }),
    }),
  });
}
const CreateAccountPayload = accountPayload('CreateAccountPayload');
const CloseAccountPayload = accountPayload('CloseAccountPayload');

// ---------- input decoding ----------

interface RawEntryInput {
  idempotencyKey: string;
  lines: {
    accountId?: string | number | null;
    accountCode?: string | null;
    side: 'DEBIT' | 'CREDIT';
    amount: string;
    unit: string;
  }[];
  effectiveAt?: Date | null;
  memo?: string | null;
  metadata?: { key: string; value: string }[] | null;
}

/**
 * Account global ids decoded, remembered: a batch names about 1,000 of them, most already seen
 * (a book's accounts are few beside its entries), and decoding one makes five strings and two
 * objects. The decoded ids are shared and never changed. Bounded: emptied when full.
 */
const decodedAccountIds = new Map<string, BookScopedId | null>();
const DECODED_ACCOUNT_IDS_MAX = 50_000;

function decodeAccountId(globalId: string): BookScopedId | null {
  let decoded = decodedAccountIds.get(globalId);
  if (decoded === undefined) {
    decoded = decodeScopedId(globalId, 'Account');
    if (decodedAccountIds.size >= DECODED_ACCOUNT_IDS_MAX) decodedAccountIds.clear();
    decodedAccountIds.set(globalId, decoded);
  }
  return decoded;
}

/**
 * Decodes global ids; an account of another book or another type becomes unknown (''). Codes are
 * passed on for the use case to resolve (exactly one of id and code, checked there).
 */
function toEntryInput(bookId: string, raw: RawEntryInput): EntryDraft {
  return {
    idempotencyKey: raw.idempotencyKey,
    lines: raw.lines.map((l) => {
      let accountId: string | null = null;
      if (l.accountId !== null && l.accountId !== undefined) {
        const key = decodeAccountId(String(l.accountId));
        accountId = key && key.bookId === bookId ? key.id : '';
      }
      return {
        accountId,
        accountCode: l.accountCode ?? null,
        side: l.side,
        amount: l.amount,
        unit: l.unit,
      };
    }),
    effectiveAt: raw.effectiveAt ?? null,
    memo: raw.memo ?? null,
    metadata: raw.metadata ?? null,
  };
}

function refInput(raw: {
  entryId: string | number;
  idempotencyKey: string;
  effectiveAt?: Date | null;
  memo?: string | null;
  metadata?: { key: string; value: string }[] | null;
}) {
  const key = decodeScopedId(String(raw.entryId), 'JournalEntry');
  return {
    bookId: key?.bookId ?? '',
    entryId: key?.id ?? '',
    idempotencyKey: raw.idempotencyKey,
    effectiveAt: raw.effectiveAt ?? null,
    memo: raw.memo ?? null,
    metadata: raw.metadata ?? null,
  };
}

// ---------- mutations ----------

const CreateBookInput = builder.inputType('CreateBookInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    units: t.field({
      type: [UnitInput],
      required: true,
      description: 'The units this book may hold (1 to 50).',
    }),
    maxBackdateDays: t.int({
      description: 'How far in the past entries may be effective; default 366, at most 36600.',
    }),
  }),
});

const CreateAccountInput = builder.inputType('CreateAccountInput', {
  fields: (t) => ({
    bookId: t.id({ required: true }),
    code: t.string({ required: true, description: 'Unique in the book: 1-64 of letters, digits, _ . : -' }),
    name: t.string({ required: true }),
    type: t.field({ type: AccountTypeEnum, required: true }),
    unit: t.string({ required: true, description: "One of the book's units." }),
    parentId: t.id({ description: 'A parent account in the same book and unit, for roll-ups.' }),
    lowerBound: t.field({
      type: 'Decimal',
      description: 'Lowest balance allowed (normal direction); negative for a credit limit.',
    }),
    upperBound: t.field({ type: 'Decimal', description: 'Highest balance allowed (normal direction).' }),
  }),
});

const PostJournalEntryInput = builder.inputType('PostJournalEntryInput', {
  fields: (t) => ({ bookId: t.id({ required: true }), ...entryFields(t) }),
});

const PostJournalEntriesInput = builder.inputType('PostJournalEntriesInput', {
  fields: (t) => ({
    bookId: t.id({ required: true }),
    mode: t.field({ type: BatchModeEnum, required: true }),
    entries: t.field({ type: [JournalEntryInput], required: true, description: '1 to 1000 entries.' }),
  }),
});

const PostPendingEntryInput = builder.inputType('PostPendingEntryInput', {
  fields: (t) => ({
    bookId: t.id({ required: true }),
    ...entryFields(t),
    expiresAt: t.field({
      type: 'DateTime',
      description:
        'After this instant the entry can no longer be posted and its reservation is released. At most 366 days ahead.',
    }),
  }),
});

const refFields = (t: InputFields, effectiveDoc: string) => ({
  entryId: t.id({ required: true }),
  idempotencyKey: t.string({ required: true }),
  effectiveAt: t.field({ type: 'DateTime', description: effectiveDoc }),
  memo: t.string(),
  metadata: t.field({ type: [MetadataInput] }),
});

const ReverseJournalEntryInput = builder.inputType('ReverseJournalEntryInput', {
  fields: (t) => refFields(t, "When the reversal counts; defaults to the original entry's effectiveAt."),
});
const CommitPendingEntryInput = builder.inputType('CommitPendingEntryInput', {
  fields: (t) => refFields(t, 'When the posted amounts count; defaults to now.'),
});
const VoidPendingEntryInput = builder.inputType('VoidPendingEntryInput', {
  fields: (t) => refFields(t, 'When the void is recorded as effective; defaults to now.'),
});

const run = <T>(ctx: GraphQLContext, work: (ledger: GraphQLContext['services']['ledger']) => Promise<T>) =>
  guard(() => work(ctx.services.ledger));

builder.mutationFields((t) => ({
  createBook: t.field({
    type: BookPayload,
    description:
      'Creates a book (admins only; a co-op or network then gets a TREASURER or NETWORK_STEWARD token for it).',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateBookInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const result = await run(ctx, (l) =>
        l.createBook(
          {
            name: input.name,
            description: input.description ?? null,
            units: input.units,
            maxBackdateDays: input.maxBackdateDays ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { book: null, userErrors: [result] }
        : { book: result, userErrors: [] };
    },
  }),
  createAccount: t.field({
    type: CreateAccountPayload,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateAccountInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeBookId(input.bookId);
      let parentId: string | null = null;
      if (input.parentId !== null && input.parentId !== undefined) {
        const key = decodeScopedId(String(input.parentId), 'Account');
        parentId = key && key.bookId === bookId ? key.id : '';
      }
      const result = await run(ctx, (l) =>
        l.createAccount(
          {
            bookId,
            code: input.code,
            name: input.name,
            type: input.type,
            unit: input.unit,
            parentId,
            lowerBound: input.lowerBound ?? null,
            upperBound: input.upperBound ?? null,
          },
          actorOf(ctx),
        ),
      );
      return result instanceof LedgerError
        ? { account: null, userErrors: [result] }
        : { account: result, userErrors: [] };
    },
  }),
  closeAccount: t.field({
    type: CloseAccountPayload,
    description:
      'Closes an account with a zero balance and no pending entries; a closed account takes no new lines.',
    authScopes: { authenticated: true },
    args: {
      input: t.arg({
        type: builder.inputType('CloseAccountInput', {
          fields: (f) => ({ accountId: f.id({ required: true }) }),
        }),
        required: true,
      }),
    },
    resolve: async (_r, { input }, ctx) => {
      const key = decodeScopedId(String(input.accountId), 'Account');
      const result = await run(ctx, (l) => l.closeAccount(key?.bookId ?? '', key?.id ?? '', actorOf(ctx)));
      return result instanceof LedgerError
        ? { account: null, userErrors: [result] }
        : { account: result, userErrors: [] };
    },
  }),
  postJournalEntry: t.field({
    type: PostJournalEntryPayload,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: PostJournalEntryInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeBookId(input.bookId);
      return toPayload(await run(ctx, (l) => l.postEntry(bookId, toEntryInput(bookId, input), actorOf(ctx))));
    },
  }),
  postJournalEntries: t.field({
    type: PostJournalEntriesPayload,
    description:
      'Posts up to 1000 entries in one call, atomically or independently, in one set-based transaction.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: PostJournalEntriesInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeBookId(input.bookId);
      const result = await run(ctx, (l) =>
        l.postEntries(
          bookId,
          input.entries.map((e) => toEntryInput(bookId, e)),
          input.mode === 'ATOMIC',
          actorOf(ctx),
        ),
      );
      if (result instanceof LedgerError) return { results: [], userErrors: [result] };
      return { results: result.map(batchResult), userErrors: [] };
    },
  }),
  postPendingEntry: t.field({
    type: PostPendingEntryPayload,
    description:
      'Posts a PENDING entry: it reserves against bounds but does not count in posted balances until committed.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: PostPendingEntryInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const bookId = decodeBookId(input.bookId);
      return toPayload(
        await run(ctx, (l) =>
          l.postPending(bookId, toEntryInput(bookId, input), input.expiresAt ?? null, actorOf(ctx)),
        ),
      );
    },
  }),
  reverseJournalEntry: t.field({
    type: ReverseJournalEntryPayload,
    description:
      'Posts a new entry with every line of the original on the other side. An entry can be reversed once.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: ReverseJournalEntryInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const ref = refInput(input);
      return toPayload(await run(ctx, (l) => l.reverseEntry(ref, actorOf(ctx))), ref.entryId);
    },
  }),
  commitPendingEntry: t.field({
    type: CommitPendingEntryPayload,
    description:
      'Posts a pending entry (exactly once, before it expires) as a new COMMIT entry with the same lines.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CommitPendingEntryInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const ref = refInput(input);
      return toPayload(await run(ctx, (l) => l.commitPending(ref, actorOf(ctx))), ref.entryId);
    },
  }),
  voidPendingEntry: t.field({
    type: VoidPendingEntryPayload,
    description: 'Releases a pending entry (exactly once) with a new VOID entry; nothing is posted.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: VoidPendingEntryInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const ref = refInput(input);
      return toPayload(await run(ctx, (l) => l.voidPending(ref, actorOf(ctx))), ref.entryId);
    },
  }),
}));
