/**
 * A client connection for the CLI's client, check and bench commands: sends request lines and
 * resolves each with its reply, in order, any number in flight. It frames replies with the same
 * splitter the server uses, and writes the requests sent in one synchronous run in one write, as
 * a pipelining client should: a write per request would cost the load generator more than the
 * server spends answering.
 */
import net from 'node:net';
import { decodeReply } from '../protocol/encode.js';
import { LineSplitter, type LineSink } from '../protocol/line-splitter.js';
import type { Reply } from '../protocol/types.js';
import { ConnectionLostError } from '../errors.js';

/** The longest reply line a server may send; ours are at most 6 bytes. */
const MAX_REPLY_BYTES = 64;

/** Receives the reply to one request; a Promise's resolve and reject fit. */
export interface ReplyWaiter {
  resolve(reply: Reply): void;
  /** Called instead, once per request still owed, when the connection fails. */
  reject(error: Error): void;
}

export class ProtocolClient {
  readonly socket: net.Socket;
  #waiting: ReplyWaiter[] = [];
  #head = 0;
  /** Request lines sent since the last write, written together at the next microtask. */
  #outgoing = '';
  #flushQueued = false;
  #splitter = new LineSplitter(MAX_REPLY_BYTES);
  #failure: Error | undefined;
  #sink: LineSink;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.#sink = {
      line: (bytes, start, end) => this.#settle(decodeReply(bytes.toString('latin1', start, end))),
      overflow: () => this.#fail(new ConnectionLostError('the server sent an over-long reply line')),
    };
    socket.on('data', (chunk: Buffer) => this.#splitter.push(chunk, this.#sink));
    socket.on('error', (error) => this.#fail(new ConnectionLostError(error.message, { cause: error })));
    socket.on('close', () => this.#fail(new ConnectionLostError('the server closed the connection')));
  }

  static connect(host: string, port: number, timeoutMs = 10_000): Promise<ProtocolClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => socket.destroy(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
      const refused = (error: Error): void => {
        clearTimeout(timer);
        reject(new ConnectionLostError(`cannot connect to ${host}:${port}: ${error.message}`, { cause: error }));
      };
      socket.once('error', refused);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', refused);
        resolve(new ProtocolClient(socket));
      });
    });
  }

  /** Sends one request line (with its `\n`) and resolves with its reply. */
  request(line: string): Promise<Reply> {
    return new Promise((resolve, reject) => this.send(line, { resolve, reject }));
  }

  /** Sends one request line (with its `\n`); `waiter` gets its reply. No promise: for hot loops. */
  send(line: string, waiter: ReplyWaiter): void {
    if (this.#failure !== undefined) {
      waiter.reject(this.#failure);
      return;
    }
    this.#waiting.push(waiter);
    this.#outgoing += line;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Writes what was sent, then closes the connection once it is written. */
  close(): void {
    this.#flush();
    this.socket.destroySoon();
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (this.#outgoing === '' || this.#failure !== undefined) return;
    this.socket.write(this.#outgoing);
    this.#outgoing = '';
  };

  #settle(reply: Reply | undefined): void {
    const waiter = this.#waiting[this.#head];
    if (waiter === undefined || reply === undefined) {
      this.#fail(new ConnectionLostError(reply === undefined ? 'the server sent an unknown reply' : 'the server sent a reply nobody asked for'));
      return;
    }
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    waiter.resolve(reply);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#outgoing = '';
    const owed = this.#waiting.slice(this.#head);
    this.#waiting = [];
    this.#head = 0;
    for (const waiter of owed) waiter.reject(error);
    this.socket.destroy();
  }
}
