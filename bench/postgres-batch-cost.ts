/**
 * What one batch costs the database: the CPU time of the PostgreSQL session that runs the batch
 * function, without the servers, the load generator or their sockets sharing the cores. Batches
 * are built as a server builds them at ping-pong (one command from each of `--batch` clients, the
 * bench mix over a generated dataset indexed whole first) and sent one at a time on one connection.
 *
 *   node dist/bench/postgres-batch-cost.js [--batch 50] [--rounds 8] [--batches-per-round 400]
 *     [--packages 10000] [--write-percent 20] [--against variant.sql]... [--statements]
 *
 * `--against` (repeatable) takes a file that creates a variant of the function under another name,
 * with the same arguments; each round then runs every function, in alternating orders, and the
 * ratios to the current function are printed (a copy of the current function under another name
 * is the control). `--statements` (without `--against`) also preloads pg_stat_statements,
 * tracking the statements inside the function, and prints where a batch's time went, statement by
 * statement (the tracking slows every statement: read it for shares, not for the totals). The
 * session's CPU time is read from /proc, so the PostgreSQL is always a throwaway one started here
 * (Linux), never the shared test cluster.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { median } from '../src/cli/bench.js';
import { cpuMilliseconds } from '../src/client/process-usage.js';
import { Workload } from '../src/client/workload.js';
import type { Dataset } from '../src/dataset/dataset.js';
import { generateDataset } from '../src/dataset/generate.js';
import { Random } from '../src/dataset/random.js';
import { startOwnTestPostgres } from '../src/dev/postgres-cluster.js';
import { silentLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { parseLine } from '../src/protocol/parse.js';
import type { Command, Reply } from '../src/protocol/types.js';
import { BATCH_KIND } from '../src/store/postgres-batch-sql.js';
import { PostgresBackend } from '../src/store/postgres-backend.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '8' },
    'batches-per-round': { type: 'string', default: '400' },
    packages: { type: 'string', default: '10000' },
    'write-percent': { type: 'string', default: '20' },
    against: { type: 'string', multiple: true, default: [] },
    statements: { type: 'boolean', default: false },
  },
});
const batchSize = Number(values.batch);
const batchesPerRound = Number(values['batches-per-round']);

/** Refuses the run with a one-line reason. */
function usage(reason: string): never {
  process.stderr.write(`postgres-batch-cost: ${reason}\n`);
  process.exit(2);
}

