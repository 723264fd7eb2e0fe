/**
 * Bounds the admin port's sockets, so that connections that never finish a request cannot take
 * the file descriptors the protocol port needs. A plain cap (node:http `maxConnections`) would
 * also shut out the health checks once slow peers fill it; instead a new connection closes the
 * oldest one that is not being answered (still sending its request, or idle between requests),
 * and is refused only when every held connection is being answered. A socket that sends nothing
 * at all is closed after the headers timeout, which node:http only starts at its first byte.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface AdminConnectionLimitOptions {
  /** Connections held at once. */
  readonly limit: number;
  /** A connection that has not started a request within this long is closed, in ms. */
  readonly firstRequestTimeoutMs: number;
  readonly registry: Registry;
  readonly logger: Logger;
}

export class AdminConnectionLimit {
  #options: AdminConnectionLimitOptions;
  /** Each held socket and how many of its requests are being answered, oldest socket first. */
  #sockets = new Map<Socket, number>();
  #open: Gauge;
  #closed: Counter<'reason'>;
  /** Closed to make room or refused since the limit was last reached; undefined below it. */
  #pressure: { evicted: number; refused: number } | undefined;

  constructor(options: AdminConnectionLimitOptions) {
    this.#options = options;
    const registers = [options.registry];
    this.#open = new Gauge({ name: 'package_indexer_admin_connections_open', help: 'Connections held by the admin port.', registers });
    this.#closed = new Counter({
      name: 'package_indexer_admin_connections_limited_total',
      help: 'Admin connections closed by the admin connection limit: the oldest idle one to make room (evicted), or a new one when all were busy (refused).',
      labelNames: ['reason'] as const,
      registers,
    });
  }

  /** For the http server's 'connection' event. */
  readonly admit = (socket: Socket): void => {
    if (this.#sockets.size >= this.#options.limit && !this.#evictOldestIdle()) {
      this.#count('refused');
      socket.destroy();
      return;
    }
    this.#sockets.set(socket, 0);
    this.#open.set(this.#sockets.size);
    socket.setTimeout(this.#options.firstRequestTimeoutMs);
    socket.once('close', () => this.#forget(socket));
  };

  /** A request on `socket` is being answered until `ended` is called. */
  requestStarted(socket: Socket): void {
    const busy = this.#sockets.get(socket);
    if (busy === undefined) return;
    // a response may stream for as long as it likes; node:http times the idle gaps between requests
    if (busy === 0) socket.setTimeout(0);
    this.#sockets.set(socket, busy + 1);
  }

  requestEnded(socket: Socket): void {
    const busy = this.#sockets.get(socket);
    if (busy !== undefined && busy > 0) this.#sockets.set(socket, busy - 1);
  }

  #evictOldestIdle(): boolean {
    for (const [socket, busy] of this.#sockets) {
      if (busy > 0) continue;
      // not #forget: the new connection takes the place at once, so no burst ends here
      this.#sockets.delete(socket);
      socket.destroy();
      this.#count('evicted');
      return true;
    }
    return false;
  }

  #forget(socket: Socket): void {
    if (!this.#sockets.delete(socket)) return;
    this.#open.set(this.#sockets.size);
    const pressure = this.#pressure;
    // the burst is over once half the limit is free again: one line for it, not one per connection
    if (pressure !== undefined && this.#sockets.size <= this.#options.limit / 2) {
      this.#pressure = undefined;
      this.#options.logger.info({ ...pressure, limit: this.#options.limit }, 'admin connections are below their limit again');
    }
  }

  #count(reason: 'evicted' | 'refused'): void {
    this.#closed.inc({ reason });
    if (this.#pressure === undefined) {
      this.#pressure = { evicted: 0, refused: 0 };
      this.#options.logger.warn(
        { limit: this.#options.limit },
        'admin connections reached their limit (--admin-connection-limit): the oldest idle ones are closed to make room',
      );
    }
    this.#pressure[reason]++;
  }
}
