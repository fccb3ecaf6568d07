/**
 * Multilateral clearing of obligations between members of a network (issue 14), pure and exact:
 * every amount is a bigint of the currency's minor units, every choice deterministic.
 *
 * The formulation is the literature's MTCS (multilateral trade-credit set-off): each member's net
 * position (what others owe it less what it owes others) is its supply or demand, each
 * debtor -> creditor pair of obligations an arc whose capacity is what is outstanding on it, and
 * a flow that routes every net position over those arcs is a set of obligations that leaves
 * every member exactly where it stood. The cheapest such flow (cost 1 per unit on every arc) is
 * the least debt that can remain; what it leaves off an arc is set off. Solved exactly as a
 * minimum-cost flow (primal-dual: shortest paths on reduced costs, then blocking flows on the
 * arcs of reduced cost 0), never by clearing cycles greedily one at a time, which leaves set-off
 * on the table when cycles overlap.
 *
 * The second mode (network credit as liquidity) works on what set-off left, which is acyclic
 * (an optimal flow leaves no cycle of positive arcs: pushing around one would lower the cost).
 * A member may pay part of what it owes in the network's unit, within what its credit limit
 * leaves it (`payMax`), and a member may take payment that way up to its upper bound
 * (`receiveMax`): a unit a debtor pays can settle a whole chain of obligations, since each
 * member on the way passes it on (the member settles its own debt with what it was paid). This
 * is a minimum-cost flow too: a source feeds each member up to payMax, each member drains to a
 * sink up to receiveMax, each remaining obligation is an arc of cost -1, and flow is pushed
 * while a path still settles something (its cost is negative). Set-off is maximised first; the
 * liquidity mode then maximises what it settles on top, and is reported separately.
 *
 * Which invoices an arc's set-off lands on: the pair's obligations oldest due date first (then
 * the oldest id), each reduced to zero before the next is touched; the liquidity mode's amounts
 * land on what set-off left of them the same way.
 */
import { InvariantError, invariant } from './errors.js';

export interface ObligationInput {
  id: string;
  debtor: string;
  creditor: string;
  /** What is outstanding, in minor units of the currency; positive. */
  outstanding: bigint;
  /** `YYYY-MM-DD`. */
  dueOn: string;
}

/** What a member may pay and take in the network's unit, in minor units of the obligations' currency. */
export interface LiquidityInput {
  member: string;
  /** At most this much paid (what the credit limit leaves); 0 for none. */
  payMax: bigint;
  /** At most this much taken (to the upper bound); null for no bound. */
  receiveMax: bigint | null;
}

export interface ObligationClearing {
  id: string;
  /** Cancelled by set-off. */
  setoff: bigint;
  /** Settled by network payments (liquidity mode). */
  liquidity: bigint;
}

export interface MemberClearing {
  member: string;
  /** Receivables less payables before clearing. */
  positionBefore: bigint;
  /** After set-off: always equal to positionBefore. */
  positionAfterSetoff: bigint;
  /** After the liquidity mode too: positionBefore plus what the member paid in network units. */
  positionAfter: bigint;
  /** Paid in the network's unit (negative: received), in minor units of the currency. */
  networkPayment: bigint;
}

export interface ClearingPlan {
  /** Every obligation given, in input order, with what clears of it (zeros included). */
  obligations: ObligationClearing[];
  /** Every member named by an obligation, in id order. */
  members: MemberClearing[];
  outstandingBefore: bigint;
  setoffTotal: bigint;
  liquidityTotal: bigint;
  outstandingAfter: bigint;
  /** Net internal debt: the sum of net creditors' positions (unchanged by set-off). */
  netInternalDebtBefore: bigint;
  netInternalDebtAfter: bigint;
  /** Network units moved by the liquidity mode (sum of what the paying members pay). */
  liquidityUsed: bigint;
}

