#!/usr/bin/env node
/**
 * The `package-indexer` executable: picks the command, runs it, and turns its result or failure
 * into an exit code. The only place that calls `process.exit`.
 */
import { redactUrlsIn } from '../config.js';
import { EXIT_STATUS, exitStatusOf } from '../errors.js';
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

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`);
    return name === undefined ? EXIT_STATUS.usage : EXIT_STATUS.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    process.stderr.write(`package-indexer: unknown command "${name}"\n${overview()}\n`);
    return EXIT_STATUS.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // a message may quote an argument or a driver's words, either of which may hold a database URL
    process.stderr.write(`package-indexer ${name}: ${redactUrlsIn(message)}\n`);
    return exitStatusOf(error);
  }
}

process.exit(await main(process.argv.slice(2)));
