/**
 * What the read side costs and whether it stalls the protocol, on a big generated index: indexes
 * N packages into a server in a child process, then prints one JSON line with the time and memory
 * of the read side's start, the latency of a full reverse closure of the most depended-upon
 * package, of a description and of a list page, and QUERY's p99 (and the child's longest
 * event-loop stall) idle and while another client asks the heaviest question in a loop.
 *
 *   node dist/bench/graph-questions.js [--packages 1000000] [--mean-deps 10] [--seconds 5] [--question PATH]
 *
 * `--question` replaces the heaviest question in the loop (e.g. `/v1/packages/NAME`, to tell the
 * cost of any HTTP traffic from the cost of the question's work).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startIndexer } from '../src/cli/indexer.js';
import { ProtocolClient } from '../src/client/protocol-client.js';
import { commandFor } from '../src/dataset/dataset.js';
import { generateDataset } from '../src/dataset/generate.js';
import { resolveConfig } from '../src/config.js';
import { encodeCommand } from '../src/protocol/encode.js';
import { silentLogger } from '../src/log.js';

const { values } = parseArgs({
  options: {
    packages: { type: 'string', default: '1000000' },
    'mean-deps': { type: 'string', default: '10' },
    seconds: { type: 'string', default: '5' },
    serve: { type: 'boolean', default: false },
    ask: { type: 'string' },
    question: { type: 'string' },
  },
});

interface Ports {
  readonly port: number;
  readonly adminPort: number;
  readonly pid: number;
}

/** The child: a server with the read side, answering `stall` messages with its longest event-loop delay since the last. */
async function serve(): Promise<void> {
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true }, {});
  const indexer = await startIndexer(config, silentLogger());
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  process.on('message', (message: string) => {
    if (message === 'stall') {
      process.send?.({ stallMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6 });
      delay.reset();
    } else if (message === 'stop') {
      void indexer.stop().then(() => process.exit(0));
    }
  });
  process.send?.({ port: indexer.address.port, adminPort: indexer.adminAddress?.port, pid: process.pid });
}

function rssMiB(pid: number): number {
  const line =
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith('VmRSS:')) ?? '';
  return Math.round(Number(/\d+/.exec(line)?.[0] ?? 0) / 1024);
}

async function ask(child: ChildProcess, message: string): Promise<Record<string, number>> {
  child.send(message);
  const [reply] = (await once(child, 'message')) as [Record<string, number>];
  return reply;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const startedAt = performance.now();
  const value = await work();
  return { ms: performance.now() - startedAt, value };
}

async function median(times: number, work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let k = 0; k < times; k++) samples.push((await timed(work)).ms);
  samples.sort((a, b) => a - b);
  return Number((samples[Math.floor(samples.length / 2)] as number).toFixed(2));
}

/** QUERY ping-pong on one connection for `ms`: its p99 in ms. */
async function queryP99(client: ProtocolClient, names: readonly string[], ms: number): Promise<number> {
  const histogram = createHistogram();
  const until = performance.now() + ms;
  for (let k = 0; performance.now() < until; k++) {
    const startedAt = process.hrtime.bigint();
    await client.request(`QUERY|${names[k % names.length]}|\n`);
    histogram.record(Number(process.hrtime.bigint() - startedAt) || 1);
  }
  return Number((histogram.percentile(99) / 1e6).toFixed(3));
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=8192'] });
  const [ports] = (await once(child, 'message')) as [Ports];
  const admin = `http://127.0.0.1:${ports.adminPort}`;
  const getJson = async (path: string): Promise<Record<string, unknown>> => (await fetch(`${admin}${path}`)).json() as Promise<Record<string, unknown>>;
  const dataset = generateDataset({ packages: Number(values.packages), meanDeps: Number(values['mean-deps']), seed: 1 });
  const client = await ProtocolClient.connect('127.0.0.1', ports.port);
  const indexing = await timed(async () => {
    const window: Array<Promise<unknown>> = [];
    for (const pkg of dataset) {
      window.push(client.request(encodeCommand(commandFor('INDEX', pkg))));
      if (window.length >= 512) await Promise.all(window.splice(0));
    }
    await Promise.all(window);
  });
  const rssBeforeMiB = rssMiB(ports.pid);
  const start = await timed(() => getJson('/v1/stats'));
  const stats = start.value as { packages: number; dependencies: number; mostDependedUpon: Array<{ name: string; count: number }> };
  const top = stats.mostDependedUpon[0]?.name ?? '';
  const typical = dataset[Math.floor(dataset.length / 2)]?.name ?? '';
  const heaviest = `/v1/packages/${encodeURIComponent(top)}/dependents?depth=all&limit=100`;
  const closure = await timed(() => getJson(heaviest));
  const figures = {
    packages: stats.packages,
    dependencies: stats.dependencies,
    indexSeconds: Number((indexing.ms / 1000).toFixed(1)),
    readSideStartMs: Math.round(start.ms),
    rssBeforeReadSideMiB: rssBeforeMiB,
    rssWithReadSideMiB: rssMiB(ports.pid),
    mostDependedUpon: stats.mostDependedUpon[0],
    reverseClosureTotal: (closure.value as { total: number }).total,
    reverseClosureMs: await median(5, () => getJson(heaviest)),
    describeTopMs: await median(20, () => getJson(`/v1/packages/${encodeURIComponent(top)}?limit=1000`)),
    describeTypicalMs: await median(20, () => getJson(`/v1/packages/${encodeURIComponent(typical)}`)),
    listPageMs: await median(20, () => getJson(`/v1/packages?limit=100&cursor=${encodeURIComponent(typical)}`)),
  };
  const names = dataset.map((pkg) => pkg.name);
  const durationMs = Number(values.seconds) * 1000;
  await ask(child, 'stall');
  const idleP99Ms = await queryP99(client, names, durationMs);
  const idle = await ask(child, 'stall');
  // the asking client runs in a process of its own, so that its JSON parsing does not delay this
  // one's QUERY timings; both share this machine's cores with the server
  const asked = values.question ?? heaviest;
  const asker = fork(fileURLToPath(import.meta.url), ['--ask', `${admin}${asked}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await once(asker, 'message');
  const busyP99Ms = await queryP99(client, names, durationMs);
  const counted = once(asker, 'message');
  asker.send('stop');
  const [{ questions }] = (await counted) as [{ questions: number }];
  const busy = await ask(child, 'stall');
  process.stdout.write(
    `${JSON.stringify({ ...figures, queryP99IdleMs: idleP99Ms, queryP99WhileAskingMs: busyP99Ms, p99Ratio: Number((busyP99Ms / idleP99Ms).toFixed(2)), heaviestQuestionsAsked: questions, longestStallIdleMs: idle.stallMs, longestStallWhileAskingMs: busy.stallMs })}\n`,
  );
  client.close();
  child.send('stop');
  await once(child, 'exit');
}

/** The other client: asks `url` in a loop until told to stop, then says how many times it asked. */
async function askInALoop(url: string): Promise<void> {
  let asking = true;
  let questions = 0;
  process.once('message', () => {
    asking = false;
  });
  process.send?.('asking');
  while (asking) {
    await (await fetch(url)).json();
    questions++;
  }
  process.send?.({ questions });
  process.disconnect();
}

if (values.serve) await serve();
else if (values.ask !== undefined) await askInALoop(values.ask);
else await main();
