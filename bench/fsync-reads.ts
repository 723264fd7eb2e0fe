/**
 * What durable writes cost everybody else: a QUERY-only client's latency while writers run, on a
 * server started with `--fsync always` (and `normal`, for reference). Writers INDEX and REMOVE
 * packages of their own (every write changes the store, so every commit has an fsync to wait
 * for), as fast as they are answered; readers ask, ping-pong, about packages no writer touches, at
 * a fixed rate (so that readers answered faster do not take the writers' share of the one-thread
 * load generator, and writes per second compare between builds). Each mode is measured first
 * with readers alone, then with the writers running, in the same command: the ratio is what the
 * writers cost the readers. `--server-script` measures another build (an older dist/) the same way.
 * Run: node dist/bench/fsync-reads.js [--rounds 3] [--server-script path/to/dist/src/cli/main.js]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MAIN_SCRIPT, startChildServer } from '../src/client/child-server.js';
import { createLatencyHistogram, recordLatency, summarizeLatency, type LatencySummary } from '../src/client/latency-histogram.js';
import { ProtocolClient } from '../src/client/protocol-client.js';

const { values } = parseArgs({
  options: {
    'server-script': { type: 'string', default: MAIN_SCRIPT },
    modes: { type: 'string', default: 'always,normal' },
    readers: { type: 'string', default: '10' },
    'reads-per-second': { type: 'string', default: '500' },
    writers: { type: 'string', default: '20' },
    'duration-seconds': { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
  },
});
const READERS = Number(values.readers);
const WRITERS = Number(values.writers);
const DURATION_MS = Number(values['duration-seconds']) * 1000;
const ROUNDS = Number(values.rounds);
const READ_PACKAGES = 1_000;
/** Each reader's pace; a reader that falls behind catches up without pause. */
const READ_INTERVAL_MS = 1000 / Number(values['reads-per-second']);

interface Phase {
  readonly reads: LatencySummary;
  readonly readsPerSecond: number;
  readonly writesPerSecond: number;
}

async function readLoop(client: ProtocolClient, until: number, latencies: ReturnType<typeof createLatencyHistogram>): Promise<number> {
  let count = 0;
  let due = performance.now();
  while (performance.now() < until) {
    due += READ_INTERVAL_MS;
    const startedAt = performance.now();
    const reply = await client.request(`QUERY|read-${Math.floor(Math.random() * READ_PACKAGES)}|\n`);
    recordLatency(latencies, performance.now() - startedAt);
    if (reply !== 'OK') throw new Error(`a reader got ${reply}`);
    count++;
    const early = due - performance.now();
    if (early > 0) await new Promise((resolve) => setTimeout(resolve, early));
  }
  return count;
}

async function writeLoop(client: ProtocolClient, writer: number, until: number): Promise<number> {
  let count = 0;
  for (let k = 0; performance.now() < until; k++) {
    const name = `write-${writer}-${k % 50}`;
    const reply = await client.request(k % 100 < 50 ? `INDEX|${name}|read-0\n` : `REMOVE|${name}|\n`);
    if (reply !== 'OK') throw new Error(`a writer got ${reply}`);
    count++;
  }
  return count;
}

async function measure(mode: string, withWriters: boolean): Promise<Phase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fsync-reads-'));
  const server = await startChildServer(values['server-script'], ['serve', '--port', '0', '--admin-port', 'off', '--data-dir', dataDir, '--fsync', mode]);
  const connect = (): Promise<ProtocolClient> => ProtocolClient.connect('127.0.0.1', server.port);
  try {
    const loader = await connect();
    await Promise.all(Array.from({ length: READ_PACKAGES }, (_, i) => loader.request(`INDEX|read-${i}|\n`)));
    loader.close();
    const readers = await Promise.all(Array.from({ length: READERS }, connect));
    const writers = withWriters ? await Promise.all(Array.from({ length: WRITERS }, connect)) : [];
    const latencies = createLatencyHistogram();
    const startedAt = performance.now();
    const until = startedAt + DURATION_MS;
    const [reads, writes] = await Promise.all([
      Promise.all(readers.map((client) => readLoop(client, until, latencies))),
      Promise.all(writers.map((client, i) => writeLoop(client, i, until))),
    ]);
    const seconds = (performance.now() - startedAt) / 1000;
    for (const client of [...readers, ...writers]) client.close();
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    return { reads: summarizeLatency(latencies), readsPerSecond: sum(reads) / seconds, writesPerSecond: sum(writes) / seconds };
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ms = (us: number): string => (us / 1000).toFixed(3);

console.log(
  `server: ${values['server-script']}; ${READERS} QUERY-only readers (ping-pong, ${values['reads-per-second']}/s each), ${WRITERS} writers, ${DURATION_MS / 1000} s per phase, ${ROUNDS} rounds`,
);
for (const mode of values.modes.split(',')) {
  const alone: Phase[] = [];
  const loaded: Phase[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    alone.push(await measure(mode, false));
    loaded.push(await measure(mode, true));
    const [a, b] = [alone.at(-1), loaded.at(-1)];
    console.log(
      `fsync ${mode}, round ${round}: readers alone p99 ${ms(a?.reads.p99Us ?? 0)} ms; with writers p50 ${ms(b?.reads.p50Us ?? 0)} ms, ` +
        `p99 ${ms(b?.reads.p99Us ?? 0)} ms, max ${ms(b?.reads.maxUs ?? 0)} ms, ${Math.round(b?.writesPerSecond ?? 0)} writes/s`,
    );
  }
  const p99Alone = median(alone.map((phase) => phase.reads.p99Us));
  const p99Loaded = median(loaded.map((phase) => phase.reads.p99Us));
  console.log(
    `fsync ${mode}, medians: reader p99 ${ms(p99Alone)} ms alone, ${ms(p99Loaded)} ms with writers (${(p99Loaded / p99Alone).toFixed(2)}x); ` +
      `reader p50 with writers ${ms(median(loaded.map((phase) => phase.reads.p50Us)))} ms; ` +
      `${Math.round(median(loaded.map((phase) => phase.readsPerSecond)))} reads/s and ${Math.round(median(loaded.map((phase) => phase.writesPerSecond)))} writes/s with writers`,
  );
}
