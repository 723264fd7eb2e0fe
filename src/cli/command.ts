/**
 * What every CLI command provides, and the error for words that do not fit its usage. Commands
 * return their exit code; only main.ts calls `process.exit`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking, its failures turned into one-line usage errors. */
export function parseCommandArgs(args: string[], options: OptionSpec, allowPositionals = false): {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
} {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Reads a whole-number option, naming it when it is not one. */
export function integerOption(values: Record<string, unknown>, name: string, fallback: number, min = 0): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name}: expected a whole number of at least ${min}, got "${String(raw)}"`);
  return value;
}
