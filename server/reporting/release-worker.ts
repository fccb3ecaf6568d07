/**
 * The worker process of a release (see release-compute.ts and server/platform/worker.ts): the
 * service starts it with a release's input and gets the protected cells or the reason it failed.
 */
import { serveWorker } from '../platform/worker.js';
import { computeRelease } from './release-compute.js';

serveWorker(computeRelease);
