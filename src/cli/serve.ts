/**
 * `package-indexer serve`: wires configuration, logger, metrics, store and listeners together,
 * and shuts them down in order on SIGTERM or SIGINT.
 */
import { redactDatabaseUrl, resolveConfig, settingName, type Config } from '../config.js';
import { announceListening } from '../client/listening-message.js';
import { createLogger } from '../log.js';
import type { ParsedArgs } from './command.js';
import { createBackend } from './create-backend.js';
import { startIndexer } from './indexer.js';

/** The configuration as logged: no password of a database URL. */
function redactConfig(config: Config): Config {
  return { ...config, databaseUrl: config.databaseUrl === undefined ? undefined : redactDatabaseUrl(config.databaseUrl) };
}

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
