/**
 * Whether the embedded store can take commits, as the replies, /readyz and the logs see it. It
 * stops in three ways.
 *
 * A commit fails (disk full, I/O error): the store is unavailable until a commit succeeds. A load
 * balancer that sees /readyz 503 sends no more writes, so while it is down a one-page probe write
 * is tried every second and the first that succeeds makes it available again.
 *
 * The store file at its path is no longer the one held open (the data directory deleted, moved or
 * replaced): every commit would go to a file the next start cannot see, so it stops for good. The
 * paths' identities (device and inode) are compared with those recorded at open: the database
 * file's before every commit (one stat, a few microseconds beside a transaction's tens), so no OK
 * leaves once `rm -rf` has run, and the log's too every second.
 * SQLite's own handles cannot be asked (better-sqlite3 exposes no descriptor), and opening our
 * own would be unsafe: closing any descriptor of a file drops the process's POSIX locks on it.
 *
 * An fsync of the log fails (`--fsync always`): what SQLite took may not be on disk, and a retry
 * would prove nothing, so it stops for good too.
 *
 * One error line marks each stop, one info line the end of a failed-commit outage.
 */
import fs from 'node:fs';
import type { Logger } from '../log.js';

/** How often the files are compared and, while commits fail, a probe write is tried, in ms. */
const CHECK_INTERVAL_MS = 1_000;

export type FileChange = 'missing' | 'replaced';

interface HeldFile {
  readonly path: string;
  readonly dev: bigint;
  readonly ino: bigint;
}

export interface SqliteHealthOptions {
  /**
   * The files held open, each to stay at its path, the database first; those missing at the start
   * are not watched.
   */
  readonly files: readonly string[];
  readonly logger: Logger;
  /** A write that commits as little as possible; throws when the store cannot commit. */
  readonly probe: () => void;
}

export class SqliteHealth {
  #logger: Logger;
  #probe: () => void;
  #held: HeldFile[];
  #lost = false;
  #failingSince: number | undefined;
  #failedCommits = 0;
  #timer: NodeJS.Timeout;

  constructor(options: SqliteHealthOptions) {
    this.#logger = options.logger;
    this.#probe = options.probe;
    this.#held = [];
    for (const file of options.files) {
      const stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
      if (stat !== undefined) this.#held.push({ path: file, dev: stat.dev, ino: stat.ino });
    }
    this.#timer = setInterval(() => this.#check(), CHECK_INTERVAL_MS).unref();
  }

  /** True while commits can be expected to succeed. */
  get available(): boolean {
    return !this.#lost && this.#failingSince === undefined;
  }

  /** True once a held file left its path: nothing may be committed any more. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Compares the first held file (the database) with its path; false (logged once) when it has gone. */
  storeInPlace(): boolean {
    return this.#inPlace(this.#held.slice(0, 1));
  }

  commitFailed(error: unknown, context: Record<string, unknown>): void {
    this.#failedCommits++;
    if (this.#lost) return;
    if (this.#failingSince !== undefined) {
      this.#logger.debug({ err: error, ...context }, 'store commit failed again');
      return;
    }
    this.#failingSince = Date.now();
    this.#logger.error(
      { err: error, ...context },
      'store commit failed; its changes are undone and its replies are ERROR; /readyz answers 503 until a commit succeeds',
    );
  }

  commitSucceeded(): void {
    if (this.#failingSince === undefined) return;
    const outageMs = Date.now() - this.#failingSince;
    this.#logger.info({ outageMs, failedCommits: this.#failedCommits }, 'store commits succeed again; /readyz answers 200');
    this.#failingSince = undefined;
    this.#failedCommits = 0;
  }

  /**
   * An fsync of the write-ahead log failed (`--fsync always`): commits SQLite took may not be on
   * disk and cannot be undone, so the store stops for good, like a file that left its path.
   */
  syncFailed(error: Error): void {
    if (this.#lost) return;
    this.#lost = true;
    clearInterval(this.#timer);
    this.#logger.error(
      { err: error },
      'syncing the store to disk failed, so commits it holds may be lost: every command is answered ERROR and /readyz answers 503 from now on; ' +
        'the index stays readable on the admin port. Restart once the disk is healthy: the server starts from what is on disk',
    );
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    if (!this.#inPlace(this.#held) || this.#failingSince === undefined) return;
    try {
      this.#probe();
    } catch (error) {
      this.#logger.debug({ err: error }, 'store probe write failed');
      return;
    }
    this.commitSucceeded();
  }

  #inPlace(files: readonly HeldFile[]): boolean {
    if (this.#lost) return false;
    for (const held of files) {
      const now = fs.statSync(held.path, { bigint: true, throwIfNoEntry: false });
      if (now !== undefined && now.dev === held.dev && now.ino === held.ino) continue;
      this.#markLost(held.path, now === undefined ? 'missing' : 'replaced');
      return false;
    }
    return true;
  }

  #markLost(file: string, change: FileChange): void {
    this.#lost = true;
    clearInterval(this.#timer);
    const what = change === 'missing' ? 'is no longer at its path (deleted or moved)' : 'was replaced by another file';
    this.#logger.error(
      { file, change },
      `${file} ${what} while this server held it open: every command is answered ERROR and /readyz answers 503 from now on, ` +
        'because a change committed now would be lost at the next start; the index stays readable on the admin port. ' +
        'A restart starts from what is at that path then (a new, empty store if nothing is); see docs/durability.md to save the held files first',
    );
  }
}
