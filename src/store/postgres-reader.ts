/**
 * The read side on PostgreSQL: every question is one statement on the shared tables (the graph
 * questions call the functions of src/store/postgres-graph-sql.ts), so every server sharing the
 * database gives the same answer, each from one snapshot, and the work is the database's, not
 * this event loop's.
 */
import type { Closure, ClosureEntry, Cycles, Direction, GraphSummary, IndexReader, InstallOrder, ListOptions, NameCount, PackageView } from './index-reader.js';
import { CLOSURE_STATEMENT, CYCLES_STATEMENT, INSTALL_ORDER_STATEMENT, PATH_STATEMENT, SUMMARY_STATEMENT } from './postgres-graph-sql.js';
import type { Row } from './postgres-pool.js';
import { DESCRIBE_STATEMENT, LIST_STATEMENT, type Statement } from './postgres-schema.js';

/** Names use no character above '~' ([P-NAME-1]), so prefix + this bounds every name with that prefix. */
const ABOVE_ANY_NAME_CHARACTER = '\x7f';

export type ReadStatement = (statement: Statement, values: readonly unknown[]) => Promise<Row[]>;

export class PostgresReader implements IndexReader {
  #read: ReadStatement;

  constructor(read: ReadStatement) {
    this.#read = read;
  }

  async describe(name: string, limit: number): Promise<PackageView | undefined> {
    const [row] = await this.#read(DESCRIBE_STATEMENT, [name, limit]);
    if (row === undefined) return undefined;
    return {
      name,
      dependencies: row['dependencies'] as string[],
      dependents: row['dependents'] as string[],
      dependentsTotal: Number(row['dependents_total']),
    };
  }

  async list({ prefix, after, limit }: ListOptions): Promise<string[]> {
    const rows = await this.#read(LIST_STATEMENT, [prefix, prefix + ABOVE_ANY_NAME_CHARACTER, after, limit]);
    return rows.map((row) => row['name'] as string);
  }

  async closure(name: string, direction: Direction, depth: number, limit: number): Promise<Closure | undefined> {
    const maxDepth = Number.isFinite(depth) ? depth : null;
    const [row] = await this.#read(CLOSURE_STATEMENT, [name, direction === 'dependents', maxDepth, limit]);
    if (row === undefined) return undefined;
    const packages = row['packages'] as ClosureEntry[];
    const total = Number(row['total']);
    return { name, total, truncated: total > packages.length, packages };
  }

  async installOrder(name: string, limit: number): Promise<InstallOrder | undefined> {
    const [row] = await this.#read(INSTALL_ORDER_STATEMENT, [name, limit]);
    const cycle = row?.['cycle'] as string[] | null | undefined;
    if (cycle !== null && cycle !== undefined) return { name, cycle };
    if (row === undefined || row['total'] === null) return undefined;
    const order = row['install_order'] as string[];
    const total = Number(row['total']);
    return { name, total, truncated: total > order.length, order };
  }

  async path(from: string, to: string): Promise<string[] | undefined> {
    const [row] = await this.#read(PATH_STATEMENT, [from, to]);
    return (row?.['path'] as string[] | null | undefined) ?? undefined;
  }

  async cycles(limit: number): Promise<Cycles> {
    const [row] = await this.#read(CYCLES_STATEMENT, [limit]);
    const cycles = (row?.['cycles'] ?? []) as string[][];
    const total = Number(row?.['total'] ?? 0);
    return { total, truncated: total > cycles.length, cycles };
  }

  async summary(top: number, sample: number): Promise<GraphSummary> {
    const [row] = await this.#read(SUMMARY_STATEMENT, [top, sample]);
    return {
      mostDependedUpon: (row?.['most_depended_upon'] ?? []) as NameCount[],
      roots: { total: Number(row?.['roots_total'] ?? 0), names: (row?.['roots'] ?? []) as string[] },
      leaves: { total: Number(row?.['leaves_total'] ?? 0), names: (row?.['leaves'] ?? []) as string[] },
    };
  }

  /** Nothing to prepare: every question is a query. */
  warm(): void {}

  async close(): Promise<void> {}
}
