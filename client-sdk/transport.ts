/**
 * One GraphQL request over HTTP through graphql-request's `GraphQLClient` on the caller's `fetch`
 * (browsers, Node 20.3+, Deno, Bun alike): the JSON body, persisted documents, and the answer as it
 * came back. graphql-request 7 is fetch-based ESM and neither it nor this file imports a Node
 * module, so bundlers put the SDK in a browser page as it is.
 *
 * Persisted documents: `npm run generate` gives every generated document its id (`__meta__.hash`,
 * `sha256:<hex>` of the normalised document, GraphQL Code Generator's client preset) and the
 * service knows the SDK's documents by those ids (server/persisted-documents.json). A request then
 * carries `{"documentId": "sha256:...", "operationName", "variables"}` instead of the document's
 * text: smaller requests, no parsing on the server, and a production service may refuse every
 * document it does not know. A service that does not know the id (an older or newer service, one
 * without the manifest) answers PERSISTED_DOCUMENT_NOT_FOUND before running anything; the SDK then
 * sends the text in the same attempt and stops sending that id to that service.
 */
import { type DocumentNode, print } from 'graphql';
import { ClientError, GraphQLClient } from 'graphql-request';

/** The service's answer to an id it does not know (and Apollo's, for servers speaking APQ). */
export const PERSISTED_DOCUMENT_NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  'PERSISTED_DOCUMENT_NOT_FOUND',
  'PERSISTED_QUERY_NOT_FOUND',
]);

/** The persisted document id of a generated document (`sha256:<hex>`), or undefined for other documents. */
export function documentIdOf(document: DocumentNode): string | undefined {
  const meta = (document as { __meta__?: { hash?: unknown } }).__meta__;
  return typeof meta?.hash === 'string' && meta.hash !== '' ? meta.hash : undefined;
}

const printed = new WeakMap<DocumentNode, string>();