// ---------------------------------------------------------------------------------------------
// A residual graph and an exact minimum-cost flow on it
// ---------------------------------------------------------------------------------------------

/**
 * Arcs in pairs as they are added: arc 2k is forward, 2k+1 its reverse; capacities are residual.
 * `seal()` lays them out by tail node (compressed sparse rows: a node's arcs side by side, in the
 * order a linked list of them would give, newest first) so the searches read memory in order:
 * walking a linked list of 280,000 arcs in insertion order missed the cache at almost every arc.
 * The minimum-cost flow works on the sealed arrays; `rev` names an arc's partner there.
 */
class FlowGraph {
  // Arcs as added, in typed arrays (off the JavaScript heap; 280,000 arcs as number arrays were
  // megabytes the collector marked again and again in the service's small heap).
  private readonly tail: Int32Array;
  private readonly head: Int32Array;
  private readonly capacity: bigint[] = [];
  private readonly costs: Float64Array;
  private added = 0;
  /** Sealed: arcs of node u are start[u] .. start[u + 1] - 1. */
  start = new Int32Array(0);
  to = new Int32Array(0);
  from = new Int32Array(0);
  rev = new Int32Array(0);
  cost = new Float64Array(0);
  cap: bigint[] = [];
  /** Where each added arc sits once sealed. */
  private at = new Int32Array(0);
  private sealed = false;

  /** A graph of `n` nodes and at most `arcsMax` arcs (each add makes two). */
  constructor(
    readonly n: number,
    arcsMax: number,
  ) {
    this.tail = new Int32Array(2 * arcsMax);
    this.head = new Int32Array(2 * arcsMax);
    this.costs = new Float64Array(2 * arcsMax);
  }

  /** Adds u -> v; returns the forward arc's index (as added). */
  add(u: number, v: number, capacity: bigint, cost: number): number {
    const e = this.added;
    if (e + 2 > this.tail.length) throw new InvariantError('more arcs than the graph was made for');
    this.tail[e] = u;
    this.tail[e + 1] = v;
    this.head[e] = v;
    this.head[e + 1] = u;
    this.costs[e] = cost;
    this.costs[e + 1] = -cost;
    this.capacity.push(capacity, 0n);
    this.added += 2;
    return e;
  }

  /** Lays the arcs out by tail node; call once, after the last add. */
  seal(): void {
    if (this.sealed) return;
    const m = this.added;
    const start = new Int32Array(this.n + 1);
    for (let e = 0; e < m; e++) start[this.tail[e]! + 1]! += 1;
    for (let u = 0; u < this.n; u++) start[u + 1]! += start[u]!;
    const fill = start.slice(0, this.n);
    const at = new Int32Array(m);
    // Newest first within a node, as the linked lists this replaces walked them.
    for (let e = m - 1; e >= 0; e--) at[e] = fill[this.tail[e]!]!++;
    const to = new Int32Array(m);
    const from = new Int32Array(m);
    const rev = new Int32Array(m);
    const cost = new Float64Array(m);
    const cap = new Array<bigint>(m);
    for (let e = 0; e < m; e++) {
      const k = at[e]!;
      to[k] = this.head[e]!;
      from[k] = this.tail[e]!;
      rev[k] = at[e ^ 1]!;
      cost[k] = this.costs[e]!;
      cap[k] = this.capacity[e]!;
    }
    this.start = start;
    this.to = to;
    this.from = from;
    this.rev = rev;
    this.cost = cost;
    this.cap = cap;
    this.at = at;
    this.sealed = true;
  }

  /** Flow on a forward arc (its index as added): what its reverse holds. */
  flow(e: number): bigint {
    return this.cap[this.at[e ^ 1]!]!;
  }
}

/** A binary min-heap of (key, node). */
class Heap {
  private keys: number[] = [];
  private nodes: number[] = [];
  poppedKey = 0;

  get size(): number {
    return this.keys.length;
  }

