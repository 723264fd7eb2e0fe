/**
 * `package-indexer graph` as a user runs it against a real server's admin port: tables and chains
 * for a person, the server's JSON with --json, exit 1 for an unknown package, no path or a cycle,
 * and 2 for a question it does not know.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { startIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { run } from '../helpers/run-cli.js';
import { RawClient } from '../helpers/server-harness.js';

async function serverWith(t: TestContext, ...lines: string[]): Promise<string> {
  const indexer = await startIndexer(resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true }, {}), silentLogger());
  t.after(() => indexer.stop());
  const client = await RawClient.connect(t, indexer.address.port);
  assert.ok((await client.exchange(...lines)).every((reply) => reply === 'OK'));
  return `http://127.0.0.1:${indexer.adminAddress?.port}`;
}

const GRAPH = ['INDEX|zlib|', 'INDEX|tls|', 'INDEX|http|tls,zlib', 'INDEX|app|http'];

test('graph deps, dependents, order and path print answers a person can read', async (t) => {
  const admin = await serverWith(t, ...GRAPH);
  const deps = await run(t, ['graph', 'deps', 'app', '--admin', admin]);
  assert.equal(deps.code, 0, deps.stderr);
  assert.equal(deps.stdout, 'app depends on: 3 packages\n  1  http\n  2  tls\n  2  zlib\n');
  const dependents = await run(t, ['graph', 'dependents', 'zlib', '--admin', admin, '--depth', '1']);
  assert.equal(dependents.stdout, 'depending on zlib: 1 package\n  1  http\n');
  const order = await run(t, ['graph', 'order', 'app', '--admin', admin, '--limit', '2']);
  assert.equal(order.stdout, 'install app in this order: 4 packages (the first 2 shown)\n  1. tls\n  2. zlib\n');
  const path = await run(t, ['graph', 'path', 'app', 'zlib', '--admin', admin]);
  assert.equal(path.stdout, 'app → http → zlib\n');
});

test('graph --json prints the server answer, and cycles are listed', async (t) => {
  const admin = await serverWith(t, ...GRAPH, 'INDEX|tls|app');
  const json = await run(t, ['graph', 'cycles', '--admin', admin, '--json']);
  assert.deepEqual(JSON.parse(json.stdout), { total: 1, truncated: false, cycles: [['app', 'http', 'tls']] });
  const cycles = await run(t, ['graph', 'cycles', '--admin', admin]);
  assert.equal(cycles.stdout, '1 cycle\n  3 packages: app, http, tls\n');
  const order = await run(t, ['graph', 'order', 'app', '--admin', admin]);
  assert.equal(order.code, 1);
  assert.match(order.stderr, /cycle/);
});

test('graph exits 1 for an unknown package or no path, and 2 for bad usage', async (t) => {
  const admin = await serverWith(t, ...GRAPH);
  const unknown = await run(t, ['graph', 'deps', 'ghost', '--admin', admin]);
  assert.deepEqual([unknown.code, unknown.stderr], [1, 'package-indexer graph: ghost is not indexed\n']);
  const none = await run(t, ['graph', 'path', 'zlib', 'app', '--admin', admin]);
  assert.equal(none.code, 1);
  for (const args of [['graph'], ['graph', 'why', 'app'], ['graph', 'path', 'app'], ['graph', 'deps', 'app', '--depth', '0']]) {
    const bad = await run(t, [...args, '--admin', admin]);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
  }
  const unreachable = await run(t, ['graph', 'cycles', '--admin', 'http://127.0.0.1:1']);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach the admin port/);
});
