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
  private readonly tail: number[] = [];
  private readonly head: number[] = [];
  private readonly capacity: bigint[] = [];
  private readonly costs: number[] = [];
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

  constructor(readonly n: number) {}

  /** Adds u -> v; returns the forward arc's index (as added). */
  add(u: number, v: number, capacity: bigint, cost: number): number {
    const e = this.tail.length;
    this.tail.push(u, v);
    this.head.push(v, u);
    this.capacity.push(capacity, 0n);
    this.costs.push(cost, -cost);
    return e;
  }

  /** Lays the arcs out by tail node; call once, after the last add. */
  seal(): void {
    if (this.sealed) return;
    const m = this.tail.length;
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

  pop(): [number, number] {
    const k = this.keys;
    const n = this.nodes;
    const top: [number, number] = [k[0]!, n[0]!];
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
  const pi = potential;
  const dist = new Float64Array(n);
  const level = new Int32Array(n);
  const current = new Int32Array(n);
  const queue = new Int32Array(n);
  let total = 0n;
  const reduced = (e: number) => cost[e]! + pi[from[e]!]! - pi[to[e]!]!;
  // The searches below look at every arc many times; comparing bigints and recomputing reduced
  // costs there dominated (about 9 million looks for 70,000 obligations): they read two byte
  // flags instead. `open[e]`: the arc has residual capacity (kept with `cap`); `admissible[e]`:
  // its reduced cost is 0 under the current potentials (recomputed when they change).
  const arcs = cap.length;
  const open = new Uint8Array(arcs);
  for (let e = 0; e < arcs; e++) open[e] = cap[e]! > 0n ? 1 : 0;
  const admissible = new Uint8Array(arcs);

  while (true) {
    // Shortest distances on reduced costs (Dijkstra).
    dist.fill(Number.POSITIVE_INFINITY);
    dist[s] = 0;
    const heap = new Heap();
    heap.push(0, s);
    while (heap.size > 0) {
      const [d, u] = heap.pop();
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
  return total;
}

// ---------------------------------------------------------------------------------------------
// Clearing
// ---------------------------------------------------------------------------------------------

interface Pair {
  debtor: number;
  creditor: number;
  /** Indexes into the obligations, oldest due date first, then id. */
  obligations: number[];
  outstanding: bigint;
  setoff: bigint;
  liquidity: bigint;
}

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function checkInput(obligations: readonly ObligationInput[]): void {
  const ids = new Set<string>();
  for (const o of obligations) {
    invariant(o.outstanding > 0n, `obligation ${o.id} has nothing outstanding`);
    invariant(o.debtor !== o.creditor, `obligation ${o.id} is owed by its creditor`);
    invariant(!ids.has(o.id), `obligation ${o.id} is given twice`);
    ids.add(o.id);
  }
}

/**
 * The largest set-off among these obligations and, with `liquidity`, what network payments within
 * each member's limits settle on top of it. Deterministic: the same obligations (in any order)
 * give the same plan. Throws InvariantError should the result ever move a net position.
 */
export function planClearing(
  obligations: readonly ObligationInput[],
  liquidity: readonly LiquidityInput[] | null = null,
): ClearingPlan {
  checkInput(obligations);
  const members = [...new Set(obligations.flatMap((o) => [o.debtor, o.creditor]))].sort(compareText);
  const index = new Map(members.map((m, i) => [m, i]));
  const n = members.length;

  // Pairs in (debtor, creditor) order, each with its obligations oldest due first.
  const pairsByKey = new Map<number, Pair>();
  obligations.forEach((o, i) => {
    const d = index.get(o.debtor)!;
    const c = index.get(o.creditor)!;
    const key = d * n + c;
    let pair = pairsByKey.get(key);
    if (!pair) {
      pair = { debtor: d, creditor: c, obligations: [], outstanding: 0n, setoff: 0n, liquidity: 0n };
      pairsByKey.set(key, pair);
    }
    pair.obligations.push(i);
    pair.outstanding += o.outstanding;
  });
  const pairs = [...pairsByKey.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  for (const p of pairs)
    p.obligations.sort((a, b) => {
      const x = obligations[a]!;
      const y = obligations[b]!;
      return compareText(x.dueOn, y.dueOn) || compareText(x.id, y.id);
    });

  const position = new Array<bigint>(n).fill(0n);
  for (const p of pairs) {
    position[p.creditor] = position[p.creditor]! + p.outstanding;
    position[p.debtor] = position[p.debtor]! - p.outstanding;
  }
  const outstandingBefore = pairs.reduce((s, p) => s + p.outstanding, 0n);
  const nidBefore = position.reduce((s, b) => (b > 0n ? s + b : s), 0n);

  // Phase 1, set-off: the cheapest flow that routes every net position over the obligations.
  {
    const s = n;
    const t = n + 1;
    const g = new FlowGraph(n + 2);
    const arcs = pairs.map((p) => g.add(p.debtor, p.creditor, p.outstanding, 1));
    for (let i = 0; i < n; i++) {
      if (position[i]! < 0n) g.add(s, i, -position[i]!, 0);
      else if (position[i]! > 0n) g.add(i, t, position[i]!, 0);
    }
    const routed = minCostFlow(g, s, t, new Float64Array(n + 2), false);
    if (routed !== nidBefore)
      throw new InvariantError(`set-off routed ${routed} of the net positions ${nidBefore}`);
    pairs.forEach((p, i) => {
      p.setoff = p.outstanding - g.flow(arcs[i]!);
    });
  }

  // Phase 2, network credit as liquidity, on what set-off left (acyclic).
  if (liquidity !== null) {
    const remaining = pairs.filter((p) => p.outstanding > p.setoff);
    const s = n;
    const t = n + 1;
    const g = new FlowGraph(n + 2);
    const arcs = remaining.map((p) => g.add(p.debtor, p.creditor, p.outstanding - p.setoff, -1));
    const unbounded = remaining.reduce((sum, p) => sum + p.outstanding - p.setoff, 0n);
    for (const l of liquidity) {
      const i = index.get(l.member);
      if (i === undefined) continue;
      invariant(l.payMax >= 0n && (l.receiveMax === null || l.receiveMax >= 0n), 'liquidity is not negative');
      if (l.payMax > 0n) g.add(s, i, l.payMax, 0);
      const receive = l.receiveMax ?? unbounded;
      if (receive > 0n) g.add(i, t, receive, 0);
    }
    const potential = acyclicPotentials(n, remaining);
    const settled = minCostFlow(g, s, t, potential, true);
    remaining.forEach((p, i) => {
      p.liquidity = g.flow(arcs[i]!);
    });
    invariant(settled >= 0n, 'liquidity flow is not negative');
  }

  // Each pair's amounts onto its invoices, oldest due date first.
  const result: ObligationClearing[] = obligations.map((o) => ({ id: o.id, setoff: 0n, liquidity: 0n }));
  for (const p of pairs) {
    let setoff = p.setoff;
    let paid = p.liquidity;
    for (const i of p.obligations) {
      const left = obligations[i]!.outstanding;
      const s = minBig(setoff, left);
      setoff -= s;
      const l = minBig(paid, left - s);
      paid -= l;
      result[i]!.setoff = s;
      result[i]!.liquidity = l;
    }
    invariant(setoff === 0n && paid === 0n, 'a pair clears more than its obligations hold');
  }

  return summarise(obligations, result, members, index, position, outstandingBefore, nidBefore);
}

/**
 * Potentials for the liquidity phase: shortest distances (arc cost -1) from a root joined to every
 * member at cost 0, in topological order; the source sits at 0, the sink below every member.
 */
function acyclicPotentials(n: number, remaining: Pair[]): Float64Array {
  const indegree = new Int32Array(n);
  const out: number[][] = Array.from({ length: n }, () => []);
  for (const p of remaining) {
    out[p.debtor]!.push(p.creditor);
    indegree[p.creditor]!++;
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
  obligations: readonly ObligationInput[],
  result: ObligationClearing[],
  members: string[],
  index: Map<string, number>,
  position: bigint[],
  outstandingBefore: bigint,
  nidBefore: bigint,
): ClearingPlan {
  const n = members.length;
  const afterSetoff = [...position];
  const after = [...position];
  const payment = new Array<bigint>(n).fill(0n);
  let setoffTotal = 0n;
  let liquidityTotal = 0n;
  obligations.forEach((o, i) => {
    const r = result[i]!;
    invariant(r.setoff >= 0n && r.liquidity >= 0n, 'cleared amounts are not negative');
    invariant(r.setoff + r.liquidity <= o.outstanding, `obligation ${o.id} clears more than it holds`);
    const d = index.get(o.debtor)!;
    const c = index.get(o.creditor)!;
    afterSetoff[c] = afterSetoff[c]! - r.setoff;
    afterSetoff[d] = afterSetoff[d]! + r.setoff;
    after[c] = after[c]! - r.setoff - r.liquidity;
    after[d] = after[d]! + r.setoff + r.liquidity;
    payment[d] = payment[d]! + r.liquidity;
    payment[c] = payment[c]! - r.liquidity;
    setoffTotal += r.setoff;
    liquidityTotal += r.liquidity;
  });
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
    obligations: result,
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
