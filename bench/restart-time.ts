/**
 * How long a restart takes: writes a store of N generated packages through the SQLite backend's
 * own write path, then times a cold open + load + check in a fresh process (a fresh heap, though
 * the OS page cache may still hold the file). Prints one JSON line.
 *
 *   node dist/bench/restart-time.js [--packages 1000000] [--mean-deps 10] [--dir DIR] [--keep]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { commandFor } from '../src/dataset/dataset.js';
import { generateDataset } from '../src/dataset/generate.js';
import { silentLogger } from '../src/log.js';
import { disabledMetrics } from '../src/metrics.js';
import type { Command, Reply } from '../src/protocol/types.js';
import { SqliteBackend } from '../src/store/sqlite-backend.js';

const { values } = parseArgs({
  options: {
    packages: { type: 'string', default: '1000000' },
    'mean-deps': { type: 'string', default: '10' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'load-only': { type: 'boolean', default: false },
  },
});

function backendAt(dataDir: string): SqliteBackend {
  return new SqliteBackend({ dataDir, fsync: 'normal', logger: silentLogger(), metrics: disabledMetrics() });
}

async function load(dataDir: string): Promise<void> {
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  const backend = backendAt(dataDir);
  await backend.open();
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const counts = await backend.counts();
  const heapMiB = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  await backend.close();
  process.stdout.write(`${JSON.stringify({ loadSeconds: Number(seconds.toFixed(3)), loadCpuSeconds: Number(cpuSeconds.toFixed(3)), ...counts, heapMiB })}\n`);
}

async function write(dataDir: string, packages: number, meanDeps: number): Promise<number> {
  const dataset = generateDataset({ packages, meanDeps, seed: 1 });
  const commands: Command[] = dataset.map((pkg) => commandFor('INDEX', pkg));
  const backend = backendAt(dataDir);
  await backend.open();
  const startedAt = performance.now();
  const replies = await new Promise<Reply[]>((resolve) => backend.execute(commands, resolve));
  const seconds = (performance.now() - startedAt) / 1000;
  await backend.close();
  const failed = replies.filter((reply) => reply !== 'OK').length;
  if (failed > 0) throw new Error(`${failed} packages were not indexed`);
  return seconds;
}

async function main(): Promise<void> {
  const dataDir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pi-restart-'));
  if (values['load-only']) {
    await load(dataDir);
    return;
  }
  const packages = Number(values.packages);
  const writeSeconds = await write(dataDir, packages, Number(values['mean-deps']));
  const bytes = fs.statSync(path.join(dataDir, 'index.db')).size;
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--load-only', '--dir', dataDir], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`the load run failed: ${child.stderr}`);
  const loaded = JSON.parse(child.stdout) as Record<string, unknown>;
  process.stdout.write(
    `${JSON.stringify({ packages, writeSeconds: Number(writeSeconds.toFixed(3)), dbMiB: Number((bytes / 2 ** 20).toFixed(1)), ...loaded })}\n`,
  );
  if (!values.keep) fs.rmSync(dataDir, { recursive: true, force: true });
}

await main();
