/**
 * The options check and bench share: which servers to talk to (`--host/--port` or `--targets`)
 * and which dataset to use (`--data FILE`, or one generated from `--packages/--mean-deps/--seed`).
 */
import type { Package } from '../dataset/dataset.js';
import { generateDataset } from '../dataset/generate.js';
import { readHomebrewDump } from '../dataset/homebrew.js';
import { UsageError } from '../errors.js';
import { integerOption, type OptionSpec } from './command.js';
import type { Endpoint } from '../client/connect-many.js';

type Values = Record<string, string | boolean | undefined>;

export const TARGET_OPTIONS: OptionSpec = {
  host: { type: 'string' },
  port: { type: 'string' },
  targets: { type: 'string' },
};

export const DATASET_OPTIONS: OptionSpec = {
  data: { type: 'string' },
  packages: { type: 'string' },
  'mean-deps': { type: 'string' },
  seed: { type: 'string' },
};

export const TARGET_USAGE = `  --host HOST            server host (default 127.0.0.1)
  --port PORT            server port (default 8080)
  --targets H:P,H:P,...  several servers (e.g. instances sharing one database); connections are
                         spread over them round-robin; replaces --host/--port`;

export function datasetUsage(defaultPackages: number): string {
  return `  --data FILE            dataset in the Homebrew dump format (\`name: dep1 dep2\` per line);
                         dependencies without a line of their own become packages without deps
  --packages N           else generate N packages (default ${defaultPackages})
  --mean-deps D          mean dependencies per generated package (default 3)
  --seed S               seed of the generated dataset and of every random choice (default 1)`;
}

/** A decimal option within [min, max], naming it when it is not one. */
export function numberOption(values: Values, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name}: expected a number from ${min} to ${max}, got "${String(raw)}"`);
  return value;
}

export function seedOption(values: Values): number {
  return integerOption(values, 'seed', 1);
}

/** `host:port`, or `[v6 address]:port`. */
function parseTarget(text: string): Endpoint {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || host === '' || !Number.isSafeInteger(port) || port < 1 || port > 65_535) {
    throw new UsageError(`--targets: expected host:port, got "${text}"`);
  }
  return { host, port };
}

export function targetsFrom(values: Values): Endpoint[] {
  if (typeof values.targets === 'string') {
    if (values.host !== undefined || values.port !== undefined) throw new UsageError('--targets replaces --host and --port; give one or the other');
    const targets = values.targets.split(',').filter((item) => item.trim() !== '').map((item) => parseTarget(item.trim()));
    if (targets.length === 0) throw new UsageError('--targets: expected host:port,host:port,...');
    return targets;
  }
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  return [{ host, port: integerOption(values, 'port', 8080, 1) }];
}

/** The dataset the options name, and a few words saying which it is. */
export async function datasetFrom(values: Values, defaultPackages: number): Promise<{ dataset: Package[]; description: string }> {
  const seed = seedOption(values);
  if (typeof values.data === 'string') {
    if (values.packages !== undefined || values['mean-deps'] !== undefined) throw new UsageError('--data replaces --packages and --mean-deps; give one or the other');
    const dataset = await readHomebrewDump(values.data).catch((error: unknown) => {
      // an unreadable or malformed --data file is bad input to the command: exit 2, as for a bad flag
      throw new UsageError(`--data ${values.data}: ${error instanceof Error ? error.message : String(error)}`);
    });
    return { dataset, description: `${dataset.length} packages from ${values.data}` };
  }
  const packages = integerOption(values, 'packages', defaultPackages, 1);
  const meanDeps = numberOption(values, 'mean-deps', 3, 0, 100);
  const dataset = generateDataset({ packages, meanDeps, seed });
  return { dataset, description: `${packages} generated packages (mean ${meanDeps} deps, seed ${seed})` };
}
