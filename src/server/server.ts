/**
 * The protocol listener: admits connections up to the limit, parks the next ones (paused, their
 * lines not parsed) in a bounded wait queue, refuses the rest, and shuts down gracefully. It serves any Duplex, so tests
 * can drive it without a network; `listen` adds the TCP socket.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { TIMED_OUT, withTimeout } from '../with-timeout.js';
import { AcceptWatch } from './accept-watch.js';
import { Connection, type ConnectionOptions } from './connection.js';

export interface ServerOptions extends ConnectionOptions {
  /** Connections served at once. */
  readonly connectionLimit: number;
  /** Connections parked while the limit is reached; beyond this they are closed at once. */
  readonly waitingLimit: number;
}

export class IndexServer {
  #options: ServerOptions;
  #active = new Set<Connection>();
  #waiting: Duplex[] = [];
  #nextId = 1;
  #listener: net.Server | undefined;
  #acceptWatch: AcceptWatch | undefined;
  #closing = false;
  #idleSweep: NodeJS.Timeout | undefined;
  /** Resolves close()'s wait once the last connection has closed. */
  #lastClosed: (() => void) | undefined;
  /** One function for every connection, not a closure each. */
  readonly #release = (connection: Connection): void => {
    this.#active.delete(connection);
    this.#options.metrics.connectionsOpen.set(this.#active.size);
    if (this.#active.size === 0) this.#lastClosed?.();
    this.#admitWaiting();
  };

  constructor(options: ServerOptions) {
    this.#options = options;
  }

  get activeConnections(): number {
    return this.#active.size;
  }

  get waitingConnections(): number {
    return this.#waiting.length;
  }

  /** Takes a new connection; bound so it can be passed to `net.createServer` as is. */
  readonly handle = (socket: Duplex): void => {
    const { metrics, connectionLimit, waitingLimit } = this.#options;
    if (this.#closing) {
      socket.destroy();
      return;
    }
    metrics.connectionsAccepted.inc();
    if (this.#active.size < connectionLimit) {
      this.#admit(socket);
    } else if (this.#waiting.length < waitingLimit) {
      this.#park(socket);
    } else {
      metrics.connectionsRefused.inc();
      socket.destroy();
    }
  };

  async listen(port: number, host: string): Promise<AddressInfo> {
    // allowHalfOpen: a client may send its lines and shut down its side; the replies still go out
    const listener = net.createServer({ allowHalfOpen: true, noDelay: true }, this.handle);
    this.#listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ port, host: host === '' ? undefined : host, backlog: 4096 }, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    // after listening, an error is a failed accept: the listener goes on accepting, so it is
    // logged (once per burst) rather than allowed to end the process
    const acceptWatch = new AcceptWatch({ logger: this.#options.logger, failures: this.#options.metrics.acceptFailures });
    this.#acceptWatch = acceptWatch;
    listener.on('error', (error) => acceptWatch.failed(error));
    acceptWatch.start();
    return listener.address() as AddressInfo;
  }

  /**
   * Stops accepting, answers every line already read, closes idle connections, and after
   * `timeoutMs` destroys whatever is still open.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    const listenerClosed = this.#listener === undefined ? Promise.resolve() : new Promise<void>((resolve) => this.#listener?.close(() => resolve()));
    for (const socket of this.#waiting.splice(0)) socket.destroy();
    this.#options.metrics.connectionsWaiting.set(0);
    clearInterval(this.#idleSweep);
    const allClosed = new Promise<void>((resolve) => {
      this.#lastClosed = resolve;
    });
    if (this.#active.size === 0) this.#lastClosed?.();
    for (const connection of this.#active) connection.shutdown();
    if ((await withTimeout(allClosed, timeoutMs)) === TIMED_OUT) {
      this.#options.logger.warn({ open: this.#active.size }, 'shutdown timeout reached; closing remaining connections');
      for (const connection of this.#active) connection.destroy();
    }
    await listenerClosed;
    this.#acceptWatch?.stop();
  }

  #admit(socket: Duplex): void {
    const connection = new Connection(this.#nextId++, socket, this.#options, this.#release);
    this.#active.add(connection);
    this.#options.metrics.connectionsOpen.set(this.#active.size);
    this.#startIdleSweep();
  }

  /**
   * The idle timeout for every connection at once: a sweep each tenth of the timeout closes those
   * silent for the whole timeout (so within 1.1 times it), where a timer per connection would cost
   * each idle connection a Timeout object.
   */
  #startIdleSweep(): void {
    const { idleTimeoutMs } = this.#options;
    if (idleTimeoutMs === 0 || this.#idleSweep !== undefined) return;
    this.#idleSweep = setInterval(
      () => {
        const cutoffMs = performance.now() - idleTimeoutMs;
        for (const connection of this.#active) connection.closeIfIdleSince(cutoffMs);
      },
      Math.max(1, Math.ceil(idleTimeoutMs / 10)),
    );
    this.#idleSweep.unref();
  }

  #park(socket: Duplex): void {
    // pause() stops 'data', not reading: Node has already read up to 64 KiB of a parked socket into
    // its buffer (one libuv read; past the stream's high-water mark it then stops reading; measured
    // on Node 20), and the rest waits in the kernel's buffers and the peer's TCP window
    socket.pause();
    this.#waiting.push(socket);
    this.#options.metrics.connectionsWaiting.set(this.#waiting.length);
    const forget = (): void => {
      const at = this.#waiting.indexOf(socket);
      if (at >= 0) this.#waiting.splice(at, 1);
      this.#options.metrics.connectionsWaiting.set(this.#waiting.length);
    };
    socket.once('close', forget);
    socket.on('error', () => socket.destroy());
    // a paused socket never emits 'end', but 'readable' with nothing buffered means the peer left
    // without sending a line: nothing to answer, so free its place instead of holding it
    socket.on('readable', () => {
      if (socket.readableLength === 0) socket.destroy();
    });
  }

  #admitWaiting(): void {
    while (!this.#closing && this.#active.size < this.#options.connectionLimit) {
      const socket = this.#waiting.shift();
      if (socket === undefined) break;
      this.#options.metrics.connectionsWaiting.set(this.#waiting.length);
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      socket.removeAllListeners('readable');
      if (!socket.destroyed) this.#admit(socket);
    }
  }
}
