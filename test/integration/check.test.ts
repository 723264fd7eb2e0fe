import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { generateDataset } from '../../src/dataset/generate.js';
import { startTestServer, waitFor } from '../helpers/server-harness.js';

/** A server that answers every line with the same reply, whatever it says: a wrong server. */
async function startFixedReplyServer(t: TestContext, reply: string): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let lines = 0;
      for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) lines++;
      socket.write(`${reply}\n`.repeat(lines));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

test('check passes with 100 clients and 5% broken lines against a server limited to 100 connections', async (t) => {
  const { port, backend, server } = await startTestServer(t, { connectionLimit: 100, waitingLimit: 0 });
  const dataset = generateDataset({ packages: 3000, seed: 11 });
  const progress: string[] = [];
  const result = await runCheck({
    dataset,
    targets: [{ host: '127.0.0.1', port }],
    concurrency: 100,
    brokenPercent: 5,
    seed: 11,
    progress: (line) => progress.push(line),
  });
  assert.equal(result.failure, undefined);
  assert.deepEqual(result.mismatches, []);
  assert.equal(result.passed, true);
  assert.equal(result.phases.length, 5);
  assert.ok(result.brokenLines > 0.02 * result.requests, `${result.brokenLines} broken of ${result.requests}`);
  assert.ok(progress.length >= 5);
  const counts = await backend.counts();
  assert.equal(counts.packages, 0, 'check removes everything it indexed');
  assert.equal(server.waitingConnections, 0);
});

test('check fails against a server that answers OK to everything, showing the wrong replies', async (t) => {
  const port = await startFixedReplyServer(t, 'OK');
  const dataset = generateDataset({ packages: 300, seed: 2 });
  const result = await runCheck({ dataset, targets: [{ host: '127.0.0.1', port }], concurrency: 10, brokenPercent: 5 });
  assert.equal(result.passed, false);
  assert.ok(result.mismatches.length > 0);
  for (const found of result.mismatches) {
    assert.equal(found.got, 'OK');
    assert.ok(found.expected === 'ERROR' || found.expected === 'FAIL');
  }
});

test('check without broken lines still catches a server that answers OK to everything', async (t) => {
  const port = await startFixedReplyServer(t, 'OK');
  const dataset = generateDataset({ packages: 300, seed: 2 });
  const result = await runCheck({ dataset, targets: [{ host: '127.0.0.1', port }], concurrency: 10 });
  assert.equal(result.passed, false);
  assert.deepEqual(result.mismatches[0] && { expected: result.mismatches[0].expected, got: result.mismatches[0].got }, { expected: 'FAIL', got: 'OK' });
  assert.ok(result.mismatches[0]?.sent.startsWith('QUERY|'));
});

test('check gives up with a failure when brute force makes no progress', async (t) => {
  const port = await startFixedReplyServer(t, 'FAIL');
  const dataset = generateDataset({ packages: 50, seed: 3 });
  const result = await runCheck({ dataset, targets: [{ host: '127.0.0.1', port }], concurrency: 5, stallTimeoutMs: 200 });
  assert.equal(result.passed, false);
  assert.notEqual(result.failure, undefined);
  assert.deepEqual(result.mismatches, []);
  assert.equal(result.phases.length, 1);
});

test('check fails when the server closes the connections', async (t) => {
  const server = await startTestServer(t);
  const dataset = generateDataset({ packages: 20_000, seed: 4 });
  const running = runCheck({ dataset, targets: [{ host: '127.0.0.1', port: server.port }], concurrency: 4 });
  // mid-run: a few thousand of the 80,000-odd commands a full run needs
  await waitFor(() => server.metrics.totals.commands >= 2_000, 30_000, 'check to be under way');
  await server.close(0);
  const result = await running;
  assert.equal(result.passed, false);
  assert.notEqual(result.failure, undefined);
});
