/**
 * The one interface between the server and wherever the index lives: the in-memory graph alone,
 * the graph with an SQLite copy, or a PostgreSQL database shared by many servers. The command path
 * is `execute`; questions go to `reader`, and what was committed comes out of `changes`.
 */
import type { Command, Reply } from '../protocol/types.js';
import type { ChangeFeed } from './change-log.js';
import type { IndexExport } from './index-export.js';
import type { IndexReader } from './index-reader.js';
import type { StoreSnapshot } from './store-snapshot.js';

export type { ListOptions, PackageView } from './index-reader.js';
export type { ExportedPackage, IndexExport } from './index-export.js';
export type { StoreSnapshot } from './store-snapshot.js';

export interface IndexCounts {
  readonly packages: number;
  readonly dependencies: number;
}

export interface Backend {
  /** A few words for the startup log, e.g. "sqlite ./data/index.db (fsync normal)". */
  readonly description: string;
  /** The questions about the index, answered apart from the command path. */
  readonly reader: IndexReader;
  /** Every committed change, in commit order. */
  readonly changes: ChangeFeed;
  /** Loads or connects; the server listens only after this resolves. */
  open(): Promise<void>;
  /**
   * Applies the commands in order and calls `done` once with one reply per command, after every
   * change those commands made or observed is durable. Never throws: a store fault turns the
   * affected replies into ERROR. `done` may run synchronously. A connection calls it again only
   * after `done` ran: its commands are in order without the backend ordering calls (the PostgreSQL
   * QUERY lane relies on it).
   */
  execute(commands: readonly Command[], done: (replies: Reply[]) => void): void;
  /**
   * True while commands can be served; /readyz answers 503 while it is false. False while a shared
   * database is down, while the embedded store's commits fail (until one succeeds again), and for
   * good once the embedded store's file is no longer at its path.
   */
  isAvailable(): boolean;
  /** How big the index is: cheap, for metrics and stats. */
  counts(): Promise<IndexCounts>;
  /**
   * The whole index at one moment, ordered for export (index-export.ts). The graph stores copy
   * the graph synchronously, between two turns of commands; PostgreSQL reads it in one statement.
   */
  exportIndex(): Promise<IndexExport>;
  /**
   * The index of one moment as a store file `serve --data-dir` opens (store-snapshot.ts), written
   * while commands go on being served; the caller releases it.
   */
  snapshot(): Promise<StoreSnapshot>;
  /** Commits what is in flight and releases the store and its reader. */
  close(): Promise<void>;
}