  push(key: number, node: number): void {
    const k = this.keys;
    const n = this.nodes;
    let i = k.length;
    k.push(key);
    n.push(node);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! <= key) break;
      k[i] = k[p]!;
      n[i] = n[p]!;
      i = p;
    }
    k[i] = key;
    n[i] = node;
  }

  /** Removes the least key's entry and answers its node; its key is then in `poppedKey`. */
  pop(): number {
    const k = this.keys;
    const n = this.nodes;
    this.poppedKey = k[0]!;
    const top = n[0]!;
    const lastKey = k.pop()!;
    const lastNode = n.pop()!;
    if (k.length > 0) {
      let i = 0;
      const size = k.length;
      while (true) {
        let c = 2 * i + 1;
        if (c >= size) break;
        if (c + 1 < size && k[c + 1]! < k[c]!) c++;
        if (k[c]! >= lastKey) break;
        k[i] = k[c]!;
        n[i] = n[c]!;
        i = c;
      }
      k[i] = lastKey;
      n[i] = lastNode;
    }
    return top;
  }
}

/**
 * The residual capacities a flow works on, and the one step that changes them: pushing the
 * bottleneck along a path. Two forms with the same arithmetic: bigints always, and doubles when
 * the graph's capacities sum below 2^53, where every capacity, flow and total is an integer a double
 * holds exactly (each is at most that sum), and no bigint is allocated at each step.
 */
interface Residual {
  positive(e: number): boolean;
  /** Pushes the least capacity along `path`; answers the index of its first arc left empty. */
  augment(path: number[], open: Uint8Array, rev: Int32Array): number;
  /** Everything pushed so far. */
  total(): bigint;
  /** Writes the capacities back to the graph's bigints. */
  finish(): void;
}

function bigintResidual(cap: bigint[]): Residual {
  let total = 0n;
  return {
    positive: (e) => cap[e]! > 0n,
    augment(path, open, rev) {
      let bottleneck = cap[path[0]!]!;
      for (const e of path) if (cap[e]! < bottleneck) bottleneck = cap[e]!;
      let cut = -1;
      for (let i = 0; i < path.length; i++) {
        const e = path[i]!;
        cap[e] = cap[e]! - bottleneck;
        cap[rev[e]!] = cap[rev[e]!]! + bottleneck;
        open[rev[e]!] = 1;
        if (cap[e]! === 0n) {
          open[e] = 0;
          if (cut === -1) cut = i;
        }
      }
      total += bottleneck;
      return cut;
    },
    total: () => total,
    finish() {},
  };
}

function numberResidual(cap: bigint[]): Residual {
  const c = Float64Array.from(cap, (v) => Number(v));
  let total = 0;
  return {
    positive: (e) => c[e]! > 0,
    augment(path, open, rev) {
      let bottleneck = c[path[0]!]!;
      for (const e of path) if (c[e]! < bottleneck) bottleneck = c[e]!;
      let cut = -1;
      for (let i = 0; i < path.length; i++) {
        const e = path[i]!;
        c[e] = c[e]! - bottleneck;
        c[rev[e]!] = c[rev[e]!]! + bottleneck;
        open[rev[e]!] = 1;
        if (c[e]! === 0) {
          open[e] = 0;
          if (cut === -1) cut = i;
        }
      }
      total += bottleneck;
      return cut;
    },
    total: () => BigInt(total),
    finish() {
      for (let e = 0; e < c.length; e++) cap[e] = BigInt(c[e]!);
    },
  };
}

const EXACT_DOUBLE = 2n ** 53n;

/**
 * Minimum-cost flow from s to t by the primal-dual method. `potential` must make every arc with
 * residual capacity of non-negative reduced cost (cost + pi[u] - pi[v]); it is kept so. With
 * `untilNonNegative`, flow is pushed only along paths of negative cost (the cheapest flow of any
 * size); otherwise as much as can reach t (the cheapest maximum flow). Returns the flow pushed.
 */
