/**
 * Canonical content of entries and requests. The hash chain and idempotency both hash these
 * strings; the hashing itself (SHA-256) is done by the caller so this module stays free of I/O
 * and platform imports. Field order is fixed and amounts are written by `chainAmount` (at their
 * unit's scale when that is exact), so the same entry always yields the same text whatever the
 * source (memory or database), and a different stored value always yields a different text.
 */
import type { Side } from './accounts.js';
import type { EntryKind } from './entries.js';
import type { Decimal } from './money.js';

/** The hash that precedes a book's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainLine {
  accountId: string;
  side: Side;
  /** Written by `chainAmount`. */
  amount: string;
  unitCode: string;
}

export interface ChainEntry {
  bookId: string;
  id: string;
  seq: string;
  kind: EntryKind;
  idempotencyKey: string;
  effectiveAt: Date;
  recordedAt: Date;
  memo: string;
  metadata: Record<string, string>;
  reversesId: string | null;
  pendingId: string | null;
  expiresAt: Date | null;
  postedBy: string | null;
  lines: ChainLine[];
}

/**
 * The text an amount is hashed as: its exact value. Written at the unit's scale when that is
 * exact, which every amount the ledger accepts is (so chains hashed before this rule keep
 * verifying), and in full otherwise: a stored amount changed below its unit's scale (10.004 in a
 * unit of scale 2) no longer hashes like the amount that was posted. The two forms never collide:
 * the full form is used only with more than `scale` decimals, the other has exactly `scale`.
 */
export function chainAmount(value: Decimal, scale: number): string {
  return value.decimalPlaces() <= scale ? value.toFixed(scale) : value.toFixed();
}

function sortedMetadata(metadata: Record<string, string>): [string, string][] {
  return Object.keys(metadata)
    .sort()
    .map((key) => [key, metadata[key]!]);
}

/** Canonical JSON of an entry's content, excluding its own hash and the previous hash. */
export function canonicalEntry(entry: ChainEntry): string {
  return JSON.stringify([
    'entry/v1',
    entry.bookId,
    entry.id,
    entry.seq,
    entry.kind,
    entry.idempotencyKey,
    entry.effectiveAt.toISOString(),
    entry.recordedAt.toISOString(),
    entry.memo,
    sortedMetadata(entry.metadata),
    entry.reversesId,
    entry.pendingId,
    entry.expiresAt ? entry.expiresAt.toISOString() : null,
    entry.postedBy,
    entry.lines.map((l) => [l.accountId, l.side, l.amount, l.unitCode]),
  ]);
}

/** The text hashed for a chain link: previous hash, newline, canonical content. */
export function chainLinkText(prevHash: string, entry: ChainEntry): string {
  return `${prevHash}\n${canonicalEntry(entry)}`;
}

/**
 * Canonical JSON of a request, for idempotency. Arrays keep their order (line order is part of
 * the entry); object keys are sorted; keys whose value is null or undefined are dropped, so
 * "absent" and "null" agree.
 */
export function canonicalRequest(operation: string, input: unknown): string {
  // Written directly (no normalised copy of the input, which for a batch of 500 entries was
  // ~5,000 objects and arrays). What it cannot write exactly as the reference below would (keys
  // that are array indices, which objects order numerically; functions, symbols, bigints), it
  // leaves to the reference.
  try {
    return `[${JSON.stringify(operation)},${writeCanonical(input)}]`;
  } catch (error) {
    if (error !== UNUSUAL) throw error;
    return canonicalRequestReference(operation, input);
  }
}

/** canonicalRequest as defined: JSON of the operation and the normalised input. */
export function canonicalRequestReference(operation: string, input: unknown): string {
  return JSON.stringify([operation, normalise(input)]);
}

const UNUSUAL = Symbol('not written directly');
/** A key JavaScript orders as an array index (numerically, before the other keys). */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/** JSON.stringify(text): quoted as it is when nothing in it needs escaping. */
function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // What JSON.stringify escapes: controls, quote, backslash, (lone) surrogates.
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/** JSON.stringify(normalise(value)), without building the normalised value. */
function writeCanonical(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw UNUSUAL;
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += writeCanonical(value[i]);
    }
    return `${out}]`;
  }
  const keys = Object.keys(value as object);
  // Sorted in place as Array.prototype.sort sorts strings (by UTF-16 code units), without the
  // copy V8's sort makes: an input object has a handful of keys.
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    if (INDEX_KEY.test(key)) throw UNUSUAL;
    if (!first) out += ',';
    first = false;
    out += jsonString(key);
    out += ':';
    out += writeCanonical(v);
  }
  return `${out}}`;
}

function normalise(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'object') {
    // Absent and null keys are dropped so they agree; Object.fromEntries keeps a "__proto__" key
    // as an ordinary property where assignment would not.
    const entries: [string, unknown][] = [];
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || v === null) continue;
      entries.push([key, normalise(v)]);
    }
    return Object.fromEntries(entries);
  }
  return value;
}
