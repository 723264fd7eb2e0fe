/**
 * The read API's questions through a real server: closures either way, install order and its
 * cycle refusal, the path question, cycles, the summary in stats, bad parameters, and the change
 * feed over server-sent events, resumed and reset. Every JSON answer is checked against the
 * OpenAPI description the server publishes.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { OPENAPI } from '../../src/admin/openapi.js';
import { startIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { schemaErrors } from '../helpers/json-schema.js';
import { RawClient } from '../helpers/server-harness.js';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

type Operation = { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> };

/** The OpenAPI operation whose path template matches `path` (the longest template wins). */
function operationFor(path: string): Operation {
  const templates = Object.keys(OPENAPI.paths).sort((a, b) => b.length - a.length);
  const template = templates.find((candidate) => new RegExp(`^${candidate.replace(/\{name\}/g, '.+')}$`).test(path));
  assert.ok(template !== undefined, `no OpenAPI path describes ${path}`);
  return (OPENAPI.paths as unknown as Record<string, { get: Operation }>)[template]?.get as Operation;
}

async function startApi(
  t: TestContext,
): Promise<{ port: number; client: RawClient; get(pathAndQuery: string, headers?: Record<string, string>): Promise<Answer>; adminUrl: string }> {
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true }, {});
  const indexer = await startIndexer(config, silentLogger());
  t.after(() => indexer.stop());
  const adminUrl = `http://127.0.0.1:${indexer.adminAddress?.port}`;
  const client = await RawClient.connect(t, indexer.address.port);
  const get = async (pathAndQuery: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const response = await fetch(`${adminUrl}${pathAndQuery}`, { headers });
    const body = (await response.json()) as Record<string, unknown>;
    const described = operationFor(new URL(pathAndQuery, adminUrl).pathname).responses[String(response.status)];
    assert.ok(described !== undefined, `${pathAndQuery}: status ${response.status} is not described`);
    const schema = described.content?.['application/json']?.schema;
    if (schema !== undefined) assert.deepEqual(schemaErrors(schema, body), [], `${pathAndQuery} answers as described`);
    return { status: response.status, body };
  };
  return { port: indexer.address.port, client, get, adminUrl };
}

/** app → web → http → {tls, zlib}; app → log; tls → crypto; cli → http. */
const GRAPH = [
  'INDEX|zlib|',
  'INDEX|crypto|',
  'INDEX|tls|crypto',
  'INDEX|http|tls,zlib',
  'INDEX|web|http',
  'INDEX|log|',
  'INDEX|app|web,log',
  'INDEX|cli|http',
];

test('closures list every package either way with its shortest distance, cut by depth and limit', async (t) => {
  const api = await startApi(t);
  await api.client.exchange(...GRAPH);
  assert.deepEqual((await api.get('/v1/packages/app/dependencies')).body, {
    name: 'app',
    total: 6,
    truncated: false,
    packages: [
      { name: 'log', depth: 1 },
      { name: 'web', depth: 1 },
      { name: 'http', depth: 2 },
      { name: 'tls', depth: 3 },
      { name: 'zlib', depth: 3 },
      { name: 'crypto', depth: 4 },
    ],
  });
  assert.deepEqual((await api.get('/v1/packages/app/dependencies?depth=2&limit=2')).body, {
    name: 'app',
    total: 3,
    truncated: true,
    packages: [
      { name: 'log', depth: 1 },
      { name: 'web', depth: 1 },
    ],
  });
  assert.deepEqual((await api.get('/v1/packages/crypto/dependents?depth=all')).body, {
    name: 'crypto',
    total: 5,
    truncated: false,
    packages: [
      { name: 'tls', depth: 1 },
      { name: 'http', depth: 2 },
      { name: 'cli', depth: 3 },
      { name: 'web', depth: 3 },
      { name: 'app', depth: 4 },
    ],
  });
  assert.deepEqual((await api.get('/v1/packages/nothing/dependents')).body.name, 'nothing');
});

test('install order puts each package after its dependencies, and a cycle is refused with 409 naming it', async (t) => {
  const api = await startApi(t);
  await api.client.exchange(...GRAPH);
  assert.deepEqual((await api.get('/v1/packages/web/install-order')).body, {
    name: 'web',
    total: 5,
    truncated: false,
    order: ['crypto', 'tls', 'zlib', 'http', 'web'],
  });
  // [P-INDEX-2] re-indexing may close a cycle: crypto now needs web
  assert.deepEqual(await api.client.exchange('INDEX|crypto|web'), ['OK']);
  const refused = await api.get('/v1/packages/app/install-order');
  assert.equal(refused.status, 409);
  assert.deepEqual([...(refused.body.cycle as string[])].sort(), ['crypto', 'http', 'tls', 'web']);
  assert.deepEqual((await api.get('/v1/cycles')).body, { total: 1, truncated: false, cycles: [['crypto', 'http', 'tls', 'web']] });
});

