/**
 * What a failover of the shared database costs: rounds in which two servers are under write load,
 * the primary is killed with SIGKILL and its standby promoted at once, first with a synchronous
 * standby, then with an asynchronous one. Prints, for each kind: the acknowledged commands checked,
 * the ones lost (an acknowledged write missing after the switch, or a reply it contradicts; must be
 * 0 with a synchronous standby), and the window during which clients got ERROR (from the kill to
 * the last ERROR), median and worst. Promotion is immediate here; a real failover adds the time
 * its manager takes to decide (Patroni: up to its ttl).
 *
 * Each kind runs on loopback, then with --latency-ms of delay each way on the replication
 * connection (a standby in another zone or region), where WAL in flight dies with the primary.
 *
 *   node dist/bench/failover.js [--rounds 10] [--clients 16] [--load-ms 1000] [--pool-size 4] [--latency-ms 10]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startIndexer, type RunningIndexer } from '../src/cli/indexer.js';
import { ProtocolClient } from '../src/client/protocol-client.js';
import { resolveConfig } from '../src/config.js';
import { ModelClient, contradictions } from '../src/dev/failover-model.js';
import { startTestPostgresPair } from '../src/dev/postgres-pair.js';
import { silentLogger } from '../src/log.js';
import { median } from '../src/cli/bench.js';

interface Round {
  /** Packages whose state the clients knew when the primary died, compared with the standby. */
  readonly checkedAtKill: number;
  /** From the kill until pg_promote was called (the check above), in ms. */
  readonly promotionMs: number;
  /** INDEX and REMOVE acknowledged, and all OK or FAIL replies checked against the model. */
  readonly acknowledgedWrites: number;
  readonly answersChecked: number;
  readonly lost: number;
  /** From the kill to the last ERROR a client got, in ms. */
  readonly errorWindowMs: number;
  /** From the kill until both servers took commands again, in ms. */
  readonly recoveredMs: number;
}

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
    'load-ms': { type: 'string', default: '1000' },
    'pool-size': { type: 'string', default: '4' },
    'latency-ms': { type: 'string', default: '10' },
  },
});
const rounds = Number(values.rounds);
const clientCount = Number(values.clients);
const loadMs = Number(values['load-ms']);
const poolSize = values['pool-size'];
const latencyMs = Number(values['latency-ms']);
const RECOVERY_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function startServer(url: string): Promise<RunningIndexer> {
  const flags = { port: '0', host: '127.0.0.1', 'admin-port': 'off', 'database-url': url, 'pool-size': poolSize };
  return startIndexer(resolveConfig(flags, {}), silentLogger());
}

async function runRound(synchronous: boolean, replicationLatencyMs: number, round: number): Promise<Round> {
  const pair = await startTestPostgresPair({ synchronous, replicationLatencyMs });
  const servers: RunningIndexer[] = [];
  const connections: ProtocolClient[] = [];
  try {
    const { name, url } = await pair.createDatabase();
    servers.push(await startServer(url), await startServer(url));
    const clients: ModelClient[] = [];
    for (let id = 0; id < clientCount; id++) {
      const connection = await ProtocolClient.connect('127.0.0.1', servers[id % 2]?.address.port ?? 0);
      connections.push(connection);
      clients.push(new ModelClient((line) => connection.request(line), id, round * 1_000 + id + 1));
    }
    let stopped = false;
    const load = Promise.all(clients.map((client) => client.runUntil(() => stopped)));
    await sleep(loadMs);
    for (const client of clients) client.armSnapshot();
    const killedAt = performance.now();
    await pair.killPrimary();
    // what each client had acknowledged when it lost the database, against what the standby holds
    while (!clients.every((client) => client.snapshot !== undefined)) await sleep(1);
    await pair.standbyReplayed();
    const onStandby = await pair.query<{ name: string }>(pair.urlOn(pair.standbyPort, name), 'SELECT name FROM packages');
    const lostAtKill = contradictions(clients, new Set(onStandby.map((row) => row.name)), 'snapshot');
    const checkedAtKill = clients.reduce((sum, client) => sum + (client.snapshot?.size ?? 0), 0);
    const promotedAt = performance.now();
    await pair.promoteStandby();
    while (!servers.every((server) => server.backend.isAvailable())) {
      if (performance.now() - killedAt > RECOVERY_TIMEOUT_MS) throw new Error(`the servers did not recover within ${RECOVERY_TIMEOUT_MS} ms`);
      await sleep(5);
    }
    const recoveredMs = performance.now() - killedAt;
    await sleep(loadMs);
    stopped = true;
    await load;
    const rows = await pair.query<{ name: string }>(pair.urlOn(pair.standbyPort, name), 'SELECT name FROM packages');
    const wrong = clients.flatMap((client) => client.wrong);
    const missing = contradictions(clients, new Set(rows.map((row) => row.name)));
    const lastError = clients.flatMap((client) => client.errorTimes).reduce((latest, at) => Math.max(latest, at), killedAt);
    return {
      checkedAtKill,
      promotionMs: promotedAt - killedAt,
      acknowledgedWrites: clients.reduce((sum, client) => sum + client.tally.acknowledgedWrites, 0),
      answersChecked: clients.reduce((sum, client) => sum + client.tally.OK + client.tally.FAIL, 0),
      lost: lostAtKill.length + wrong.length + missing.length,
      errorWindowMs: lastError - killedAt,
      recoveredMs,
    };
  } finally {
    for (const connection of connections) connection.close();
    await Promise.all(servers.map((server) => server.stop()));
    await pair.close();
  }
}

const ms = (value: number): string => `${Math.round(value)} ms`;

console.log(
  `failover: ${rounds} rounds per kind, 2 servers (pool ${poolSize}), ${clientCount} clients, ${loadMs} ms of load before and after; load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
const KINDS = [
  { synchronous: true, latency: 0 },
  { synchronous: false, latency: 0 },
  { synchronous: true, latency: latencyMs },
  { synchronous: false, latency: latencyMs },
];
for (const { synchronous, latency } of latencyMs > 0 ? KINDS : KINDS.slice(0, 2)) {
  const kind = `${synchronous ? 'synchronous' : 'asynchronous'} standby, replication ${latency} ms each way`;
  const results: Round[] = [];
  for (let round = 1; round <= rounds; round++) {
    const result = await runRound(synchronous, latency, round);
    results.push(result);
    console.log(
      `  ${kind} round ${round}: ${result.acknowledgedWrites} acknowledged writes, ${result.answersChecked} answers checked, ${result.checkedAtKill} states compared at the kill, lost ${result.lost}; ERROR for ${ms(result.errorWindowMs)} (promoted at ${ms(result.promotionMs)}), both servers back after ${ms(result.recoveredMs)}`,
    );
  }
  const sum = (pick: (round: Round) => number): number => results.reduce((total, round) => total + pick(round), 0);
  const windows = results.map((round) => round.errorWindowMs);
  console.log(
    `${kind}: ${sum((r) => r.acknowledgedWrites)} acknowledged writes and ${sum((r) => r.answersChecked)} answers checked, lost ${sum((r) => r.lost)} (in ${results.filter((r) => r.lost > 0).length} of ${rounds} rounds); ERROR window median ${ms(median(windows))}, worst ${ms(Math.max(...windows))}`,
  );
}
