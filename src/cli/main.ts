#!/usr/bin/env node
/**
 * The `package-indexer` executable: picks the command, runs it, and turns its result or failure
 * into an exit code. The only place that calls `process.exit`.
 */
import { IndexerError } from '../errors.js';
import type { CliCommand } from './command.js';
import { serveCommand } from './serve.js';
import { clientCommand } from './client.js';
import { checkCommand } from './check.js';
import { benchCommand } from './bench.js';

const COMMANDS: readonly CliCommand[] = [serveCommand, clientCommand, checkCommand, benchCommand];

function overview(): string {
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(8)} ${command.summary}`);
  return ['Usage: package-indexer <command> [options]', '', 'Commands:', ...lines, '', 'Run `package-indexer <command> --help` for its options.'].join('\n');
}

/** Exit code 2 for bad usage or configuration, 1 for a failed run. */
function exitCodeFor(error: unknown): number {
  if (error instanceof IndexerError && (error.code === 'PI_ERR_USAGE' || error.code === 'PI_ERR_CONFIG')) return 2;
  if (error instanceof IndexerError && error.code.startsWith('PI_ERR_STORE_OPEN')) return 2;
  return 1;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    process.stderr.write(`package-indexer: unknown command "${name}"\n${overview()}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`package-indexer ${name}: ${message}\n`);
    return exitCodeFor(error);
  }
}

process.exit(await main(process.argv.slice(2)));
