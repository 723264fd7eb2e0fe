/**
 * What one batch costs the database: the CPU time of the PostgreSQL session that runs the batch
 * function, without the servers, the load generator or their sockets sharing the cores. Batches
 * are built as a server builds them at ping-pong (one command from each of `--batch` clients, the
 * bench mix over a generated dataset indexed whole first) and sent one at a time on one connection.
 *
 *   node dist/bench/postgres-batch-cost.js [--batch 50] [--rounds 8] [--batches-per-round 400]
 *     [--packages 10000] [--write-percent 20] [--against variant.sql]
 *
 * `--against` takes a file that creates a variant of the function under another name, with the
 * same arguments; rounds then alternate between the two, and the ratio is printed. The session's
 * CPU time is read from /proc, so the throwaway PostgreSQL runs on this machine (Linux).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { median } from '../src/cli/bench.js';
import { Workload } from '../src/client/workload.js';
import { generateDataset } from '../src/dataset/generate.js';
import { Random } from '../src/dataset/random.js';
import { startTestPostgres } from '../src/dev/postgres-cluster.js';
import { silentLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { parseLine } from '../src/protocol/parse.js';
import type { Command } from '../src/protocol/types.js';
import { BATCH_KIND } from '../src/store/postgres-batch-sql.js';
import { PostgresBackend } from '../src/store/postgres-backend.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '8' },
    'batches-per-round': { type: 'string', default: '400' },
    packages: { type: 'string', default: '10000' },
    'write-percent': { type: 'string', default: '20' },
    against: { type: 'string' },
  },
});
const batchSize = Number(values.batch);
const batchesPerRound = Number(values['batches-per-round']);

const variantSql = values.against === undefined ? undefined : readFileSync(values.against, 'utf8');
const variantName = variantSql === undefined ? undefined : /FUNCTION\s+([a-z_][a-z0-9_]*)\s*\(/i.exec(variantSql)?.[1];
if (variantSql !== undefined && variantName === undefined) {
  process.stderr.write(`${values.against}: no CREATE FUNCTION name found\n`);
  process.exit(2);
}
const functions = ['package_indexer_apply', ...(variantName === undefined ? [] : [variantName])];

const dataset = generateDataset({ packages: Number(values.packages), meanDeps: 3, seed: 1 });
const throwaway = await startTestPostgres();
const url = await throwaway.createDatabase();
const backend = new PostgresBackend({ url, poolSize: 2, logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { default_transaction_isolation: 'repeatable read' } });
try {
  await backend.open();
  for (let start = 0; start < dataset.length; start += 1_000) {
    const commands: Command[] = dataset.slice(start, start + 1_000).map((pkg) => ({ kind: 'INDEX', name: pkg.name, deps: pkg.deps }));
    await new Promise((resolve) => backend.execute(commands, resolve));
  }
  if (variantSql !== undefined) await sql.unsafe(variantSql);
  const [session] = await sql`SELECT pg_backend_pid() AS pid`;
  const sessionCpuMs = (): number => {
    // utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks of 10 ms
    const fields =
      readFileSync(`/proc/${String(session?.['pid'])}/stat`, 'utf8')
        .split(') ')[1]
        ?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
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
  process.stdout.write(`batches of ${batchSize} commands, ${values['write-percent']}% writes, ${dataset.length} packages; database CPU, median of rounds:\n`);
  const baseline = median(perBatchMs.get(functions[0] as string) ?? []);
  for (const [name, samples] of perBatchMs) {
    const ms = median(samples);
    const rounds = samples.map((sample) => sample.toFixed(2)).join(' ');
    process.stdout.write(
      `${name.padEnd(28)} ${ms.toFixed(2)} ms a batch, ${((ms * 1000) / batchSize).toFixed(1)} µs a command, ${(ms / baseline).toFixed(2)}× (rounds: ${rounds})\n`,
    );
  }
} finally {
  await sql.end();
  await backend.close();
  await throwaway.close();
}
