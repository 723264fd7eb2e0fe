/**
 * `package-indexer serve`: wires configuration, logger, metrics, store and listeners together,
 * and shuts them down in order on SIGTERM or SIGINT.
 */
import { DEFAULTS, SETTINGS, redactDatabaseUrl, resolveConfig, type Config } from '../config.js';
import { createLogger } from '../log.js';
import { parseCommandArgs, type CliCommand, type OptionSpec } from './command.js';
import { startIndexer } from './indexer.js';

const OPTIONS: OptionSpec = Object.fromEntries(
  SETTINGS.map(({ flag, key }) => [flag, { type: key === 'inMemory' ? 'boolean' : 'string' }] as const),
);

function usage(): string {
  const rows = SETTINGS.map(({ flag, env, key }) => {
    const fallback = DEFAULTS[key];
    return `  --${flag.padEnd(20)} ${env.padEnd(38)} default: ${fallback === undefined ? '(none)' : JSON.stringify(fallback)}`;
  });
  return ['Usage: package-indexer serve [options]', '', 'Runs the index server. Each option can also be set by its environment variable; the flag wins.', '', ...rows].join('\n');
}

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

async function serve(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, OPTIONS);
  const config = resolveConfig(values, process.env);
  const logger = await createLogger(config);
  const signal = waitForSignal();
  const indexer = await startIndexer(config, logger);
  const { address, adminAddress, backend } = indexer;
  logger.info({ config: redactConfig(config), store: backend.description, address, adminAddress }, 'package-indexer listening');

  logger.info({ signal: await signal }, 'shutting down');
  const startedAt = performance.now();
  await indexer.stop();
  logger.info({ durationMs: Math.round(performance.now() - startedAt) }, 'stopped');
  return 0;
}

export const serveCommand: CliCommand = { name: 'serve', summary: 'run the index server', usage: usage(), run: serve };
