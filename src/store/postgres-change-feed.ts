/**
 * The change feed of a database many servers share: every server's committed changes, in the
 * database's numbering, so that an event id means the same change on every server.
 *
 * The statement that makes a change inserts its row into `changes` (no row for a no-op or a
 * refusal), numbered by a sequence. Each server follows the table: it reads the rows after the
 * last number it knows, when one of its own writes commits, when another server's NOTIFY arrives,
 * and every few seconds in case a notification was lost. It keeps the last WINDOW changes in memory
 * for subscribers that resume, loaded from the table at open, so a client may resume on any server.
 *
 * Numbers are taken at commit (postgres-change-sql.ts) but just before it, so a reader may see 11
 * committed while 10 is not (yet, or ever: a commit can still fail). The follower never passes
 * such a gap until it is sure: the number is taken by a trigger on the row the transaction wrote,
 * so the transaction has its id by then, and whoever holds a missing number below the newest row
 * seen has an id below any id taken after that read. The follower takes one such id (a
 * transaction of its own, only when it meets a gap), and once the oldest transaction still
 * running is younger, the holder has finished: the number is there, or never will be. So no
 * change is delivered after a larger number, and the numbers' order is one the changes can be
 * replayed in: a transaction numbered after every check it made cannot depend on one numbered
 * after it.
 *
 * The NOTIFY is not sent by the writing transaction: a transaction that notifies holds a lock
 * for the whole cluster from before its commit until after it, which would make every write
 * commit one at a time. Each server sends one after its writes commit, at most one at a time.
 */
import { randomBytes } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ChangeEvent, ChangeFeed, ChangeListener, ChangeSubscription } from './change-log.js';
import type { ListeningSession, Row } from './postgres-pool.js';
import { CHANGES_AFTER_STATEMENT, CHANGE_CHANNEL, NOTIFY_STATEMENT, PRUNE_STATEMENT, TAKE_XID_STATEMENT } from './postgres-change-sql.js';
import { metric } from './postgres-health.js';
import { PacedTask } from './postgres-paced-task.js';
import type { Statement } from './postgres-schema.js';

/** Changes each server keeps for resuming subscribers, and the table keeps at least, by default. */
export const CHANGE_WINDOW = 10_000;
/** Rows read at a time. */
const BATCH = 1_000;
/** The follower reads the table this often even when nothing told it to, in ms. */
const SAFETY_POLL_MS = 2_000;
/** Waits before reading again while a gap is not yet settled, in ms; the last repeats. */
const GAP_WAITS_MS = [10, 25, 50, 100, 250, 500, 1_000] as const;
/**
 * Reads start at most this often, and NOTIFYs are sent at most this often, in ms: under a stream
 * of writes each read takes a batch and one NOTIFY stands for many commits, so the feed costs the
 * database a bounded number of statements a second, not a few per write.
 */
const READ_EVERY_MS = 10;
const NOTIFY_EVERY_MS = 20;

/** Opens the connection the feed listens and reads on (SqlPool.listen). */
export type OpenFeedSession = (channel: string, onNotify: (payload: string) => void, onListening: () => void) => ListeningSession;

interface Subscriber {
  readonly listener: ChangeListener;
  readonly onLoss: (() => void) | undefined;
  /** Changes up to this one were delivered already (a position ahead of this server's). */
  skipThrough: number;
}

/** Numbers missing up to `through` are settled once the oldest running transaction is younger than `xid`. */
interface GapBarrier {
  readonly through: number;
  readonly xid: bigint;
}

export class PostgresChangeFeed implements ChangeFeed {
  #epoch = '';
  #openSession: OpenFeedSession;
  #session: ListeningSession | undefined;
  /** Set once the window is loaded: notifications before that change nothing. */
  #following = false;
  #logger: Logger;
  /** Tells this server's NOTIFYs from others'. */
  #instance = randomBytes(6).toString('hex');
  #window: ChangeEvent[] = [];
  /** Changes up to this number are not in the window. */
  #trimmedThrough = 0;
  /** Every change up to this number is known: delivered, or settled as never committed. */
  #position = 0;
  #prunedThrough = 0;
  #subscribers = new Set<Subscriber>();
  #barrier: GapBarrier | undefined;
  #gapWaits = 0;
  #reads: PacedTask;
  #notifies: PacedTask;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #delivered: Gauge;
  #gapWaitsTotal: Counter;
  /** Changes kept in memory (between one and two windows) and in the table (between one and one and a half). */
  #windowSize: number;

