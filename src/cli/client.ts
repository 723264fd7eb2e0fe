/**
 * `package-indexer client`: sends request lines from its arguments, or else from stdin, and prints
 * each reply on its own line, for people and scripts.
 */
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';
import type { ParsedArgs } from './command.js';
import { ProtocolClient } from '../client/protocol-client.js';

async function* linesOf(positionals: readonly string[]): AsyncIterable<string> {
  if (positionals.length > 0) {
    yield* positionals;
    return;
  }
  // readline is fine here: stdin of a CLI is trusted and small, unlike a server's sockets
  yield* createInterface({ input: process.stdin, crlfDelay: Infinity });
}

export async function runClient(args: ParsedArgs): Promise<number> {
  const { positionals } = args;
  const host = args.text('host') ?? '';
  const port = args.integer('port');
  // one argument is one request: a line feed inside it would send two and print one reply
  if (positionals.some((line) => line.includes('\n'))) throw new UsageError('a LINE must not contain a line feed; give each request as its own argument');
  const client = await ProtocolClient.connect(host, port);
  try {
    for await (const line of linesOf(positionals)) {
      const reply = await client.request(`${line}\n`);
      process.stdout.write(`${reply}\n`);
    }
  } finally {
    client.close();
  }
  return 0;
}
