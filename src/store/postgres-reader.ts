/**
 * The read side on PostgreSQL: every question is a query on the shared tables, so every server
 * sharing the database gives the same answer, each from one snapshot.
 */
import type { Row } from './postgres-pool.js';
import { DESCRIBE_STATEMENT, LIST_STATEMENT, type Statement } from './postgres-schema.js';
import type { Closure, Cycles, Direction, GraphSummary, IndexReader, InstallOrder, ListOptions, PackageView } from './index-reader.js';

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

  closure(_name: string, _direction: Direction, _depth: number, _limit: number): Promise<Closure | undefined> {
    return notYet();
  }

  installOrder(_name: string, _limit: number): Promise<InstallOrder | undefined> {
    return notYet();
  }

  path(_from: string, _to: string): Promise<string[] | undefined> {
    return notYet();
  }

  cycles(_limit: number): Promise<Cycles> {
    return notYet();
  }

  summary(_top: number, _sample: number): Promise<GraphSummary> {
    return notYet();
  }

  /** Nothing to prepare: every question is a query. */
  warm(): void {}

  async close(): Promise<void> {}
}

function notYet(): Promise<never> {
  return Promise.reject(new Error('the PostgreSQL store does not answer this question yet'));
}