  constructor(openSession: OpenFeedSession, options: { readonly logger: Logger; readonly metrics: Metrics; readonly window: number }) {
    this.#openSession = openSession;
    this.#logger = options.logger;
    this.#windowSize = options.window;
    const { registry } = options.metrics;
    this.#delivered = metric(
      registry,
      'package_indexer_change_feed_seq',
      () =>
        new Gauge({
          name: 'package_indexer_change_feed_seq',
          help: "The number of the last change this server's change feed delivered.",
          registers: [registry],
        }),
    );
    this.#gapWaitsTotal = metric(
      registry,
      'package_indexer_change_feed_gap_waits_total',
      () =>
        new Counter({
          name: 'package_indexer_change_feed_gap_waits_total',
          help: 'Reads of the change table that stopped at a missing number until it was settled.',
          registers: [registry],
        }),
    );
    this.#reads = new PacedTask(READ_EVERY_MS, () =>
      this.#follow().catch((error: unknown) => {
        // the next read may reach another server (a failover), whose transaction ids do not
        // compare with the barrier's: one taken there could stay ahead of its running ones until
        // enough writes catch up, holding every gap
        this.#barrier = undefined;
        this.#logger.debug({ err: error }, 'reading the change feed failed; trying again later');
      }),
    );
    this.#notifies = new PacedTask(NOTIFY_EVERY_MS, () =>
      this.#read(NOTIFY_STATEMENT, [this.#instance]).then(
        () => {},
        (error: unknown) => {
          this.#logger.debug({ err: error }, 'could not notify the other servers of a change; they will read it within seconds');
        },
      ),
    );
  }

  /**
   * Opens the feed's own connection (its reads never wait behind the commands' statements on the
   * pool, nor hold a pooled connection), loads the epoch and the window, then follows the table.
   */
  async open(): Promise<void> {
    const wake = (): void => {
      if (this.#following) this.#reads.request();
    };
    const session = this.#openSession(CHANGE_CHANNEL, (payload) => (payload === this.#instance ? undefined : wake()), wake);
    this.#session = session;
    try {
      const [row] = await this.#read(CHANGES_AFTER_STATEMENT, [Number.MAX_SAFE_INTEGER, 0]);
      if (row === undefined) throw new Error('package_indexer_feed has no row');
      this.#epoch = String(row['epoch']);
      this.#position = this.#trimmedThrough = this.#prunedThrough = Number(row['pruned_through']);
      this.#schedule(SAFETY_POLL_MS);
      await this.#follow();
    } catch (error) {
      clearTimeout(this.#timer);
      this.#session = undefined;
      await session.close();
      throw error;
    }
    this.#following = true;
    this.#reads.request();
  }

  /** Names the database's numbering; known once open. */
  get epoch(): string {
    return this.#epoch;
  }

  /** One of this server's statements committed a change: read it, and tell the other servers. */
  committed(): void {
    this.#reads.request();
    this.#notifies.request();
  }

  subscribe(after: { readonly epoch: string; readonly seq: number } | undefined, listener: ChangeListener, onLoss?: () => void): ChangeSubscription {
    const subscriber: Subscriber = { listener, onLoss, skipThrough: 0 };
    let resumed = true;
    if (after !== undefined) {
      resumed = after.epoch === this.epoch && after.seq >= this.#trimmedThrough;
      // a position ahead of this server's was served by a server that read further: wait for it
      if (resumed) subscriber.skipThrough = after.seq;
      const missed = resumed && after.seq < this.#position ? this.#window.slice(firstAfter(this.#window, after.seq)) : [];
      if (missed.length > 0) listener(missed);
    }
    this.#subscribers.add(subscriber);
    return { resumed, close: () => this.#subscribers.delete(subscriber) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await Promise.all([this.#reads.stop(), this.#notifies.stop()]);
    await this.#session?.close();
  }

  #read(statement: Statement, values: readonly unknown[]): Promise<Row[]> {
    const session = this.#session;
    if (session === undefined) return Promise.reject(new Error('the change feed is not open'));
    return session.query(statement.text, values);
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#schedule(SAFETY_POLL_MS);
      this.#reads.request();
    }, ms);
    this.#timer.unref();
  }

  /** Reads and delivers the changes after the position, batch by batch, until a gap or the end. */
  async #follow(): Promise<void> {
    for (;;) {
      const [row] = await this.#read(CHANGES_AFTER_STATEMENT, [this.#position, BATCH]);
      if (row === undefined || this.#closed) return;
      const rows = row['changes'] as ChangeEvent[];
      this.#skipPruned(Number(row['pruned_through']));
      const oldestRunning = BigInt(String(row['oldest_running']));
      const events: ChangeEvent[] = [];
      let blockedAt: number | undefined;
      for (const change of rows) {
        if (change.seq <= this.#position) continue;
        if (change.seq !== this.#position + 1 && !this.#settled(change.seq, oldestRunning)) {
          blockedAt = change.seq;
          break;
        }
        events.push({ seq: change.seq, command: change.command, name: change.name, dependencies: change.dependencies });
        this.#position = change.seq;
      }
      if (this.#barrier !== undefined && this.#position >= this.#barrier.through) this.#barrier = undefined;
      this.#deliver(events);
      if (blockedAt !== undefined) {
        this.#gapWaitsTotal.inc();
        await this.#waitForGap(rows.at(-1)?.seq ?? blockedAt, oldestRunning, events.length > 0);
        return;
      }
      this.#gapWaits = 0;
      if (rows.length < BATCH) return;
    }
  }

  #settled(seq: number, oldestRunning: bigint): boolean {
    const barrier = this.#barrier;
    return barrier !== undefined && seq <= barrier.through && oldestRunning > barrier.xid;
  }

  /** Takes a transaction id that every holder of a missing number below `through` is older than, then reads again later. */
  async #waitForGap(through: number, oldestRunning: bigint, progressed: boolean): Promise<void> {
    const barrier = this.#barrier;
    if (barrier === undefined || oldestRunning > barrier.xid) {
      const [row] = await this.#read(TAKE_XID_STATEMENT, []);
      this.#barrier = { through, xid: BigInt(String(row?.['xid'])) };
    }
    this.#gapWaits = progressed ? 0 : this.#gapWaits + 1;
    this.#schedule(GAP_WAITS_MS[Math.min(this.#gapWaits, GAP_WAITS_MS.length - 1)] ?? SAFETY_POLL_MS);
  }

  /** Changes up to `prunedThrough` are gone from the table: if this server had not read them all, they are lost to it. */
  #skipPruned(prunedThrough: number): void {
    this.#prunedThrough = Math.max(this.#prunedThrough, prunedThrough);
    if (prunedThrough <= this.#position) return;
    this.#logger.warn(
      { from: this.#position + 1, through: prunedThrough },
      'this server fell behind the change feed by more than its window; those changes are lost to its subscribers',
    );
    this.#position = this.#trimmedThrough = prunedThrough;
    this.#window = [];
    this.#barrier = undefined;
    for (const subscriber of this.#subscribers) subscriber.onLoss?.();
  }

  #deliver(events: ChangeEvent[]): void {
    if (events.length === 0) return;
    this.#delivered.set(this.#position);
    this.#window.push(...events);
    // trimmed in halves, so that trimming costs O(1) per change
    if (this.#window.length > 2 * this.#windowSize) {
      const kept = this.#window.length - this.#windowSize;
      this.#trimmedThrough = this.#window[kept - 1]?.seq ?? this.#trimmedThrough;
      this.#window = this.#window.slice(kept);
    }
    const firstSeq = events[0]?.seq ?? 0;
    for (const subscriber of this.#subscribers) {
      if (subscriber.skipThrough < firstSeq) {
        subscriber.listener(events);
        continue;
      }
      const unseen = events.slice(firstAfter(events, subscriber.skipThrough));
      if (unseen.length > 0) subscriber.listener(unseen);
    }
    this.#prune();
  }

  /** Keeps the table's window: drops what is older than the window behind this server's position, every half window. */
  #prune(): void {
    const through = this.#position - this.#windowSize;
    if (through - this.#prunedThrough < this.#windowSize / 2) return;
    this.#prunedThrough = through;
    this.#read(PRUNE_STATEMENT, [through]).catch((error: unknown) => {
      this.#logger.debug({ err: error }, 'pruning the change table failed; another server may be at it');
    });
  }
}

/** The index of the first event numbered above `seq` (events ascend). */
function firstAfter(events: readonly ChangeEvent[], seq: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((events[middle] as ChangeEvent).seq <= seq) low = middle + 1;
    else high = middle;
  }
  return low;
}