function minCostFlow(
  g: FlowGraph,
  s: number,
  t: number,
  potential: Float64Array,
  untilNonNegative: boolean,
): bigint {
  const n = g.n;
  g.seal();
  const { to, from, cap, cost, start, rev } = g;
  let sum = 0n;
  for (const c of cap) sum += c;
  const residual = sum < EXACT_DOUBLE ? numberResidual(cap) : bigintResidual(cap);
  const pi = potential;
  const dist = new Float64Array(n);
  const level = new Int32Array(n);
  const current = new Int32Array(n);
  const queue = new Int32Array(n);
  const reduced = (e: number) => cost[e]! + pi[from[e]!]! - pi[to[e]!]!;
  // The searches below look at every arc many times; comparing bigints and recomputing reduced
  // costs there dominated (about 9 million looks for 70,000 obligations): they read two byte
  // flags instead. `open[e]`: the arc has residual capacity (kept with `cap`); `admissible[e]`:
  // its reduced cost is 0 under the current potentials (recomputed when they change).
  const arcs = cap.length;
  const open = new Uint8Array(arcs);
  for (let e = 0; e < arcs; e++) open[e] = residual.positive(e) ? 1 : 0;
  const admissible = new Uint8Array(arcs);

  while (true) {
    // Shortest distances on reduced costs (Dijkstra).
    dist.fill(Number.POSITIVE_INFINITY);
    dist[s] = 0;
    const heap = new Heap();
    heap.push(0, s);
    while (heap.size > 0) {
      const u = heap.pop();
      const d = heap.poppedKey;
      if (d > dist[u]!) continue;
      for (let e = start[u]!, end = start[u + 1]!; e < end; e++) {
        if (open[e] === 0) continue;
        const v = to[e]!;
        const nd = d + reduced(e);
        if (nd < dist[v]!) {
          dist[v] = nd;
          heap.push(nd, v);
        }
      }
    }
    const dt = dist[t]!;
    if (dt === Number.POSITIVE_INFINITY) break;
    for (let v = 0; v < n; v++) pi[v]! += Math.min(dist[v]!, dt);
    if (untilNonNegative && pi[t]! - pi[s]! >= 0) break;
    for (let e = 0; e < arcs; e++) admissible[e] = reduced(e) === 0 ? 1 : 0;

    // Blocking flows on the admissible arcs (residual capacity, reduced cost 0), as in Dinic.
    while (true) {
      level.fill(-1);
      level[s] = 0;
      let head = 0;
      let tail = 0;
      queue[tail++] = s;
      while (head < tail) {
        const u = queue[head++]!;
        for (let e = start[u]!, end = start[u + 1]!; e < end; e++) {
          const v = to[e]!;
          if (level[v] === -1 && open[e] === 1 && admissible[e] === 1) {
            level[v] = level[u]! + 1;
            queue[tail++] = v;
          }
        }
      }
      if (level[t] === -1) break;
      current.set(start.subarray(0, n));
      const path: number[] = [];
      let u = s;
      while (true) {
        if (u === t) {
          const cut = residual.augment(path, open, rev);
          // Resume from the tail of the first saturated arc.
          path.length = cut;
          u = cut === 0 ? s : to[path[cut - 1]!]!;
          continue;
        }
        let e = current[u]!;
        const end = start[u + 1]!;
        while (e < end) {
          const v = to[e]!;
          if (open[e] === 1 && admissible[e] === 1 && level[v] === level[u]! + 1) break;
          e++;
        }
        current[u] = e;
        if (e < end) {
          path.push(e);
          u = to[e]!;
          continue;
        }
        // Dead end: no path to t through u at this level.
        level[u] = -1;
        if (path.length === 0) break;
        const back = path.pop()!;
        u = from[back]!;
        current[u] = back + 1;
      }
    }
  }
  residual.finish();
  return residual.total();
}

