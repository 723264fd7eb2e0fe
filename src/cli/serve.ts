/**
 * `package-indexer serve`: wires configuration, logger, metrics, store and listeners together,
 * and shuts them down in order on SIGTERM or SIGINT. Other signals a daemon's users send are
 * logged and ignored (README "Signals").
 */
import { redactDatabaseUrl, resolveConfig, settingName, type Config } from '../config.js';
import { announceListening } from '../client/listening-message.js';
import { createLogger, type Logger } from '../log.js';
import type { ParsedArgs } from './command.js';
import { createBackend } from './create-backend.js';
import { startIndexer } from './indexer.js';

/** The configuration as logged: no password of a database URL, no admin token. */
function redactConfig(config: Config): Config {
  return {
    ...config,
    databaseUrl: config.databaseUrl === undefined ? undefined : redactDatabaseUrl(config.databaseUrl),
    adminToken: config.adminToken === undefined ? undefined : '***',
  };
}

/**
 * Signals whose default would end the server (SIGHUP, SIGUSR2) or open Node's inspector to anyone
 * on the machine (SIGUSR1; a listener turns that off), and the reason each is ignored.
 */
const IGNORED_SIGNALS = {
  SIGHUP: 'there is nothing to reload (settings are read at start) and no log to reopen (stdout, or a syslog socket that reconnects by itself)',
  SIGUSR1: 'the inspector opens only when node is started with --inspect',
  SIGUSR2: 'no action is bound to it',
} as const satisfies Partial<Record<NodeJS.Signals, string>>;

/** Logs each ignored signal at warn, once per delivery, for as long as the process runs. */
function ignoreSignals(logger: Logger): void {
  for (const [signal, why] of Object.entries(IGNORED_SIGNALS)) {
    process.on(signal, () => logger.warn({ signal }, `${signal} ignored: ${why}`));
  }
}

/** Resolves on the first SIGTERM or SIGINT; a second one finds no listener and ends the process at once. */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export async function serve({ values }: ParsedArgs): Promise<number> {
  const config = resolveConfig(values, process.env);
  const logger = await createLogger(config);
  ignoreSignals(logger);
  const signal = waitForSignal();
  const indexer = await startIndexer(config, logger, createBackend, (key) => settingName(key, values, process.env));
  const { address, adminAddress, backend } = indexer;
  logger.info({ config: redactConfig(config), store: backend.description, address, adminAddress }, 'package-indexer listening');
  announceListening(address, adminAddress);

  logger.info({ signal: await signal }, 'shutting down');
  const startedAt = performance.now();
  await indexer.stop();
  logger.info({ durationMs: Math.round(performance.now() - startedAt) }, 'stopped');
  return 0;
}
