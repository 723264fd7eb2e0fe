/**
 * Capacity check: what an idle connection costs the server, beside what it costs the trivial
 * server (bare Node sockets). Each target is started as a child, N idle connections are opened to
 * it, and its RSS before and after gives the cost per connection; then a new client's round trip
 * is timed while they stay open. Targets: the trivial server, `serve --in-memory`, the durable
 * default (a fresh data directory), and `serve --in-memory` with every connection parked behind a
 * connection limit of 1.
 *
 * RSS is read twice after the connects: a second after them, and once the connections have been
 * idle for `--settle-seconds`. The connect burst grows V8's young generation and leaves garbage;
 * V8's memory reducer, which runs about 8 s after a major (mark-compact) collection once the
 * process allocates little, gives both back (with `--no-memory-reducer` a target stays where it
 * was a second after the burst). A target that ran no major collection since the burst keeps
 * them however long it idles: such a round is marked, and its settled figure is the burst's. The
 * RSS before the connects is read after the same settle time, so that both readings come from a
 * process idle as long, and start-up memory the reducer frees later is not credited to the
 * connections. With the defaults a run takes about 9 minutes, mostly waiting.
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
const AFTER_BURST_MS = 1_000;
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(rounds) || rounds < 1 || !(settleMs >= AFTER_BURST_MS)) {
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

// the idle timeout off: a settle time past it would see the connections closed
const serve = ['serve', '--port', '0', '--admin-port', 'off', '--idle-timeout-ms', '0', '--connection-limit', String(count + 100)];
const targets: Target[] = [
  { name: 'trivial server', script: BASELINE_SCRIPT, args: () => [], timeNewClient: true },
  { name: 'in memory', script: MAIN_SCRIPT, args: () => [...serve, '--in-memory'], timeNewClient: true },
  { name: 'durable', script: MAIN_SCRIPT, args: (dataDir) => [...serve, '--data-dir', dataDir], timeNewClient: true },
  {
    name: 'parked (in memory)',
    script: MAIN_SCRIPT,
    args: () => [...serve, '--in-memory', '--connection-limit', '1', '--waiting-limit', String(count + 100)],
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
  /** Bytes of RSS per connection a second after the connects. */
  readonly afterBurst: number;
  /** Bytes of RSS per connection once they were idle for the settle time. */
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
    await sleep(AFTER_BURST_MS);
    const afterBurst = residentBytes(pid);
    await sleep(settleMs - AFTER_BURST_MS);
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
    return { afterBurst: (afterBurst - before) / count, settled: (settled - before) / count, roundTripMs };
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const perTarget = targets.map(() => ({ afterBurst: [] as number[], settled: [] as number[], unsettled: 0, roundTrips: [] as number[] }));
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
/** A settled figure this close to the burst's means the memory reducer never ran in that round. */
const UNSETTLED_SHARE = 0.9;
console.log(
  `${count} idle connections per target, ${rounds} rounds (targets alternate within a round); RSS read ${AFTER_BURST_MS / 1000} s after the connects and after ${settleMs / 1000} s idle`,
);
for (let round = 1; round <= rounds; round++) {
  for (const [i, target] of targets.entries()) {
    const { afterBurst, settled, roundTripMs } = await measure(target);
    const figures = perTarget[i];
    if (figures === undefined) continue;
    figures.afterBurst.push(afterBurst);
    figures.settled.push(settled);
    const unsettled = settled > UNSETTLED_SHARE * afterBurst;
    if (unsettled) figures.unsettled++;
    if (roundTripMs !== undefined) figures.roundTrips.push(roundTripMs);
    const mark = unsettled ? ' (no major collection since the burst: not settled)' : '';
    console.log(`round ${round}: ${target.name}: ${kib(settled)} per connection settled${mark}, ${kib(afterBurst)} right after the burst`);
  }
}
const trivialSettled = median(perTarget[0]?.settled ?? []);
const trivialAfterBurst = median(perTarget[0]?.afterBurst ?? []);
console.log(`\n${'per idle connection'.padEnd(20)} ${'settled'.padStart(22)} ${'after the burst'.padStart(22)}  a new client's connect + QUERY`);
for (const [i, target] of targets.entries()) {
  const { afterBurst, settled, unsettled, roundTrips } = perTarget[i] ?? { afterBurst: [], settled: [], unsettled: 0, roundTrips: [] };
  const column = (bytes: number, trivial: number): string => `${kib(bytes)} (${(bytes / trivial).toFixed(2)}x)`.padStart(22);
  const roundTrip = roundTrips.length > 0 ? `${median(roundTrips).toFixed(2)} ms` : '-';
  const note = unsettled > 0 ? `  (${unsettled} of ${rounds} rounds not settled)` : '';
  console.log(`${target.name.padEnd(20)} ${column(median(settled), trivialSettled)} ${column(median(afterBurst), trivialAfterBurst)}  ${roundTrip}${note}`);
}
console.log('(x: against the trivial server; medians of the rounds, the upper middle one for an even count)');
