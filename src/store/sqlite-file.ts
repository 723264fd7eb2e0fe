/**
 * Opens the embedded store's SQLite file, or refuses with the reason. One server per data
 * directory: SQLite's own exclusive lock (locking_mode=EXCLUSIVE), which the kernel drops when the
 * process dies, so a crash never leaves a stale lock. A file that is locked, not a database, not
 * ours, corrupt or from a newer version is refused untouched: nothing here repairs or overwrites.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreOpenError } from '../errors.js';
import type { Logger } from '../log.js';
import { writeFileAtomically } from './atomic-file.js';
import { COMMIT_COUNTER_SCHEMA, CommitCounter } from './commit-counter.js';

export const STORE_FILE_NAME = 'index.db';
/** Informational: lets a refused second server name the holder of the lock. */
export const PID_FILE_NAME = 'server.pid';
/** 'PIDX' in the SQLite header marks a file as a package-indexer store. */
export const APPLICATION_ID = 0x50494458;
/** The table layout's version (PRAGMA user_version); a change comes with a migration. */
export const SCHEMA_VERSION = 2;

// no index on name: the graph keeps names unique, and the load checks it; snapshots write it too
export const SCHEMA = `
  CREATE TABLE packages (
    id INTEGER PRIMARY KEY, -- the package's number in the graph; dependency lists refer to it
    name TEXT NOT NULL,
    dependencies BLOB NOT NULL -- the dependencies' ids, 4 bytes each, little-endian
  ) STRICT;
  ${COMMIT_COUNTER_SCHEMA}
  PRAGMA application_id = ${APPLICATION_ID};
  PRAGMA user_version = ${SCHEMA_VERSION};
`;

/** By the version each upgrades from; each runs in one transaction. */
const MIGRATIONS: Readonly<Record<number, string>> = {
  1: `${COMMIT_COUNTER_SCHEMA} PRAGMA user_version = 2;`,
};

/** The tables each schema version has, to tell a damaged schema from an old one. */
const TABLES: Readonly<Record<number, readonly string[]>> = {
  1: ['packages'],
  2: ['packages', 'commit_counter'],
};

export interface StoreFile {
  readonly db: Database.Database;
  readonly file: string;
  /** True when there was no store at `file` (or an empty file) and this open created one. */
  readonly created: boolean;
  /**
   * Wraps `write` in a transaction that is counted, so that the next start can tell whether
   * commits went missing; it returns the commit's number, for `acknowledge`.
   */
  transaction<A>(write: (arg: A) => void): (arg: A) => number;
  /** Records commit `count` as acknowledged: call once it is durable, before its replies go out. */
  acknowledge(count: number): void;
  /** Removes our pid file, then closes the database, which releases the lock. */
  release(): void;
}

export function openStoreFile(dataDir: string, logger: Logger): StoreFile {
  const dir = path.resolve(dataDir);
  prepareDirectory(dir);
  const file = path.join(dir, STORE_FILE_NAME);
  // as found, before SQLite opens it: a clue in the warning when commits are missing
  const walBytes = fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size;
  const db = openDatabase(file, dir);
  const pidFile = path.join(dir, PID_FILE_NAME);
  let counter: CommitCounter;
  let created = false;
  try {
    lock(db, dir, file);
    const version = checkFormat(db, file);
    created = version === 0;
    configure(db, file);
    if (created) db.exec(`BEGIN; ${SCHEMA} COMMIT;`);
    else migrate(db, version, file, logger);
    writeFileAtomically(pidFile, `${process.pid}\n`);
    counter = CommitCounter.open(db, { dir, file, walBytes }, logger);
  } catch (error) {
    db.close();
    throw refusal(error, file);
  }
  const release = (): void => {
    counter.close();
    if (readPid(pidFile) === String(process.pid)) fs.rmSync(pidFile, { force: true });
    db.close();
  };
  return { db, file, created, transaction: (write) => counter.transaction(write), acknowledge: (count) => counter.acknowledge(count), release };
}

