/**
 * Faults, as opposed to refusals: wire problems and FAIL are values, these are exceptions. Every
 * code the program can raise is in ERROR_CODES, with the exit status the CLI turns it into and what
 * it means; docs/errors.md shows the same table and a test keeps the two equal. Each condition has
 * a class; tests and callers match the code, never the message.
 */

/** What the process's exit status tells a supervisor or a script. */
export const EXIT_STATUS = {
  /** The command did what it was asked. */
  ok: 0,
  /** The run failed on the way (a lost connection, an unreachable database, wrong answers): retrying may help. */
  failed: 1,
  /** The command line, the environment or an input file is wrong: fix it before retrying. */
  usage: 2,
  /** The store refuses to be used as it is (locked, corrupt, foreign, unwritable): an operator must look. */
  storeRefused: 3,
  /** A listening port cannot be had (in use, or not permitted). */
  listen: 4,
} as const;

export type ExitStatus = (typeof EXIT_STATUS)[keyof typeof EXIT_STATUS];

interface CodeInfo {
  readonly exitStatus: ExitStatus;
  readonly meaning: string;
}

export const ERROR_CODES = {
  PI_ERR_USAGE: { exitStatus: EXIT_STATUS.usage, meaning: 'the arguments do not fit the command (unknown flag, missing or malformed value)' },
  PI_ERR_CONFIG: { exitStatus: EXIT_STATUS.usage, meaning: 'a setting from a flag or the environment is invalid; the message names it' },
  PI_ERR_DATASET_FORMAT: { exitStatus: EXIT_STATUS.usage, meaning: 'a dataset file is malformed; the message names the line' },
  PI_ERR_DATASET_CYCLE: { exitStatus: EXIT_STATUS.usage, meaning: "a dataset's dependencies form a cycle, so it has no install order" },
  PI_ERR_LISTEN_IN_USE: { exitStatus: EXIT_STATUS.listen, meaning: 'the port a setting names is already taken by another process' },
  PI_ERR_LISTEN: { exitStatus: EXIT_STATUS.listen, meaning: 'a listener could not be opened (address not available, port not permitted)' },
  PI_ERR_STORE_OPEN: { exitStatus: EXIT_STATUS.storeRefused, meaning: 'the store could not be opened for another reason; the message carries the cause' },
  PI_ERR_STORE_OPEN_LOCKED: { exitStatus: EXIT_STATUS.storeRefused, meaning: 'another server holds the data directory' },
  PI_ERR_STORE_OPEN_UNWRITABLE: { exitStatus: EXIT_STATUS.storeRefused, meaning: 'the data directory or its store file cannot be written' },
  PI_ERR_STORE_OPEN_NOT_A_DATABASE: { exitStatus: EXIT_STATUS.storeRefused, meaning: 'the store file is not an SQLite database; it is left untouched' },
  PI_ERR_STORE_OPEN_FOREIGN: { exitStatus: EXIT_STATUS.storeRefused, meaning: "the store file is some other program's SQLite database; it is left untouched" },
  PI_ERR_STORE_OPEN_NEWER_SCHEMA: { exitStatus: EXIT_STATUS.storeRefused, meaning: 'the store was written by a newer package-indexer' },
  PI_ERR_STORE_OPEN_CORRUPT: { exitStatus: EXIT_STATUS.storeRefused, meaning: 'the store is damaged; restore it from a backup' },
  PI_ERR_STORE_OPEN_ISOLATION: {
    exitStatus: EXIT_STATUS.storeRefused,
    meaning: 'PostgreSQL does not run our statements at repeatable read (a proxy dropping session options)',
  },
  PI_ERR_STORE_OPEN_NOT_SYNCHRONOUS: {
    exitStatus: EXIT_STATUS.storeRefused,
    meaning: '--require-synchronous-standby was given but PostgreSQL does not commit synchronously to a standby',
  },
  PI_ERR_STORE_UNAVAILABLE: { exitStatus: EXIT_STATUS.failed, meaning: 'the shared database cannot be reached' },
  PI_ERR_STORE_QUERY_TIMEOUT: { exitStatus: EXIT_STATUS.failed, meaning: 'the shared database did not answer a statement in time; treated as unreachable' },
  PI_ERR_STORE_COMMIT: { exitStatus: EXIT_STATUS.failed, meaning: 'a batch of changes could not be committed; its replies were ERROR' },
  PI_ERR_CONNECTION_LOST: { exitStatus: EXIT_STATUS.failed, meaning: 'a client connection to a server closed or failed with requests unanswered' },
  PI_ERR_CHILD_SERVER: { exitStatus: EXIT_STATUS.failed, meaning: 'a server started by bench did not come up or report its port' },
  PI_ERR_BENCH_SETUP: { exitStatus: EXIT_STATUS.failed, meaning: 'bench could not load its dataset into the server before measuring' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;
export type StoreOpenCode = Extract<ErrorCode, `PI_ERR_STORE_OPEN${string}`>;
export type DatasetCode = Extract<ErrorCode, `PI_ERR_DATASET_${string}`>;

export class IndexerError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The exit status for a failure: its code's, or `failed` for anything that is not ours. */
export function exitStatusOf(error: unknown): ExitStatus {
  return error instanceof IndexerError ? ERROR_CODES[error.code].exitStatus : EXIT_STATUS.failed;
}

/** Words on the command line that do not fit the command's usage. */
export class UsageError extends IndexerError {
  constructor(message: string) {
    super('PI_ERR_USAGE', message);
  }
}

/** A setting from a flag or the environment is invalid; `setting` names it. */
export class ConfigError extends IndexerError {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super('PI_ERR_CONFIG', `${setting}: ${message}`);
    this.setting = setting;
  }
}

/** A dataset file is malformed; `line` is its 1-based line number when one is to blame. */
export class DatasetError extends IndexerError {
  readonly line: number | undefined;

  constructor(code: DatasetCode, message: string, line?: number) {
    super(code, line === undefined ? message : `line ${line}: ${message}`);
    this.line = line;
  }
}

/** A listener could not be opened; `setting` names the flag that chose its port. */
export class ListenError extends IndexerError {
  readonly setting: string;
  readonly port: number;

  constructor(code: 'PI_ERR_LISTEN_IN_USE' | 'PI_ERR_LISTEN', setting: string, port: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.setting = setting;
    this.port = port;
  }
}

/** The store could not be opened: locked, corrupt, unreadable or from a newer version. */
export class StoreOpenError extends IndexerError {
  readonly location: string;

  constructor(code: StoreOpenCode, location: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.location = location;
  }
}

/** A batch of changes could not be committed; its replies became ERROR. */
export class StoreCommitError extends IndexerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PI_ERR_STORE_COMMIT', message, options);
  }
}

/** The shared database could not be reached. */
export class StoreUnavailableError extends IndexerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PI_ERR_STORE_UNAVAILABLE', message, options);
  }
}

/** A statement got no reply in time; handled like an unreachable database. */
export class QueryTimeoutError extends IndexerError {
  constructor(timeoutMs: number) {
    super('PI_ERR_STORE_QUERY_TIMEOUT', `no reply from PostgreSQL in ${timeoutMs} ms`);
  }
}

/** A client connection closed or failed while requests were unanswered. */
export class ConnectionLostError extends IndexerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PI_ERR_CONNECTION_LOST', message, options);
  }
}

/** A server started as a child process did not come up. */
export class ChildServerError extends IndexerError {
  constructor(message: string) {
    super('PI_ERR_CHILD_SERVER', message);
  }
}

/** bench could not prepare the server it measures. */
export class BenchSetupError extends IndexerError {
  constructor(message: string) {
    super('PI_ERR_BENCH_SETUP', message);
  }
}
