/**
 * One GraphQL request over HTTP, with `fetch` only (browsers, Node 20.3+, Deno, Bun alike): the
 * JSON body, persisted documents, and the answer as it came back. No Node-only import anywhere, so
 * bundlers put the SDK in a browser page as it is.
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

/** POSTs one payload; rejects only when no response arrived (network error, timeout, abort). */
export async function postGraphQL(
  fetchFn: typeof globalThis.fetch,
  url: string,
  payload: GraphQLPayload,
  headers: Headers,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  const sent = new Headers(headers);
  sent.set('content-type', 'application/json');
  sent.set('accept', 'application/graphql-response+json, application/json');
  const response = await fetchFn(url, {
    method: 'POST',
    headers: sent,
    body: JSON.stringify(payload),
    signal,
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body };
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
