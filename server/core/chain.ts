/**
 * Canonical content of entries and requests. The hash chain and idempotency both hash these
 * strings; the hashing itself (SHA-256) is done by the caller so this module stays free of I/O
 * and platform imports. Field order is fixed and amounts are written by `chainAmount` (at their
 * unit's scale when that is exact), so the same entry always yields the same text whatever the
 * source (memory or database), and a different stored value always yields a different text.
 */
import type { Side } from './accounts.js';
import { type CanonicalSink, StringSink } from './canonical-sink.js';
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

/**
 * Canonical JSON of an entry's content, excluding its own hash and the previous hash: what
 * canonicalEntryReference writes, written directly (see writeCanonicalEntry).
 */
export function canonicalEntry(entry: ChainEntry): string {
  return writeCanonicalEntry('', entry, entry.lines, chainLineAmount);
}

/** canonicalEntry as defined: JSON.stringify of the entry's fields in their fixed order. */
export function canonicalEntryReference(entry: ChainEntry): string {
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

const chainLineAmount = (line: ChainLine): string => line.amount;

/** The fields of a line that are hashed as they are (its amount is written by the caller). */
export interface ChainLineFields {
  accountId: string;
  side: Side;
  unitCode: string;
}

/**
 * `prefix` followed by canonicalEntryReference's text of `entry` with these `lines` (each amount
 * as `amountOf` writes it). See writeCanonicalEntryTo.
 */
export function writeCanonicalEntry<L extends ChainLineFields>(
  prefix: string,
  entry: Omit<ChainEntry, 'lines'>,
  lines: readonly L[],
  amountOf: (line: L) => string,
): string {
  const sink = new StringSink();
  sink.raw(prefix);
  writeCanonicalEntryTo(sink, entry, lines, amountOf);
  return sink.text;
}

/**
 * canonicalEntryReference's text of `entry` with these `lines` (each amount as `amountOf` writes
 * it), written straight into `sink`: no array of the fields, no array per line or per metadata
 * key, no copy of the entry. Byte-identical to the reference (tests/core/chain-canonical checks it
 * on arbitrary entries): strings as JSON.stringify writes them, dates by toISOString, null as
 * null, metadata keys sorted as Array.prototype.sort sorts them.
 */
export function writeCanonicalEntryTo<L extends ChainLineFields>(
  sink: CanonicalSink,
  entry: Omit<ChainEntry, 'lines'>,
  lines: readonly L[],
  amountOf: (line: L) => string,
): void {
  sink.raw('["entry/v1",');
  jsonValue(sink, entry.bookId);
  sink.char(COMMA);
  jsonValue(sink, entry.id);
  sink.char(COMMA);
  jsonValue(sink, entry.seq);
  sink.char(COMMA);
  jsonValue(sink, entry.kind);
  sink.char(COMMA);
  jsonValue(sink, entry.idempotencyKey);
  sink.char(COMMA);
  sink.raw(isoJson(entry.effectiveAt));
  sink.char(COMMA);
  sink.raw(isoJson(entry.recordedAt));
  sink.char(COMMA);
  jsonValue(sink, entry.memo);
  sink.raw(',[');
  const metadata = entry.metadata;
  for (const _ in metadata) {
    const keys = Object.keys(metadata).sort();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (i > 0) sink.char(COMMA);
      sink.char(OPEN_BRACKET);
      sink.json(key);
      sink.char(COMMA);
      jsonValue(sink, metadata[key]);
      sink.char(CLOSE_BRACKET);
    }
    break;
  }
  sink.raw('],');
  jsonValue(sink, entry.reversesId);
  sink.char(COMMA);
  jsonValue(sink, entry.pendingId);
  sink.char(COMMA);
  sink.raw(entry.expiresAt ? isoJson(entry.expiresAt) : 'null');
  sink.char(COMMA);
  jsonValue(sink, entry.postedBy);
  sink.raw(',[');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (i > 0) sink.char(COMMA);
    sink.char(OPEN_BRACKET);
    jsonValue(sink, l.accountId);
    sink.char(COMMA);
    jsonValue(sink, l.side);
    sink.char(COMMA);
    jsonValue(sink, amountOf(l));
    sink.char(COMMA);
    jsonValue(sink, l.unitCode);
    sink.char(CLOSE_BRACKET);
  }
  sink.raw(']]');
}

