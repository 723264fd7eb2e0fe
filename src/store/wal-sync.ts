/**
 * `--fsync always` without stalling the event loop. SQLite itself runs with synchronous=NORMAL:
 * a commit appends its frames to the write-ahead log with plain writes (microseconds, on the
 * loop) and syncs only at checkpoints. The commit's fsync is then ours, on libuv's thread pool,
 * while the loop goes on reading, answering reads and applying later turns. Each fsync covers
 * every commit written before it started. Two may run at once, so that the writes that arrive
 * just after one started need not wait for it to return before theirs starts (with one, the
 * writers answered by one fsync sent their next writes while the next ran for a few of them: half
 * the writes per second in bench/fsync-reads). While two run, the backend holds its changes back
 * and commits them in one transaction when one returns (`full`, `onSlotFree`): group commit, as
 * the blocking fsync gave it, with fewer and larger transactions than one per turn, so fewer WAL
 * pages and fewer checkpoints (which still sync on the loop).
 *
 * An fsync of our own descriptor makes the file's data durable whichever descriptor wrote it
 * (the page cache is the inode's). Holding it is safe: SQLite takes no POSIX lock on the log (in
 * exclusive locking mode it uses no shared memory either), so closing it drops none of SQLite's
 * locks, and SQLite keeps the log at its path until the database closes. Opened before the first
 * write it covers, it also sees every write-back error the kernel records after that, but only
 * once: Linux reports an error to the first fsync of each open file that asks after it. So each
 * fsync that may run at once has a descriptor of its own, and none can return 0 for an error that
 * another one took.
 *
 * A failed fsync is final: the kernel may have dropped the dirty pages it could not write, so a
 * retry that succeeds proves nothing (PostgreSQL's "fsyncgate", 2018). Every later sync fails too.
 */
import fs from 'node:fs';

/** Called once the log is durable up to the commit it was queued after, or with why it is not. */
export type SyncDone = (error: Error | undefined) => void;

/** How a descriptor is synced: `fs.fsync`, or in tests the same behind a gate they hold. */
export type Fsync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;

/** fsyncs running at once, on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise). */
const MAX_IN_FLIGHT = 2;

/** The commits one fsync covers, in the order the fsyncs started. */
interface SyncGroup {
  readonly callbacks: SyncDone[];
}

export class WalSync {
  readonly #walFile: string;
  readonly #fsync: Fsync;
  /** One descriptor per fsync that may run, each taken while its fsync runs. */
  #idle: number[] = [];
  #opened: number[] = [];
  /** Queued after a commit, for the next fsync. */
  #queued: SyncDone[] = [];
  /** Started and not yet answered, oldest first. */
  #groups: SyncGroup[] = [];
  #running = 0;
  #failure: Error | undefined;
  /** Called after an fsync has returned and its commits were answered. */
  onSlotFree: () => void = () => {};

  constructor(walFile: string, fsync: Fsync = fs.fsync) {
    this.#walFile = walFile;
    this.#fsync = fsync;
  }

  /** True while as many fsyncs run as may: a commit written now would wait for one to return. */
  get full(): boolean {
    return this.#running >= MAX_IN_FLIGHT;
  }

  /** True while a commit written to the log waits for its fsync, or an fsync still runs. */
  get pending(): boolean {
    return this.#running > 0 || this.#queued.length > 0;
  }

  /** Opens the log's descriptors; call before the first commit they must cover. */
  open(): void {
    while (this.#opened.length < MAX_IN_FLIGHT) {
      const fd = fs.openSync(this.#walFile, 'r');
      this.#opened.push(fd);
      this.#idle.push(fd);
    }
  }

  /** Runs `done` once everything written to the log so far is on disk; callbacks run in the order queued. */
  afterCommit(done: SyncDone): void {
    this.#queued.push(done);
    if (this.#running < MAX_IN_FLIGHT) this.#start();
  }

  /** Closes the descriptors; call when nothing is pending. */
  close(): void {
    for (const fd of this.#opened.splice(0)) fs.closeSync(fd);
    this.#idle = [];
  }

  #start(): void {
    const group: SyncGroup = { callbacks: this.#queued };
    this.#queued = [];
    this.#groups.push(group);
    this.#running++;
    const fd = this.#idle.pop();
    if (this.#failure !== undefined || fd === undefined) {
      this.#failure ??= new Error(`${this.#walFile} is not open for syncing`);
      // still asynchronous, like a real fsync: callers never see their callback run inside their call
      setImmediate(() => this.#finish(group, fd));
      return;
    }
    this.#fsync(fd, (error) => {
      if (error !== null) this.#failure ??= new Error(`fsync of ${this.#walFile} failed: ${error.message}`, { cause: error });
      this.#finish(group, fd);
    });
  }

  /**
   * An fsync returned. It covered every commit written before it started, so the groups started
   * before it are durable too, even when their own fsync has not returned yet: answer them all, in
   * order. (After a failure every group fails, whatever its own fsync said.)
   */
  #finish(group: SyncGroup, fd: number | undefined): void {
    this.#running--;
    if (fd !== undefined) this.#idle.push(fd);
    const at = this.#groups.indexOf(group);
    if (at >= 0) {
      for (const settled of this.#groups.splice(0, at + 1)) {
        for (const done of settled.callbacks) done(this.#failure);
      }
    }
    if (this.#queued.length > 0 && this.#running < MAX_IN_FLIGHT) this.#start();
    this.onSlotFree();
  }
}
