/**
 * Queries answer only what is durable. A write may commit without waiting for its WAL flush (the
 * posting engine's, see server/ledger/wal-flush.ts): PostgreSQL shows it to other transactions
 * before it is on disk. A query that ran while such a write of this process may not be durable yet
 * waits, before it answers, for a flush that started after it ran: whatever it read was committed
 * before that flush, so it is on disk when the query answers, and no reader is ever shown a
 * posting (or a chain head) that a crash could take back.
 *
 * Only queries: a mutation's own writes are durable when it answers (the engine waits for its
 * group's flush; other writes commit synchronously), though what its payload reads besides them
 * may be up to one flush early, as may a read of another process's write.
 */
import type { OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { unavailableError } from './errors.js';

/** What the plugin asks of the writes that may commit before their flush. */
export interface DurabilityGate {
  /** Whether every such write committed so far is durable. */
  settled(): boolean;
  /** Resolves once everything committed before the call is durable. */
  after(): Promise<void>;
}

/** The executed operation's type (the named one, or the only one). */
function operationType(
  definitions: readonly { kind: string }[],
  name: string | null | undefined,
): OperationDefinitionNode['operation'] | undefined {
  for (const definition of definitions) {
    if (definition.kind !== 'OperationDefinition') continue;
    const operation = definition as OperationDefinitionNode;
    if (name == null || operation.name?.value === name) return operation.operation;
  }
  return undefined;
}

/** A yoga plugin: queries wait for the durability of what they read (see the module comment). */
export function durableReads(gate: DurabilityGate): Plugin {
  return {
    onExecute({ args }) {
      if (operationType(args.document.definitions, args.operationName) !== 'query') return;
      return {
        async onExecuteDone({ result, setResult }) {
          // Decided once it ran: a write may have begun and committed while it did. Settled is
          // the common case when nothing is being posted.
          if (gate.settled()) return;
          try {
            await gate.after();
          } catch {
            // What it read may not be durable: no answer but "try again".
            if (result && typeof result === 'object' && !(Symbol.asyncIterator in result))
              setResult({ errors: [unavailableError()] });
          }
        },
      };
    },
  };
}
