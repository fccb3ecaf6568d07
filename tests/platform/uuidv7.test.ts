/**
 * uuidv7 writes an id's text straight from its random pool and its time (no Buffer per id): the
 * text must be a version-7, variant-10 UUID whose first 48 bits are the millisecond given, whose
 * 12-bit counter orders ids made in the same millisecond, and whose random bits differ per id.
 */
import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7 } from '../../server/platform/ids.js';

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const timeOf = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
const counterOf = (id: string) => Number.parseInt(id.slice(15, 18), 16);

describe('uuidv7', () => {
  it('writes the time, the version, the counter and the variant where they belong', () => {
    // Increasing instants (the generator never goes back in time), across the 32-bit boundary.
    const instants = [1, 0xff, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001, 1_765_000_000_000, 2 ** 47];
    for (const ms of instants) {
      const id = uuidv7(ms);
      expect(id).toMatch(SHAPE);
      expect(isUuid(id)).toBe(true);
      expect(timeOf(id)).toBe(ms);
      expect(counterOf(id)).toBe(0);
    }
  });

  it('counts up within a millisecond and keeps ids ordered and distinct', () => {
    const ms = 2 ** 48 - 100;
    const ids = Array.from({ length: 5000 }, () => uuidv7(ms));
    // 4096 ids fit in the millisecond; the counter then moves on to the next one.
    expect(counterOf(ids[0]!)).toBe(0);
    expect(counterOf(ids[4095]!)).toBe(0xfff);
    expect(timeOf(ids[4095]!)).toBe(ms);
    expect(timeOf(ids[4096]!)).toBe(ms + 1);
    expect(counterOf(ids[4096]!)).toBe(0);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The random tail differs between ids (62 random bits each).
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length);
  });

  it('spreads the random bits over every hex digit of the tail', () => {
    const seen = Array.from({ length: 16 }, () => new Set<string>());
    for (let i = 0; i < 4000; i++) {
      const tail = uuidv7().slice(19).replace('-', '');
      for (let j = 0; j < 16; j++) seen[j]!.add(tail[j]!);
    }
    // The variant digit takes 8, 9, a, b; every other digit all 16 values.
    expect([...seen[0]!].sort().join('')).toBe('89ab');
    for (let j = 1; j < 16; j++) expect(seen[j]!.size).toBe(16);
  });

  it('isUuid answers the same whatever it was asked before', () => {
    const id = uuidv7();
    const cases: [string, boolean][] = [
      [id, true],
      [id, true],
      [id.toUpperCase(), true],
      [`${id}x`, false],
      [id.slice(1), false],
      ['', false],
      [id, true],
      ['not-a-uuid', false],
      ['not-a-uuid', false],
    ];
    for (const [value, expected] of cases) expect(isUuid(value)).toBe(expected);
  });
});
