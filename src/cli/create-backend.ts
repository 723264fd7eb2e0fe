/**
 * Chooses the store a `serve` run uses from its configuration: a shared PostgreSQL database when
 * given its URL, else the durable embedded store unless the user asked for memory only.
 */
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Backend } from '../store/backend.js';
import { MemoryBackend } from '../store/memory-backend.js';
import { PostgresBackend } from '../store/postgres-backend.js';
import { SqliteBackend } from '../store/sqlite-backend.js';
import type { SettingNamer } from './indexer.js';

export function createBackend(config: Config, logger: Logger, metrics: Metrics, nameOf: SettingNamer): Backend {
  if (config.databaseUrl !== undefined) {
    // each lane keeps a connection of its own, or a QUERY batch could queue behind a write batch
    if (config.queryLane && config.poolSize < 2) throw new ConfigError(nameOf('poolSize'), 'the QUERY lane needs a pool of 2 connections or more');
    return new PostgresBackend({
      url: config.databaseUrl,
      poolSize: config.poolSize,
      maxBatchCommands: config.batchMaxCommands,
      // the backend keeps it within the pool size
      maxBatchesInFlight: config.batchesInFlight,
      queryLane: config.queryLane,
      requireSynchronousStandby: config.requireSynchronousStandby,
      logger,
      metrics,
    });
  }
  if (config.queryLane) {
    throw new ConfigError(nameOf('queryLane'), 'the QUERY lane is a way to batch for PostgreSQL: give --database-url too');
  }
  if (config.requireSynchronousStandby) {
    // a guarantee asked for that no embedded store can give: refused rather than ignored
    throw new ConfigError(nameOf('requireSynchronousStandby'), 'a synchronous standby is a PostgreSQL set-up: give --database-url too');
  }
  if (config.inMemory) {
    logger.warn('in-memory mode: nothing is persisted');
    return new MemoryBackend();
  }
  return new SqliteBackend({ dataDir: config.dataDir, fsync: config.fsync, logger, metrics });
}
