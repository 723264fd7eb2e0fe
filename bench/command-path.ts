/**
 * The command path without sockets: the server's framing, byte parser, in-memory store and reply
 * bytes, fed chunks of 16 pipelined lines of bench's request mix (a socket's worth at pipeline 16),
 * and the CPU time per line. Steadier than `bench`, whose sockets and load generator take most of
 * the CPU and swing by a third between runs on this shared machine: a change to the hot path that
 * saves a tenth shows here and drowns there. Not measured here: the SQLite store's commits, and
 * lines split across chunks (every chunk here ends with a whole line).
 *
 * With `--against DIR` (another build's `dist`, e.g. of the commit before a change, built with
 * `git worktree add /tmp/before HEAD~1 && cd /tmp/before && npm ci && npx tsc -p tsconfig.json`) it
 * runs both builds in one process, rounds alternating, and prints the ratio of the medians.
 * Run: node dist/bench/command-path.js [--data FILE | --packages N] [--rounds 10] [--against DIR]
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from '../src/protocol/types.js';
import { median } from '../src/cli/bench.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    packages: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '10' },
    against: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const WARMUP_ROUNDS = 2;
const CONNECTIONS = 100;
const LINES_PER_CHUNK = 16;
const CHUNKS = 20_000;
const WRITE_PERCENT = 20;

/** One build's command path, ready to run: `turn(i)` feeds chunk i and writes its replies. */
interface Subject {
  readonly label: string;
  readonly chunks: number;
  turn(chunk: number): void;
  readonly nsPerLine: number[];
}

async function subjectOf(label: string, dist: string): Promise<Subject> {
  // each build's own modules, typed as this build's: the two must agree on these signatures
  const load = <M>(path: string): Promise<M> => import(pathToFileURL(resolve(dist, 'src', path)).href) as Promise<M>;
  const homebrew = await load<typeof import('../src/dataset/homebrew.js')>('dataset/homebrew.js');
  const dataset = await load<typeof import('../src/dataset/dataset.js')>('dataset/dataset.js');
  const generate = await load<typeof import('../src/dataset/generate.js')>('dataset/generate.js');
  const workload = await load<typeof import('../src/client/workload.js')>('client/workload.js');
  const random = await load<typeof import('../src/dataset/random.js')>('dataset/random.js');
  const splitter = await load<typeof import('../src/protocol/line-splitter.js')>('protocol/line-splitter.js');
  const parser = await load<typeof import('../src/protocol/parse-bytes.js')>('protocol/parse-bytes.js');
  const memory = await load<typeof import('../src/store/memory-backend.js')>('store/memory-backend.js');
  const encode = await load<typeof import('../src/protocol/encode.js')>('protocol/encode.js');
  const packages =
    values.data === undefined
      ? generate.generateDataset({ packages: Number(values.packages) })
      : dataset.topologicalOrder(homebrew.parseHomebrewDump(readFileSync(values.data, 'utf8')));
  const backend = new memory.MemoryBackend();
  backend.execute(
    packages.map((pkg) => ({ kind: 'INDEX', name: pkg.name, deps: pkg.deps })),
    () => {},
  );
  const mix = new workload.Workload(packages, WRITE_PERCENT);
  const streams = Array.from({ length: CONNECTIONS }, (_, i) => mix.stream(new random.Random(i + 1)));
  const chunks: Buffer[] = [];
  for (let c = 0; c < CHUNKS; c++) {
    const stream = streams[c % CONNECTIONS] as (typeof streams)[number];
    let text = '';
    for (let k = 0; k < LINES_PER_CHUNK; k++) text += stream.next();
    chunks.push(Buffer.from(text, 'latin1'));
  }
  const { parseLineBytes } = parser;
  const connections = Array.from({ length: CONNECTIONS }, () => {
    const queue: { lines: Command[] } = { lines: [] };
    const sink = { line: (bytes: Buffer, start: number, end: number) => queue.lines.push(parseLineBytes(bytes, start, end) as Command), overflow() {} };
    return { queue, sink, splitter: new splitter.LineSplitter(1 << 20) };
  });
  const { writeReply, MAX_REPLY_BYTES } = encode;
  let sent = 0;
  return {
    label,
    chunks: chunks.length,
    nsPerLine: [],
    turn(c) {
      const connection = connections[c % CONNECTIONS] as (typeof connections)[number];
      connection.splitter.push(chunks[c] as Buffer, connection.sink);
      const batch = connection.queue.lines;
      connection.queue.lines = [];
      backend.execute(batch, (replies) => {
        const out = Buffer.allocUnsafe(batch.length * MAX_REPLY_BYTES);
        let length = 0;
        for (const reply of replies) length = writeReply(out, length, reply);
        sent += length;
      });
      if (sent < 0) throw new Error('unreachable: keeps the replies observable');
    },
  };
}

const here = resolve(import.meta.dirname, '..');
const subjects = [await subjectOf('this build', here)];
if (values.against !== undefined) subjects.push(await subjectOf(`against ${values.against}`, resolve(values.against)));
for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
  // each build goes first every other round: garbage one leaves may be collected in the other's time
  for (const subject of round % 2 === 0 ? subjects : [...subjects].reverse()) {
    const before = process.cpuUsage();
    for (let c = 0; c < subject.chunks; c++) subject.turn(c);
    const used = process.cpuUsage(before);
    if (round >= WARMUP_ROUNDS) subject.nsPerLine.push(((used.user + used.system) * 1000) / (subject.chunks * LINES_PER_CHUNK));
  }
}
console.log(
  `command path: ${CHUNKS} chunks of ${LINES_PER_CHUNK} lines, ${WRITE_PERCENT}% writes, ${ROUNDS} rounds${subjects.length > 1 ? ' alternating' : ''}`,
);
for (const subject of subjects) {
  console.log(
    `${subject.label.padEnd(40)} median ${median(subject.nsPerLine).toFixed(0).padStart(5)} ns/line  (rounds ${subject.nsPerLine.map((ns) => ns.toFixed(0)).join(' ')})`,
  );
}
if (subjects.length > 1) {
  const [ours, theirs] = subjects as [Subject, Subject];
  console.log(`this build / against: ${(median(ours.nsPerLine) / median(theirs.nsPerLine)).toFixed(2)}x CPU per line`);
}
