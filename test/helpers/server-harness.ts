/**
 * Starts real servers on ephemeral ports and talks to them over real sockets, for the integration
 * and contract tests.
 */
import net from 'node:net';
import type { TestContext } from 'node:test';
import { silentLogger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import type { Command, Reply } from '../../src/protocol/types.js';
import { IndexServer, type ServerOptions } from '../../src/server/server.js';
import type { Backend, IndexCounts } from '../../src/store/backend.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';

export interface TestServer {
  readonly server: IndexServer;
  readonly backend: Backend;
  readonly metrics: Metrics;
  readonly port: number;
  /** Closes the server gracefully, destroying what is still open after `timeoutMs` (default 1000). */
  close(timeoutMs?: number): Promise<void>;
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
  const close = async (timeoutMs = 1_000): Promise<void> => {
    if (closed) return;
    closed = true;
    await server.close(timeoutMs);
  };
  t.after(() => close());
  return { server, backend, metrics, port: address.port, close };
}

/**
 * A TCP listener on 127.0.0.1 port 0 that hands each connection to `server.handle`, as
 * `IndexServer.listen` does, and keeps the server's side of every socket, so that a test can see
 * what the server has read and done on it. Closed when the test ends.
 */
export async function listenThroughHandle(t: TestContext, server: IndexServer): Promise<{ port: number; serverSockets: net.Socket[] }> {
  const serverSockets: net.Socket[] = [];
  const listener = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    serverSockets.push(socket);
    server.handle(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of serverSockets) socket.destroy();
    return new Promise<void>((resolve) => listener.close(() => resolve()));
  });
  return { port: (listener.address() as net.AddressInfo).port, serverSockets };
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

  /** Whole reply lines received and not yet taken by readLines. */
  get pendingLines(): number {
    return this.#lineCount();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends and resolves once the bytes are handed to the kernel. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Sends one byte at a time, each in its own write, yielding to the event loop in between. */
  async sendByteByByte(data: string | Buffer): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    for (const byte of bytes) {
      await this.write(Buffer.from([byte]));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Shuts down our sending side; replies can still arrive. */
  end(): void {
    this.socket.end();
  }

  /** Stops reading replies, so they pile up in the kernel and then in the server. */
  pauseReading(): void {
    this.socket.pause();
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

/** Polls until the condition holds, failing after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }
}

/** The summed value of a metric in the server's registry (0 when it is absent). */
export async function metricValue(metrics: Metrics, name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, { value }) => sum + value, 0);
}

/**
 * A port that was free a moment ago: the kernel hands one out and it is closed again. Only for a
 * listener whose port the test must know before the code under test reports it.
 */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Resolves true when a TCP connection to the port is refused outright. */
export function isConnectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/**
 * A MemoryBackend that holds every batch until the test releases it, so a test can act while
 * requests are in flight without relying on timing.
 */
export class GatedBackend implements Backend {
  readonly description = 'gated in-memory (tests only)';
  readonly inner = new MemoryBackend();
  readonly reader = this.inner.reader;
  readonly changes = this.inner.changes;
  #held: Array<() => void> = [];
  #batches = 0;
  #onBatch: Array<() => void> = [];
  #open = false;

  /** Batches received so far, released or not. */
  get batches(): number {
    return this.#batches;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  snapshot(): ReturnType<Backend['snapshot']> {
    return this.inner.snapshot();
  }

  exportIndex(): ReturnType<Backend['exportIndex']> {
    return this.inner.exportIndex();
  }

  execute(commands: readonly Command[], done: (replies: Reply[]) => void): void {
    this.#batches++;
    if (this.#open) this.inner.execute(commands, done);
    else this.#held.push(() => this.inner.execute(commands, done));
    const waiters = this.#onBatch;
    this.#onBatch = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once at least `count` batches have arrived. */
  async waitForBatches(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#batches < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.#batches} of ${count} batches arrived`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#onBatch.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Answers every batch held so far, in arrival order. */
  release(): void {
    for (const run of this.#held.splice(0)) run();
  }

  /** Releases what is held and answers every later batch at once. */
  openGate(): void {
    this.#open = true;
    this.release();
  }

  isAvailable(): boolean {
    return true;
  }

  counts(): Promise<IndexCounts> {
    return this.inner.counts();
  }

  close(): Promise<void> {
    this.openGate();
    return this.inner.close();
  }
}
