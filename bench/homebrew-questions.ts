/**
 * The graph questions on a real dependency dump, answered twice: by a server's read API and by a
 * naive breadth-first search over plain maps, so that a person can see the two agree on real data.
 * Prints one JSON line per question.
 *
 *   node dist/bench/homebrew-questions.js --data brew-dependencies.txt [--dependents openssl] [--dependencies ffmpeg]
 */
import { parseArgs } from 'node:util';
import { startIndexer } from '../src/cli/indexer.js';
import { ProtocolClient } from '../src/client/protocol-client.js';
import { resolveConfig } from '../src/config.js';
import { commandFor } from '../src/dataset/dataset.js';
import { readHomebrewDump } from '../src/dataset/homebrew.js';
import { silentLogger } from '../src/log.js';
import { encodeCommand } from '../src/protocol/encode.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    dependents: { type: 'string', multiple: true, default: ['openssl'] },
    dependencies: { type: 'string', multiple: true, default: ['ffmpeg'] },
  },
});
if (values.data === undefined) throw new Error('--data FILE is required: a dump in the Homebrew format');

const dataset = await readHomebrewDump(values.data);
const forward = new Map(dataset.map((pkg) => [pkg.name, pkg.deps]));
const reverse = new Map<string, string[]>();
for (const pkg of dataset) for (const dep of pkg.deps) reverse.set(dep, [...(reverse.get(dep) ?? []), pkg.name]);

/** Breadth-first over plain maps: every package reachable from `start`, itself left out. */
function reachable(edges: Map<string, readonly string[]>, start: string): Set<string> {
  const seen = new Set([start]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    for (const next of edges.get(queue[head] as string) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  seen.delete(start);
  return seen;
}

const indexer = await startIndexer(resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true }, {}), silentLogger());
try {
  const client = await ProtocolClient.connect('127.0.0.1', indexer.address.port);
  const replies = await Promise.all(dataset.map((pkg) => client.request(encodeCommand(commandFor('INDEX', pkg)))));
  client.close();
  if (replies.some((reply) => reply !== 'OK')) throw new Error('the dump did not index cleanly');
  const admin = `http://127.0.0.1:${indexer.adminAddress?.port}`;
  const questions = [...values.dependents.map((name) => ['dependents', name] as const), ...values.dependencies.map((name) => ['dependencies', name] as const)];
  for (const [direction, name] of questions) {
    const response = await fetch(`${admin}/v1/packages/${encodeURIComponent(name)}/${direction}?depth=all&limit=1`);
    const api = (await response.json()) as { total?: number };
    const oracle = reachable(direction === 'dependents' ? reverse : forward, name).size;
    process.stdout.write(
      `${JSON.stringify({ packages: dataset.length, question: `${direction} of ${name}`, api: api.total, oracle, agree: api.total === oracle })}\n`,
    );
  }
} finally {
  await indexer.stop();
}
