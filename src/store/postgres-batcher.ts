/**
 * Gathers the commands that reach a server in one event-loop turn, from all its connections, and
 * sends them to PostgreSQL as one batch: one call of the batch function (postgres-batch-sql.ts),
 * one round trip, one commit. A batch of QUERYs alone writes nothing and takes no transaction id,
 * so its commit costs the database nothing. Commands arriving while a batch is in flight wait for
 * the next one, so a busy server sends fewer, bigger batches: latency buys throughput. A second
 * batch (and more, up to the cap) goes at once only when the waiting commands fill one.
 *
 * With the QUERY lane, a connection whose commands are all QUERYs takes a lane of its own: its
 * commands go in batches of QUERYs only, which never wait behind a write batch nor make one wait
 * (about a fifth more requests/s when the database has cores to spare; on cores it shares with the
 * servers, a doubled p99 at 1,000 connections: docs/postgres.md). Each transaction of
 * such a batch is one statement with one snapshot (one connection's entry longer than the cap
 * takes several, one after another), taken after the connection's earlier commands were answered,
 * so after their commits. A write transaction in flight beside it is either wholly in that snapshot
 * or not at all, so the QUERYs happen before or after it, as for commands of two connections sent
 * to two servers. This relies on a connection handing over its next commands only once its earlier
 * ones were answered (Backend.execute).
 *
 * The function may stop before the end (a client's command could not be placed after that
 * client's earlier ones in the transaction; postgres-batch-sql.ts says why); the rest goes in
 * the next transaction, started after this one committed. A transaction that lost a race
 * (serialization failure, deadlock) is retried whole; one that failed otherwise, or whose commit
 * was not confirmed, answers ERROR to each of its commands and to those not yet sent: none of
 * them is half applied, as a transaction commits whole or not at all.
 */
import { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../metrics.js';
import type { Command, Reply } from '../protocol/types.js';
import { APPLY_STATEMENT, BATCH_KIND, BATCH_REPLY } from './postgres-batch-sql.js';
import { metric, type FailureKind } from './postgres-health.js';
import type { Row } from './postgres-pool.js';
import type { Statement } from './postgres-schema.js';

export interface BatcherOptions {
  /** Runs one statement on the pool. */
  readonly run: (statement: Statement, values: readonly unknown[]) => Promise<Row[]>;
  /** False while the database is known to be down: batches are then answered ERROR unsent. */
  readonly isAvailable: () => boolean;
  readonly classify: (error: unknown) => FailureKind;
  /** A transaction lost a race and will be retried. */
  readonly onRetry: (error: unknown) => void;
  /** A transaction failed for good; its commands are answered ERROR. */
  readonly onFailure: (kind: FailureKind, error: unknown) => void;
  /** A transaction that recorded a change committed. */
  readonly onChange: () => void;
  /** A transaction of `commands` commands that wrote committed, `ms` after its first attempt. */
  readonly onCommit: (ms: number, commands: number) => void;
  /** Commands in one transaction at most. */
  readonly maxBatchCommands: number;
  /** Write batches in flight at once at most (each takes one pooled connection). */
  readonly maxBatchesInFlight: number;
  /** Batches of the QUERY lane in flight at once at most; 0: no lane, QUERYs go with the writes. */
  readonly maxQueryBatchesInFlight: number;
  readonly metrics: Metrics;
}

interface Entry {
  readonly commands: readonly Command[];
  readonly done: (replies: Reply[]) => void;
}

/** Entries waiting for a batch, and the batches of that kind in flight. */
class Lane {
  pending: Entry[] = [];
  /** Commands in `pending`. */
  pendingCommands = 0;
  inFlight = 0;
  /** Batches in flight at most. */
  readonly cap: number;

  constructor(cap: number) {
    this.cap = cap;
  }
}

/** Attempts of one transaction that lost a serialization conflict or a deadlock. */
const MAX_ATTEMPTS = 30;
/** Ceiling of the random wait before a retry, in ms. */
const MAX_RETRY_DELAY_MS = 20;

export class PostgresBatcher {
  #options: BatcherOptions;
  /** Entries with a write among their commands, in arrival order (and QUERYs only, without the lane). */
  #writes: Lane;
  /** Entries of QUERYs only, with the lane. */
  #reads: Lane;
  readonly #lanes: readonly Lane[];
  #scheduled = false;
  /** Settles when nothing is pending or in flight. */
  #idle: Promise<void> = Promise.resolve();
  #settleIdle: (() => void) | undefined;
  /** Commands and transactions sent and not yet answered: tests use them to see that races met. */
  #commandsAtDatabase: Gauge;
  #transactionsAtDatabase: Gauge;
  #stoppedEarly: Counter;

  constructor(options: BatcherOptions) {
    this.#options = options;
    this.#writes = new Lane(options.maxBatchesInFlight);
    this.#reads = new Lane(options.maxQueryBatchesInFlight);
    this.#lanes = [this.#writes, this.#reads];
    const { registry } = options.metrics;
    this.#commandsAtDatabase = metric(
      registry,
      'package_indexer_postgres_commands_in_flight',
      () =>
        new Gauge({ name: 'package_indexer_postgres_commands_in_flight', help: 'Commands sent to PostgreSQL and not yet answered.', registers: [registry] }),
    );
    this.#transactionsAtDatabase = metric(
      registry,
      'package_indexer_postgres_transactions_in_flight',
      () =>
        new Gauge({
          name: 'package_indexer_postgres_transactions_in_flight',
          help: 'Batch transactions sent to PostgreSQL and not yet answered.',
          registers: [registry],
        }),
    );
    this.#stoppedEarly = metric(
      registry,
      'package_indexer_postgres_batches_stopped_early_total',
      () =>
        new Counter({
          name: 'package_indexer_postgres_batches_stopped_early_total',
          help: "Batch transactions that ended before their last command, which went in the next (a client's command that could not follow its own earlier ones in that transaction).",
          registers: [registry],
        }),
    );
  }

  /** Queues one connection's commands; `done` gets their replies once their transactions ended. */
  submit(commands: readonly Command[], done: (replies: Reply[]) => void): void {
    if (this.#settleIdle === undefined) this.#idle = new Promise((resolve) => (this.#settleIdle = resolve));
    const lane = this.#reads.cap > 0 && commands.every((command) => command.kind === 'QUERY') ? this.#reads : this.#writes;
    lane.pending.push({ commands, done });
    lane.pendingCommands += commands.length;
    this.#schedule();
  }

  /** Resolves once every command submitted so far was answered. */
  drained(): Promise<void> {
    return this.#idle;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // after the I/O callbacks of this turn: every connection that read a line in it has submitted
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  /**
   * Sends a batch when nothing is in flight; a second one, and more up to the cap, only when
   * enough commands wait to fill one. Half-empty batches in parallel cost the database a
   * transaction each for little (100 ping-pong clients ran a third faster with one batch at a
   * time), while a pipelining or crowded server keeps several full ones at work.
   */
  #flush(): void {
    for (const lane of this.#lanes) {
      while (this.#canSend(lane)) {
        const batch = this.#take(lane);
        lane.inFlight++;
        void this.#runBatch(batch).then(() => {
          lane.inFlight--;
          if (this.#canSend(lane)) this.#schedule();
          else if (this.#isIdle()) this.#markIdle();
        });
      }
    }
  }

  /** Commands wait, a slot is free, and none is in flight or they fill a batch. */
  #canSend(lane: Lane): boolean {
    return lane.pending.length > 0 && lane.inFlight < lane.cap && (lane.inFlight === 0 || lane.pendingCommands >= this.#options.maxBatchCommands);
  }

  /** Whole entries, in arrival order, up to the cap (one entry at least). */
  #take(lane: Lane): Entry[] {
    let count = 0;
    let taken = 0;
    while (taken < lane.pending.length) {
      const size = (lane.pending[taken] as Entry).commands.length;
      if (taken > 0 && count + size > this.#options.maxBatchCommands) break;
      count += size;
      taken++;
    }
    lane.pendingCommands -= count;
    return lane.pending.splice(0, taken);
  }

  #isIdle(): boolean {
    return this.#lanes.every((lane) => lane.inFlight === 0 && lane.pending.length === 0);
  }

  #markIdle(): void {
    const settle = this.#settleIdle;
    this.#settleIdle = undefined;
    settle?.();
  }

  async #runBatch(entries: readonly Entry[]): Promise<void> {
    const commands: Command[] = [];
    const clients: number[] = [];
    entries.forEach((entry, client) => {
      for (const command of entry.commands) {
        commands.push(command);
        clients.push(client);
      }
    });
    const replies: Reply[] = new Array(commands.length).fill('ERROR');
    let next = 0;
    while (next < commands.length && this.#options.isAvailable()) {
      const end = Math.min(commands.length, next + this.#options.maxBatchCommands);
      const answered = await this.#runTransaction(commands.slice(next, end), clients.slice(next, end));
      if (answered === undefined) break;
      if (answered.length < end - next) this.#stoppedEarly.inc();
      for (let i = 0; i < answered.length; i++) replies[next + i] = answered[i] as Reply;
      next += answered.length;
    }
    let offset = 0;
    for (const entry of entries) {
      entry.done(replies.slice(offset, offset + entry.commands.length));
      offset += entry.commands.length;
    }
  }

  /** The replies of a prefix of `commands` (one at least), or undefined when the transaction failed. */
  async #runTransaction(commands: readonly Command[], clients: readonly number[]): Promise<Reply[] | undefined> {
    const readOnly = commands.every((command) => command.kind === 'QUERY');
    const startedAt = performance.now();
    for (let attempt = 1; ; attempt++) {
      this.#commandsAtDatabase.inc(commands.length);
      this.#transactionsAtDatabase.inc();
      try {
        const [row] = await this.#apply(commands, clients);
        const codes = String(row?.['replies'] ?? '');
        if (codes.length === 0 || codes.length > commands.length) throw new Error(`the batch function answered ${codes.length} of ${commands.length} commands`);
        if (!readOnly) this.#options.onCommit(performance.now() - startedAt, codes.length);
        if (row?.['changed'] === true) this.#options.onChange();
        return Array.from(codes, (code) => (code === BATCH_REPLY.OK ? 'OK' : 'FAIL'));
      } catch (error) {
        const kind = this.#options.classify(error);
        if (kind === 'retry' && attempt < MAX_ATTEMPTS) {
          this.#options.onRetry(error);
          await sleep(Math.random() * Math.min(MAX_RETRY_DELAY_MS, 2 ** attempt));
          continue;
        }
        // a foreign key refusal escaping the function would be a bug in it, not an answer
        this.#options.onFailure(kind === 'fail' ? 'fault' : kind, error);
        return undefined;
      } finally {
        this.#commandsAtDatabase.dec(commands.length);
        this.#transactionsAtDatabase.dec();
      }
    }
  }

  #apply(commands: readonly Command[], clients: readonly number[]): Promise<Row[]> {
    let kinds = '';
    const names: string[] = [];
    const deps: string[] = [];
    const depEnds: number[] = [];
    for (const command of commands) {
      kinds += BATCH_KIND[command.kind];
      names.push(command.name);
      if (command.kind === 'INDEX') deps.push(...command.deps);
      depEnds.push(deps.length);
    }
    return this.#options.run(APPLY_STATEMENT, [kinds, names, deps, depEnds, clients]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