test('the path question gives a shortest chain, and 404 tells an unknown package from no chain', async (t) => {
  const api = await startApi(t);
  await api.client.exchange(...GRAPH);
  assert.deepEqual((await api.get('/v1/path?from=app&to=crypto')).body, { from: 'app', to: 'crypto', path: ['app', 'web', 'http', 'tls', 'crypto'] });
  const none = await api.get('/v1/path?from=crypto&to=app');
  assert.deepEqual([none.status, none.body.error], [404, 'no-path']);
  const unknown = await api.get('/v1/path?from=app&to=ghost');
  assert.deepEqual([unknown.status, unknown.body.error, unknown.body.name], [404, 'not-found', 'ghost']);
  assert.equal((await api.get('/v1/path?from=app')).body.parameter, 'to');
});

test('stats name the most depended-upon packages, the roots and the leaves', async (t) => {
  const api = await startApi(t);
  await api.client.exchange(...GRAPH);
  const { body } = await api.get('/v1/stats');
  assert.deepEqual(body.mostDependedUpon, [
    { name: 'http', count: 2 },
    { name: 'crypto', count: 1 },
    { name: 'log', count: 1 },
    { name: 'tls', count: 1 },
    { name: 'web', count: 1 },
    { name: 'zlib', count: 1 },
  ]);
  assert.deepEqual(body.roots, { total: 2, names: ['app', 'cli'] });
  assert.deepEqual(body.leaves, { total: 3, names: ['crypto', 'log', 'zlib'] });
});

test('bad parameters get 400 naming them; a name with a slash is reached through %2F', async (t) => {
  const api = await startApi(t);
  await api.client.exchange('INDEX|@scope/dependents|', 'INDEX|user|@scope/dependents');
  for (const [query, parameter] of [
    ['/v1/packages/user/dependencies?depth=0', 'depth'],
    ['/v1/packages/user/dependencies?depth=1e3', 'depth'],
    ['/v1/packages/user/dependents?limit=0x10', 'limit'],
    ['/v1/packages/user/install-order?limit=%205', 'limit'],
    ['/v1/cycles?limit=-1', 'limit'],
    ['/v1/path?from=a%3Db&to=user', 'from'],
  ] as const) {
    const answer = await api.get(query);
    assert.deepEqual([answer.status, answer.body.parameter], [400, parameter], query);
  }
  assert.deepEqual((await api.get('/v1/packages/@scope%2Fdependents/dependents')).body.packages, [{ name: 'user', depth: 1 }]);
  assert.equal((await api.get('/v1/packages/@scope%2Fdependents')).body.name, '@scope/dependents');
});

type FeedEvent = { id: string | undefined; event: string; data: Record<string, unknown> };

/**
 * Opens a server-sent event stream. The server subscribes in the same turn in which it sends the
 * headers, so once this resolves every later change is in the stream.
 */
async function openEvents(url: string, headers: Record<string, string> = {}): Promise<{ read(count: number): Promise<FeedEvent[]> }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const chunks = (response.body as ReadableStream<Uint8Array>)[Symbol.asyncIterator]();
  const decoder = new TextDecoder();
  let text = '';
  const events: FeedEvent[] = [];
  return {
    async read(count) {
      while (events.length < count) {
        const { value, done } = await chunks.next();
        assert.ok(!done, 'the stream ended early');
        text += decoder.decode(value, { stream: true });
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const lines = text
            .slice(0, end)
            .split('\n')
            .filter((line) => !line.startsWith(':'));
          text = text.slice(end + 2);
          const fields = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
          if (fields['event'] !== undefined)
            events.push({ id: fields['id'], event: fields['event'], data: JSON.parse(fields['data'] ?? '{}') as Record<string, unknown> });
        }
      }
      controller.abort();
      return events.slice(0, count);
    },
  };
}

test('the change feed streams each committed change once, resumes after Last-Event-ID, and says when it cannot', async (t) => {
  const api = await startApi(t);
  const live = await openEvents(`${api.adminUrl}/v1/changes`);
  assert.deepEqual(await api.client.exchange('INDEX|a|', 'INDEX|a|', 'QUERY|a|', 'REMOVE|ghost|', 'INDEX|b|a', 'REMOVE|b|'), [
    'OK',
    'OK',
    'OK',
    'OK',
    'OK',
    'OK',
  ]);
  const events = await live.read(3);
  assert.deepEqual(
    events.map(({ event, data }) => [event, data.command, data.name, data.dependencies]),
    [
      ['change', 'INDEX', 'a', []],
      ['change', 'INDEX', 'b', ['a']],
      ['change', 'REMOVE', 'b', []],
    ],
  );
  const [first] = events;
  const resumed = await (await openEvents(`${api.adminUrl}/v1/changes`, { 'last-event-id': first?.id ?? '' })).read(2);
  assert.deepEqual(
    resumed.map(({ data }) => [data.command, data.name]),
    [
      ['INDEX', 'b'],
      ['REMOVE', 'b'],
    ],
  );
  const reset = await (await openEvents(`${api.adminUrl}/v1/changes`, { 'last-event-id': 'another-epoch.1' })).read(1);
  assert.equal(reset[0]?.event, 'reset');
  const bad = await fetch(`${api.adminUrl}/v1/changes?after=nonsense`);
  assert.equal(bad.status, 400);
});
