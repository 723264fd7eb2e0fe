/**
 * `package-indexer bench`: a load generator for the index server. It indexes a dataset (untimed),
 * then runs a realistic mix of QUERY, INDEX and REMOVE from many sockets and reports throughput
 * and latency percentiles. With --baseline it first measures a trivial server that answers OK to
 * everything, so our figures read as a share of what Node's sockets alone allow on this machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runLoad, type LoadResult } from '../client/load-generator.js';
import { Workload } from '../client/workload.js';
import { commandFor, type Dataset } from '../dataset/dataset.js';
import { BenchSetupError, UsageError } from '../errors.js';
import { encodeCommand } from '../protocol/encode.js';
import { cpuMilliseconds } from '../client/process-usage.js';
import { BASELINE_SCRIPT, MAIN_SCRIPT, startChildServer, type ChildServer } from '../client/child-server.js';
import type { ParsedArgs } from './command.js';
import type { Endpoint } from '../client/connect-many.js';
import { ProtocolClient } from '../client/protocol-client.js';
import { datasetFrom, targetsFrom } from './run-options.js';

export interface BenchOptions {
  /** Packages, each after its dependencies; indexed before the timed run. */
  readonly dataset: Dataset;
  /** Servers under test, unless spawnServer is given. */
  readonly targets: readonly Endpoint[];
  readonly connections: number;
  /** Requests in flight per connection; 1 is ping-pong. */
  readonly pipeline: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Share of INDEX and REMOVE requests, in percent. */
  readonly writePercent: number;
  readonly seed: number;
  /** Also measure the trivial baseline server, first, with the same load. @default false */
  readonly baseline?: boolean;
  /** Start `serve --port 0` with these extra arguments as a child and measure it instead of targets. */
  readonly spawnServerArgs?: readonly string[];
  readonly progress?: (line: string) => void;
}

export interface BenchRun {
  /** What was measured, e.g. `127.0.0.1:8080` or `baseline (pid 123)`. */
  readonly label: string;
  /** Time to index the dataset through one connection, in ms; not part of the figures. */
  readonly setupMs: number;
  readonly result: LoadResult;
}

export interface BenchResult {
  readonly generator: string;
  readonly baseline: BenchRun | undefined;
  readonly target: BenchRun;
  /** Ours divided by the baseline's, when a baseline ran. */
  readonly ratios: { readonly throughput: number; readonly p50: number; readonly p99: number; readonly serverCpu: number | undefined } | undefined;
}

/** Requests in flight on the one connection that indexes the dataset before a run and removes it after. */
const SETUP_WINDOW = 256;

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const progress = options.progress ?? ((): void => {});
  const generator = `1 process, 1 thread (main), ${options.connections} sockets, pipeline ${options.pipeline}`;
  progress(`load generator: ${generator}`);
  let baseline: BenchRun | undefined;
  if (options.baseline === true) {
    baseline = await withChild(BASELINE_SCRIPT, ['0'], (child) => measureChild(options, child, 'baseline', progress));
  }
  const { spawnServerArgs } = options;
  const target =
    spawnServerArgs === undefined
      ? await measure(options, options.targets, options.targets.map((t) => `${t.host}:${t.port}`).join(','), progress)
      : await withScratchDirectory((dataDir) =>
          // the user's own --data-dir, later among the arguments, wins
          withChild(MAIN_SCRIPT, ['serve', '--port', '0', '--admin-port', 'off', '--data-dir', dataDir, ...spawnServerArgs], (child) =>
            measureChild(options, child, 'serve', progress),
          ),
        );
  const ratios =
    baseline === undefined
      ? undefined
      : {
          throughput: target.result.requestsPerSecond / baseline.result.requestsPerSecond,
          p50: target.result.latency.p50Us / Math.max(1, baseline.result.latency.p50Us),
          p99: target.result.latency.p99Us / Math.max(1, baseline.result.latency.p99Us),
          serverCpu: ratioOf(target.result.serverCpuUsPerRequest, baseline.result.serverCpuUsPerRequest),
        };
  return { generator, baseline, target, ratios };
}

/**
 * A fresh directory for a spawned server's store, removed afterwards: the default `./data` would
 * be that of wherever bench runs, perhaps a real index (bench indexes its dataset into the store
 * and removes those names again when it is done).
 */
