/**
 * Pairing bank lines with entries (matching's suggestions): as many pairs as the candidate pairs
 * allow, and among those the least total cost. Taking the cheapest pairs first does not get there:
 * with lines on days 2 and 4, entries on days 0 and 3 and a window of 2 days, the nearest pair
 * (line 2, entry 3) leaves the line of day 4 without an entry, where (2, 0) and (4, 3) pair both.
 *
 * Successive shortest augmenting paths (Dijkstra on reduced costs with potentials) from a source
 * through the lines and entries to a sink: each path adds one pair at the least extra cost, so the
 * last one leaves a maximum matching of least cost. O(pairs x edges x log) in the worst case; the
 * caller bounds the size it hands in.
 */

export interface CandidatePair {
  line: number;
  entry: number;
  /** A non-negative integer. */
  cost: number;
}

/** Pairs of `[line, entry]`: a maximum matching of the candidates, of least total cost. */
export function leastCostMaximumMatching(
  lineCount: number,
  entryCount: number,
  candidates: readonly CandidatePair[],
): [number, number][] {
  const source = 0;
  const sink = lineCount + entryCount + 1;
  const nodes = sink + 1;
  // Arcs in pairs (arc ^ 1 is the reverse); capacities 1.
  const to: number[] = [];
  const cost: number[] = [];
  const cap: number[] = [];
  const head = new Array<number>(nodes).fill(-1);
  const next: number[] = [];
  const arc = (a: number, b: number, c: number) => {
    for (const [x, y, w, k] of [
      [a, b, c, 1],
      [b, a, -c, 0],
    ] as const) {
      to.push(y);
      cost.push(w);
      cap.push(k);
      next.push(head[x]!);
      head[x] = to.length - 1;
    }
  };
  // Added in reverse so that the adjacency lists (last added first) keep the callers' order on ties.
  for (let e = entryCount - 1; e >= 0; e--) arc(lineCount + 1 + e, sink, 0);
  for (let i = candidates.length - 1; i >= 0; i--) {
    const c = candidates[i]!;
    arc(1 + c.line, lineCount + 1 + c.entry, c.cost);
  }
  for (let l = lineCount - 1; l >= 0; l--) arc(source, 1 + l, 0);
  const potential = new Array<number>(nodes).fill(0);
  const dist = new Array<number>(nodes);
  const via = new Array<number>(nodes);
  for (;;) {
    dist.fill(Number.POSITIVE_INFINITY);
    via.fill(-1);
    dist[source] = 0;
    const heap = new MinHeap();
    heap.push(0, source);
    while (heap.size > 0) {
      const [d, v] = heap.pop();
      if (d > dist[v]!) continue;
      for (let a = head[v]!; a !== -1; a = next[a]!) {
        if (cap[a] === 0) continue;
        const w = to[a]!;
        const nd = d + cost[a]! + potential[v]! - potential[w]!;
        if (nd < dist[w]!) {
          dist[w] = nd;
          via[w] = a;
          heap.push(nd, w);
        }
      }
    }
    if (dist[sink] === Number.POSITIVE_INFINITY) break;
    for (let v = 0; v < nodes; v++) if (dist[v]! < Number.POSITIVE_INFINITY) potential[v]! += dist[v]!;
    for (let v = sink; v !== source; v = to[via[v]! ^ 1]!) {
      cap[via[v]!]! -= 1;
      cap[via[v]! ^ 1]! += 1;
    }
  }
  const pairs: [number, number][] = [];
  for (let l = 0; l < lineCount; l++)
    for (let a = head[1 + l]!; a !== -1; a = next[a]!) {
      const w = to[a]!;
      // A forward arc to an entry with its capacity used.
      if ((a & 1) === 0 && w > lineCount && w < sink && cap[a] === 0) pairs.push([l, w - lineCount - 1]);
    }
  return pairs;
}

/** A binary heap of [key, value] by key, then by value (so ties pop in a stable order). */
class MinHeap {
  private keys: number[] = [];
  private values: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  private less(i: number, j: number): boolean {
    return (
      this.keys[i]! < this.keys[j]! || (this.keys[i] === this.keys[j] && this.values[i]! < this.values[j]!)
    );
  }
  private swap(i: number, j: number): void {
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
    [this.values[i], this.values[j]] = [this.values[j]!, this.values[i]!];
  }
  push(key: number, value: number): void {
    this.keys.push(key);
    this.values.push(value);
    for (let i = this.keys.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.keys[0]!, this.values[0]!];
    const lastKey = this.keys.pop()!;
    const lastValue = this.values.pop()!;
    if (this.keys.length > 0) {
      this.keys[0] = lastKey;
      this.values[0] = lastValue;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.keys.length && this.less(l, m)) m = l;
        if (r < this.keys.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
