#!/usr/bin/env node
/**
 * The `package-indexer` executable: picks the command, parses its arguments from its option table,
 * runs it, and turns its result or failure into an exit code. The only place that calls
 * `process.exit`. It imports nothing heavy: each command loads its own modules when it runs.
 */
import { readFileSync } from 'node:fs';
import { redactUrlsIn } from '../config.js';
import { EXIT_STATUS, exitStatusOf } from '../errors.js';
import { parseCommandArgs, usageOf } from './command.js';
import { COMMANDS } from './commands.js';

function overview(): string {
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(8)} ${command.summary}`);
  return [
    'Usage: package-indexer <command> [options]',
    '       package-indexer --version',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `package-indexer <command> --help` for its options.',
  ].join('\n');
}

/** The version in package.json, two folders above dist/src/cli/ in a checkout and in the image alike. */
function version(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  return typeof manifest === 'object' && manifest !== null && 'version' in manifest ? String(manifest.version) : 'unknown';
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`);
    return name === undefined ? EXIT_STATUS.usage : EXIT_STATUS.ok;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return EXIT_STATUS.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    process.stderr.write(`package-indexer: unknown command "${name}"\n${overview()}\n`);
    return EXIT_STATUS.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usageOf(command)}\n`);
    return EXIT_STATUS.ok;
  }
  try {
    return await command.run(parseCommandArgs(command, args));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // a message may quote an argument or a driver's words, either of which may hold a database URL
    process.stderr.write(`package-indexer ${name}: ${redactUrlsIn(message)}\n`);
    return exitStatusOf(error);
  }
}

process.exit(await main(process.argv.slice(2)));
