import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startIndexer, type BackendFactory, type RunningIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import type { Command, Reply } from '../../src/protocol/types.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { RawClient, freePort, waitFor } from '../helpers/server-harness.js';

async function startWithAdmin(
  t: TestContext,
  makeBackend?: BackendFactory,
  extraFlags: Record<string, string> = {},
): Promise<RunningIndexer & { get(path: string): Promise<Response> }> {
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true, ...extraFlags }, {});
  const indexer = await startIndexer(config, silentLogger(), makeBackend);
  let stopped = false;
  t.after(async () => {
    if (!stopped) await indexer.stop();
  });
  const stop = async (): Promise<void> => {
    stopped = true;
    await indexer.stop();
  };
  const get = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${indexer.adminAddress?.port}${path}`);
  return { ...indexer, stop, get };
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

test('metrics count commands by command and result, protocol errors by reason, and index size', async (t) => {
  const indexer = await startWithAdmin(t);
  const client = await RawClient.connect(t, indexer.address.port);
  await client.exchange('INDEX|a|', 'INDEX|b|a', 'INDEX|c|missing', 'QUERY|a|', 'REMOVE|a|', 'index|x|');
  const text = await (await indexer.get('/metrics')).text();
  assert.equal(metricValue(text, 'package_indexer_commands_total{command="INDEX",result="OK"}'), 2);
  assert.equal(metricValue(text, 'package_indexer_commands_total{command="INDEX",result="FAIL"}'), 1);
  assert.equal(metricValue(text, 'package_indexer_commands_total{command="REMOVE",result="FAIL"}'), 1);
  assert.equal(metricValue(text, 'package_indexer_protocol_errors_total{reason="unknown-command"}'), 1);
  assert.equal(metricValue(text, 'package_indexer_packages'), 2);
  assert.equal(metricValue(text, 'package_indexer_dependency_edges'), 1);
  assert.equal(metricValue(text, 'package_indexer_connections_open'), 1);
  assert.equal(metricValue(text, 'package_indexer_command_duration_seconds_count{command="INDEX"}'), 3);
  assert.ok(metricValue(text, 'package_indexer_received_bytes_total') > 0);
  assert.match(text, /^package_indexer_process_cpu_seconds_total /m);
});

test('one /metrics scrape reads the index counts from the backend once, and the next reads them again', async (t) => {
  class CountedReads extends MemoryBackend {
    reads = 0;
    override async counts(): ReturnType<MemoryBackend['counts']> {
      this.reads++;
      return super.counts();
    }
  }
  const backend = new CountedReads();
  const indexer = await startWithAdmin(t, () => backend);
  const client = await RawClient.connect(t, indexer.address.port);
  await client.exchange('INDEX|a|', 'INDEX|b|a');
  const first = await (await indexer.get('/metrics')).text();
  assert.equal(backend.reads, 1);
  assert.equal(metricValue(first, 'package_indexer_packages'), 2);
  assert.equal(metricValue(first, 'package_indexer_dependency_edges'), 1);
  await client.exchange('INDEX|c|a');
  const second = await (await indexer.get('/metrics')).text();
  assert.equal(backend.reads, 2);
  assert.equal(metricValue(second, 'package_indexer_packages'), 3);
  assert.equal(metricValue(second, 'package_indexer_dependency_edges'), 2);
});

test('healthz and readyz answer 200 while serving', async (t) => {
  const indexer = await startWithAdmin(t);
  assert.equal((await indexer.get('/healthz')).status, 200);
  assert.equal((await indexer.get('/readyz')).status, 200);
  assert.equal((await indexer.get('/nowhere')).status, 404);
});

/** A MemoryBackend whose `open` waits until the test lets it finish, like a store loading a big file. */
class SlowToLoadBackend extends MemoryBackend {
  opening = false;
  #loaded: Promise<void>;

  constructor(loaded: Promise<void>) {
    super();
    this.#loaded = loaded;
  }

  override async open(): Promise<void> {
    this.opening = true;
    await this.#loaded;
    await super.open();
  }
}

test('readyz answers 503 while the store loads and 200 once it has, while healthz answers 200 throughout', async (t) => {
  let finishLoading = (): void => {};
  const loaded = new Promise<void>((resolve) => (finishLoading = resolve));
  let backend: SlowToLoadBackend | undefined;
  // the test must reach the admin port before startIndexer returns, so it picks the port itself
  const adminPort = await freePort();
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': String(adminPort), 'in-memory': true }, {});
  const starting = startIndexer(config, silentLogger(), () => (backend = new SlowToLoadBackend(loaded)));
  t.after(async () => {
    finishLoading();
    await (await starting).stop();
  });
  const get = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${adminPort}${path}`);
  await waitFor(() => backend?.opening === true, 5_000, 'the store to start loading');
  assert.equal((await get('/readyz')).status, 503);
  assert.equal((await get('/healthz')).status, 200);
  finishLoading();
  const indexer = await starting;
  assert.equal((await get('/readyz')).status, 200);
  assert.equal((await get('/healthz')).status, 200);
  const client = await RawClient.connect(t, indexer.address.port);
  assert.deepEqual(await client.exchange('QUERY|a|'), ['FAIL']);
});

