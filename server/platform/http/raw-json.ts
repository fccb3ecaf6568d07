/**
 * Raw JSON in answers of the lean route (issue 15). A resolver of a request the lean route executes
 * may hand the route the JSON text of a list field's value (`holdRawJson`) and return an empty list
 * instead of the objects: the route then writes that text at the field's place in the answer, so
 * the hundreds of cells of a cityReport answer are neither resolved field by field (graphql-jit's
 * objects) nor walked by JSON.stringify. The text must be exactly what the field's selection would
 * have serialized to (tests/reporting/city-report-lean.test.ts compares both paths). Where the
 * answer is not the plain JSON of a result without errors, the text is parsed back into the result
 * first, so every other path (errors, other media types) sees the value as executed.
 */
import { randomBytes } from 'node:crypto';
import type { ExecutionResult } from 'graphql';

/** A field's place in the answer, as GraphQL resolvers see it (info.path). */
export interface ResponsePath {
  readonly prev: ResponsePath | undefined;
  readonly key: string | number;
}

interface Held {
  path: (string | number)[];
  /** UTF-8 JSON text. */
  json: Buffer;
}

/**
 * What a context holds, in properties of its own rather than WeakMaps keyed by it: V8's scavenger
 * promotes the young value of a WeakMap entry (and all it reaches) to the old space when the
 * entry's request was in flight at the scavenge before (see AppDeps.releaseContext in app.ts).
 */
const HELD = Symbol('held raw JSON');
const LENT = Symbol('lent raw JSON buffers');
type Holder = { [HELD]?: Held[]; [LENT]?: Buffer[] | undefined };
const heldOf = (context: object): Held[] | undefined => (context as Holder)[HELD];
const setOwn = (context: object, key: symbol, value: unknown) =>
  Object.defineProperty(context, key, { configurable: true, enumerable: false, writable: true, value });

/** The lean route: raw JSON may be held for this request's context (see persisted.ts). */
export function acceptRawJson(context: object): void {
  setOwn(context, HELD, []);
}

/**
 * For a resolver: the JSON text of the value of the field at `path`, written by the lean route at
 * that place. False (nothing held) when the request is not the lean route's: resolve as usual.
 */
export function holdRawJson(context: object, path: ResponsePath, json: Buffer): boolean {
  const list = heldOf(context);
  if (!list) return false;
  const keys: (string | number)[] = [];
  for (let p: ResponsePath | undefined = path; p; p = p.prev) keys.push(p.key);
  list.push({ path: keys.reverse(), json });
  return true;
}

/**
 * Buffers for held JSON, reused once the answer that held them has been written (issue 15: a
 * cityReport answer's ~130 KB of cells, allocated per answer, was most of the service's external
 * memory and so drove its mark-compacts).
 */
const pool: Buffer[] = [];
const POOL_MAX = 32;
const POOLED_MAX = 4 << 20;

/**
 * For a resolver: a buffer of at least `size` bytes for the JSON it holds for this context. On the
 * lean route it is lent from the pool until releaseRawJson (the answer written); a fresh one elsewhere.
 */
export function rawJsonBuffer(context: object, size: number): Buffer {
  if (!acceptsRawJson(context) || size > POOLED_MAX) return Buffer.allocUnsafe(size);
  let buffer: Buffer | undefined;
  for (let i = pool.length - 1; i >= 0; i--) {
    if (pool[i]!.length < size) continue;
    buffer = pool[i]!;
    pool[i] = pool[pool.length - 1]!;
    pool.pop();
    break;
  }
  buffer ??= Buffer.allocUnsafeSlow(Math.max(size, 256 << 10));
  const list = (context as Holder)[LENT];
  if (list) list.push(buffer);
  else setOwn(context, LENT, [buffer]);
  return buffer;
}

/**
 * The buffers lent for this context go back to the pool. Only once nothing reads them any more: the
 * answer written to the socket ('finish'), or the held JSON parsed (materializeRawJson). Never
 * called, they are simply collected.
 */
export function releaseRawJson(context: object): void {
  const list = (context as Holder)[LENT];
  if (!list) return;
  (context as Holder)[LENT] = undefined;
  for (const buffer of list) if (pool.length < POOL_MAX) pool.push(buffer);
}

/** Whether the lean route takes raw JSON for this context (acceptRawJson): else resolve as usual. */
export function acceptsRawJson(context: object): boolean {
  return heldOf(context) !== undefined;
}

/** Whether raw JSON was held for this context. */
export function hasRawJson(context: object): boolean {
  return (heldOf(context)?.length ?? 0) > 0;
}

/** The object holding the field at `path` in the result's data, or undefined (nulled by an error). */
function parentOf(
  result: ExecutionResult,
  path: readonly (string | number)[],
): Record<string, unknown> | undefined {
  let at: unknown = result.data;
  for (let i = 0; i < path.length - 1; i++) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[path[i]!];
  }
  return at !== null && typeof at === 'object' ? (at as Record<string, unknown>) : undefined;
}

/** Puts the held values into the result as parsed values (for every path but the plain JSON one). */
export function materializeRawJson(context: object, result: ExecutionResult): void {
  const list = heldOf(context);
  if (!list) return;
  (context as Holder)[HELD] = [];
  for (const { path, json } of list) {
    const parent = parentOf(result, path);
    if (parent) parent[path[path.length - 1]!] = JSON.parse(json.toString('utf8'));
  }
}

const MARK = `\u0000raw-json:${randomBytes(12).toString('hex')}:`;

/**
 * The result's JSON text (UTF-8) with the held texts in their places: the text itself when nothing
 * was held, else its pieces in order (the held texts as they are, not copied into one buffer: a
 * cityReport answer's cells are ~130 KB, and a second buffer of them per answer was most of the
 * service's external memory and so of its GC, issue 15) and their total length in bytes.
 */
export function stringifyWithRawJson(
  context: object,
  result: ExecutionResult,
  stringify: (result: ExecutionResult) => string,
): string | { chunks: Buffer[]; length: number } {
  const list = heldOf(context) ?? [];
  const placed: Held[] = [];
  for (const h of list) {
    const parent = parentOf(result, h.path);
    if (!parent) continue;
    parent[h.path[h.path.length - 1]!] = `${MARK}${placed.length}`;
    placed.push(h);
  }
  const text = stringify(result);
  if (placed.length === 0) return text;
  // Where each placeholder is (its own text cannot occur in any other string of the answer).
  const spots = placed.map((h, i) => {
    const mark = JSON.stringify(`${MARK}${i}`);
    const at = text.indexOf(mark);
    if (at < 0) throw new Error('raw JSON: a placeholder is missing from the answer');
    return { at, end: at + mark.length, json: h.json };
  });
  spots.sort((x, y) => x.at - y.at);
  const chunks: Buffer[] = [];
  let length = 0;
  let from = 0;
  for (const spot of spots) {
    const before = Buffer.from(text.slice(from, spot.at));
    chunks.push(before, spot.json);
    length += before.length + spot.json.length;
    from = spot.end;
  }
  const after = Buffer.from(text.slice(from));
  chunks.push(after);
  length += after.length;
  return { chunks, length };
}
