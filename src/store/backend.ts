/**
 * The one interface between the server and wherever the index lives: the in-memory graph alone,
 * the graph with an SQLite copy, or a PostgreSQL database shared by many servers. The server,
 * admin port and CLI know only this.
 */
import type { Command, Reply } from '../protocol/types.js';

export interface PackageView {
  readonly name: string;
  readonly dependencies: readonly string[];
  readonly dependents: readonly string[];
}

export interface ListOptions {
  /** Only names that start with this. */
  readonly prefix: string;
  /** Only names sorted strictly after this one (the paging cursor); '' starts at the beginning. */
  readonly after: string;
  /** The most names to return. */
  readonly limit: number;
}

export interface IndexCounts {
  readonly packages: number;
  readonly dependencies: number;
}

export interface Backend {
  /** A few words for the startup log, e.g. "sqlite ./data/index.db (fsync normal)". */
  readonly description: string;
  /** Loads or connects; the server listens only after this resolves. */
  open(): Promise<void>;
  /**
   * Applies the commands in order and calls `done` once with one reply per command, after every
   * change those commands made or observed is durable. Never throws: a store fault turns the
   * affected replies into ERROR. `done` may run synchronously.
   */
  execute(commands: readonly Command[], done: (replies: Reply[]) => void): void;
  /**
   * True while commands can be served; /readyz answers 503 while it is false. False while a shared
   * database is down, while the embedded store's commits fail (until one succeeds again), and for
   * good once the embedded store's file is no longer at its path.
   */
  isAvailable(): boolean;
  describe(name: string): Promise<PackageView | undefined>;
  /** Indexed names in ascending code-point order. */
  list(options: ListOptions): Promise<string[]>;
  counts(): Promise<IndexCounts>;
  /** Commits what is in flight and releases the store. */
  close(): Promise<void>;
}
