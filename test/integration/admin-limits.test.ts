/**
 * The admin port's bounds: how many connections it holds, how long a request may take to arrive,
 * and which parameter values it accepts. Each test runs a real admin listener on port 0.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { AdminServer } from '../../src/admin/http.js';
import { startIndexer, type BackendFactory, type RunningIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { IndexCounts } from '../../src/store/backend.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { metricValue, RawClient, waitFor } from '../helpers/server-harness.js';

async function startWithAdmin(t: TestContext, flags: Record<string, string>, makeBackend?: BackendFactory): Promise<RunningIndexer & { adminPort: number }> {
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true, ...flags }, {});
  const indexer = await startIndexer(config, silentLogger(), makeBackend);
  t.after(() => indexer.stop());
  return { ...indexer, adminPort: indexer.adminAddress?.port ?? 0 };
}

/** A GET on a connection of its own: the status, or the error if the connection ends first. */
function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('error', reject);
  });
}

/** A connection that has sent only the start of a request. */
async function unfinishedRequest(t: TestContext, port: number): Promise<RawClient> {
  const client = await RawClient.connect(t, port);
  await client.write('GET /healthz HTTP/1.1\r\nHost: admin\r\n');
  return client;
}

/** A backend whose counts (behind /v1/stats) wait until the test releases them. */
class StalledCounts extends MemoryBackend {
  calls = 0;
  #release: Array<() => void> = [];

  override async counts(): Promise<IndexCounts> {
    this.calls++;
    await new Promise<void>((resolve) => this.#release.push(resolve));
    return super.counts();
  }

  release(): void {
    for (const resolve of this.#release.splice(0)) resolve();
  }
}

test('a new admin connection closes the oldest one that is not being answered, so the limit holds and /healthz still answers', async (t) => {
  const indexer = await startWithAdmin(t, { 'admin-connection-limit': '3' });
  const first = await unfinishedRequest(t, indexer.adminPort);
  const second = await unfinishedRequest(t, indexer.adminPort);
  const third = await unfinishedRequest(t, indexer.adminPort);
  const fourth = await unfinishedRequest(t, indexer.adminPort);
  await first.waitForClose();
  assert.equal(await get(indexer.adminPort, '/healthz'), 200);
  await second.waitForClose();
  assert.equal(third.isClosed, false);
  assert.equal(fourth.isClosed, false);
  assert.equal(await metricValue(indexer.metrics, 'package_indexer_admin_connections_limited_total'), 2);
});

test('a new admin connection is refused while every held one is being answered', async (t) => {
  const backend = new StalledCounts();
  const indexer = await startWithAdmin(t, { 'admin-connection-limit': '2' }, () => backend);
  const answers = [get(indexer.adminPort, '/v1/stats'), get(indexer.adminPort, '/v1/stats')];
  await waitFor(() => backend.calls === 2, 5_000, 'both stats requests to reach the store');
  await assert.rejects(get(indexer.adminPort, '/healthz'));
  backend.release();
  assert.deepEqual(await Promise.all(answers), [200, 200]);
  assert.equal(await get(indexer.adminPort, '/healthz'), 200);
});

test('an admin request whose headers are late gets 408 and is closed, and so is a connection that sends nothing', async (t) => {
  const backend = new MemoryBackend();
  const admin = new AdminServer({
    backend,
    metrics: createMetrics({ processMetrics: false }),
    logger: silentLogger(),
    isReady: () => true,
    openConnections: () => 0,
    connectionLimit: 10,
    headersTimeoutMs: 300,
  });
  const { port } = await admin.listen(0, '127.0.0.1');
  t.after(() => admin.close());
  const silent = await RawClient.connect(t, port);
  const slow = await unfinishedRequest(t, port);
  const trickle = setInterval(() => slow.send('X-Slow: yes\r\n'), 50);
  t.after(() => clearInterval(trickle));
  assert.match((await slow.readLines(1))[0] ?? '', /^HTTP\/1\.1 408 /);
  await slow.waitForClose();
  await silent.waitForClose();
});

test('the page limit is plain decimal digits from 1 to 1000', async (t) => {
  const indexer = await startWithAdmin(t, {});
  for (const limit of ['1e3', '0x10', '+5', '%205', '5%20', '5.0', '-1', '0', '1001', '', 'ten', '99999999999999999999']) {
    const response = await fetch(`http://127.0.0.1:${indexer.adminPort}/v1/packages?limit=${limit}`);
    assert.equal(response.status, 400, `limit=${limit}`);
    assert.equal(((await response.json()) as { parameter: string }).parameter, 'limit');
  }
  for (const limit of ['1', '05', '1000']) {
    assert.equal(await get(indexer.adminPort, `/v1/packages?limit=${limit}`), 200, `limit=${limit}`);
  }
});
