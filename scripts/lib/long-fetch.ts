/**
 * A `fetch` for calls that may wait minutes for their answer (city-report publish: a full-size
 * city's protection and LP audit take 10 minutes and more). Node's global fetch (undici) gives up
 * when a response's headers take over 300 s, whatever the SDK's timeoutMs ("fetch failed: Headers
 * Timeout Error", seen publishing a city of 2,000 co-ops); this one, over node:http(s), has no
 * timeout of its own: the SDK's timeoutMs aborts it through the request's signal.
 */
import http from 'node:http';
import https from 'node:https';

export const fetchWithoutTimeouts: typeof globalThis.fetch = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const signal = init?.signal;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const send = url.protocol === 'https:' ? https.request : http.request;
    const request = send(url, { method: init?.method ?? 'GET', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('error', reject);
      response.on('end', () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(response.headers))
          for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
            out.append(name, v);
        const status = response.statusCode ?? 502;
        // A Response cannot carry a body with these statuses.
        const empty = status === 204 || status === 205 || status === 304;
        resolve(
          new Response(empty ? null : Buffer.concat(chunks), {
            status,
            statusText: response.statusMessage ?? '',
            headers: out,
          }),
        );
      });
    });
    request.on('error', reject);
    signal?.addEventListener('abort', () => request.destroy(signal.reason as Error), { once: true });
    const body = init?.body;
    if (body === undefined || body === null) request.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) request.end(body);
    else {
      request.destroy();
      reject(new TypeError('fetchWithoutTimeouts sends string or byte bodies only'));
    }
  });
