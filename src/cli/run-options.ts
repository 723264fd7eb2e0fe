/**
 * The options check and bench share, read from their parsed arguments: which servers to talk to
 * (`--host/--port` or `--targets`) and which dataset to use (`--data FILE`, or one generated from
 * `--packages/--mean-deps/--seed`). Their meanings and defaults are in commands.ts.
 */
import type { Package } from '../dataset/dataset.js';
import { generateDataset } from '../dataset/generate.js';
import { readHomebrewDump } from '../dataset/homebrew.js';
import { UsageError } from '../errors.js';
import type { ParsedArgs } from './command.js';
import type { Endpoint } from '../client/connect-many.js';

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

export function targetsFrom(args: ParsedArgs): Endpoint[] {
  const targets = args.text('targets');
  if (targets !== undefined) {
    if (args.given('host') || args.given('port')) throw new UsageError('--targets replaces --host and --port; give one or the other');
    const endpoints = targets
      .split(',')
      .filter((item) => item.trim() !== '')
      .map((item) => parseTarget(item.trim()));
    if (endpoints.length === 0) throw new UsageError('--targets: expected host:port,host:port,...');
    return endpoints;
  }
  return [{ host: args.text('host') ?? '', port: args.integer('port', 1) }];
}

/** The dataset the options name, and a few words saying which it is. */
export async function datasetFrom(args: ParsedArgs): Promise<{ dataset: Package[]; description: string }> {
  const seed = args.integer('seed');
  const data = args.text('data');
  if (data !== undefined) {
    if (args.given('packages') || args.given('mean-deps')) throw new UsageError('--data replaces --packages and --mean-deps; give one or the other');
    const dataset = await readHomebrewDump(data).catch((error: unknown) => {
      // an unreadable or malformed --data file is bad input to the command: exit 2, as for a bad flag
      throw new UsageError(`--data ${data}: ${error instanceof Error ? error.message : String(error)}`);
    });
    return { dataset, description: `${dataset.length} packages from ${data}` };
  }
  const packages = args.integer('packages', 1);
  const meanDeps = args.number('mean-deps', 0, 100);
  const dataset = generateDataset({ packages, meanDeps, seed });
  return { dataset, description: `${packages} generated packages (mean ${meanDeps} deps, seed ${seed})` };
}
