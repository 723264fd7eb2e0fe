/**
 * PostgreSQL backends, protocol servers and indexers for the tests, on databases of the throwaway
 * cluster that src/dev/postgres-cluster.ts starts (one for the whole `npm test` run).
 */
import type { TestContext } from 'node:test';
import type pg from 'pg';
import { pino } from 'pino';
import { startIndexer, type RunningIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { PostgresBackend } from '../../src/store/postgres-backend.js';
import { startTestServer, type TestServer } from './server-harness.js';

export { startOwnTestPostgres, startTestPostgres, type OwnTestPostgres, type TestPostgres } from '../../src/dev/postgres-cluster.js';

export interface PostgresBackendTestOptions {
  /** @default 4 */
  readonly poolSize?: number;
  /** @default the backend's (4, at most the pool size) */
  readonly maxBatchesInFlight?: number;
  /** @default false */
  readonly queryLane?: boolean;
  /** @default silent */
  readonly logger?: Logger;
  /** @default a fresh registry */
  readonly metrics?: Metrics;
}

/** A PostgresBackend on `url`, not yet opened. */
export function createTestBackend(url: string, options: PostgresBackendTestOptions = {}): PostgresBackend {
  return new PostgresBackend({
    url,
    poolSize: options.poolSize ?? 4,
    ...(options.maxBatchesInFlight === undefined ? {} : { maxBatchesInFlight: options.maxBatchesInFlight }),
    queryLane: options.queryLane ?? false,
    logger: options.logger ?? silentLogger(),
    metrics: options.metrics ?? createMetrics({ processMetrics: false }),
  });
}

/** A protocol server on port 0 over an opened PostgresBackend; both close when the test ends. */
export async function startPostgresServer(
  t: TestContext,
  url: string,
  options: PostgresBackendTestOptions = {},
): Promise<TestServer & { backend: PostgresBackend }> {
  const metrics = options.metrics ?? createMetrics({ processMetrics: false });
  const backend = createTestBackend(url, { ...options, metrics });
  await backend.open();
  const server = await startTestServer(t, { backend, metrics });
  // registered after the server's own teardown, so it runs once no connection is left
  t.after(() => backend.close());
  return { ...server, backend };
}

/** `serve --database-url` in this process, protocol and admin ports on 0; stopped when the test ends. */
export async function startPostgresIndexer(t: TestContext, url: string, options: Omit<PostgresBackendTestOptions, 'metrics'> = {}): Promise<RunningIndexer> {
  const flags = { port: '0', host: '127.0.0.1', 'admin-port': '0', 'database-url': url, 'pool-size': String(options.poolSize ?? 4) };
  const indexer = await startIndexer(resolveConfig(flags, {}), options.logger ?? silentLogger());
  t.after(() => indexer.stop());
  return indexer;
}

/** A server's log line as a test reads it back. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  /** Only on the line that ends an outage. */
  readonly outageMs?: number;
  readonly err?: { readonly message?: string; readonly code?: string };
}

/** A server on PostgreSQL whose log lines, from `level` up, are collected in `logs`. */
export function startLoggedPostgresIndexer(t: TestContext, url: string, logs: LogLine[], level: 'info' | 'debug' = 'info'): Promise<RunningIndexer> {
  const logger = pino({ level }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });
  return startPostgresIndexer(t, url, { logger });
}

/** What the server's /readyz answers. */
export async function readyStatus(indexer: RunningIndexer): Promise<number> {
  return (await fetch(`http://127.0.0.1:${indexer.adminAddress?.port}/readyz`)).status;
}

/** Statements of the session's database waiting for a lock; each query outside a transaction sees the activity afresh. */
export async function lockWaiters(session: pg.Client): Promise<number> {
  const { rows } = await session.query<{ waiting: string }>(
    "SELECT count(*) AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return Number(rows[0]?.waiting ?? 0);
}
