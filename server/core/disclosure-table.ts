/**
 * A protected table's shape (issue 15): the cross product of its dimensions, cells numbered in
 * mixed radix (the last dimension varies fastest), and the table's relations: every relation of
 * one dimension at every combination of the others' codes.
 *
 * Pure.
 */
import type { Dimension, Term } from './disclosure-dimensions.js';
import { invariant } from './errors.js';

export class TableShape {
  readonly dims: readonly Dimension[];
  readonly sizes: readonly number[];
  /** Cells a step of one code in each dimension moves (the last dimension's stride is 1). */
  readonly strides: readonly number[];
  readonly cellCount: number;

  constructor(dims: readonly Dimension[]) {
    invariant(dims.length > 0, 'a table has at least one dimension');
    this.dims = dims;
    this.sizes = dims.map((d) => d.size);
    const strides: number[] = new Array(dims.length);
    let stride = 1;
    for (let i = dims.length - 1; i >= 0; i--) {
      strides[i] = stride;
      stride *= this.sizes[i]!;
    }
    invariant(Number.isSafeInteger(stride) && stride <= 2 ** 31, 'a table of more than 2^31 cells');
    this.strides = strides;
    this.cellCount = stride;
  }

  cell(coords: readonly number[]): number {
    let index = 0;
    for (let i = 0; i < coords.length; i++) index += coords[i]! * this.strides[i]!;
    return index;
  }

  coords(cell: number): number[] {
    const out: number[] = new Array(this.dims.length);
    let rest = cell;
    for (let i = 0; i < this.dims.length; i++) {
      out[i] = Math.floor(rest / this.strides[i]!);
      rest -= out[i]! * this.strides[i]!;
    }
    return out;
  }

  /** The code of each dimension at a cell. */
  codes(cell: number): string[] {
    return this.coords(cell).map((c, i) => this.dims[i]!.codes[c]!);
  }

  cellOf(codes: readonly string[]): number {
    return this.cell(codes.map((code, i) => this.dims[i]!.codeIndex(code)));
  }
}

/** One relation of the table: a relation of dimension `dim` at a cell of the other dimensions. */
export interface RelationInstance {
  dim: number;
  relation: number;
  /** The cell with the relation's dimension at code 0: the instance's identity. */
  base: number;
}

/** The cells and coefficients of a relation instance. */
export function instanceTerms(shape: TableShape, r: RelationInstance): Term[] {
  const stride = shape.strides[r.dim]!;
  return shape.dims[r.dim]!.relations[r.relation]!.map((t) => ({
    code: r.base + t.code * stride,
    coef: t.coef,
  }));
}

/** The relation instances a cell takes part in. */
export function instancesOf(shape: TableShape, cell: number): RelationInstance[] {
  const out: RelationInstance[] = [];
  const coords = shape.coords(cell);
  for (let dim = 0; dim < shape.dims.length; dim++) {
    const base = cell - coords[dim]! * shape.strides[dim]!;
    for (const relation of shape.dims[dim]!.relationsOf[coords[dim]!]!) out.push({ dim, relation, base });
  }
  return out;
}

export function instanceKey(r: RelationInstance): string {
  return `${r.dim}:${r.relation}:${r.base}`;
}

/** The sum of a relation instance over the values (0 when it holds). */
export function instanceResidual(shape: TableShape, r: RelationInstance, values: ArrayLike<number>): number {
  let sum = 0;
  for (const t of instanceTerms(shape, r)) sum += t.coef * values[t.code]!;
  return sum;
}

/**
 * Every unconditional relation instance of the table holds on the values; throws at the first that
 * does not (the table was aggregated wrongly: a bug). Conditional ones may fail.
 */
export function assertConsistent(shape: TableShape, values: ArrayLike<number>): void {
  for (let dim = 0; dim < shape.dims.length; dim++) {
    const d = shape.dims[dim]!;
    const stride = shape.strides[dim]!;
    for (let base = 0; base < shape.cellCount; base++) {
      // Bases are the cells with this dimension at code 0.
      if (Math.floor(base / stride) % shape.sizes[dim]! !== 0) continue;
      d.relations.forEach((_, relation) => {
        if (d.conditional[relation]) return;
        const residual = instanceResidual(shape, { dim, relation, base }, values);
        invariant(
          residual === 0,
          `relation ${relation} of ${d.name} does not hold at ${shape.codes(base).join(' / ')} (off by ${residual})`,
        );
      });
    }
  }
}
