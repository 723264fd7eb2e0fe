/**
 * One client connection: frames its bytes into lines, hands each chunk's commands to the backend
 * as one batch, and writes that batch's replies in one write, strictly in request order. While a
 * batch is with the backend, later lines queue behind it; reading pauses when the queue or the
 * socket's write buffer is full, so a peer cannot grow our memory by sending without reading.
 *
 * What an idle connection holds is kept to its socket and this object: the socket's listeners are
 * functions shared by every connection, which find theirs through a symbol on the socket (a
 * closure per listener costs more than the rest of this object); the idle timeout is the server's
 * one sweep over `lastActivityMs`, not a timer each; the splitter's line sink is this object itself.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { MAX_REPLY_BYTES, REPLY_BYTES, writeReply } from '../protocol/encode.js';
import { LineSplitter, type LineSink } from '../protocol/line-splitter.js';
import { protocolError } from '../protocol/parse.js';
import { parseLineBytes } from '../protocol/parse-bytes.js';
import type { Command, ParsedLine, Reply } from '../protocol/types.js';
import type { Backend } from '../store/backend.js';

export interface ConnectionOptions {
  readonly backend: Backend;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Longest request line, in bytes. */
  readonly maxLineBytes: number;
  /** Close a connection with no traffic for this long, in ms; 0 never does. */
  readonly idleTimeoutMs: number;
  /** Disconnect a peer that leaves our replies unread for this long, in ms. */
  readonly drainTimeoutMs: number;
}

/** Lines queued behind a batch in flight before reading pauses. */
const MAX_QUEUED_LINES = 4096;

const OWNER = Symbol('connection');
type OwnedSocket = Duplex & { [OWNER]: Connection };

export class Connection implements LineSink {
  readonly id: number;
  /** When bytes last arrived or replies last left (performance.now()), for the server's idle sweep. */
  lastActivityMs: number;
  #socket: Duplex;
  #options: ConnectionOptions;
  #onClose: (connection: Connection) => void;
  #splitter: LineSplitter;
  #queue: ParsedLine[] = [];
  /** Lines in #queue that are protocol errors, which the backend never sees. */
  #queuedErrors = 0;
  #inFlight = false;
  #writeBlocked = false;
  #peerEnded = false;
  #shuttingDown = false;
  #drainTimer: NodeJS.Timeout | undefined;

  /** @param onClose called once, when the socket has closed */
  constructor(id: number, socket: Duplex, options: ConnectionOptions, onClose: (connection: Connection) => void) {
    this.id = id;
    this.#socket = socket;
    this.#options = options;
    this.#onClose = onClose;
    this.lastActivityMs = performance.now();
    this.#splitter = new LineSplitter(options.maxLineBytes);
    (socket as OwnedSocket)[OWNER] = this;
    socket.on('data', Connection.#data);
    socket.on('end', Connection.#end);
    socket.on('error', Connection.#error);
    // 'close' comes once: on() spares each connection the wrapper once() would allocate
    socket.on('close', Connection.#close);
    // a socket parked under the connection limit was paused; a fresh one starts flowing here
    socket.resume();
  }

  static #data = function (this: OwnedSocket, chunk: Buffer): void {
    this[OWNER].#onData(chunk);
  };
  static #end = function (this: OwnedSocket): void {
    this[OWNER].#onPeerEnd();
  };
  static #drain = function (this: OwnedSocket): void {
    this[OWNER].#onDrain();
  };
  static #error = function (this: OwnedSocket, error: Error): void {
    this[OWNER].#onError(error);
  };
  static #close = function (this: OwnedSocket): void {
    const connection = this[OWNER];
    clearTimeout(connection.#drainTimer);
    connection.#onClose(connection);
  };

  /** LineSink: a whole line of the socket's bytes. */
  line(bytes: Buffer, start: number, end: number): void {
    const parsed = parseLineBytes(bytes, start, end);
    if (parsed.kind === 'error') this.#queuedErrors++;
    this.#queue.push(parsed);
  }

  /** LineSink: a line passed the cap. */
  overflow(): void {
    this.#queuedErrors++;
    this.#queue.push(protocolError('line-too-long'));
  }

  /** True when no line is queued, in flight or half-read. */
  get isIdle(): boolean {
    return !this.#inFlight && this.#queue.length === 0 && this.#splitter.bufferedBytes === 0;
  }

