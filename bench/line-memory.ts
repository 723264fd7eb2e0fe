/**
 * Memory held per indexed package when request lines are long: loads N packages whose INDEX lines
 * are about 1 KB (30 long dependency names) through the server's own framing and parsing, then
 * prints the heap and RSS that remain once the lines are garbage. A stored name that is a slice of
 * its line keeps the whole line alive; names that own their memory hold a few bytes each.
 * Run: node dist/bench/line-memory.js [--packages 100000] [--deps 30]
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { mebibytes } from '../src/client/process-usage.js';
import { LineSplitter } from '../src/protocol/line-splitter.js';
import { parseLineBytes } from '../src/protocol/parse-bytes.js';
import type { Command } from '../src/protocol/types.js';
import { MemoryBackend } from '../src/store/memory-backend.js';

const { values } = parseArgs({ options: { packages: { type: 'string', default: '100000' }, deps: { type: 'string', default: '30' } } });
const packageCount = Number(values.packages);
const depsPerLine = Number(values.deps);
const BASE_PACKAGES = 1_000;
const CHUNK_BYTES = 64 * 1024;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function settledUsage(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) collectGarbage();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

/** A long name, as real ecosystems have (`@scope/package-name`), so the line is about 1 KB. */
function baseName(i: number): string {
  return `@example/dependency-name-${String(i).padStart(6, '0')}`;
}

/** The INDEX lines of one chunk's worth of packages, from `first` on; returns the bytes and the next package. */
function chunkOfLines(first: number): { bytes: Buffer; next: number } {
  const lines: string[] = [];
  let size = 0;
  let i = first;
  for (; i < packageCount && size < CHUNK_BYTES; i++) {
    const deps: string[] = [];
    for (let k = 0; k < depsPerLine; k++) deps.push(baseName((i * 7 + k * 31) % BASE_PACKAGES));
    const line = `INDEX|@example-scope/indexed-package-${String(i).padStart(7, '0')}|${deps.join(',')}\n`;
    lines.push(line);
    size += line.length;
  }
  return { bytes: Buffer.from(lines.join(''), 'latin1'), next: i };
}

const backend = new MemoryBackend();
await backend.open();
let commands: Command[] = [];
let lineBytes = 0;
const sink = {
  line(bytes: Buffer, start: number, end: number): void {
    lineBytes += end - start + 1;
    const parsed = parseLineBytes(bytes, start, end);
    if (parsed.kind !== 'error') commands.push(parsed);
  },
  overflow(): void {
    throw new Error('a line passed the cap');
  },
};
const run = (): void => {
  backend.execute(commands, (replies) => {
    if (replies.some((reply) => reply !== 'OK')) throw new Error('a line was not answered OK');
  });
  commands = [];
};

const splitter = new LineSplitter(64 * 1024);
const bases: string[] = [];
for (let i = 0; i < BASE_PACKAGES; i++) bases.push(`INDEX|${baseName(i)}|\n`);
splitter.push(Buffer.from(bases.join(''), 'latin1'), sink);
run();

const before = settledUsage();
const startedAt = performance.now();
for (let next = 0; next < packageCount; ) {
  const chunk = chunkOfLines(next);
  next = chunk.next;
  splitter.push(chunk.bytes, sink);
  run();
}
const seconds = (performance.now() - startedAt) / 1000;
const after = settledUsage();
const graph = backend.graph;
console.log(
  `indexed ${graph.size - BASE_PACKAGES} packages with ${depsPerLine} dependencies each, ${(lineBytes / packageCount).toFixed(0)} bytes per line on average, in ${seconds.toFixed(1)} s`,
);
console.log(`heap: ${mebibytes(after.heap - before.heap)} held by the packages (${mebibytes(before.heap)} before, ${mebibytes(after.heap)} after)`);
console.log(`RSS: ${mebibytes(after.rss)} (${mebibytes(before.rss)} before loading)`);
console.log(`${graph.size} packages, ${graph.edgeCount} edges in the graph`);
