/**
 * Whether the service can listen where it is configured to, asked by `server/main.ts` (and by
 * `npm start` before it compiles anything) before an embedded database or a first admin token is
 * created: a port clash then fails in a moment, with a message that names the port and PORT.
 */
import { createServer } from 'node:net';

export class PortUnavailableError extends Error {
  constructor(
    readonly port: number,
    readonly host: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'PortUnavailableError';
  }
}

/**
 * Listens on `host:port` as the HTTP server will, then lets go. Throws PortUnavailableError when
 * that fails. Port 0 (any free port) needs no check.
 */
export async function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, () => resolve());
    });
  } catch (error) {
    throw portUnavailable(port, host, error);
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}

/** The error to show for a failed listen on `host:port` (from the probe or from the server itself). */
export function portUnavailable(port: number, host: string, error: unknown): PortUnavailableError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const other = port === 4000 ? 4001 : 4000;
  const message =
    code === 'EADDRINUSE'
      ? `Port ${port} is already in use on ${host} (is the ledger already running?). Stop what ` +
        `uses it, or start on another port: PORT=${other} npm start (PORT=0 picks a free port).`
      : code === 'EACCES'
        ? `Not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges). ` +
          `Start on another port: PORT=${other} npm start.`
        : code === 'EADDRNOTAVAIL'
          ? `Cannot listen on ${where}: ${host} is not an address of this machine. Set HOST to one ` +
            'of its addresses (default 127.0.0.1; 0.0.0.0 for all).'
          : `Cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}. ` +
            'Set PORT (and HOST) to where the service may listen.';
  return new PortUnavailableError(port, host, code, message);
}

/** Whether `error` is the HTTP server's failure to listen (`listen EADDRINUSE ...` and the like). */
export function isListenError(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.syscall === 'listen';
}
