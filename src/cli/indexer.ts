/**
 * One running package-indexer: admin listener, store and protocol listener, started and stopped
 * in the order that keeps readiness honest. `serve` runs it until a signal; tests run it in-process.
 */
import type { AddressInfo } from 'node:net';
import { AdminServer } from '../admin/http.js';
import { settingName, type Config } from '../config.js';
import { ListenError } from '../errors.js';
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

export type BackendFactory = (config: Config, logger: Logger, metrics: Metrics, nameOf: SettingNamer) => Backend;
/** How a setting is named in messages: the flag or the variable the user gave. */
export type SettingNamer = (key: keyof Config) => string;

interface Listener {
  readonly port: number;
  readonly host: string;
  readonly portSetting: keyof Config;
  readonly hostSetting: keyof Config;
}

/**
 * A listener's failure as one line naming the setting to change and its value; Node's own words
 * (`listen EADDRINUSE: address already in use :::8080`) name neither. Other errors pass as they are.
 */
function listenError(error: unknown, listener: Listener, nameOf: SettingNamer): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const { port } = listener;
  const portName = `${nameOf(listener.portSetting)} ${port}`;
  const hostName = `${nameOf(listener.hostSetting)} "${listener.host}"`;
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(
        'PI_ERR_LISTEN_IN_USE',
        nameOf(listener.portSetting),
        port,
        `${portName}: another process already listens on this port; stop it or choose another port`,
        { cause: error },
      );
    case 'EACCES':
      return new ListenError(
        'PI_ERR_LISTEN',
        nameOf(listener.portSetting),
        port,
        `${portName}: not permitted to listen on this port (below 1024 it needs privileges)`,
        { cause: error },
      );
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return new ListenError('PI_ERR_LISTEN', nameOf(listener.hostSetting), port, `${hostName}: no interface of this machine has this address (${code})`, {
        cause: error,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return new ListenError('PI_ERR_LISTEN', nameOf(listener.hostSetting), port, `${hostName}: the name does not resolve to an address (${code})`, {
        cause: error,
      });
    default:
      return error;
  }
}

export async function startIndexer(
  config: Config,
  logger: Logger,
  makeBackend: BackendFactory = createBackend,
  nameOf: SettingNamer = (key) => settingName(key, {}, {}),
): Promise<RunningIndexer> {
  warnIfDescriptorsShort(config, logger);
  // with no admin port nobody can read the metrics, so none are collected
  const metrics = config.adminPort === null ? disabledMetrics() : createMetrics();
  const backend = makeBackend(config, logger, metrics, nameOf);
  let ready = false;
  const server = new IndexServer({ ...config, backend, metrics, logger });
  const admin =
    config.adminPort === null
      ? undefined
      : new AdminServer({
          backend,
          metrics,
          logger,
          isReady: () => ready,
          openConnections: () => server.activeConnections,
          connectionLimit: config.adminConnectionLimit,
          token: config.adminToken,
        });
  // the admin port comes up first, so /healthz answers and /readyz says 503 while the store loads
  const adminListener = { port: config.adminPort ?? 0, host: config.adminHost, portSetting: 'adminPort', hostSetting: 'adminHost' } as const;
  const adminAddress = await admin?.listen(adminListener.port, adminListener.host).catch((error: unknown) => {
    throw listenError(error, adminListener, nameOf);
  });
  let address: AddressInfo;
  try {
    await backend.open();
    address = await server.listen(config.port, config.host).catch((error: unknown) => {
      throw listenError(error, { port: config.port, host: config.host, portSetting: 'port', hostSetting: 'host' }, nameOf);
    });
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