test('HEAD answers as GET does, without a body', async (t) => {
  const indexer = await startWithAdmin(t);
  for (const path of ['/healthz', '/readyz', '/v1/stats', '/v1/packages', '/nowhere', '/v1/packages/a%3Db']) {
    const get = await indexer.get(path);
    const getBody = await get.text();
    const head = await fetch(`http://127.0.0.1:${indexer.adminAddress?.port}${path}`, { method: 'HEAD' });
    assert.equal(head.status, get.status, path);
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), path);
    assert.equal(await head.text(), '', path);
    if (path !== '/v1/stats') assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(getBody)), path);
  }
  const metrics = await fetch(`http://127.0.0.1:${indexer.adminAddress?.port}/metrics`, { method: 'HEAD' });
  assert.equal(metrics.status, 200);
  assert.equal(await metrics.text(), '');
});

test('any other method gets 405 with an Allow header and a JSON body', async (t) => {
  const indexer = await startWithAdmin(t);
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    for (const path of ['/healthz', '/v1/packages/a', '/nowhere']) {
      const response = await fetch(`http://127.0.0.1:${indexer.adminAddress?.port}${path}`, {
        method,
        body: method === 'POST' || method === 'PUT' ? '{}' : undefined,
      });
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get('allow'), 'GET, HEAD', `${method} ${path}`);
      assert.deepEqual(await response.json(), { error: 'method-not-allowed' }, `${method} ${path}`);
    }
  }
});

test('readyz turns 503 as soon as shutdown starts, while lines are still being answered', async (t) => {
  let release: (() => void) | undefined;
  const stalled: BackendFactory = () => {
    const inner = new MemoryBackend();
    return Object.assign(Object.create(inner) as MemoryBackend, {
      execute(commands: readonly Command[], done: (replies: Reply[]) => void): void {
        release = () => inner.execute(commands, done);
      },
    });
  };
  const indexer = await startWithAdmin(t, stalled, { 'shutdown-timeout-ms': '5000' });
  const client = await RawClient.connect(t, indexer.address.port);
  client.send('INDEX|a|\n');
  await waitFor(() => release !== undefined, 5_000, 'the line to reach the backend');
  const stopping = indexer.stop();
  assert.equal((await indexer.get('/readyz')).status, 503);
  assert.equal((await indexer.get('/healthz')).status, 200);
  assert.ok(release !== undefined);
  release();
  assert.deepEqual(await client.readLines(1), ['OK']);
  await stopping;
});

test('the read API describes a package with its dependencies and dependents', async (t) => {
  const indexer = await startWithAdmin(t);
  const client = await RawClient.connect(t, indexer.address.port);
  await client.exchange('INDEX|openssl|', 'INDEX|curl|openssl', 'INDEX|@scope/tool|curl,openssl');
  const response = await indexer.get('/v1/packages/openssl');
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { name: 'openssl', dependencies: [], dependents: ['@scope/tool', 'curl'], dependentsTotal: 2, truncated: false });
  assert.deepEqual(await (await indexer.get('/v1/packages/@scope/tool')).json(), {
    name: '@scope/tool',
    dependencies: ['curl', 'openssl'],
    dependents: [],
    dependentsTotal: 0,
    truncated: false,
  });
  assert.equal((await indexer.get('/v1/packages/absent')).status, 404);
  const bad = await indexer.get('/v1/packages/a%3Db');
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { parameter: string }).parameter, 'name');
});

test('the package list pages through names in order with a cursor and a prefix', async (t) => {
  const indexer = await startWithAdmin(t);
  const client = await RawClient.connect(t, indexer.address.port);
  const names = ['lib-c', 'lib-a', 'app', 'lib-b', 'lib-d'];
  await client.exchange(...names.map((name) => `INDEX|${name}|`));
  const seen: string[] = [];
  let cursor = '';
  for (let pages = 0; pages < 10; pages++) {
    const page = (await (await indexer.get(`/v1/packages?prefix=lib-&limit=2&cursor=${cursor}`)).json()) as { packages: string[]; nextCursor: string | null };
    seen.push(...page.packages);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  assert.deepEqual(seen, ['lib-a', 'lib-b', 'lib-c', 'lib-d']);
  for (const query of ['limit=0', 'limit=abc', 'prefix=%E2%98%83', 'cursor=a%20b']) {
    const response = await indexer.get(`/v1/packages?${query}`);
    assert.equal(response.status, 400, query);
  }
});

test('stats report the index size, connections and command rate', async (t) => {
  const indexer = await startWithAdmin(t);
  const client = await RawClient.connect(t, indexer.address.port);
  await client.exchange('INDEX|a|', 'INDEX|b|a');
  const stats = (await (await indexer.get('/v1/stats')).json()) as Record<string, number>;
  assert.equal(stats.packages, 2);
  assert.equal(stats.dependencies, 1);
  assert.equal(stats.connections, 1);
  assert.ok((stats.commandsPerSecond ?? 0) > 0);
  assert.equal(typeof stats.uptimeSeconds, 'number');
});

test('with the admin port off no admin listener starts', async (t) => {
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': 'off', 'in-memory': true }, {});
  const indexer = await startIndexer(config, silentLogger());
  t.after(() => indexer.stop());
  assert.equal(indexer.adminAddress, undefined);
});