// ---------------------------------------------------------------------------------------------
// Clearing
// ---------------------------------------------------------------------------------------------

/**
 * Obligations as compact columns, the form the service reads them in (a network's 140,000 open
 * obligations as objects, with a Map of pairs and string sorts, cost more time than the flow and
 * more memory than the service's heap allows). Row k is the obligation debtor[k] -> creditor[k]
 * (indexes into `members`) with `outstanding[k]` minor units. Rows come sorted by (debtor,
 * creditor), and within a pair in the order its set-off lands on them: oldest due date first,
 * then oldest id. `members` is sorted (code-unit order) and distinct. Checked, except that rows
 * are distinct obligations (the caller's primary key).
 */
export interface ObligationTable {
  members: readonly string[];
  debtor: Int32Array;
  creditor: Int32Array;
  outstanding: readonly bigint[];
}

/** What a table's clearing leaves: per row, set-off and liquidity; per member and in total as ClearingPlan. */
export interface TablePlan extends Omit<ClearingPlan, 'obligations'> {
  /** Cancelled by set-off, per row of the table. */
  setoff: bigint[];
  /** Settled by network payments (liquidity mode), per row of the table. */
  liquidity: bigint[];
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

function checkTable(t: ObligationTable): void {
  const n = t.members.length;
  const rows = t.debtor.length;
  invariant(t.creditor.length === rows && t.outstanding.length === rows, 'table columns have one length');
  for (let i = 1; i < n; i++) invariant(t.members[i - 1]! < t.members[i]!, 'members are sorted and distinct');
  let previous = -1;
  for (let k = 0; k < rows; k++) {
    const d = t.debtor[k]!;
    const c = t.creditor[k]!;
    invariant(d >= 0 && d < n && c >= 0 && c < n, `row ${k} names a member of the table`);
    invariant(d !== c, `row ${k} is owed by its creditor`);
    invariant(t.outstanding[k]! > 0n, `row ${k} has nothing outstanding`);
    const key = d * n + c;
    invariant(key >= previous, 'rows are sorted by debtor, then creditor');
    previous = key;
  }
}

/**
 * The largest set-off among a table's obligations and, with `liquidity`, what network payments
 * within each member's limits settle on top of it (see the module's comment). Deterministic.
 * Throws InvariantError should the result ever move a net position.
 */
export function planClearingTable(
  table: ObligationTable,
  liquidity: readonly LiquidityInput[] | null = null,
): TablePlan {
  checkTable(table);
  const { members, debtor, creditor, outstanding } = table;
  const n = members.length;
  const rows = debtor.length;

  // Pairs: runs of rows with one (debtor, creditor), in table order.
  const first: number[] = [];
  for (let k = 0; k < rows; k++)
    if (k === 0 || debtor[k] !== debtor[k - 1] || creditor[k] !== creditor[k - 1]) first.push(k);
  const pairs = first.length;
  first.push(rows);
  const pairOutstanding = new Array<bigint>(pairs);
  const pairSetoff = new Array<bigint>(pairs).fill(0n);
  const pairLiquidity = new Array<bigint>(pairs).fill(0n);
  const position = new Array<bigint>(n).fill(0n);
  let outstandingBefore = 0n;
  for (let p = 0; p < pairs; p++) {
    let sum = 0n;
    for (let k = first[p]!; k < first[p + 1]!; k++) sum += outstanding[k]!;
    pairOutstanding[p] = sum;
    const d = debtor[first[p]!]!;
    const c = creditor[first[p]!]!;
    position[c] = position[c]! + sum;
    position[d] = position[d]! - sum;
    outstandingBefore += sum;
  }
  const nidBefore = position.reduce((s, b) => (b > 0n ? s + b : s), 0n);

  // Phase 1, set-off: the cheapest flow that routes every net position over the obligations.
  {
    const s = n;
    const t = n + 1;
    const g = new FlowGraph(n + 2, pairs + n);
    const arcs = new Int32Array(pairs);
    for (let p = 0; p < pairs; p++)
      arcs[p] = g.add(debtor[first[p]!]!, creditor[first[p]!]!, pairOutstanding[p]!, 1);
    for (let i = 0; i < n; i++) {
      if (position[i]! < 0n) g.add(s, i, -position[i]!, 0);
      else if (position[i]! > 0n) g.add(i, t, position[i]!, 0);
    }
    const routed = minCostFlow(g, s, t, new Float64Array(n + 2), false);
    if (routed !== nidBefore)
      throw new InvariantError(`set-off routed ${routed} of the net positions ${nidBefore}`);
    for (let p = 0; p < pairs; p++) pairSetoff[p] = pairOutstanding[p]! - g.flow(arcs[p]!);
  }

  // Phase 2, network credit as liquidity, on what set-off left (acyclic).
  if (liquidity !== null) {
    const remaining: number[] = [];
    for (let p = 0; p < pairs; p++) if (pairOutstanding[p]! > pairSetoff[p]!) remaining.push(p);
    const s = n;
    const t = n + 1;
    const g = new FlowGraph(n + 2, remaining.length + 2 * n);
    let unbounded = 0n;
    const arcs = remaining.map((p) => {
      const left = pairOutstanding[p]! - pairSetoff[p]!;
      unbounded += left;
      return g.add(debtor[first[p]!]!, creditor[first[p]!]!, left, -1);
    });
    const index = new Map(members.map((m, i) => [m, i]));
    for (const l of liquidity) {
      const i = index.get(l.member);
      if (i === undefined) continue;
      invariant(l.payMax >= 0n && (l.receiveMax === null || l.receiveMax >= 0n), 'liquidity is not negative');
      if (l.payMax > 0n) g.add(s, i, l.payMax, 0);
      const receive = l.receiveMax ?? unbounded;
      if (receive > 0n) g.add(i, t, receive, 0);
    }
    const potential = acyclicPotentials(
      n,
      remaining.map((p) => [debtor[first[p]!]!, creditor[first[p]!]!] as const),
    );
    const settled = minCostFlow(g, s, t, potential, true);
    remaining.forEach((p, i) => {
      pairLiquidity[p] = g.flow(arcs[i]!);
    });
    invariant(settled >= 0n, 'liquidity flow is not negative');
  }

  // Each pair's amounts onto its rows in table order (oldest due date first).
  const setoff = new Array<bigint>(rows).fill(0n);
  const paidRows = new Array<bigint>(rows).fill(0n);
  for (let p = 0; p < pairs; p++) {
    let left = pairSetoff[p]!;
    let paid = pairLiquidity[p]!;
    for (let k = first[p]!; k < first[p + 1]! && (left > 0n || paid > 0n); k++) {
      const holds = outstanding[k]!;
      const s = minBig(left, holds);
      left -= s;
      const rest = holds - s;
      const l = minBig(paid, rest);
      paid -= l;
      setoff[k] = s;
      paidRows[k] = l;
    }
    invariant(left === 0n && paid === 0n, 'a pair clears more than its obligations hold');
  }
  return summarise(table, setoff, paidRows, position, outstandingBefore, nidBefore);
}

/**
 * The largest set-off among these obligations and, with `liquidity`, what network payments within
 * each member's limits settle on top of it. Deterministic: the same obligations (in any order)
 * give the same plan. Throws InvariantError should the result ever move a net position. The
 * objects' form of planClearingTable (the same solver): sorts them into a table and back.
 */
export function planClearing(
  obligations: readonly ObligationInput[],
  liquidity: readonly LiquidityInput[] | null = null,
): ClearingPlan {
  const ids = new Set<string>();
  for (const o of obligations) {
    invariant(!ids.has(o.id), `obligation ${o.id} is given twice`);
    ids.add(o.id);
    invariant(o.outstanding > 0n, `obligation ${o.id} has nothing outstanding`);
    invariant(o.debtor !== o.creditor, `obligation ${o.id} is owed by its creditor`);
  }
  const { table, order } = obligationTable(obligations);
  const plan = planClearingTable(table, liquidity);
  const result: ObligationClearing[] = obligations.map((o) => ({ id: o.id, setoff: 0n, liquidity: 0n }));
  order.forEach((i, k) => {
    result[i]!.setoff = plan.setoff[k]!;
    result[i]!.liquidity = plan.liquidity[k]!;
  });
  const { setoff: _s, liquidity: _l, ...rest } = plan;
  return { obligations: result, ...rest };
}

/**
 * Obligations as a table (sorted as planClearingTable wants them: members by id, rows by debtor,
 * creditor, due date, id) and `order`: row k of the table is obligations[order[k]].
 */
export function obligationTable(obligations: readonly ObligationInput[]): {
  table: ObligationTable;
  order: number[];
} {
  const members = [...new Set(obligations.flatMap((o) => [o.debtor, o.creditor]))].sort(compareText);
  const index = new Map(members.map((m, i) => [m, i]));
  const order = obligations.map((_, i) => i);
  const d = obligations.map((o) => index.get(o.debtor)!);
  const c = obligations.map((o) => index.get(o.creditor)!);
  order.sort(
    (a, b) =>
      d[a]! - d[b]! ||
      c[a]! - c[b]! ||
      compareText(obligations[a]!.dueOn, obligations[b]!.dueOn) ||
      compareText(obligations[a]!.id, obligations[b]!.id),
  );
  return {
    table: {
      members,
      debtor: Int32Array.from(order, (i) => d[i]!),
      creditor: Int32Array.from(order, (i) => c[i]!),
      outstanding: order.map((i) => obligations[i]!.outstanding),
    },
    order,
  };
}

/**
 * Potentials for the liquidity phase: shortest distances (arc cost -1) from a root joined to every
 * member at cost 0, in topological order; the source sits at 0, the sink below every member.
 */
function acyclicPotentials(n: number, remaining: (readonly [number, number])[]): Float64Array {
  const indegree = new Int32Array(n);
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const [d, c] of remaining) {
    out[d]!.push(c);
    indegree[c]!++;
  }
  const pi = new Float64Array(n + 2);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    const u = order[k]!;
    for (const v of out[u]!) {
      if (pi[u]! - 1 < pi[v]!) pi[v] = pi[u]! - 1;
      if (--indegree[v]! === 0) order.push(v);
    }
  }
  if (order.length !== n) throw new InvariantError('obligations left by an optimal set-off hold a cycle');
  let lowest = 0;
  for (let i = 0; i < n; i++) lowest = Math.min(lowest, pi[i]!);
  pi[n] = 0;
  pi[n + 1] = lowest;
  return pi;
}

