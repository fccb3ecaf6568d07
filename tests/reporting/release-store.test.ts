/**
 * How a release's stored cells are read back (server/reporting/store.ts, query.ts): its bytes in
 * chunks (a full-size city stores tens of megabytes, which pg would hand over as one hex string),
 * and its cells as typed arrays in ascending cell order, found by their index (stored-cells.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CELL_BYTES, REASON_CODES } from '../../server/reporting/cube.js';
import { insertRelease, latestRelease, releaseById } from '../../server/reporting/store.js';
import { storedCells } from '../../server/reporting/stored-cells.js';
import { uniqueSuffix } from '../helpers/ledger.js';

let pool: pg.Pool;

beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(async () => {
  await pool?.end();
});

/** Stored cells as encodeCells writes them, in the order given. */
function encode(cells: { cell: number; value: number; reason: number }[]): Buffer {
  const buf = Buffer.alloc(cells.length * CELL_BYTES);
  cells.forEach((c, i) => {
    buf.writeUInt32LE(c.cell, i * CELL_BYTES);
    buf.writeDoubleLE(c.value, i * CELL_BYTES + 4);
    buf.writeUInt8(c.reason, i * CELL_BYTES + 12);
  });
  return buf;
}

describe('a stored release', () => {
  it('reads back its cells and protection byte for byte, whatever the chunk size', async () => {
    // Every byte value (0x00 and 0xff included), lengths no chunk size divides.
    const cells = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(9_999)]);
    const protection = randomBytes(3_333);
    const city = `Chunkton ${uniqueSuffix()}`;
    const id = randomUUID();
    const client = await pool.connect();
    try {
      await client.query('begin');
      await insertRelease(client as never, {
        id,
        cityKey: city.toLowerCase(),
        city,
        seq: 1,
        currency: 'USD',
        firstMonth: '2025-01',
        throughMonth: '2025-12',
        policy: {},
        dimensions: { neighbourhoods: [], sectors: [], kinds: [], measurePeriods: [] },
        cells,
        protection,
        summary: {},
        createdAt: new Date(),
        createdBy: 'test',
      });
      await client.query('commit');
    } finally {
      client.release();
    }
    for (const chunk of [7, 4_096, 1 << 20]) {
      const row = await releaseById(pool, id, chunk);
      expect(row!.cells.equals(cells)).toBe(true);
      expect(row!.protection.equals(protection)).toBe(true);
    }
    const latest = await latestRelease(pool, city.toLowerCase());
    expect(latest!.id).toBe(id);
    expect(latest!.cells.equals(cells)).toBe(true);
    expect(await releaseById(pool, randomUUID())).toBeNull();
  });

  it('holds its cells in ascending order with their values and reasons, whatever order they were stored in', () => {
    const cells = Array.from({ length: 500 }, (_, i) => ({
      cell: i * 7 + (i % 3),
      value: i % 5 === 0 ? Number.NaN : i * 100 - 7_000,
      reason: i % 5 === 0 ? 1 + (i % (REASON_CODES.length - 1)) : 0,
    }));
    const shuffled = [...cells].sort(
      (a, b) => ((a.cell * 2_654_435_761) % 997) - ((b.cell * 2_654_435_761) % 997),
    );
    expect(shuffled.map((c) => c.cell)).not.toEqual(cells.map((c) => c.cell));
    for (const stored of [encode(cells), encode(shuffled)]) {
      const { cellIds, cellValues, cellReasons } = storedCells(stored);
      expect([...cellIds]).toEqual(cells.map((c) => c.cell));
      expect([...cellValues]).toEqual(cells.map((c) => c.value));
      expect([...cellReasons]).toEqual(cells.map((c) => c.reason));
    }
  });
});
