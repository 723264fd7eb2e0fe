/**
 * The index in a PostgreSQL database that many servers share. The commands of one event-loop turn,
 * from every connection, go to the database as one transaction (postgres-batcher.ts) whose
 * outcome the database's constraints decide, so a client sees one index whatever server it reaches
 * and however the servers' commands interleave.
 * While the database is unreachable every command is answered ERROR, never a guessed OK or FAIL.
 */
import { redactDatabaseUrl } from '../config.js';
import { IndexerError, StoreOpenError, StoreUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Command, Reply } from '../protocol/types.js';
import type { Backend, IndexCounts } from './backend.js';
import { orderForExport, type IndexExport } from './index-export.js';
import { CHANGE_WINDOW, PostgresChangeFeed } from './postgres-change-feed.js';
import { snapshotOfExport, type StoreSnapshot } from './store-snapshot.js';
import { PostgresHealth, hasSqlState, type FailureKind } from './postgres-health.js';
import { createPostgresJsPool, type Row, type SqlPool, type SqlPoolFactory } from './postgres-pool.js';
import { PostgresBatcher } from './postgres-batcher.js';
import { PostgresReader } from './postgres-reader.js';
import { checkReplication, readReplication } from './postgres-replication.js';
import { COUNTS_STATEMENT, PROBE_STATEMENT, checkIsolation, migrate, type Statement } from './postgres-schema.js';

export interface PostgresBackendOptions {
  /** A postgres:// URL. */
  readonly url: string;
  /** Connections in the pool. */
  readonly poolSize: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The client library, for comparing clients; porsager's `postgres` unless given. */
  readonly createPool?: SqlPoolFactory;
  /** Commands in one transaction at most. @default 100 */
  readonly maxBatchCommands?: number;
  /** Batches in flight at once, each on a pooled connection. @default 4, at most the pool size */
  readonly maxBatchesInFlight?: number;
  /** QUERY-only connections answered in batches of their own, beside the write batches (postgres-batcher.ts). @default false */
  readonly queryLane?: boolean;
  /** Changes kept for resuming subscribers, by each server and in the change table. @default 10000 */
  readonly changeWindow?: number;
  /** Refuse to open unless commits wait for a synchronous standby (postgres-replication.ts). @default false */
  readonly requireSynchronousStandby?: boolean;
}

/** Commands in one transaction at most, by default (docs/postgres.md has the measurements). */
const MAX_BATCH_COMMANDS = 100;
/** Batch transactions in flight at once, by default (at most the pool size). */
const BATCHES_IN_FLIGHT = 4;
/** An unreachable host (no refusal, just silence) counts as down after this long. */
const CONNECT_TIMEOUT_MS = 5_000;
/** A statement with no reply for this long counts as a lost connection; ours take milliseconds. */
const QUERY_TIMEOUT_MS = 15_000;

/**
 * Batches in flight at most, each on a pooled connection: within the pool, so that none waits
 * for a connection. With the QUERY lane the two lanes share the pool, each keeping one connection
 * at least: a QUERY batch queued on a connection behind a write batch would wait for it after all.
 */
function batchesInFlight(options: PostgresBackendOptions): { maxBatchesInFlight: number; maxQueryBatchesInFlight: number } {
  const { poolSize, queryLane = false } = options;
  const wanted = Math.min(options.maxBatchesInFlight ?? BATCHES_IN_FLIGHT, poolSize);
  if (!queryLane) return { maxBatchesInFlight: wanted, maxQueryBatchesInFlight: 0 };
  // the configuration refuses this with the setting's name; here it is a caller's mistake
  if (poolSize < 2) throw new RangeError('the QUERY lane needs a pool of 2 connections or more');
  const writes = Math.min(wanted, poolSize - 1);
  return { maxBatchesInFlight: writes, maxQueryBatchesInFlight: Math.min(wanted, poolSize - writes) };
}

/**
 * What an error means for the command: a foreign key refused it (FAIL), it lost a race the
 * database detected (retry), the database could not be reached (ERROR, and the server stops
 * sending until it is back), or anything else (ERROR). An error with no SQLSTATE never came from
 * the server: the connection failed or timed out.
 */
export function classifyError(error: unknown): FailureKind {
  const code = sqlState(error);
  if (code === undefined) return 'unavailable';
  if (code === '23503' || code === '23001') return 'fail'; // foreign_key_violation, restrict_violation
  if (code === '40001' || code === '40P01') return 'retry'; // serialization_failure, deadlock_detected
  // connection_exception, admin/crash shutdown, cannot_connect_now, too_many_connections, read-only standby
  if (code.startsWith('08') || code.startsWith('57P') || code === '53300' || code === '25006') return 'unavailable';
  return 'fault';
}

function sqlState(error: unknown): string | undefined {
  return hasSqlState(error) ? error.code : undefined;
}

