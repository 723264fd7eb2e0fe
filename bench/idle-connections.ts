/**
 * Capacity check: what an idle connection costs the server, beside what it costs the trivial
 * server (bare Node sockets). Each target is started as a child, N idle connections are opened to
 * it, and its RSS before and after gives the cost per connection; then a new client's round trip
 * is timed while they stay open. Targets: the trivial server, `serve --in-memory`, the durable
 * default (a fresh data directory), and `serve --in-memory` with every connection parked behind a
 * connection limit of 1.
 *
 * RSS is read twice after the connects: a second after them, and once the connections have been
 * idle for `--settle-seconds`. The connect burst grows V8's young generation and leaves garbage in
 * every target alike; V8's memory reducer, which runs about 8 s after a collection once the
 * process allocates little, shrinks both (with `--no-memory-reducer` a target stays where it
 * was a second after the burst). The settled figure is what an idle connection holds; the first
 * shows the burst. The RSS before the connects is also read after the settle time, so that the
 * start-up's own garbage is not counted against the connections.
 * Run: node dist/bench/idle-connections.js [--connections 10000] [--rounds 3] [--settle-seconds 20]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BASELINE_SCRIPT, MAIN_SCRIPT, startChildServer } from '../src/client/child-server.js';
import { connectMany } from '../src/client/connect-many.js';
import { ProtocolClient } from '../src/client/protocol-client.js';
import { residentBytes } from '../src/client/process-usage.js';

const { values } = parseArgs({
  options: { connections: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' }, 'settle-seconds': { type: 'string', default: '20' } },
});
const count = Number(values.connections);
const rounds = Number(values.rounds);
const settleMs = Number(values['settle-seconds']) * 1000;
/** RSS "right after the burst" is read this long after the last connect. */
const BURST_MS = 1_000;
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(rounds) || rounds < 1 || !(settleMs >= BURST_MS)) {
  process.stderr.write('usage: idle-connections.js [--connections N] [--rounds N] [--settle-seconds S, at least 1]\n');
  process.exit(2);
}

interface Target {
  readonly name: string;
  readonly script: string;
  readonly args: (dataDir: string) => string[];
  /** Parked connections are not answered, so a new client's round trip cannot be timed. */
  readonly timeNewClient: boolean;
}

const serve = ['serve', '--port', '0', '--admin-port', 'off', '--connection-limit', String(count + 100)];
const targets: Target[] = [
  { name: 'trivial server', script: BASELINE_SCRIPT, args: () => [], timeNewClient: true },
  { name: 'in memory', script: MAIN_SCRIPT, args: () => [...serve, '--in-memory'], timeNewClient: true },
  { name: 'durable', script: MAIN_SCRIPT, args: (dataDir) => [...serve, '--data-dir', dataDir], timeNewClient: true },
  {
    name: 'parked (in memory)',
    script: MAIN_SCRIPT,
    args: () => ['serve', '--port', '0', '--admin-port', 'off', '--in-memory', '--connection-limit', '1', '--waiting-limit', String(count + 100)],
    timeNewClient: false,
  },
];

async function timeNewClient(port: number): Promise<number> {
  const startedAt = performance.now();
  const client = await ProtocolClient.connect('127.0.0.1', port);
  const reply = await client.request('QUERY|nothing-here|\n');
  const elapsedMs = performance.now() - startedAt;
  client.close();
  if (reply !== 'FAIL' && reply !== 'OK') throw new Error(`expected OK or FAIL, got ${reply}`);
  return elapsedMs;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Measured {
  /** Bytes of RSS per connection a second after the connects, and once they were idle for the settle time. */
  readonly burst: number;
  readonly settled: number;
  /** A new client's median round trip (ms) while they are held. */
  readonly roundTripMs: number | undefined;
}

async function measure(target: Target): Promise<Measured> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idle-connections-'));
  const server = await startChildServer(target.script, target.args(dataDir));
  try {
    const pid = server.pid ?? 0;
    await sleep(settleMs);
    const before = residentBytes(pid);
    const idle = await connectMany([{ host: '127.0.0.1', port: server.port }], count);
    await sleep(BURST_MS);
    const burst = residentBytes(pid);
    await sleep(settleMs - BURST_MS);
    const settled = residentBytes(pid);
    const held = idle.filter((client) => !client.socket.destroyed).length;
    if (held !== count) throw new Error(`${target.name}: only ${held} of ${count} connections stayed open`);
    let roundTripMs: number | undefined;
    if (target.timeNewClient) {
      const waits: number[] = [];
      for (let i = 0; i < 20; i++) waits.push(await timeNewClient(server.port));
      roundTripMs = waits.sort((a, b) => a - b)[10];
    }
    for (const client of idle) client.close();
    return { burst: (burst - before) / count, settled: (settled - before) / count, roundTripMs };
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const perTarget = targets.map(() => ({ burst: [] as number[], settled: [] as number[], roundTrips: [] as number[] }));
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
console.log(
  `${count} idle connections per target, ${rounds} rounds (targets alternate within a round); RSS read ${BURST_MS / 1000} s after the connects and after ${settleMs / 1000} s idle`,
);
for (let round = 1; round <= rounds; round++) {
  for (const [i, target] of targets.entries()) {
    const { burst, settled, roundTripMs } = await measure(target);
    perTarget[i]?.burst.push(burst);
    perTarget[i]?.settled.push(settled);
    if (roundTripMs !== undefined) perTarget[i]?.roundTrips.push(roundTripMs);
    console.log(`round ${round}: ${target.name}: ${kib(settled)} per connection settled, ${kib(burst)} right after the burst`);
  }
}
const trivialSettled = median(perTarget[0]?.settled ?? []);
const trivialBurst = median(perTarget[0]?.burst ?? []);
console.log(`\n${'per idle connection'.padEnd(20)} ${'settled'.padStart(22)} ${'after the burst'.padStart(22)}  a new client's connect + QUERY`);
for (const [i, target] of targets.entries()) {
  const { burst, settled, roundTrips } = perTarget[i] ?? { burst: [], settled: [], roundTrips: [] };
  const column = (bytes: number, trivial: number): string => `${kib(bytes)} (${(bytes / trivial).toFixed(2)}x)`.padStart(22);
  const roundTrip = roundTrips.length > 0 ? `${median(roundTrips).toFixed(2)} ms` : '-';
  console.log(`${target.name.padEnd(20)} ${column(median(settled), trivialSettled)} ${column(median(burst), trivialBurst)}  ${roundTrip}`);
}
console.log('(x: against the trivial server, medians of the rounds)');
