/**
 * Starts real servers on ephemeral ports and talks to them over real sockets, for the integration
 * and contract tests.
 */
import net from 'node:net';
import type { TestContext } from 'node:test';
import { silentLogger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { IndexServer, type ServerOptions } from '../../src/server/server.js';
import type { Backend } from '../../src/store/backend.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';

export interface TestServer {
  readonly server: IndexServer;
  readonly backend: Backend;
  readonly metrics: Metrics;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0 (an opened MemoryBackend unless one is given) and closes it when the test ends. */
export async function startTestServer(t: TestContext, overrides: Partial<ServerOptions> = {}): Promise<TestServer> {
  const backend = overrides.backend ?? new MemoryBackend();
  if (overrides.backend === undefined) await backend.open();
  const metrics = overrides.metrics ?? createMetrics({ processMetrics: false });
  const server = new IndexServer({
    backend,
    metrics,
    logger: silentLogger(),
    maxLineBytes: 65_536,
    idleTimeoutMs: 0,
    drainTimeoutMs: 30_000,
    connectionLimit: 10_000,
    waitingLimit: 1_000,
    ...overrides,
  });
  const address = await server.listen(0, '127.0.0.1');
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await server.close(1_000);
  };
  t.after(close);
  return { server, backend, metrics, port: address.port, close };
}

/** A raw socket that sends bytes as given and collects reply lines. */
export class RawClient {
  readonly socket: net.Socket;
  #received = '';
  #waiters: Array<() => void> = [];
  #closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.#received += text;
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  static async connect(t: TestContext, port: number): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    t.after(() => socket.destroy());
    return new RawClient(socket);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits for `count` reply lines (default: all of them within the timeout) and returns them without `\n`. */
  async readLines(count: number, timeoutMs = 5_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lineCount() < count) {
      if (this.#closed) throw new Error(`connection closed after ${this.#lineCount()} of ${count} lines: ${JSON.stringify(this.#received)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${this.#lineCount()} of ${count} lines: ${JSON.stringify(this.#received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const lines = this.#received.split('\n');
    const taken = lines.slice(0, count);
    this.#received = lines.slice(count).join('\n');
    return taken;
  }

  /** Sends lines (each gets `\n`) and returns their replies. */
  async exchange(...lines: string[]): Promise<string[]> {
    this.send(lines.map((line) => `${line}\n`).join(''));
    return this.readLines(lines.length);
  }

  /** Resolves when the server has closed the connection. */
  async waitForClose(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the server did not close the connection');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #lineCount(): number {
    let count = 0;
    for (let at = this.#received.indexOf('\n'); at >= 0; at = this.#received.indexOf('\n', at + 1)) count++;
    return count;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