/** The error `open()` throws: unreachable (no SQLSTATE), or unusable (with the location, never a password). */
function openError(error: unknown, location: string): IndexerError {
  if (error instanceof IndexerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (!hasSqlState(error)) return new StoreUnavailableError(`cannot reach PostgreSQL at ${location}: ${detail}`, { cause: error });
  return new StoreOpenError('PI_ERR_STORE_OPEN', location, `cannot set up the schema at ${location}: ${detail}`, { cause: error });
}

export class PostgresBackend implements Backend {
  readonly description: string;
  readonly reader = new PostgresReader((statement, values) => this.#read(statement, values));
  /** Every server's committed changes, as the database numbered them. */
  readonly changes: PostgresChangeFeed;
  #options: PostgresBackendOptions;
  /** The URL without its password, for logs and errors. */
  #location: string;
  #pool: SqlPool | undefined;
  #health: PostgresHealth;
  #batcher: PostgresBatcher;
  #closing = false;

  constructor(options: PostgresBackendOptions) {
    this.#options = options;
    this.#location = redactDatabaseUrl(options.url);
    this.description = `postgres ${this.#location} (pool ${options.poolSize})`;
    this.#health = new PostgresHealth(options.logger, options.metrics, () => this.#probe());
    this.changes = new PostgresChangeFeed((channel, onNotify, onListening) => this.#requirePool().listen(channel, onNotify, onListening), {
      logger: options.logger,
      metrics: options.metrics,
      window: options.changeWindow ?? CHANGE_WINDOW,
    });
    this.#batcher = new PostgresBatcher({
      run: (statement, values) => this.#requirePool().query(statement.name, statement.text, values),
      isAvailable: () => this.#health.available,
      classify: classifyError,
      onRetry: (error) => this.#health.countRetry(sqlState(error) ?? ''),
      onFailure: (kind, error) => {
        options.metrics.commitFailures.inc();
        this.#health.failed(kind, error, 'batch');
      },
      onChange: () => this.changes.committed(),
      onCommit: (ms, commands) => {
        options.metrics.commitDuration.observe(ms / 1000);
        options.metrics.commitBatchSize.observe(commands);
      },
      maxBatchCommands: options.maxBatchCommands ?? MAX_BATCH_COMMANDS,
      ...batchesInFlight(options),
      metrics: options.metrics,
    });
  }

  async open(): Promise<void> {
    const { url, poolSize, createPool = createPostgresJsPool } = this.#options;
    const pool = createPool({
      url,
      size: poolSize,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
    });
    this.#pool = pool;
    try {
      await migrate(pool, this.#location);
      await checkIsolation(pool, this.#location);
      checkReplication(await readReplication(pool), this.#options.requireSynchronousStandby ?? false, this.#location, this.#options.logger);
      await this.changes.open();
    } catch (error) {
      await pool.end().catch(() => {});
      this.#pool = undefined;
      throw openError(error, this.#location);
    }
    this.#health.opened();
  }

  execute(commands: readonly Command[], done: (replies: Reply[]) => void): void {
    if (this.#closing || !this.#health.available) {
      done(commands.map(() => 'ERROR'));
      return;
    }
    this.#batcher.submit(commands, done);
  }

  isAvailable(): boolean {
    return this.#health.available;
  }

  /** Every package with its dependencies, for export. */
  static readonly EXPORT_STATEMENT: Statement = {
    name: 'package_indexer_export',
    text: `SELECT p.name, coalesce(array_agg(d.dependency) FILTER (WHERE d.dependency IS NOT NULL), '{}') AS deps
           FROM packages p LEFT JOIN dependencies d ON d.package = p.name GROUP BY p.name`,
  };

  /** One statement sees one snapshot of the database, so the copy is of one moment. */
  async exportIndex(): Promise<IndexExport> {
    const rows = await this.#read(PostgresBackend.EXPORT_STATEMENT, []);
    return await orderForExport(rows.map((row) => ({ name: String(row['name']), deps: (row['deps'] as string[] | null) ?? [] })));
  }

  async snapshot(): Promise<StoreSnapshot> {
    return snapshotOfExport(await this.exportIndex());
  }

  async counts(): Promise<IndexCounts> {
    const [row] = await this.#read(COUNTS_STATEMENT, []);
    return { packages: Number(row?.['packages'] ?? 0), dependencies: Number(row?.['dependencies'] ?? 0) };
  }

  /** Answers the batches already given, then closes the pool. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#batcher.drained();
    this.#health.close();
    await this.changes.close();
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  async #read(statement: Statement, values: readonly unknown[]): Promise<Row[]> {
    try {
      return await this.#requirePool().query(statement.name, statement.text, values);
    } catch (error) {
      if (classifyError(error) === 'unavailable') this.#health.suspect(error);
      throw error;
    }
  }

  /** A standby answers too, but is no use: the database is back once it takes writes. */
  async #probe(): Promise<void> {
    const [row] = await this.#requirePool().query(PROBE_STATEMENT.name, PROBE_STATEMENT.text, []);
    if (row?.['read_only'] !== 'off') throw new Error('PostgreSQL answers but is read-only (a standby?)');
  }

  #requirePool(): SqlPool {
    if (this.#pool === undefined) throw new Error('the PostgreSQL backend is not open');
    return this.#pool;
  }
}
