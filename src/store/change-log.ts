/**
 * What was committed, in commit order: the change feed behind `/v1/changes` and the read side's
 * replica. Each change gets a sequence number; the last `windowSize` stay in memory so that a
 * subscriber that reconnects with the last number it saw misses nothing. Numbers belong to an
 * epoch (one run of a graph-backed store, or one database): a number from another epoch, or one
 * older than the window, cannot be resumed from, and the subscriber is told so.
 */
import { randomBytes } from 'node:crypto';

export interface Change {
  readonly command: 'INDEX' | 'REMOVE';
  readonly name: string;
  /** The new dependency list of an INDEX; empty for a REMOVE. */
  readonly dependencies: readonly string[];
}

export interface ChangeEvent extends Change {
  readonly seq: number;
}

export interface ChangeSubscription {
  /** False when the changes after the position asked for are no longer all known (older than the window, or another epoch). */
  readonly resumed: boolean;
  close(): void;
}

export type ChangeListener = (events: readonly ChangeEvent[]) => void;

export interface ChangeFeed {
  /** Names the numbering: positions from another epoch cannot be resumed from. */
  readonly epoch: string;
  /**
   * Calls `listener` with the changes after `after` still in the window (synchronously), then with
   * every later batch as it commits, until closed. `after` undefined starts with the next change.
   * Numbers increase but may skip. `onLoss` is called if changes are lost after the subscription
   * started (a PostgreSQL server that fell further behind the database than its window); the
   * subscription then goes on with the changes after the loss.
   */
  subscribe(after: { readonly epoch: string; readonly seq: number } | undefined, listener: ChangeListener, onLoss?: () => void): ChangeSubscription;
}

const DEFAULT_WINDOW = 10_000;

export class ChangeLog implements ChangeFeed {
  readonly epoch: string;
  #windowSize: number;
  #recent: ChangeEvent[] = [];
  #lastSeq = 0;
  #listeners = new Set<ChangeListener>();

  constructor(options: { readonly windowSize?: number; readonly epoch?: string } = {}) {
    this.#windowSize = options.windowSize ?? DEFAULT_WINDOW;
    this.epoch = options.epoch ?? randomBytes(6).toString('hex');
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Whether anyone listens: stores skip recording changes when nobody does. */
  get wanted(): boolean {
    return this.#listeners.size > 0;
  }

  /** Numbers the committed changes and hands them to every subscriber. */
  append(changes: readonly Change[]): void {
    if (changes.length === 0) return;
    const events = changes.map((change) => ({ ...change, seq: ++this.#lastSeq }));
    this.#recent.push(...events);
    // trimmed in halves, so that trimming costs O(1) per change
    if (this.#recent.length > 2 * this.#windowSize) this.#recent = this.#recent.slice(-this.#windowSize);
    for (const listener of this.#listeners) listener(events);
  }

  subscribe(after: { readonly epoch: string; readonly seq: number } | undefined, listener: ChangeListener): ChangeSubscription {
    let resumed = true;
    if (after !== undefined && after.seq < this.#lastSeq) {
      const oldest = this.#recent[0]?.seq ?? this.#lastSeq + 1;
      resumed = after.epoch === this.epoch && after.seq >= oldest - 1;
      const missed = resumed ? this.#recent.filter((event) => event.seq > after.seq) : [];
      if (missed.length > 0) listener(missed);
    } else if (after !== undefined) {
      resumed = after.epoch === this.epoch && after.seq === this.#lastSeq;
    }
    this.#listeners.add(listener);
    return { resumed, close: () => this.#listeners.delete(listener) };
  }
}
