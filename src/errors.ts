/**
 * Faults, as opposed to refusals: wire problems and FAIL are values, these are exceptions. Each
 * condition has a class and a stable `code`; tests and callers match the code, never the message.
 */

export class IndexerError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
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

/** The store could not be opened: locked, corrupt, unreadable or from a newer version. */
export class StoreOpenError extends IndexerError {
  readonly location: string;

  constructor(code: string, location: string, message: string, options?: { cause?: unknown }) {
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
