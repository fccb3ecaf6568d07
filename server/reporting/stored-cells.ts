/**
 * The stored cells of a loaded release (issue 15), off the JavaScript heap, and the index that finds
 * a cell among them in constant time.
 */
import { CELL_BYTES, REASON_CODES } from './cube.js';

/**
 * Stored cells in ascending cell order, in typed arrays (13 bytes a cell, off the JavaScript heap:
 * a city of the full size stores about 3.5 million cells, which Maps of boxed numbers could
 * not hold in the service's 128 MB heap): the cell's index, its value (NaN when hidden) and its
 * reason (an index into REASON_CODES; 0 when published). Found by cellIndex (storedAt).
 */
export interface StoredCells {
  cellIds: Uint32Array;
  cellValues: Float64Array;
  cellReasons: Uint8Array;
  /** Which cells are stored, and where: storedIndex of cellIds. */
  cellIndex: StoredIndex;
}

/**
 * The stored cells of a release (cube.ts encodeCells: 13 bytes a cell) as typed arrays in ascending
 * cell order. encodeCells writes them in that order; a blob that is not is sorted here.
 */
export function storedCells(buf: Buffer): StoredCells {
  const n = Math.floor(buf.length / CELL_BYTES);
  let cellIds = new Uint32Array(n);
  let cellValues = new Float64Array(n);
  let cellReasons = new Uint8Array(n);
  let sorted = true;
  for (let i = 0, at = 0; i < n; i++, at += CELL_BYTES) {
    cellIds[i] = buf.readUInt32LE(at);
    cellValues[i] = buf.readDoubleLE(at + 4);
    cellReasons[i] = buf[at + 12]! < REASON_CODES.length ? buf[at + 12]! : 0;
    if (i > 0 && cellIds[i]! <= cellIds[i - 1]!) sorted = false;
  }
  if (!sorted) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => cellIds[a]! - cellIds[b]!);
    const ids = new Uint32Array(n);
    const values = new Float64Array(n);
    const reasons = new Uint8Array(n);
    order.forEach((from, to) => {
      ids[to] = cellIds[from]!;
      values[to] = cellValues[from]!;
      reasons[to] = cellReasons[from]!;
    });
    [cellIds, cellValues, cellReasons] = [ids, values, reasons];
  }
  return { cellIds, cellValues, cellReasons, cellIndex: storedIndex(cellIds) };
}

/**
 * Where each stored cell is, read in constant time (a binary search over millions of cell ids took
 * about 21 cache-missing steps a cell, and a cityReport answer reads hundreds of cells and, for a
 * zero, up to 24 COOPS and CLOSED cells more): a bit per cell of the cube up to the last stored one
 * (set: stored), and per 32 cells how many are stored before them. A cell's position among the
 * stored cells is then that count plus the set bits before its own. Off the heap, 8 bits a 32 cells
 * plus 32 bits a 32 cells: about 0.9 MB for the full-size city of 3.5 million cells.
 */
export interface StoredIndex {
  bits: Int32Array;
  ranks: Uint32Array;
}

/** The StoredIndex of ascending cell ids. */
export function storedIndex(ids: Uint32Array): StoredIndex {
  const words = ids.length === 0 ? 0 : (ids[ids.length - 1]! >>> 5) + 1;
  const bits = new Int32Array(words);
  const ranks = new Uint32Array(words);
  for (let i = 0; i < ids.length; i++) bits[ids[i]! >>> 5]! |= 1 << (ids[i]! & 31);
  for (let w = 0, rank = 0; w < words; w++) {
    ranks[w] = rank;
    rank += popcount(bits[w]!);
  }
  return { bits, ranks };
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Where a cell is among the stored cells of a StoredIndex (-1: not stored). */
export function storedAt(index: StoredIndex, cell: number): number {
  const word = cell >>> 5;
  if (word >= index.bits.length || cell < 0) return -1;
  const bits = index.bits[word]!;
  const bit = 1 << (cell & 31);
  if ((bits & bit) === 0) return -1;
  return index.ranks[word]! + popcount(bits & (bit - 1));
}
