/**
 * What the admin port adds for the console, through a real listener: the console's files with
 * their content types, compression, caching and security headers; the admin token, as Basic
 * password or Bearer, with the health probes left open; the warning when the port is reachable
 * beyond loopback with no token; and the traffic timeline behind the live charts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import zlib from 'node:zlib';
import { pino } from 'pino';
import { AdminServer } from '../../src/admin/http.js';
import { startIndexer } from '../../src/cli/indexer.js';
import { resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { MemoryBackend } from '../../src/store/memory-backend.js';
import { RawClient } from '../helpers/server-harness.js';

interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A GET whose body arrives as sent: no decompression, unlike fetch. */
function rawGet(port: number, pathAndQuery: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: pathAndQuery, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const SCRIPT = `console.log(${JSON.stringify('the console '.repeat(400))});\n`;
const PAGE = '<!doctype html><title>console</title><script type="module" src="/assets/app-Ab12Cd34.js"></script>\n';

/** An admin server over a console directory made for the test. */
async function startWithConsole(t: TestContext): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'console-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), PAGE);
  writeFileSync(path.join(dir, 'assets', 'app-Ab12Cd34.js'), SCRIPT);
  const backend = new MemoryBackend();
  await backend.open();
  t.after(() => backend.close());
  const admin = new AdminServer({
    backend,
    metrics: createMetrics({ processMetrics: false }),
    logger: silentLogger(),
    isReady: () => true,
    openConnections: () => 0,
    connectionLimit: 100,
    consoleDir: dir,
  });
  t.after(() => admin.close());
  return (await admin.listen(0, '127.0.0.1')).port;
}