async function withScratchDirectory<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'package-indexer-bench-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function withChild<T>(script: string, args: readonly string[], use: (child: ChildServer) => Promise<T>): Promise<T> {
  const child = await startChildServer(script, args);
  try {
    return await use(child);
  } finally {
    await child.stop();
  }
}

function ratioOf(ours: number | undefined, theirs: number | undefined): number | undefined {
  return ours === undefined || theirs === undefined || theirs === 0 ? undefined : ours / theirs;
}

/** A child on this machine: its CPU time is read from /proc, so CPU per request can be reported too. */
function measureChild(options: BenchOptions, child: ChildServer, name: string, progress: (line: string) => void): Promise<BenchRun> {
  const pid = child.pid;
  const serverCpuMs = pid === undefined || process.platform !== 'linux' ? undefined : () => cpuMilliseconds(pid);
  return measure({ ...options, serverCpuMs }, [{ host: '127.0.0.1', port: child.port }], `${name} (pid ${String(pid)})`, progress);
}

async function measure(
  options: BenchOptions & { serverCpuMs?: () => number },
  targets: readonly Endpoint[],
  label: string,
  progress: (line: string) => void,
): Promise<BenchRun> {
  const first = targets[0];
  if (first === undefined) throw new UsageError('no target to measure');
  progress(`${label}: indexing ${options.dataset.length} packages through one connection (untimed)`);
  const setupStartedAt = performance.now();
  await sendAll(first, options.dataset, 'INDEX');
  const setupMs = performance.now() - setupStartedAt;
  progress(`${label}: ${(options.warmupMs / 1000).toFixed(1)} s warmup, then ${(options.durationMs / 1000).toFixed(1)} s measured`);
  const workload = new Workload(options.dataset, options.writePercent);
  const result = await runLoad({ ...options, targets, workload });
  progress(`${label}: removing the dataset again (untimed), leaving the index as it was`);
  await sendAll(first, options.dataset, 'REMOVE');
  progress(`${label}: ${Math.round(result.requestsPerSecond)} requests/s, p99 ${(result.latency.p99Us / 1000).toFixed(3)} ms`);
  return { label, setupMs, result };
}

/**
 * Sends `kind` for every package, pipelined on one connection, in dataset order for INDEX (each
 * finds its deps indexed) and in reverse for REMOVE (each finds its dependents gone).
 */
export async function sendAll(target: Endpoint, dataset: Dataset, kind: 'INDEX' | 'REMOVE'): Promise<void> {
  const ordered = kind === 'INDEX' ? dataset : [...dataset].reverse();
  const client = await ProtocolClient.connect(target.host, target.port);
  try {
    for (let start = 0; start < ordered.length; start += SETUP_WINDOW) {
      const window = ordered.slice(start, start + SETUP_WINDOW);
      const replies = await Promise.all(window.map((pkg) => client.request(encodeCommand(commandFor(kind, pkg)))));
      const refused = replies.findIndex((reply) => reply !== 'OK');
      if (refused >= 0) throw new BenchSetupError(`${kind} of "${window[refused]?.name ?? '?'}" got ${String(replies[refused])}`);
    }
  } finally {
    client.close();
  }
}

function row(name: string, run: BenchRun): string {
  const { result } = run;
  const ms = (us: number): string => (us / 1000).toFixed(3).padStart(9);
  const errors = result.replies.ERROR + result.connectionErrors;
  const cpu = result.serverCpuUsPerRequest === undefined ? '-' : result.serverCpuUsPerRequest.toFixed(2);
  return `${name.padEnd(16)} ${Math.round(result.requestsPerSecond).toLocaleString('en-US').padStart(12)} ${ms(result.latency.p50Us)} ${ms(result.latency.p99Us)} ${ms(result.latency.p999Us)} ${ms(result.latency.maxUs)} ${String(result.replies.FAIL).padStart(8)} ${String(errors).padStart(7)} ${cpu.padStart(11)}`;
}

