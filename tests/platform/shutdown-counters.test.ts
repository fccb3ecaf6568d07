/**
 * At shutdown the service logs the posting engine's counters once (server/services.ts close): the
 * bank test reads this line to report how often the pipeline ran (scripts/bank/processes.ts).
 */
import { expect, it } from 'vitest';
import { createAccount, createBook, credit, debit, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer } from '../helpers/server.js';

it("logs the posting engine's counters once when the services close", async () => {
  const server = await startTestServer();
  try {
    const client = ledgerClient(server.url);
    const book = await createBook(client);
    const a = await createAccount(client, book.id, { code: 'a', type: 'ASSET' });
    const b = await createAccount(client, book.id, { code: 'b', type: 'ASSET' });
    for (let i = 0; i < 3; i++) {
      const payload = await client.postJournalEntry({
        bookId: book.id,
        idempotencyKey: newKey('counters'),
        lines: [debit(a, '1.00'), credit(b, '1.00')],
      });
      expect(payload.userErrors).toEqual([]);
    }
  } finally {
    await server.stop();
  }
  const lines = server.logs.filter((l) => l.msg === 'posting engine counters');
  expect(lines).toHaveLength(1);
  const engine = server.services.ledger.engine;
  expect(lines[0]!.level).toBe('info');
  expect(lines[0]!.posting).toEqual({
    staleWrites: engine.staleWrites,
    staleCachedWrites: engine.staleCachedWrites,
    lockedFallbacks: engine.lockedFallbacks,
    pipelinedWrites: engine.pipelinedWrites,
    cacheHits: engine.cache.hits,
  });
  expect(engine.counters()).toEqual(lines[0]!.posting);
  // The second and third entries were decided from what the first one's write left.
  expect(engine.cache.hits).toBeGreaterThan(0);
});
