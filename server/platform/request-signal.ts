import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The abort signal of the HTTP request being served (set by platform/http around each request): it
 * fires when the client goes away before its answer. The posting engine reads it, so a request
 * whose client has gone by the time it is decided is not posted.
 */
export const requestSignal = new AsyncLocalStorage<AbortSignal>();
