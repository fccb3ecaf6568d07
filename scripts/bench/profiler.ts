/**
 * V8's CPU profiler on the service, for the measured windows only: the service runs with
 * `--inspect=127.0.0.1:<port>` and this client starts and stops the profiler over the inspector's
 * WebSocket (Chrome DevTools Protocol), so a profile holds one scenario's load and nothing of the
 * start-up or the setup. Sum one up with scripts/bench/profile-summary.ts.
 */
import { writeFile } from 'node:fs/promises';

export class RemoteProfiler {
  private socket: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();

  constructor(private readonly port: number) {}

  private async connect(): Promise<WebSocket> {
    if (this.socket) return this.socket;
    const targets = (await (await fetch(`http://127.0.0.1:${this.port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error('could not reach the inspector')), {
        once: true,
      });
    });
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
      if (message.id !== undefined) this.pending.get(message.id)?.(message.result);
    });
    this.socket = socket;
    await this.send('Profiler.enable');
    await this.send('Profiler.setSamplingInterval', { interval: 200 });
    return socket;
  }

  private send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket!.send(JSON.stringify({ id, method, params }));
    });
  }

  async start(): Promise<void> {
    await this.connect();
    await this.send('Profiler.start');
  }

  /** Stops the profiler and writes its profile to `file`. */
  async stop(file: string): Promise<void> {
    const result = (await this.send('Profiler.stop')) as { profile: unknown };
    await writeFile(file, JSON.stringify(result.profile));
  }

  close(): void {
    this.socket?.close();
  }
}
