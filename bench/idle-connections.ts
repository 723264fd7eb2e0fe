/**
 * Capacity check: what an idle connection costs the server, beside what it costs the trivial
 * server (bare Node sockets). Each target is started as a child, N idle connections are opened to
 * it, and its RSS before and after gives the cost per connection; then a new client's round trip
 * is timed while they stay open. Targets: the trivial server, `serve --in-memory`, the durable
 * default (a fresh data directory), and `serve --in-memory` with every connection parked behind a
 * connection limit of 1. RSS moves with the collector's timing: compare figures of one run. The
 * connect burst grows V8's young generation in every target alike (about 0.8 KiB a connection at
 * 10,000); `NODE_OPTIONS=--max-semi-space-size=1`, which the targets inherit, leaves it out.
 * Run: node dist/bench/idle-connections.js [--connections 10000] [--rounds 3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BASELINE_SCRIPT, MAIN_SCRIPT, startChildServer } from '../src/client/child-server.js';
import { connectMany } from '../src/client/connect-many.js';
import { ProtocolClient } from '../src/client/protocol-client.js';
import { residentBytes } from '../src/client/process-usage.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' } } });
const count = Number(values.connections);
const rounds = Number(values.rounds);
const SETTLE_MS = 1_000;

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

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** Bytes of RSS per idle connection, and a new client's median round trip (ms) while they are held. */
async function measure(target: Target): Promise<{ bytesPerConnection: number; roundTripMs: number | undefined }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idle-connections-'));
  const server = await startChildServer(target.script, target.args(dataDir));
  try {
    const pid = server.pid ?? 0;
    await settle();
    const before = residentBytes(pid);
    const idle = await connectMany([{ host: '127.0.0.1', port: server.port }], count);
    await settle();
    const after = residentBytes(pid);
    const held = idle.filter((client) => !client.socket.destroyed).length;
    if (held !== count) throw new Error(`${target.name}: only ${held} of ${count} connections stayed open`);
    let roundTripMs: number | undefined;
    if (target.timeNewClient) {
      const waits: number[] = [];
      for (let i = 0; i < 20; i++) waits.push(await timeNewClient(server.port));
      roundTripMs = waits.sort((a, b) => a - b)[10];
    }
    for (const client of idle) client.close();
    return { bytesPerConnection: (after - before) / count, roundTripMs };
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

console.log(`${count} idle connections per target, ${rounds} rounds (targets alternate within a round); RSS per connection, median of rounds`);
const perTarget = targets.map(() => ({ bytes: [] as number[], roundTrips: [] as number[] }));
for (let round = 1; round <= rounds; round++) {
  for (const [i, target] of targets.entries()) {
    const { bytesPerConnection, roundTripMs } = await measure(target);
    perTarget[i]?.bytes.push(bytesPerConnection);
    if (roundTripMs !== undefined) perTarget[i]?.roundTrips.push(roundTripMs);
    console.log(`round ${round}: ${target.name}: ${(bytesPerConnection / 1024).toFixed(2)} KiB per connection`);
  }
}
const trivial = median(perTarget[0]?.bytes ?? []);
for (const [i, target] of targets.entries()) {
  const { bytes, roundTrips } = perTarget[i] ?? { bytes: [], roundTrips: [] };
  const kib = median(bytes) / 1024;
  const roundTrip = roundTrips.length > 0 ? `, a new client's connect + QUERY ${median(roundTrips).toFixed(2)} ms` : '';
  console.log(`${target.name.padEnd(20)} ${kib.toFixed(2)} KiB per idle connection (${(median(bytes) / trivial).toFixed(2)}x the trivial server)${roundTrip}`);
}