function summarise(
  table: ObligationTable,
  setoff: bigint[],
  liquidity: bigint[],
  position: bigint[],
  outstandingBefore: bigint,
  nidBefore: bigint,
): TablePlan {
  const { members, debtor, creditor, outstanding } = table;
  const n = members.length;
  const afterSetoff = [...position];
  const after = [...position];
  const payment = new Array<bigint>(n).fill(0n);
  let setoffTotal = 0n;
  let liquidityTotal = 0n;
  for (let k = 0; k < setoff.length; k++) {
    const s = setoff[k]!;
    const l = liquidity[k]!;
    if (s === 0n && l === 0n) continue;
    invariant(s >= 0n && l >= 0n, 'cleared amounts are not negative');
    invariant(s + l <= outstanding[k]!, `row ${k} clears more than it holds`);
    const d = debtor[k]!;
    const c = creditor[k]!;
    afterSetoff[c] = afterSetoff[c]! - s;
    afterSetoff[d] = afterSetoff[d]! + s;
    after[c] = after[c]! - s - l;
    after[d] = after[d]! + s + l;
    payment[d] = payment[d]! + l;
    payment[c] = payment[c]! - l;
    setoffTotal += s;
    liquidityTotal += l;
  }
  for (let i = 0; i < n; i++) {
    // Set-off moves no net position; the liquidity mode moves each by exactly what it paid.
    if (afterSetoff[i] !== position[i])
      throw new InvariantError(`set-off moved the net position of ${members[i]}`);
    if (after[i] !== position[i]! + payment[i]!)
      throw new InvariantError(`the liquidity mode moved ${members[i]} by more than it paid`);
  }
  const paid = payment.reduce((s, p) => (p > 0n ? s + p : s), 0n);
  const received = payment.reduce((s, p) => (p < 0n ? s - p : s), 0n);
  invariant(paid === received, 'network payments of the liquidity mode balance');
  return {
    setoff,
    liquidity,
    members: members.map((member, i) => ({
      member,
      positionBefore: position[i]!,
      positionAfterSetoff: afterSetoff[i]!,
      positionAfter: after[i]!,
      networkPayment: payment[i]!,
    })),
    outstandingBefore,
    setoffTotal,
    liquidityTotal,
    outstandingAfter: outstandingBefore - setoffTotal - liquidityTotal,
    netInternalDebtBefore: nidBefore,
    netInternalDebtAfter: after.reduce((s, b) => (b > 0n ? s + b : s), 0n),
    liquidityUsed: paid,
  };
}