/** Turns an SQLite failure while opening or loading into a refusal that names the file. */
export function refusal(error: unknown, file: string): StoreOpenError {
  if (error instanceof StoreOpenError) return error;
  const code = sqliteCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (code.startsWith('SQLITE_NOTADB')) {
    return new StoreOpenError('PI_ERR_STORE_OPEN_NOT_A_DATABASE', file, `${file} is not an SQLite database (${reason}); refusing to touch it`, {
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new StoreOpenError('PI_ERR_STORE_OPEN_CORRUPT', file, `${file} is corrupt (${reason}); restore it from a backup`, { cause: error });
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return new StoreOpenError('PI_ERR_STORE_OPEN_UNWRITABLE', file, `${file} cannot be opened for writing (${reason})`, { cause: error });
  }
  return new StoreOpenError('PI_ERR_STORE_OPEN', file, `${file} cannot be opened: ${reason}`, { cause: error });
}

function prepareDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const reason = code === 'EEXIST' || code === 'ENOTDIR' ? 'it is not a directory' : `this user cannot write there (${code})`;
    throw new StoreOpenError('PI_ERR_STORE_OPEN_UNWRITABLE', dir, `data directory ${dir} is unusable: ${reason}`, { cause: error });
  }
}

function openDatabase(file: string, dir: string): Database.Database {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isFile()) {
    throw new StoreOpenError('PI_ERR_STORE_OPEN_NOT_A_DATABASE', file, `${file} is not a regular file; refusing to touch it`);
  }
  try {
    if (stat !== undefined) fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
    // timeout 0: a held lock is refused at once instead of waited for
    return new Database(file, { timeout: 0 });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new StoreOpenError('PI_ERR_STORE_OPEN_UNWRITABLE', file, `${file} in data directory ${dir} cannot be opened for writing (${reason})`, {
      cause: error,
    });
  }
}

/** Takes the exclusive lock before anything else reads the file, and keeps it until close. */
function lock(db: Database.Database, dir: string, file: string): void {
  db.pragma('locking_mode = EXCLUSIVE');
  try {
    db.exec('BEGIN EXCLUSIVE; COMMIT;');
  } catch (error) {
    if (!sqliteCode(error).startsWith('SQLITE_BUSY')) throw error;
    const pid = readPid(path.join(dir, PID_FILE_NAME)) ?? 'unknown';
    throw new StoreOpenError('PI_ERR_STORE_OPEN_LOCKED', file, `data directory ${dir} is in use by another server (pid ${pid})`, { cause: error });
  }
}

/** Reads only the header and the schema table; the schema version, 0 when the file is empty and can be created. */
function checkFormat(db: Database.Database, file: string): number {
  const applicationId = db.pragma('application_id', { simple: true });
  const version = db.pragma('user_version', { simple: true });
  const objects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
  if (applicationId === 0 && version === 0 && objects === 0) return 0;
  if (applicationId !== APPLICATION_ID) {
    throw new StoreOpenError('PI_ERR_STORE_OPEN_FOREIGN', file, `${file} is an SQLite database but not a package-indexer store; refusing to touch it`);
  }
  if (typeof version !== 'number' || version > SCHEMA_VERSION) {
    throw new StoreOpenError(
      'PI_ERR_STORE_OPEN_NEWER_SCHEMA',
      file,
      `${file} has schema version ${String(version)}, newer than the ${SCHEMA_VERSION} this server knows; upgrade package-indexer`,
    );
  }
  const expected = TABLES[version] ?? [];
  const tables = new Set(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all());
  const missing = expected.filter((table) => !tables.has(table));
  if (expected.length === 0 || missing.length > 0) {
    const detail = expected.length === 0 ? `schema version ${version}` : `schema version ${version} without the table ${missing.join(', ')}`;
    throw new StoreOpenError('PI_ERR_STORE_OPEN_CORRUPT', file, `${file} is corrupt (${detail}); restore it from a backup`);
  }
  return version;
}

/** Upgrades an older layout step by step, each step in one transaction, and says so. */
function migrate(db: Database.Database, from: number, file: string, logger: Logger): void {
  for (let version = from; version < SCHEMA_VERSION; version++) {
    db.exec(`BEGIN; ${MIGRATIONS[version] ?? ''} COMMIT;`);
    logger.info({ file, from: version, to: version + 1 }, 'store schema upgraded');
  }
}

function configure(db: Database.Database, file: string): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    throw new StoreOpenError('PI_ERR_STORE_OPEN_UNWRITABLE', file, `${file} cannot use write-ahead logging (journal mode stays ${String(mode)})`);
  }
  // in WAL mode NORMAL syncs the log only at checkpoints; with fsync 'always' the backend syncs it
  // after every commit itself, off the event loop (wal-sync.ts), where FULL would block the loop
  db.pragma('synchronous = NORMAL');
}

function readPid(pidFile: string): string | undefined {
  try {
    const text = fs.readFileSync(pidFile, 'utf8').trim();
    return /^\d+$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