test('console pages answer index.html, revalidated on every load, under a strict content security policy', async (t) => {
  const port = await startWithConsole(t);
  for (const page of ['/', '/packages/openssl', '/packages/@scope%2Ftool']) {
    const answer = await rawGet(port, page);
    assert.equal(answer.status, 200, page);
    assert.equal(answer.body.toString(), PAGE);
    assert.equal(answer.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(answer.headers['cache-control'], 'no-cache');
    const policy = String(answer.headers['content-security-policy']);
    assert.match(policy, /script-src 'self'(;|$)/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff');
  }
  const first = await rawGet(port, '/');
  const again = await rawGet(port, '/', { 'if-none-match': String(first.headers.etag) });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
});

test('hashed assets are cached for a year and sent brotli- or gzip-compressed as the client accepts', async (t) => {
  const port = await startWithConsole(t);
  const asset = '/assets/app-Ab12Cd34.js';
  const plain = await rawGet(port, asset);
  assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body.toString(), SCRIPT);
  const brotli = await rawGet(port, asset, { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(brotli.headers['content-encoding'], 'br');
  assert.equal(brotli.headers.vary, 'accept-encoding');
  assert.ok(brotli.body.length < SCRIPT.length / 10, `brotli sent ${brotli.body.length} bytes`);
  assert.equal(zlib.brotliDecompressSync(brotli.body).toString(), SCRIPT);
  const gzip = await rawGet(port, asset, { 'accept-encoding': 'br;q=0, gzip' });
  assert.equal(gzip.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(gzip.body).toString(), SCRIPT);
  assert.equal((await rawGet(port, '/assets/missing-00000000.js')).status, 404);
  assert.equal((await rawGet(port, '/nowhere')).status, 404);
});

test('JSON answers carry the same security headers', async (t) => {
  const port = await startWithConsole(t);
  const answer = await rawGet(port, '/v1/stats');
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['x-content-type-options'], 'nosniff');
  assert.match(String(answer.headers['content-security-policy']), /frame-ancestors 'none'/);
});

async function startIndexerWith(t: TestContext, flags: Record<string, string>, logger = silentLogger()): Promise<{ adminPort: number; protocolPort: number }> {
  const config = resolveConfig({ port: '0', host: '127.0.0.1', 'admin-port': '0', 'in-memory': true, ...flags }, {});
  const indexer = await startIndexer(config, logger);
  t.after(() => indexer.stop());
  return { adminPort: indexer.adminAddress?.port ?? 0, protocolPort: indexer.address.port };
}

test('with a token, every admin request but the health probes needs it, as Basic password or Bearer', async (t) => {
  const token = 'k3y:with/odd=chars';
  const { adminPort } = await startIndexerWith(t, { 'admin-token': token });
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  for (const page of ['/', '/metrics', '/v1/stats', '/v1/packages/a', '/v1/changes', '/nowhere']) {
    const refused = await rawGet(adminPort, page);
    assert.equal(refused.status, 401, page);
    assert.match(String(refused.headers['www-authenticate']), /^Basic realm=/);
    for (const wrong of ['Bearer k3y', `Bearer ${token}x`, basic('admin', 'k3y'), basic(token, ''), 'Token k3y', `bearer`]) {
      assert.equal((await rawGet(adminPort, page, { authorization: wrong })).status, 401, `${page} with ${wrong}`);
    }
  }
  assert.equal((await rawGet(adminPort, '/v1/stats', { authorization: `Bearer ${token}` })).status, 200);
  assert.equal((await rawGet(adminPort, '/metrics', { authorization: basic('prometheus', token) })).status, 200);
  assert.equal((await rawGet(adminPort, '/v1/packages/a', { authorization: basic('', token) })).status, 404);
  assert.equal((await rawGet(adminPort, '/healthz')).status, 200);
  assert.equal((await rawGet(adminPort, '/readyz')).status, 200);
});

test('the startup log warns once when the admin port listens beyond loopback with no token', async (t) => {
  const warnings = async (flags: Record<string, string>): Promise<string[]> => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    await startIndexerWith(t, flags, logger);
    return lines.filter(({ level, msg }) => level === 40 && /admin/.test(msg)).map(({ msg }) => msg);
  };
  const open = await warnings({ 'admin-host': '0.0.0.0' });
  assert.equal(open.length, 1);
  assert.match(open[0] ?? '', /admin-token/);
  assert.deepEqual(await warnings({ 'admin-host': '0.0.0.0', 'admin-token': 'secret' }), []);
  assert.deepEqual(await warnings({ 'admin-host': '127.0.0.1' }), []);
});

test('the timeline gains a sample a second with commands by command and result and their latency', async (t) => {
  const { adminPort, protocolPort } = await startIndexerWith(t, {});
  const client = await RawClient.connect(t, protocolPort);
  await client.exchange('INDEX|a|', 'INDEX|b|a', 'QUERY|a|', 'REMOVE|a|');
  interface Sample {
    atMs: number;
    commandsPerSecond: Record<string, number>;
    p99Ms: number | null;
    commitP99Ms: number | null;
  }
  const deadline = Date.now() + 10_000;
  let busy: Sample | undefined;
  while (busy === undefined) {
    assert.ok(Date.now() < deadline, 'no sample counted the commands within 10 s');
    const { samples } = JSON.parse((await rawGet(adminPort, '/v1/stats/history')).body.toString()) as { samples: Sample[] };
    busy = samples.find((sample) => (sample.commandsPerSecond['INDEX OK'] ?? 0) > 0);
    if (busy === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok((busy.commandsPerSecond['QUERY OK'] ?? 0) > 0);
  assert.ok((busy.commandsPerSecond['REMOVE FAIL'] ?? 0) > 0);
  assert.equal(busy.commandsPerSecond['INDEX ERROR'], 0);
  assert.ok(busy.p99Ms !== null && busy.p99Ms > 0);
  const later = JSON.parse((await rawGet(adminPort, `/v1/stats/history?after=${busy.atMs}`)).body.toString()) as { samples: Sample[] };
  assert.ok(later.samples.every((sample) => sample.atMs > busy.atMs));
  assert.equal((await rawGet(adminPort, '/v1/stats/history?after=soon')).status, 400);
});
