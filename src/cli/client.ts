/**
 * `package-indexer client`: sends request lines from its arguments, or else from stdin, and prints
 * each reply on its own line, for people and scripts.
 */
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';
import { integerOption, parseCommandArgs, type CliCommand } from './command.js';
import { ProtocolClient } from '../client/protocol-client.js';

const USAGE = `Usage: package-indexer client [--host HOST] [--port PORT] [LINE ...]

Sends each LINE (e.g. 'INDEX|b|a' or 'QUERY|b|') to the server and prints its reply (OK, FAIL or
ERROR). With no LINE, reads lines from stdin. Exits 0 when every line was answered, 1 when the
connection failed.
  --host HOST   server host (default 127.0.0.1)
  --port PORT   server port (default 8080)`;

async function* linesOf(positionals: string[]): AsyncIterable<string> {
  if (positionals.length > 0) {
    yield* positionals;
    return;
  }
  // readline is fine here: stdin of a CLI is trusted and small, unlike a server's sockets
  yield* createInterface({ input: process.stdin, crlfDelay: Infinity });
}

async function runClient(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { host: { type: 'string' }, port: { type: 'string' } }, true);
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  const port = integerOption(values, 'port', 8080);
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

export const clientCommand: CliCommand = { name: 'client', summary: 'send commands and print the replies', usage: USAGE, run: runClient };
