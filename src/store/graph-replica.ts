/**
 * The read side of the graph stores (memory, SQLite): a replica of the graph in a worker thread,
 * loaded from the main graph once and then fed the change feed. Questions go to the worker and
 * queue behind the changes committed before them, so answers see every acknowledged write and a
 * question that walks a million packages costs the protocol's event loop nothing but a message.
 * It costs a second copy of the graph (with dependent lists and a sorted name array) in memory.
 */
import { Worker } from 'node:worker_threads';
import type { Direction } from '../graph/graph-questions.js';
import type { GraphState, PackageGraph } from '../graph/package-graph.js';
import type { Logger } from '../log.js';
import type { Change, ChangeFeed, ChangeSubscription } from './change-log.js';
import type { Closure, Cycles, GraphSummary, IndexReader, InstallOrder, ListOptions, PackageView } from './index-reader.js';

export type ReplicaQuestion =
  | { readonly kind: 'describe'; readonly name: string; readonly limit: number }
  | { readonly kind: 'list'; readonly prefix: string; readonly after: string; readonly limit: number }
  | { readonly kind: 'closure'; readonly name: string; readonly direction: Direction; readonly depth: number; readonly limit: number }
  | { readonly kind: 'installOrder'; readonly name: string; readonly limit: number }
  | { readonly kind: 'path'; readonly from: string; readonly to: string }
  | { readonly kind: 'cycles'; readonly limit: number }
  | { readonly kind: 'summary'; readonly top: number; readonly sample: number };

export type ReplicaMessage =
  | { readonly type: 'load'; readonly state: GraphState }
  | { readonly type: 'changes'; readonly changes: readonly Change[] }
  | { readonly type: 'ask'; readonly id: number; readonly question: ReplicaQuestion };

export type ReplicaAnswer =
  | { readonly type: 'answer'; readonly id: number; readonly answer: unknown }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }
  | { readonly type: 'diverged'; readonly change: Change };

interface Waiter {
  resolve(answer: unknown): void;
  reject(error: Error): void;
}

export class GraphReplica implements IndexReader {
  #logger: Logger;
  #worker: Worker | undefined;
  #subscription: ChangeSubscription | undefined;
  #waiting = new Map<number, Waiter>();
  #nextId = 1;
  #source: () => { readonly graph: PackageGraph; readonly feed: ChangeFeed };
  #closed = false;

  /** @param source the graph to copy and the feed of what is committed to it from then on */
  constructor(logger: Logger, source: () => { readonly graph: PackageGraph; readonly feed: ChangeFeed }) {
    this.#logger = logger;
    this.#source = source;
  }

  /**
   * Copies the graph into a new worker and follows the feed from that moment. Done at the first
   * question, so a store nobody asks costs no thread; at a million packages the copy holds the
   * event loop for a fraction of a second once, which `serve` pays at startup instead.
   */
  start(): void {
    if (this.#worker !== undefined || this.#closed) return;
    const { graph, feed } = this.#source();
    const worker = new Worker(new URL('./graph-replica-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (message: ReplicaAnswer) => this.#receive(message));
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`the read side's worker exited (code ${code})`)));
    const state = graph.exportState();
    worker.postMessage({ type: 'load', state } satisfies ReplicaMessage, [state.starts.buffer, state.lengths.buffer, state.pool.buffer]);
    this.#subscription = feed.subscribe(undefined, (events) => {
      worker.postMessage({
        type: 'changes',
        changes: events.map(({ command, name, dependencies }) => ({ command, name, dependencies })),
      } satisfies ReplicaMessage);
    });
    this.#worker = worker;
  }

  warm(): void {
    this.start();
  }

  describe(name: string, limit: number): Promise<PackageView | undefined> {
    return this.#ask({ kind: 'describe', name, limit }) as Promise<PackageView | undefined>;
  }

  list({ prefix, after, limit }: ListOptions): Promise<string[]> {
    return this.#ask({ kind: 'list', prefix, after, limit }) as Promise<string[]>;
  }

  closure(name: string, direction: Direction, depth: number, limit: number): Promise<Closure | undefined> {
    return this.#ask({ kind: 'closure', name, direction, depth, limit }) as Promise<Closure | undefined>;
  }

  installOrder(name: string, limit: number): Promise<InstallOrder | undefined> {
    return this.#ask({ kind: 'installOrder', name, limit }) as Promise<InstallOrder | undefined>;
  }

  path(from: string, to: string): Promise<string[] | undefined> {
    return this.#ask({ kind: 'path', from, to }) as Promise<string[] | undefined>;
  }

  cycles(limit: number): Promise<Cycles> {
    return this.#ask({ kind: 'cycles', limit }) as Promise<Cycles>;
  }

  summary(top: number, sample: number): Promise<GraphSummary> {
    return this.#ask({ kind: 'summary', top, sample }) as Promise<GraphSummary>;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subscription?.close();
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #ask(question: ReplicaQuestion): Promise<unknown> {
    this.start();
    const worker = this.#worker;
    if (worker === undefined) return Promise.reject(new Error('the read side is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ type: 'ask', id, question } satisfies ReplicaMessage);
    });
  }

  #receive(message: ReplicaAnswer): void {
    if (message.type === 'diverged') {
      this.#logger.error({ change: message.change }, "the read side's copy of the graph refused a committed change; its answers may be stale until restart");
      return;
    }
    const waiter = this.#waiting.get(message.id);
    this.#waiting.delete(message.id);
    if (message.type === 'answer') waiter?.resolve(message.answer);
    else waiter?.reject(new Error(message.message));
  }

  #fail(error: Error): void {
    if (this.#worker === undefined) return;
    this.#logger.error({ err: error }, "the read side's worker failed");
    this.#worker = undefined;
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }
}
