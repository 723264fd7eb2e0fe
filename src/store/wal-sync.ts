/**
 * `--fsync always` without stalling the event loop. SQLite itself runs with synchronous=NORMAL:
 * a commit appends its frames to the write-ahead log with plain writes (microseconds, on the
 * loop) and syncs only at checkpoints. The commit's fsync is then ours, on libuv's thread pool,
 * while the loop goes on reading, answering reads and writing later turns. Syncs are grouped:
 * every commit written while one fsync runs waits for the next, which covers them all.
 *
 * An fsync of our own descriptor makes the file's data durable whichever descriptor wrote it
 * (the page cache is the inode's). Holding it is safe: SQLite takes no POSIX lock on the log (in
 * exclusive locking mode it uses no shared memory either), so closing it drops none of SQLite's
 * locks, and SQLite keeps the log at its path until the database closes. Opened before the first
 * write it covers, it also sees every write-back error the kernel records after that.
 *
 * A failed fsync is final: the kernel may have dropped the dirty pages it could not write, so a
 * retry that succeeds proves nothing (PostgreSQL's "fsyncgate", 2018). Every later sync fails too.
 */
import fs from 'node:fs';

/** Called once the log is durable up to the commit it was queued after, or with why it is not. */
export type SyncDone = (error: Error | undefined) => void;

/** How a descriptor is synced: `fs.fsync`, or in tests the same behind a gate they hold. */
export type Fsync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;

export class WalSync {
  readonly #walFile: string;
  readonly #fsync: Fsync;
  #fd: number | undefined;
  /** Queued after a commit, for the next fsync. */
  #queued: SyncDone[] = [];
  /** Waiting for the fsync in flight. */
  #inFlight: SyncDone[] | undefined;
  #failure: Error | undefined;

  constructor(walFile: string, fsync: Fsync = fs.fsync) {
    this.#walFile = walFile;
    this.#fsync = fsync;
  }

  /** True while a commit written to the log waits for its fsync. */
  get pending(): boolean {
    return this.#inFlight !== undefined || this.#queued.length > 0;
  }

  /** Opens the log's descriptor; call before the first commit it must cover. */
  open(): void {
    this.#fd ??= fs.openSync(this.#walFile, 'r');
  }

  /** Runs `done` once everything written to the log so far is on disk; callbacks run in the order queued. */
  afterCommit(done: SyncDone): void {
    this.#queued.push(done);
    if (this.#inFlight === undefined) this.#start();
  }

  /** Closes the descriptor; call when nothing is pending. */
  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  #start(): void {
    const group = this.#queued;
    this.#queued = [];
    this.#inFlight = group;
    const fd = this.#fd;
    if (this.#failure !== undefined || fd === undefined) {
      this.#failure ??= new Error(`${this.#walFile} is not open for syncing`);
      // still asynchronous, like a real fsync: callers never see their callback run inside their call
      setImmediate(() => this.#finish(group, this.#failure));
      return;
    }
    this.#fsync(fd, (error) => {
      if (error !== null) this.#failure ??= new Error(`fsync of ${this.#walFile} failed: ${error.message}`, { cause: error });
      this.#finish(group, this.#failure);
    });
  }

  #finish(group: readonly SyncDone[], error: Error | undefined): void {
    this.#inFlight = undefined;
    for (const done of group) done(error);
    if (this.#queued.length > 0) this.#start();
  }
}