function formatTable(result: BenchResult, heading: string): string {
  const lines = [
    heading,
    `generator: ${result.generator}`,
    '',
    `${''.padEnd(16)} ${'requests/s'.padStart(12)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'p99.9 ms'.padStart(9)} ${'max ms'.padStart(9)} ${'FAIL'.padStart(8)} ${'errors'.padStart(7)} ${'cpu µs/req'.padStart(11)}`,
  ];
  if (result.baseline !== undefined) lines.push(row('baseline', result.baseline));
  lines.push(row('target', result.target));
  if (result.ratios !== undefined) {
    const { throughput, p50, p99, serverCpu } = result.ratios;
    const cpuRatio = serverCpu === undefined ? '' : `${serverCpu.toFixed(2)}x`;
    lines.push(
      `ours/baseline    ${`${throughput.toFixed(2)}x`.padStart(12)} ${`${p50.toFixed(2)}x`.padStart(9)} ${`${p99.toFixed(2)}x`.padStart(9)} ${''.padStart(9)} ${''.padStart(9)} ${''.padStart(8)} ${''.padStart(7)} ${cpuRatio.padStart(11)}`,
    );
  }
  lines.push(`target: ${result.target.label}${result.baseline === undefined ? '' : `; baseline: ${result.baseline.label}`}`);
  return lines.join('\n');
}

export async function bench(args: ParsedArgs): Promise<number> {
  const spawnServer = args.switch('spawn-server');
  if (!spawnServer && args.given('server-args')) throw new UsageError('--server-args needs --spawn-server');
  if (spawnServer && (args.given('targets') || args.given('host') || args.given('port')))
    throw new UsageError('--spawn-server replaces --host, --port and --targets');
  const settings = {
    targets: spawnServer ? [] : targetsFrom(args),
    connections: args.integer('connections', 1),
    pipeline: args.integer('pipeline', 1),
    durationMs: args.number('duration-seconds', 0.1, 86_400) * 1000,
    warmupMs: args.number('warmup-seconds', 0, 3_600) * 1000,
    writePercent: args.number('write-percent', 0, 100),
    seed: args.integer('seed'),
    baseline: args.switch('baseline'),
    spawnServerArgs: spawnServer ? (args.text('server-args') ?? '').split(/\s+/).filter((arg) => arg !== '') : undefined,
  };
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const rounds = args.integer('rounds', 1);
  const { dataset, description } = await datasetFrom(args);
  progress(`dataset: ${description}`);
  const results: BenchResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) progress(`round ${round} of ${rounds}`);
    results.push(await runBench({ ...settings, dataset, progress }));
  }
  const heading = `bench: ${settings.connections} connections, pipeline ${settings.pipeline}, ${settings.durationMs / 1000} s measured after ${settings.warmupMs / 1000} s warmup, ${settings.writePercent}% writes; dataset: ${description}`;
  const medians = medianRatios(results);
  if (args.switch('json')) {
    const [only] = results;
    const body =
      rounds === 1 && only !== undefined
        ? { settings, dataset: description, ...only }
        : { settings, dataset: description, rounds: results, medianRatios: medians };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    const tables = results.map((result, i) => formatTable(result, rounds === 1 ? heading : `${heading}\nround ${i + 1} of ${rounds}`));
    if (rounds > 1 && medians !== undefined)
      tables.push(
        `median ours/baseline over ${rounds} rounds: throughput ${medians.throughput.toFixed(2)}x, p50 ${medians.p50.toFixed(2)}x, p99 ${medians.p99.toFixed(2)}x${medians.serverCpu === undefined ? '' : `, server CPU per request ${medians.serverCpu.toFixed(2)}x`}`,
      );
    process.stdout.write(`${tables.join('\n\n')}\n`);
  }
  return 0;
}

/**
 * On a shared machine one pair of runs can be off by a third; the median ratio of several
 * alternating baseline/target pairs is what to report.
 */
function medianRatios(results: readonly BenchResult[]): BenchResult['ratios'] {
  const ratios = results.flatMap((result) => (result.ratios === undefined ? [] : [result.ratios]));
  if (ratios.length === 0) return undefined;
  const cpu = ratios.flatMap((ratio) => (ratio.serverCpu === undefined ? [] : [ratio.serverCpu]));
  return {
    throughput: median(ratios.map((ratio) => ratio.throughput)),
    p50: median(ratios.map((ratio) => ratio.p50)),
    p99: median(ratios.map((ratio) => ratio.p99)),
    serverCpu: cpu.length === 0 ? undefined : median(cpu),
  };
}

/** The middle value, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
