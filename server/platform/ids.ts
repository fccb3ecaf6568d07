/**
 * UUIDv7 ids: time-ordered, made by the application, so no database sequence is shared across
 * books and inserts stay index-friendly. Monotonic within a process: the 12-bit sub-millisecond
 * field counts up when several ids are made in the same millisecond.
 */
import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * Random bytes are drawn 4 KiB at a time (256 ids), not 16 bytes per id: one call into OpenSSL
 * per 256 ids instead of per id (a batch of 500 entries made 500). An id's text is written from
 * the pool directly (no Buffer per id): its 48-bit time and 12-bit counter as hex digits, and
 * the pool's bytes 8 to 15 with the variant bits set, as bytes 8 to 15 of the id. Bytes 0 to 7
 * of each 16 are unused, as before (they were overwritten by the time, version and counter).
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

const HEX_DIGITS = '0123456789abcdef';
/** Two hex digits of each byte. */
const HEX2 = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

// The time's 12 hex digits, written once per millisecond.
let timeMs = -1;
let timeHigh = '';
let timeLow = '';

export function uuidv7(now: number = Date.now()): string {
  let ms = now;
  if (ms <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
  } else {
    lastMs = ms;
    counter = 0;
  }
  if (poolOffset + 16 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset + 8;
  poolOffset += 16;
  if (ms !== timeMs) {
    // 48 bits: above 2^32, so split into the high 16 and the low 32 bits (exact in a double).
    const high = Math.floor(ms / 0x1_0000_0000) & 0xffff;
    const low = ms % 0x1_0000_0000;
    const hex = high.toString(16).padStart(4, '0') + low.toString(16).padStart(8, '0');
    timeHigh = hex.slice(0, 8);
    timeLow = hex.slice(8);
    timeMs = ms;
  }
  const counterHex = HEX_DIGITS[(counter >> 8) & 0x0f]! + HEX2[counter & 0xff]!;
  // Byte 8 carries the variant (10xxxxxx); bytes 9 to 15 are random as drawn.
  return `${timeHigh}-${timeLow}-7${counterHex}-${HEX2[0x80 | (pool[at]! & 0x3f)]}${HEX2[pool[at + 1]!]}-${pool.toString(
    'hex',
    at + 2,
    at + 8,
  )}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The last value found to be a uuid: most calls ask about the same book id again and again (every
// op of a batch), and a comparison with the same string is cheaper than the expression.
let lastUuid = '';

export function isUuid(value: string): boolean {
  if (value === lastUuid) return true;
  if (!UUID.test(value)) return false;
  lastUuid = value;
  return true;
}
