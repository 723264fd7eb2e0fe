/**
 * One running package-indexer: admin listener, store and protocol listener, started and stopped
 * in the order that keeps readiness honest. `serve` runs it until a signal; tests run it in-process.
 */
import type { AddressInfo } from 'node:net';
import { AdminServer } from '../admin/http.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createMetrics, disabledMetrics, type Metrics } from '../metrics.js';
import { IndexServer } from '../server/server.js';
import type { Backend } from '../store/backend.js';
import { createBackend } from './create-backend.js';
import { descriptorBudget, readOpenFilesLimit } from './descriptor-budget.js';

export interface RunningIndexer {
  readonly address: AddressInfo;
  readonly adminAddress: AddressInfo | undefined;
  readonly server: IndexServer;
  readonly backend: Backend;
  readonly metrics: Metrics;
  /** Flips readiness, stops accepting, answers the lines already read, commits, closes. */
  stop(): Promise<void>;
}

export type BackendFactory = (config: Config, logger: Logger, metrics: Metrics) => Backend;

export async function startIndexer(config: Config, logger: Logger, makeBackend: BackendFactory = createBackend): Promise<RunningIndexer> {
  warnIfDescriptorsShort(config, logger);
  // with no admin port nobody can read the metrics, so none are collected
  const metrics = config.adminPort === null ? disabledMetrics() : createMetrics();
  const backend = makeBackend(config, logger, metrics);
  let ready = false;
  const server = new IndexServer({ ...config, backend, metrics, logger });
  const admin = config.adminPort === null
    ? undefined
    : new AdminServer({ backend, metrics, logger, isReady: () => ready, openConnections: () => server.activeConnections, connectionLimit: config.adminConnectionLimit });
  // the admin port comes up first, so /healthz answers and /readyz says 503 while the store loads
  const adminAddress = await admin?.listen(config.adminPort ?? 0, config.adminHost);
  let address: AddressInfo;
  try {
    await backend.open();
    address = await server.listen(config.port, config.host);
  } catch (error) {
    await admin?.close();
    await backend.close();
    throw error;
  }
  ready = true;
  // the read side's copy of the graph is made now, not at the first question someone asks
  if (admin !== undefined) backend.reader.warm();
  const stop = async (): Promise<void> => {
    ready = false;
    await server.close(config.shutdownTimeoutMs);
    await backend.close();
    await admin?.close();
  };
  return { address, adminAddress, server, backend, metrics, stop };
}

function warnIfDescriptorsShort(config: Config, logger: Logger): void {
  const limit = readOpenFilesLimit();
  const budget = descriptorBudget(config);
  if (limit === undefined || budget.total <= limit) return;
  logger.warn(
    { descriptorLimit: limit, descriptorsNeeded: budget.total, budget },
    `the connection limits need up to ${budget.total} file descriptors but the process may open ${limit} (ulimit -n): raise the limit, or lower --connection-limit, --waiting-limit or --admin-connection-limit, or connections past it are closed unanswered`,
  );
}