/**
 * The largest set-off found by clearing simple cycles one at a time, each as far as its smallest
 * obligation allows, in the order a depth-first search meets them: the greedy heuristic the issue
 * warns about. Kept for the tests and the benchmark, to show what the exact solver gains; never
 * used to clear.
 */
export function greedyCycleSetoff(obligations: readonly ObligationInput[]): bigint {
  const members = [...new Set(obligations.flatMap((o) => [o.debtor, o.creditor]))].sort(compareText);
  const index = new Map(members.map((m, i) => [m, i]));
  const n = members.length;
  const cap = new Map<number, bigint>();
  for (const o of obligations) {
    const key = index.get(o.debtor)! * n + index.get(o.creditor)!;
    cap.set(key, (cap.get(key) ?? 0n) + o.outstanding);
  }
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const key of [...cap.keys()].sort((a, b) => a - b)) out[Math.floor(key / n)]!.push(key % n);
  let cleared = 0n;
  for (let start = 0; start < n; start++) {
    // Depth-first from `start`, clearing each cycle back to it as soon as it is found.
    let found = true;
    while (found) {
      found = false;
      const stack: number[] = [start];
      const onPath = new Set<number>([start]);
      const iter = new Int32Array(n);
      while (stack.length > 0 && !found) {
        const u = stack.at(-1)!;
        const list = out[u]!;
        if (iter[u]! >= list.length) {
          stack.pop();
          onPath.delete(u);
          continue;
        }
        const v = list[iter[u]!++]!;
        if ((cap.get(u * n + v) ?? 0n) === 0n) continue;
        if (v === start) {
          const cycle = [...stack, start];
          let least = cap.get(cycle[0]! * n + cycle[1]!)!;
          for (let i = 1; i + 1 < cycle.length; i++) {
            const c = cap.get(cycle[i]! * n + cycle[i + 1]!)!;
            if (c < least) least = c;
          }
          for (let i = 0; i + 1 < cycle.length; i++) {
            const k = cycle[i]! * n + cycle[i + 1]!;
            cap.set(k, cap.get(k)! - least);
          }
          cleared += least * BigInt(cycle.length - 1);
          found = true;
        } else if (!onPath.has(v) && v > start) {
          stack.push(v);
          onPath.add(v);
        }
      }
    }
  }
  return cleared;
}
