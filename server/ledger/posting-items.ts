/**
 * What the posting engine queues: one item per atomic request, or one per op of an independent
 * batch, each answered into its request's batch (see PostingEngine.submit).
 */
import { LedgerError } from '../core/index.js';
import type { FlushItem } from './flush.js';
import type { OpResult, PostOp } from './ops.js';

export interface Item extends FlushItem {
  resolve: (results: OpResult[]) => void;
  reject: (error: unknown) => void;
}

/** The answers of one request's independent ops, gathered as their items are answered. */
export class IndependentBatch {
  readonly results: OpResult[];
  private remaining: number;
  private failed = false;

  constructor(
    size: number,
    private readonly onResolve: (results: OpResult[]) => void,
    private readonly onReject: (error: unknown) => void,
  ) {
    this.results = new Array(size);
    this.remaining = size;
  }

  answer(index: number, result: OpResult): void {
    this.results[index] = result;
    if (--this.remaining === 0 && !this.failed) this.onResolve(this.results);
  }

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.onReject(error);
  }
}

/** One independent op of a request: an item of its own, answered into its request's batch. */
export class IndependentItem implements Item {
  readonly atomic = false;
  readonly ops: PostOp[];

  constructor(
    op: PostOp,
    readonly signal: AbortSignal | undefined,
    private readonly batch: IndependentBatch,
    private readonly index: number,
  ) {
    this.ops = [op];
  }

  resolve(results: OpResult[]): void {
    this.batch.answer(this.index, results[0]!);
  }

  /** resolve without the array of one result. */
  resolveOne(result: OpResult): void {
    this.batch.answer(this.index, result);
  }

  reject(error: unknown): void {
    this.batch.fail(error);
  }

  /**
   * This op alone failed and nothing was posted for it: answered as ENTRY_NOT_POSTED in its
   * request's results (the error itself is logged), so the request still gets the answers of its
   * other ops, posted or refused. Without it one entry the service fails on would fail the whole
   * request at every retry, and the client could never learn what became of the others.
   */
  notPosted(): void {
    this.batch.answer(this.index, {
      ok: false,
      error: new LedgerError(
        'ENTRY_NOT_POSTED',
        'not posted: the service failed on this entry (the failure is logged); the other entries were answered on their own',
        null,
      ),
    });
  }
}
