/**
 * The worker process of a release (see release-compute.ts and server/platform/worker.ts): the
 * service starts it, posts it the release's frozen rows in chunks (FrozenChunk), then the rest of
 * the input, and gets the protected cells or the reason it failed.
 */
import { serveWorker } from '../platform/worker.js';
import {
  type ComputeReleaseOutput,
  computeRelease,
  type FrozenChunk,
  FrozenRowsReceived,
  type ReleaseWorkerInput,
} from './release-compute.js';

const received = new FrozenRowsReceived();

serveWorker<ReleaseWorkerInput, ComputeReleaseOutput, FrozenChunk>(
  (input) => {
    if (received.count !== input.frozenRows)
      throw new Error(`the worker received ${received.count} frozen rows of ${input.frozenRows}`);
    return computeRelease({ ...input, rows: received.rows() });
  },
  (chunk) => received.add(chunk),
);
