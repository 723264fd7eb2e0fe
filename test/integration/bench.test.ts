import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createLatencyHistogram, recordLatency, summarizeLatency } from '../../src/client/latency-histogram.js';
import { runLoad } from '../../src/client/load-generator.js';
import { Workload } from '../../src/client/workload.js';
import { runBench } from '../../src/cli/bench.js';
import { generateDataset } from '../../src/dataset/generate.js';
import { cleanEnv, run } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/server-harness.js';

test('the latency histogram reports percentiles within a few percent', () => {
  const histogram = createLatencyHistogram();
  for (let us = 1; us <= 100_000; us++) recordLatency(histogram, us / 1000);
  const summary = summarizeLatency(histogram);
  assert.equal(summary.count, 100_000);
  for (const [got, want] of [
    [summary.p50Us, 50_000],
    [summary.p99Us, 99_000],
    [summary.p999Us, 99_900],
    [summary.maxUs, 100_000],
    [summary.meanUs, 50_000.5],
  ] as const) {
    assert.ok(Math.abs(got - want) / want < 0.01, `${got} vs ${want}`);
  }
  assert.deepEqual(summarizeLatency(createLatencyHistogram()), { count: 0, meanUs: 0, p50Us: 0, p99Us: 0, p999Us: 0, maxUs: 0 });
});

test('the latency histogram takes latencies below 1 ns and beyond its range without throwing', () => {
  const histogram = createLatencyHistogram();
  recordLatency(histogram, 0);
  recordLatency(histogram, 10 * 3_600_000);
  assert.equal(summarizeLatency(histogram).count, 2);
});

test('bench measures our server and the baseline with positive throughput and ordered percentiles', async (t) => {
  const { port, backend } = await startTestServer(t);
  const dataset = generateDataset({ packages: 1000, seed: 5 });
  const result = await runBench({
    dataset,
    targets: [{ host: '127.0.0.1', port }],
    connections: 8,
    pipeline: 4,
    durationMs: 500,
    warmupMs: 100,
    writePercent: 20,
    seed: 5,
    baseline: true,
  });
  for (const run of [result.target, result.baseline]) {
    assert.ok(run !== undefined);
    const { latency, replies, connectionErrors, requestsPerSecond } = run.result;
    assert.ok(requestsPerSecond > 0);
    assert.ok(latency.count > 0);
    assert.ok(latency.p50Us <= latency.p99Us && latency.p99Us <= latency.p999Us && latency.p999Us <= latency.maxUs);
    assert.equal(replies.ERROR, 0);
    assert.equal(connectionErrors, 0);
  }
  assert.ok(result.ratios !== undefined && result.ratios.throughput > 0);
  if (process.platform === 'linux') assert.ok(result.baseline?.result.serverCpuUsPerRequest !== undefined, 'the CPU time of a child server is read');
  const { replies } = result.target.result;
  assert.ok(replies.OK > replies.FAIL, 'writes and queries mostly succeed');
  assert.equal((await backend.counts()).packages, 0, 'bench removes the dataset it indexed');
});

test('bench --spawn-server keeps the spawned store in a directory of its own, not in ./data of where it runs', async (t) => {
  // bench runs here, and makes its temporary directories here too, apart from other tests' ones
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cwd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const result = await run(
    t,
    [
      'bench',
      '--spawn-server',
      '--server-args',
      '--fsync normal',
      '--packages',
      '200',
      '--connections',
      '4',
      '--duration-seconds',
      '0.5',
      '--warmup-seconds',
      '0.1',
    ],
    { cwd: dir, env: cleanEnv({ TMPDIR: dir }), timeoutMs: 60_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^target\s+[\d,]+/m);
  assert.equal(existsSync(path.join(dir, 'data')), false, 'the spawned server wrote ./data where bench ran');
  assert.deepEqual(readdirSync(dir), [], 'the scratch store was left behind');
});

test('the load generator counts a failed connection once, however many requests it had in flight', async (t) => {
  const server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const workload = new Workload(generateDataset({ packages: 50, seed: 1 }), 20);
  const result = await runLoad({ targets: [{ host: '127.0.0.1', port }], workload, connections: 3, pipeline: 4, warmupMs: 0, durationMs: 200, seed: 1 });
  assert.equal(result.connectionErrors, 3);
  assert.equal(result.requests, 0);
});
