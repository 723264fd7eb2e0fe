/**
 * The read side: every question the admin API, the console and `graph` ask of the index, apart
 * from the command path. One implementation per kind of store: the graph stores answer from a
 * replica in a worker thread, so that a long question never holds the protocol's event loop;
 * PostgreSQL answers with recursive queries. A new question is added here and once per store.
 */
import type { Closure, Cycles, Direction, GraphSummary, InstallOrder } from '../graph/graph-questions.js';

export type { Closure, ClosureEntry, Cycles, Direction, GraphSummary, InstallOrder, NameCount } from '../graph/graph-questions.js';

export interface PackageView {
  readonly name: string;
  /** Every dependency, by name. */
  readonly dependencies: readonly string[];
  /** The first `limit` direct dependents by name. */
  readonly dependents: readonly string[];
  /** How many packages depend on it directly. */
  readonly dependentsTotal: number;
}

export interface ListOptions {
  /** Only names that start with this. */
  readonly prefix: string;
  /** Only names sorted strictly after this one (the paging cursor); '' starts at the beginning. */
  readonly after: string;
  /** The most names to return. */
  readonly limit: number;
}

export interface IndexReader {
  /** The package with its dependencies and up to `limit` dependents, or undefined when it is not indexed. */
  describe(name: string, limit: number): Promise<PackageView | undefined>;
  /** Indexed names in ascending code-point order. */
  list(options: ListOptions): Promise<string[]>;
  /** Everything `name` reaches within `depth` steps (Infinity for all) the way asked, or undefined when it is not indexed. */
  closure(name: string, direction: Direction, depth: number, limit: number): Promise<Closure | undefined>;
  installOrder(name: string, limit: number): Promise<InstallOrder | undefined>;
  /** A shortest chain of "depends on" edges from → to; undefined when there is none or either is not indexed. */
  path(from: string, to: string): Promise<string[] | undefined>;
  cycles(limit: number): Promise<Cycles>;
  summary(top: number, sample: number): Promise<GraphSummary>;
  /** Gets ready now rather than at the first question (the graph stores copy the graph to their worker). */
  warm(): void;
  /** Releases what the reader holds (a worker, connections). */
  close(): Promise<void>;
}