const variants = values.against.map((file) => {
  const text = readFileSync(file, 'utf8');
  const name = /CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([a-z_][a-z0-9_]*)\s*\(/i.exec(text)?.[1]?.toLowerCase();
  if (name === undefined) usage(`${file}: no CREATE FUNCTION with a plain name found`);
  return { text, name };
});
const functions = ['package_indexer_apply', ...variants.map((variant) => variant.name)];
if (new Set(functions).size !== functions.length) usage('each --against file must create a function of its own name, not package_indexer_apply');
// the statistics add up every function's statements, so they would describe none of them
if (values.statements && variants.length > 0) usage('--statements describes the current function alone; leave out --against');

const dataset = generateDataset({ packages: Number(values.packages), meanDeps: 3, seed: 1 });
// a cluster of our own, on this machine: the session's CPU time is read from its /proc
const throwaway = await startOwnTestPostgres(values.statements ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all'] : []);
try {
  const url = await throwaway.createDatabase();
  const backend = new PostgresBackend({ url, poolSize: 2, logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
  try {
    await backend.open();
    await indexWhole(backend, dataset);
    const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { default_transaction_isolation: 'repeatable read' } });
    try {
      await measure(sql);
    } finally {
      await sql.end();
    }
  } finally {
    await backend.close();
  }
} finally {
  await throwaway.close();
}

async function indexWhole(backend: PostgresBackend, packages: Dataset): Promise<void> {
  for (let start = 0; start < packages.length; start += 1_000) {
    const commands: Command[] = packages.slice(start, start + 1_000).map((pkg) => ({ kind: 'INDEX', name: pkg.name, deps: pkg.deps }));
    const replies = await new Promise<Reply[]>((resolve) => backend.execute(commands, resolve));
    if (replies.some((reply) => reply !== 'OK')) throw new Error(`indexing the dataset got ${replies.find((reply) => reply !== 'OK')}`);
  }
}

async function measure(sql: postgres.Sql): Promise<void> {
  for (const variant of variants) await sql.unsafe(variant.text);
  if (values.statements) await sql`CREATE EXTENSION pg_stat_statements`;
  const [session] = await sql`SELECT pg_backend_pid() AS pid`;
  const sessionPid = Number(session?.['pid']);
  const sessionCpuMs = (): number => cpuMilliseconds(sessionPid);
  const workload = new Workload(dataset, Number(values['write-percent']));
  const clients = Array.from({ length: batchSize }, (_, k) => workload.stream(new Random(k + 1)));
  const nextBatch = (): unknown[] => {
    let kinds = '';
    const names: string[] = [];
    const deps: string[] = [];
    const depEnds: number[] = [];
    for (const client of clients) {
      const command = parseLine(client.next().slice(0, -1));
      if (command.kind === 'error') throw new Error(`the workload made a malformed line: ${command.reason}`);
      kinds += BATCH_KIND[command.kind];
      names.push(command.name);
      if (command.kind === 'INDEX') deps.push(...command.deps);
      depEnds.push(deps.length);
    }
    return [kinds, names, deps, depEnds, clients.map((_, k) => k + 1)];
  };
  const perBatchMs = new Map<string, number[]>(functions.map((name) => [name, []]));
  if (values.statements) await sql`SELECT pg_stat_statements_reset()`;
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const name of round % 2 === 0 ? functions : [...functions].reverse()) {
      const cpuBefore = sessionCpuMs();
      for (let k = 0; k < batchesPerRound; k++) {
        await sql.unsafe(`SELECT replies, changed FROM ${name}($1::text, $2::text[], $3::text[], $4::integer[], $5::integer[])`, nextBatch() as never[], {
          prepare: true,
        });
      }
      perBatchMs.get(name)?.push((sessionCpuMs() - cpuBefore) / batchesPerRound);
    }
  }
  const timed = values.statements ? ' (every statement timed, which slows them all)' : '';
  process.stdout.write(
    `batches of ${batchSize} commands, ${values['write-percent']}% writes, ${dataset.length} packages; database CPU, median of rounds${timed}:\n`,
  );
  const baseline = median(perBatchMs.get(functions[0] as string) ?? []);
  for (const [name, samples] of perBatchMs) {
    const ms = median(samples);
    const rounds = samples.map((sample) => sample.toFixed(2)).join(' ');
    process.stdout.write(
      `${name.padEnd(28)} ${ms.toFixed(2)} ms a batch, ${((ms * 1000) / batchSize).toFixed(1)} µs a command, ${(ms / baseline).toFixed(2)}× (rounds: ${rounds})\n`,
    );
  }
  if (values.statements) await printStatements(sql, Number(values.rounds) * batchesPerRound);
}

/** The statements that took the most time, each as µs a call and µs a batch. */
async function printStatements(sql: postgres.Sql, batches: number): Promise<void> {
  const rows = await sql`
    SELECT calls, total_exec_time, query AS statement
    FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 15`;
  process.stdout.write(`\nstatements by time, over ${batches} batches (a statement's time includes the statements it ran):\n`);
  for (const row of rows) {
    const ms = Number(row['total_exec_time']);
    const calls = Number(row['calls']);
    process.stdout.write(
      `${((ms * 1000) / calls).toFixed(1).padStart(9)} µs a call ${((ms * 1000) / batches).toFixed(1).padStart(9)} µs a batch  ${String(row['statement']).replace(/\s+/g, ' ').slice(0, 100)}\n`,
    );
  }
}