  /** Graceful close: reads nothing more, answers the lines already read, then ends. */
  shutdown(): void {
    this.#shuttingDown = true;
    this.#updateReading();
    this.#endIfDone();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** The idle timeout: closes the connection when nothing arrived since `cutoffMs` and nothing is pending. */
  closeIfIdleSince(cutoffMs: number): void {
    if (this.lastActivityMs > cutoffMs || !this.isIdle || this.#socket.writableEnded) return;
    this.#options.logger.debug({ connection: this.id }, 'closing idle connection');
    this.#finish();
  }

  #onData(chunk: Buffer): void {
    this.lastActivityMs = performance.now();
    this.#options.metrics.receivedBytes.inc(chunk.length);
    if (this.#shuttingDown) return;
    this.#splitter.push(chunk, this);
    if (!this.#inFlight) this.#dispatch();
    else this.#updateReading();
  }

  #dispatch(): void {
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    let commands = batch as Command[];
    if (this.#queuedErrors > 0) {
      commands = batch.filter((item): item is Command => item.kind !== 'error');
      this.#queuedErrors = 0;
    }
    this.#inFlight = true;
    const startedAt = performance.now();
    this.#options.backend.execute(commands, (replies) => this.#reply(batch, replies, startedAt));
  }

  #reply(batch: readonly ParsedLine[], replies: readonly Reply[], startedAt: number): void {
    this.#inFlight = false;
    const now = performance.now();
    // a batch that took longer than the idle timeout must not leave its connection to be closed at once
    this.lastActivityMs = now;
    if (this.#socket.destroyed) return;
    const { metrics } = this.#options;
    const seconds = (now - startedAt) / 1000;
    // a lone reply (ping-pong) goes out as a shared, immutable buffer; several are copied as bytes
    // into one buffer of their own, which the socket sends as it is (a string would be encoded)
    const out = batch.length === 1 ? undefined : Buffer.allocUnsafe(batch.length * MAX_REPLY_BYTES);
    let length = 0;
    let last: Reply = 'ERROR';
    let next = 0;
    for (const item of batch) {
      if (item.kind === 'error') {
        metrics.countProtocolError(item.reason);
        last = 'ERROR';
      } else {
        last = replies[next++] ?? 'ERROR';
        metrics.countCommand(item.kind, last, seconds);
      }
      length = out === undefined ? REPLY_BYTES[last].length : writeReply(out, length, last);
    }
    metrics.sentBytes.inc(length);
    const sent = this.#socket.write(out === undefined ? REPLY_BYTES[last] : out.subarray(0, length));
    if (!sent) this.#onWriteBlocked();
    if (this.#queue.length > 0) this.#dispatch();
    else this.#endIfDone();
    this.#updateReading();
  }

  #onWriteBlocked(): void {
    if (!this.#writeBlocked) this.#socket.once('drain', Connection.#drain);
    this.#writeBlocked = true;
    this.#drainTimer ??= setTimeout(() => {
      this.#options.logger.debug({ connection: this.id }, 'peer did not read its replies in time; disconnecting');
      this.#options.metrics.connectionErrors.inc();
      this.#socket.destroy();
    }, this.#options.drainTimeoutMs);
  }

  #onDrain(): void {
    this.#writeBlocked = false;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#updateReading();
  }

  #updateReading(): void {
    const shouldRead = !this.#writeBlocked && !this.#shuttingDown && this.#queue.length < MAX_QUEUED_LINES;
    if (shouldRead && this.#socket.isPaused()) this.#socket.resume();
    else if (!shouldRead && !this.#socket.isPaused()) this.#socket.pause();
  }

  #onPeerEnd(): void {
    this.#peerEnded = true;
    this.#endIfDone();
  }

  /** Ends our side once the peer is done (or we are shutting down) and every reply is written. */
  #endIfDone(): void {
    if (!(this.#peerEnded || this.#shuttingDown)) return;
    if (this.#inFlight || this.#queue.length > 0) return;
    this.#finish();
  }

  /** Flushes what is written, then closes both directions. */
  #finish(): void {
    if (this.#socket.writableEnded) return;
    this.#socket.end(() => this.#socket.destroy());
  }

  #onError(error: Error): void {
    this.#options.logger.debug({ connection: this.id, err: error }, 'connection error');
    this.#options.metrics.connectionErrors.inc();
    this.#socket.destroy();
  }
}