/** The document's text as sent (graphql's `print`, done once per document). */
export function documentText(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

/** The JSON body of a GraphQL POST: the text (`query`) or the persisted document's id. */
export interface GraphQLPayload {
  query?: string;
  documentId?: string;
  operationName?: string;
  variables?: unknown;
}

/** What came back: the status, the headers and the body parsed as JSON (undefined when it is not). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface GraphQLBody {
  data?: unknown;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** What graphql-request hands `fetch`: a RequestInit with its own options added. */
type FetchInit = RequestInit & { errorPolicy?: unknown; jsonSerializer?: unknown };

/**
 * POSTs one payload through graphql-request's `GraphQLClient` (its `rawRequest`); rejects only when
 * no response arrived (network error, timeout, abort), with the error `fetch` gave. `text` is the
 * document's text (`documentText`), which graphql-request requires even when the id is sent.
 *
 * graphql-request builds the request (headers merged, `signal`, its JSON body) and reads and parses
 * the answer. What the SDK adds:
 * - `requestMiddleware` puts the SDK's payload in the body: `{documentId, operationName, variables}`
 *   for a persisted document, `{query, operationName, variables}` otherwise. graphql-request would
 *   parse the text on every request to find the operation's name (`excludeOperationName: false`);
 *   the SDK knows it, so graphql-request is told not to and the middleware names the operation.
 * - `errorPolicy: 'all'`, so GraphQL errors on a 2xx come back with the answer rather than thrown,
 *   and a non-2xx answer comes back as graphql-request's `ClientError`, whose `response` holds the
 *   status, the headers and the body's text: both become the same `HttpAnswer` as before.
 * - The caller's `fetch` gets the URL as configured (graphql-request passes a `URL` object) and a
 *   plain `RequestInit` (graphql-request adds its own options to it).
 * - graphql-request throws away the status of a 2xx answer it cannot read as GraphQL (an HTML
 *   page, nothing, JSON under another content type). The SDK reads such answers itself as it
 *   always did, so the fetch wrapper keeps the status, the headers and the text it read.
 */
export async function postGraphQL(
  fetchFn: typeof globalThis.fetch,
  url: string,
  payload: GraphQLPayload,
  headers: Headers,
  signal: AbortSignal,
  text: string,
): Promise<HttpAnswer> {
  const sent = new Headers(headers);
  sent.set('content-type', 'application/json');
  sent.set('accept', 'application/graphql-response+json, application/json');
  let read: { status: number; headers: Headers; text: string } | undefined;
  const client = new GraphQLClient(absoluteUrl(url), {
    method: 'POST',
    errorPolicy: 'all',
    excludeOperationName: true,
    // The name and variables graphql-request passes to a middleware would reach `fetch` as options.
    requestMiddleware: ({ operationName: _name, variables: _variables, ...request }) => ({
      ...request,
      body: JSON.stringify(payload),
    }),
    fetch: async (_url, init) => {
      const { errorPolicy: _policy, jsonSerializer: _serializer, ...plain } = (init ?? {}) as FetchInit;
      const response = await fetchFn(url, plain);
      const readText = response.text.bind(response);
      response.text = async () => {
        const body = await readText();
        read = { status: response.status, headers: response.headers, text: body };
        return body;
      };
      return response;
    },
  });
  try {
    const response = await client.rawRequest<unknown>({
      query: text,
      variables: payload.variables as Record<string, unknown> | undefined,
      requestHeaders: sent,
      signal,
    });
    return answerOf(response);
  } catch (error) {
    if (error instanceof ClientError) return answerOf(error.response);
    // A 2xx answer graphql-request could not read as GraphQL: read it as the SDK always did.
    if (read !== undefined) return { status: read.status, headers: read.headers, body: parseJson(read.text) };
    throw error;
  }
}

/** graphql-request's answer (`rawRequest`'s result or a `ClientError`'s response) as an HttpAnswer. */
function answerOf(response: {
  status: number;
  headers: Headers;
  body: string;
  data?: unknown;
  errors?: unknown;
  extensions?: unknown;
}): HttpAnswer {
  const { status, headers, data, errors, extensions } = response;
  // graphql-request parsed it (JSON under a JSON content type, with the shape of a GraphQL answer):
  // its data and errors are what JSON.parse of the text gives. Otherwise the text is read here.
  const body =
    data !== undefined || errors !== undefined
      ? { data, errors, ...(extensions === undefined ? {} : { extensions }) }
      : parseJson(response.body);
  return { status, headers, body };
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * graphql-request resolves the URL with `new URL(url)`, which needs an absolute URL; a page may
 * configure a relative one (`/graphql`), which `fetch` resolves against the page. The caller's
 * `fetch` still gets the URL as configured.
 */
function absoluteUrl(url: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

/** The body as a GraphQL response, or undefined when it is not one (an HTML error page, nothing). */
export function graphQLBodyOf(answer: HttpAnswer): GraphQLBody | undefined {
  const { body } = answer;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { data, errors } = body as { data?: unknown; errors?: unknown };
  if (errors !== undefined && !Array.isArray(errors)) return undefined;
  if (data === undefined && errors === undefined) return undefined;
  return body as GraphQLBody;
}

/** A successful answer: 2xx, `data`, no errors. */
export function isSuccess(answer: HttpAnswer): boolean {
  const body = graphQLBodyOf(answer);
  return (
    answer.status >= 200 &&
    answer.status < 300 &&
    body !== undefined &&
    body.data !== undefined &&
    body.data !== null &&
    (body.errors === undefined || body.errors.length === 0)
  );
}

/**
 * The service did not take the document by its id, and nothing ran: it does not know the id
 * (PERSISTED_DOCUMENT_NOT_FOUND, or Apollo's PERSISTED_QUERY_NOT_FOUND), or it knows no persisted
 * documents at all and refused the request's shape before executing it (a GraphQL server without
 * them answers 400 "Must provide query string" or "Unexpected parameter documentId").
 */
export function isPersistedDocumentNotFound(answer: HttpAnswer): boolean {
  const body = graphQLBodyOf(answer);
  if (body === undefined || (body.data !== undefined && body.data !== null)) return false;
  return (body.errors ?? []).some((error) => {
    const code = String(error.extensions?.code);
    if (PERSISTED_DOCUMENT_NOT_FOUND_CODES.has(code) || error.message === 'PersistedQueryNotFound')
      return true;
    return answer.status === 400 && code === 'BAD_REQUEST' && /documentId|query string/i.test(error.message);
  });
}

/** A request id: a UUID (crypto.randomUUID needs a secure context in browsers, so random bytes otherwise). */
export function newRequestId(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto?.randomUUID === 'function') {
    try {
      return crypto.randomUUID();
    } catch {
      // Not a secure context: fall through.
    }
  }
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
