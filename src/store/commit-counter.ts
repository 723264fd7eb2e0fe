/**
 * Tells at startup when commits the server acknowledged are missing from the store. SQLite itself
 * cannot: it ignores a write-ahead-log frame with a bad checksum and every frame after it, so a WAL
 * cut short (a torn or lost tail) opens silently as an older store. Counting the WAL's frames does
 * not tell either: SQLite reuses the file, so stale frames from before a checkpoint follow the
 * live ones, and a process killed mid-commit leaves a partial frame that nobody was promised.
 *
 * So every commit also sets a counter in the database (in the same transaction) and, once it has
 * committed and before any reply of it goes out, the same number in a small file beside it. Both
 * writes reach the operating system in order, so after a crash of the process the file can never
 * be ahead of the database; if it is at the next start, acknowledged commits were lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from '../log.js';
import { StoreOpenError } from '../errors.js';
import { writeFileAtomically } from './atomic-file.js';

/** Holds the number of the last commit acknowledged to a client: 20 digits and a line feed. */
export const COMMIT_FILE_NAME = 'last-commit';
const DIGITS = 20;

export const COMMIT_COUNTER_SCHEMA = `
  CREATE TABLE commit_counter (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    commits INTEGER NOT NULL -- how many transactions have committed changes
  ) STRICT;
  INSERT INTO commit_counter (only, commits) VALUES (1, 0);
`;

export interface CounterPlaces {
  readonly dir: string;
  /** The store file, for the warning. */
  readonly file: string;
  /** Bytes of the write-ahead log as found before anything was written, or undefined when there was none. */
  readonly walBytes: number | undefined;
}

export class CommitCounter {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #logger: Logger;
  readonly #text = Buffer.alloc(DIGITS + 1);
  #fd: number | undefined;
  #committed: number;

  /**
   * Compares the database's count with the file's and warns when the file is ahead. A readable
   * file is left as it is until the next commit overwrites it: until then the store still lacks
   * those commits, and a refused or aborted start must not erase the evidence.
   */
  static open(db: Database.Database, places: CounterPlaces, logger: Logger): CommitCounter {
    const stored = db.prepare('SELECT commits FROM commit_counter WHERE only = 1').pluck().get();
    if (typeof stored !== 'number' || !Number.isSafeInteger(stored) || stored < 0) {
      throw new StoreOpenError(
        'PI_ERR_STORE_OPEN_CORRUPT',
        places.file,
        `${places.file} is corrupt (its commit counter holds ${String(stored)}); restore it from a backup`,
      );
    }
    const file = path.join(places.dir, COMMIT_FILE_NAME);
    const acknowledged = readAcknowledged(file);
    warnIfBehind(stored, acknowledged, { ...places, commitFile: file }, logger);
    if (acknowledged === undefined || Number.isNaN(acknowledged)) writeFileAtomically(file, format(stored));
    return new CommitCounter(db, file, openForOverwrite(file), stored, logger);
  }

  private constructor(db: Database.Database, file: string, fd: number, committed: number, logger: Logger) {
    this.#db = db;
    this.#file = file;
    this.#fd = fd;
    this.#committed = committed;
    this.#logger = logger;
  }

  /**
   * Wraps `write` in a transaction that also counts the commit; returns the commit's number, for
   * `acknowledge` once the commit is durable as promised and before any reply of it goes out.
   */
  transaction<A>(write: (arg: A) => void): (arg: A) => number {
    const update = this.#db.prepare('UPDATE commit_counter SET commits = ? WHERE only = 1');
    const counted = this.#db.transaction((arg: A, next: number) => {
      write(arg);
      update.run(next);
    });
    return (arg) => {
      const next = this.#committed + 1;
      counted(arg, next);
      this.#committed = next;
      return next;
    };
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Records commit `count` as acknowledged. Overwrites the file in place: no allocation, so no full disk, and one write() the kernel keeps whole. */
  acknowledge(count: number): void {
    if (this.#fd === undefined) return;
    this.#text.write(format(count), 'latin1');
    try {
      fs.writeSync(this.#fd, this.#text, 0, this.#text.length, 0);
    } catch (err) {
      // the commit stands; only the check at the next start is lost, and a stale file only ever lags
      this.close();
      this.#logger.warn({ err, file: this.#file }, `${this.#file} cannot be written: the next start cannot tell whether acknowledged commits are missing`);
    }
  }
}

function openForOverwrite(file: string): number {
  try {
    return fs.openSync(file, 'r+');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new StoreOpenError('PI_ERR_STORE_OPEN_UNWRITABLE', file, `${file} cannot be opened for writing (${reason})`, { cause: error });
  }
}

function format(count: number): string {
  return `${String(count).padStart(DIGITS, '0')}\n`;
}

/** The count in the file; undefined when there is none, NaN when it is unreadable. */
function readAcknowledged(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return Number.NaN;
  }
  return new RegExp(`^\\d{${DIGITS}}\\n$`).test(text) ? Number(text) : Number.NaN;
}

function warnIfBehind(committed: number, acknowledged: number | undefined, places: CounterPlaces & { readonly commitFile: string }, logger: Logger): void {
  if (acknowledged === undefined || acknowledged <= committed) return;
  const { file, commitFile, walBytes } = places;
  const wal = `${file}-wal`;
  if (Number.isNaN(acknowledged)) {
    logger.warn({ file, commitFile }, `${commitFile} is unreadable: this start cannot tell whether ${file} lost acknowledged commits`);
    return;
  }
  const lost = acknowledged - committed;
  logger.warn(
    { file, wal, walBytes: walBytes ?? null, commitFile, storedCommits: committed, acknowledgedCommits: acknowledged, lostCommits: lost },
    `${file} holds ${committed} commits but ${acknowledged} were acknowledged: the last ${lost} are lost ` +
      `(${walBytes === undefined ? `${wal} is missing` : `${wal} (${walBytes} bytes) was cut short or damaged`}, or ${file} was replaced by an older copy)`,
  );
}
