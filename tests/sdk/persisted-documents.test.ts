/**
 * Persisted documents from the SDK's side: the SDK sends its operations by id (`documentId`, the
 * `sha256:` id codegen embeds in each generated document), falls back to the text when a service
 * does not know an id, and the service really answers the ids it is sent.
 *
 * - against a scripted HTTP server: what goes on the wire in each case;
 * - against the real service: every generated document's id is in the service's manifest, and
 *   calls made by id answer the same data as calls made by text.
 */

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type DocumentNode, parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as generated from '../../client-sdk/generated/graphql.js';
import {
  BooksDocument,
  createLedgerClient,
  documentIdOf,
  LedgerClientError,
  settle,
  type TypedDocumentNode,
} from '../../client-sdk/index.js';
import { repoRoot } from '../../server/platform/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Received {
  body: Record<string, unknown>;
}

let scripted: Server;
let scriptedUrl: string;
let received: Received[] = [];
/** Ids the scripted server pretends not to know. */
let unknownIds = new Set<string>();
/** The scripted server plays a GraphQL server without persisted documents (yoga's answer). */
let plainServer = false;

beforeAll(async () => {
  scripted = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    received.push({ body });
    res.setHeader('content-type', 'application/graphql-response+json; charset=utf-8');
    if (plainServer && body.query === undefined) {
      res.writeHead(400).end(
        JSON.stringify({
          errors: [{ message: 'Must provide query string.', extensions: { code: 'BAD_REQUEST' } }],
        }),
      );
      return;
    }
    if (typeof body.documentId === 'string' && unknownIds.has(body.documentId)) {
      res.writeHead(400).end(
        JSON.stringify({
          errors: [{ message: 'unknown id', extensions: { code: 'PERSISTED_DOCUMENT_NOT_FOUND' } }],
        }),
      );
      return;
    }
    const empty = { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false } };
    res.writeHead(200).end(JSON.stringify({ data: { books: { ...empty, totalCount: 0 } } }));
  });
  scripted.listen(0, '127.0.0.1');
  await once(scripted, 'listening');
  scriptedUrl = `http://127.0.0.1:${(scripted.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  scripted.closeAllConnections();
  scripted.close();
});

beforeEach(() => {
  received = [];
  unknownIds = new Set();
  plainServer = false;
});

describe('what the SDK sends', () => {
  const booksId = documentIdOf(BooksDocument)!;

  it('every generated operation carries a sha256 id', () => {
    const documents = (Object.values(generated) as unknown[]).filter(
      (value): value is DocumentNode =>
        typeof value === 'object' &&
        value !== null &&
        (value as DocumentNode).kind === 'Document' &&
        (value as DocumentNode).definitions.some((d) => d.kind === 'OperationDefinition'),
    );
    expect(documents.length).toBeGreaterThan(90);
    for (const document of documents) expect(documentIdOf(document)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('sends the id and no text by default', async () => {
    const ledger = createLedgerClient({ url: scriptedUrl, token: 't' });
    await ledger.books({ first: 1 });
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toEqual({
      documentId: booksId,
      operationName: 'Books',
      variables: { first: 1 },
    });
  });

  it('sends the text when the service does not know the id, then only the text to that service', async () => {
    unknownIds.add(booksId);
    const ledger = createLedgerClient({ url: scriptedUrl, token: 't', retries: 0 });
    const page = await ledger.books({ first: 2 });
    expect(page.totalCount).toBe(0);
    expect(received.map((r) => Object.keys(r.body).sort())).toEqual([
      ['documentId', 'operationName', 'variables'],
      ['operationName', 'query', 'variables'],
    ]);
    expect(parse(received[1]!.body.query as string).definitions[0]).toMatchObject({
      name: { value: 'Books' },
    });
    await ledger.books({ first: 2 });
    expect(received).toHaveLength(3);
    expect(received[2]!.body.documentId).toBeUndefined();
    // Another client (another service, for all it knows) tries the id again.
    unknownIds.clear();
    await createLedgerClient({ url: scriptedUrl, token: 't' }).books({ first: 2 });
    expect(received[3]!.body.documentId).toBe(booksId);
  });

  it('sends the text to a server without persisted documents, which refused the id before running anything', async () => {
    plainServer = true;
    const ledger = createLedgerClient({ url: scriptedUrl, retries: 0 });
    expect((await ledger.books({ first: 1 })).totalCount).toBe(0);
    await ledger.books({ first: 1 });
    expect(received.map((r) => (r.body.documentId === undefined ? 'text' : 'id'))).toEqual([
      'id',
      'text',
      'text',
    ]);
  });

  it('sends the text with persistedDocuments: false, and for documents without an id', async () => {
    await createLedgerClient({ url: scriptedUrl, persistedDocuments: false }).books({ first: 1 });
    const own = parse('query Mine { books(first: 1) { totalCount } }') as TypedDocumentNode<unknown, object>;
    await createLedgerClient({ url: scriptedUrl }).request(own);
    expect(received.map((r) => typeof r.body.query)).toEqual(['string', 'string']);
    expect(received.every((r) => r.body.documentId === undefined)).toBe(true);
  });
});

describe('against the service', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("knows every id the SDK sends (the service's manifest holds the SDK's documents)", () => {
    const manifest = JSON.parse(
      readFileSync(path.join(repoRoot, 'server', 'persisted-documents.json'), 'utf8'),
    ) as Record<string, string>;
    const sdk = JSON.parse(
      readFileSync(path.join(repoRoot, 'client-sdk', 'generated', 'persisted-documents.json'), 'utf8'),
    ) as Record<string, string>;
    const missing = Object.keys(sdk).filter((id) => manifest[id] === undefined);
    expect(missing, 'run `npm run generate`').toEqual([]);
    expect(Object.keys(sdk).length).toBeGreaterThan(90);
  });

  it('answers calls by id exactly as calls by text, never falling back', async () => {
    const bodies: Record<string, unknown>[] = [];
    const recording: typeof fetch = async (input, init) => {
      bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
      return fetch(input, init);
    };
    const byId = createLedgerClient({ url: server.url, token: server.adminToken, fetch: recording });
    const byText = createLedgerClient({
      url: server.url,
      token: server.adminToken,
      persistedDocuments: false,
    });
    const created = await byId.createBook({ name: 'Persisted', units: [{ code: 'EUR', scale: 2 }] });
    expect(created.userErrors).toEqual([]);
    const bookId = created.book!.id;
    expect(await byId.book({ id: bookId })).toEqual(await byText.book({ id: bookId }));
    expect(await byId.books({ last: 3 })).toEqual(await byText.books({ last: 3 }));
    expect(bodies).toHaveLength(3);
    for (const body of bodies) {
      expect(body.query).toBeUndefined();
      expect(body.documentId).toMatch(/^sha256:/);
    }
  });

  it('a document whose id the service does not know is sent again as text; settle() reports failures', async () => {
    const forged = parse('query Forged { books(first: 1) { totalCount } }') as TypedDocumentNode<
      unknown,
      object
    >;
    (forged as unknown as { __meta__: { hash: string } }).__meta__ = { hash: `sha256:${'0'.repeat(64)}` };
    const bodies: Record<string, unknown>[] = [];
    const ledger = createLedgerClient({
      url: server.url,
      token: server.adminToken,
      fetch: async (input, init) => {
        bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
        return fetch(input, init);
      },
    });
    // The id is unknown: the SDK sends the text, which the service answers.
    const data = (await ledger.request(forged)) as { books: { totalCount: number } };
    expect(data.books.totalCount).toBeGreaterThanOrEqual(0);
    expect(bodies.map((b) => (b.documentId === undefined ? 'text' : 'id'))).toEqual(['id', 'text']);

    const outcome = await settle(
      createLedgerClient({ url: server.url, token: 'slt_not_a_token' }).books({ first: 1 }),
    );
    expect(outcome.ok).toBe(false);
    if (!outcome.ok && !outcome.rejected) {
      expect(outcome.error).toBeInstanceOf(LedgerClientError);
      expect(outcome.error.code).toBe('UNAUTHENTICATED');
    } else throw new Error('expected a failure');
  });

  it('settle() gives a rejection with its typed userErrors, and a value otherwise', async () => {
    const ledger = createLedgerClient({ url: server.url, token: server.adminToken });
    const refused = await settle(ledger.createBook({ name: '', units: [{ code: 'EUR', scale: 2 }] }));
    expect(refused.ok).toBe(false);
    if (refused.ok || !refused.rejected) throw new Error('expected a rejection');
    expect(refused.userErrors[0]!.code).toBe('INVALID_INPUT');
    const created = await settle(ledger.createBook({ name: 'Settled', units: [{ code: 'EUR', scale: 2 }] }));
    if (!created.ok) throw new Error('expected the book');
    expect(created.value.book!.name).toBe('Settled');
  });
});
