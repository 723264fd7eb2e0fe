/**
 * What a CLI command is: its name, its words for `--help`, and one table of its options from which
 * both parseArgs and the usage text are made, so that the two cannot disagree. Its implementation
 * is loaded only when it runs, so the command list and every `--help` stay cheap. Commands return
 * their exit code; only main.ts calls `process.exit`.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

export interface OptionDoc {
  /** How parseArgs reads it: a switch, or a flag followed by its value. */
  readonly type: 'boolean' | 'string';
  /** Placeholder of the value in usage (`PORT`); a switch has none. */
  readonly value?: string | undefined;
  /** What it does, with its unit. */
  readonly meaning: string;
  /** The words it takes, when it takes words. */
  readonly choices?: readonly string[] | undefined;
  /** The value used when the option is not given, as a user would type it; none when there is none. */
  readonly default?: string | undefined;
  /** The environment variable that sets it too. */
  readonly env?: string | undefined;
  /** Its value holds arguments for another command and may start with `-`, which parseArgs would refuse. */
  readonly valueMayStartWithDash?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionDoc>>;
export type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** What follows `package-indexer NAME` in the usage line. */
  readonly synopsis: string;
  /** The paragraphs between the usage line and the options. */
  readonly description: string;
  readonly options: OptionTable;
  /** Whether it takes words that are not options. @default false */
  readonly positionals?: boolean;
  /** Loads the implementation and runs it with the parsed arguments; resolves with the exit code. */
  run(args: ParsedArgs): Promise<number>;
}

/** A command's arguments after parseArgs, read through its option table: a missing option reads as its default. */
export class ParsedArgs {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  readonly #options: OptionTable;

  constructor(values: OptionValues, positionals: readonly string[], options: OptionTable) {
    this.values = values;
    this.positionals = positionals;
    this.#options = options;
  }

  given(name: string): boolean {
    return this.values[name] !== undefined;
  }

  switch(name: string): boolean {
    return this.values[name] === true;
  }

  /** The option's text, or its default; undefined when it has neither. */
  text(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : this.#options[name]?.default;
  }

  /** A whole number of at least `min`, naming the option when it is not one. */
  integer(name: string, min = 0): number {
    const raw = this.text(name) ?? '';
    const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name}: expected a whole number of at least ${min}, got "${raw}"`);
    return value;
  }

  /** A decimal number within [min, max], naming the option when it is not one. */
  number(name: string, min: number, max: number): number {
    const raw = this.text(name) ?? '';
    const value = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name}: expected a number from ${min} to ${max}, got "${raw}"`);
    return value;
  }
}

/** parseArgs over the command's option table, strict, its failures turned into one-line usage errors. */
export function parseCommandArgs(command: CliCommand, args: readonly string[]): ParsedArgs {
  const options = Object.fromEntries(Object.entries(command.options).map(([name, doc]) => [name, { type: doc.type }]));
  try {
    const { values, positionals } = parseArgs({
      args: glueDashedValues(command.options, args),
      options,
      allowPositionals: command.positionals === true,
      strict: true,
    });
    return new ParsedArgs(values as OptionValues, positionals, command.options);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** parseArgs refuses `--server-args --in-memory` (a value that looks like a flag); `--server-args=--in-memory` it takes. */
function glueDashedValues(options: OptionTable, args: readonly string[]): string[] {
  const glued: string[] = [];
  for (let at = 0; at < args.length; at++) {
    const arg = args[at] ?? '';
    const value = args[at + 1];
    if (arg.startsWith('--') && options[arg.slice(2)]?.valueMayStartWithDash === true && value !== undefined) {
      glued.push(`${arg}=${value}`);
      at++;
    } else {
      glued.push(arg);
    }
  }
  return glued;
}

const WIDTH = 100;

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((part) => part !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** The text `--help` prints: usage line, description, and one entry per option of the table. */
export function usageOf(command: CliCommand): string {
  const heads = Object.entries(command.options).map(([name, doc]) => `--${name}${doc.value === undefined ? '' : ` ${doc.value}`}`);
  const column = Math.min(26, Math.max(...heads.map((head) => head.length)) + 4);
  const entries = Object.entries(command.options).map(([, doc], at) => {
    const choices = doc.choices === undefined ? '' : `; one of: ${doc.choices.join(', ')}`;
    const fallback = doc.default === undefined ? '' : ` (default: ${doc.default})`;
    const body = wrap(`${doc.meaning}${choices}${fallback}`, WIDTH - column);
    if (doc.env !== undefined) body.push(`[${doc.env}]`);
    const head = `  ${heads[at] ?? ''}`;
    const [first = '', ...rest] = head.length + 1 < column ? body : ['', ...body];
    return [`${head.padEnd(column)}${first}`.trimEnd(), ...rest.map((line) => `${''.padEnd(column)}${line}`)].join('\n');
  });
  return [`Usage: package-indexer ${command.name} ${command.synopsis}`, '', command.description, '', 'Options:', ...entries].join('\n');
}