/** JSON.stringify of a value as an element of an array (undefined, functions and symbols: null). */
function jsonValue(sink: CanonicalSink, value: unknown): void {
  if (typeof value === 'string') sink.json(value);
  else if (value === null) sink.raw('null');
  else sink.raw(JSON.stringify([value]).slice(1, -1));
}

// The last date written by isoJson and its text: a flush's entries share their recorded instant
// and, most of them, their effective one (the same Date).
let isoDate: Date | null = null;
let isoMs = Number.NaN;
let isoText = '';

/** JSON.stringify(date.toISOString()): an ISO instant needs no escaping. */
function isoJson(date: Date): string {
  const ms = date.getTime();
  if (date !== isoDate || ms !== isoMs) {
    isoText = `"${date.toISOString()}"`;
    isoDate = date;
    isoMs = ms;
  }
  return isoText;
}

/** The text hashed for a chain link: previous hash, newline, canonical content. */
export function chainLinkText(prevHash: string, entry: ChainEntry): string {
  return writeCanonicalEntry(`${prevHash}\n`, entry, entry.lines, chainLineAmount);
}

/** chainLinkText written into `sink`, with each line's amount as `amountOf` writes it. */
export function writeChainLinkTo<L extends ChainLineFields>(
  sink: CanonicalSink,
  prevHash: string,
  entry: Omit<ChainEntry, 'lines'>,
  lines: readonly L[],
  amountOf: (line: L) => string,
): void {
  sink.raw(prevHash);
  sink.raw('\n');
  writeCanonicalEntryTo(sink, entry, lines, amountOf);
}

/**
 * Canonical JSON of a request, for idempotency. Arrays keep their order (line order is part of
 * the entry); object keys are sorted; keys whose value is null or undefined are dropped, so
 * "absent" and "null" agree.
 */
export function canonicalRequest(operation: string, input: unknown): string {
  const sink = new StringSink();
  return writeCanonicalRequestTo(sink, operation, input)
    ? sink.text
    : canonicalRequestReference(operation, input);
}

/**
 * canonicalRequest's text written into `sink`. Written directly (no normalised copy of the input,
 * which for a batch of 500 entries was ~5,000 objects and arrays). What it cannot write exactly as
 * the reference would (keys that are array indices, which objects order numerically; functions,
 * symbols, bigints), it leaves to the reference: false, and what the sink holds is to be dropped.
 */
export function writeCanonicalRequestTo(sink: CanonicalSink, operation: string, input: unknown): boolean {
  try {
    sink.char(OPEN_BRACKET);
    sink.json(operation);
    sink.char(COMMA);
    writeCanonical(sink, input);
    sink.char(CLOSE_BRACKET);
    return true;
  } catch (error) {
    if (error !== UNUSUAL) throw error;
    return false;
  }
}

/** canonicalRequest as defined: JSON of the operation and the normalised input. */
export function canonicalRequestReference(operation: string, input: unknown): string {
  return JSON.stringify([operation, normalise(input)]);
}

const UNUSUAL = Symbol('not written directly');
// Punctuation, written by its code (CanonicalSink.char).
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
/** A key JavaScript orders as an array index (numerically, before the other keys). */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/** JSON.stringify(normalise(value)) into `sink`, without building the normalised value. */
function writeCanonical(sink: CanonicalSink, value: unknown): void {
  if (value === undefined || value === null) {
    sink.raw('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      sink.json(value);
      return;
    case 'number':
    case 'boolean':
      sink.raw(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      throw UNUSUAL;
  }
  if (value instanceof Date) {
    sink.raw(JSON.stringify(value.toISOString()));
    return;
  }
  if (Array.isArray(value)) {
    sink.char(OPEN_BRACKET);
    for (let i = 0; i < value.length; i++) {
      if (i > 0) sink.char(COMMA);
      writeCanonical(sink, value[i]);
    }
    sink.char(CLOSE_BRACKET);
    return;
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
  sink.char(OPEN_BRACE);
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    // Only a key that starts with a digit can be an index (no regular expression per key).
    const c = key.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39 && INDEX_KEY.test(key)) throw UNUSUAL;
    if (!first) sink.char(COMMA);
    first = false;
    sink.json(key);
    sink.char(COLON);
    writeCanonical(sink, v);
  }
  sink.char(CLOSE_BRACE);
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
