/**
 * What an open console costs the protocol: one spawned server, and `bench`'s own load generator
 * run against it in alternating rounds with the console's overview closed and open (live: the
 * change feed, the stats and the timeline, polled as a browser tab does). Prints requests per
 * second and the server's CPU time per request for each round, and the medians.
 *
 *   node dist/bench/console-live.js [--rounds 3] [--duration-seconds 10] [--connections 100] [--pipeline 1]
 */
import { parseArgs } from 'node:util';
import { sendAll } from '../src/cli/bench.js';
import { MAIN_SCRIPT, startChildServer } from '../src/client/child-server.js';
import { runLoad } from '../src/client/load-generator.js';
import { cpuMilliseconds } from '../src/client/process-usage.js';
import { Workload } from '../src/client/workload.js';
import { generateDataset } from '../src/dataset/generate.js';
import { launchChromium } from '../src/dev/headless-chromium.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'duration-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
    pipeline: { type: 'string', default: '1' },
    packages: { type: 'string', default: '10000' },
  },
});

const median = (numbers: readonly number[]): number => [...numbers].sort((a, b) => a - b)[numbers.length >> 1] ?? Number.NaN;
const dataset = generateDataset({ packages: Number(values.packages), meanDeps: 3, seed: 1 });
const server = await startChildServer(MAIN_SCRIPT, ['serve', '--port', '0', '--admin-port', '0', '--in-memory']);
const browser = await launchChromium();
const target = { host: '127.0.0.1', port: server.port };
const figures: Record<'closed' | 'open', Array<{ rps: number; cpuUs: number }>> = { closed: [], open: [] };
try {
  await sendAll(target, dataset, 'INDEX');
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const state of ['closed', 'open'] as const) {
      const page = state === 'open' ? await browser.context.newPage() : undefined;
      if (page !== undefined) {
        await page.goto(`http://127.0.0.1:${String(server.adminPort)}/`);
        await page.locator('.tile').first().waitFor();
      }
      const result = await runLoad({
        targets: [target],
        workload: new Workload(dataset, 20),
        connections: Number(values.connections),
        pipeline: Number(values.pipeline),
        warmupMs: 1_000,
        durationMs: Number(values['duration-seconds']) * 1000,
        seed: round,
        serverCpuMs: server.pid === undefined ? undefined : () => cpuMilliseconds(server.pid as number),
      });
      const changes = page === undefined ? undefined : await page.locator('.changes p.muted').first().textContent();
      await page?.close();
      figures[state].push({ rps: result.requestsPerSecond, cpuUs: result.serverCpuUsPerRequest ?? Number.NaN });
      process.stdout.write(
        `${JSON.stringify({ round, console: state, requestsPerSecond: Math.round(result.requestsPerSecond), p99Ms: result.latency.p99Us / 1000, serverCpuUsPerRequest: result.serverCpuUsPerRequest, ...(changes === undefined ? {} : { consoleSaw: changes }) })}\n`,
      );
    }
  }
  const summary = (state: 'closed' | 'open'): { requestsPerSecond: number; serverCpuUsPerRequest: number } => ({
    requestsPerSecond: Math.round(median(figures[state].map((run) => run.rps))),
    serverCpuUsPerRequest: Math.round(median(figures[state].map((run) => run.cpuUs)) * 10) / 10,
  });
  process.stdout.write(`${JSON.stringify({ median: { closed: summary('closed'), open: summary('open') } })}\n`);
} finally {
  await browser.close();
  await server.stop();
}
