/**
 * File descriptors as a budget: a real `serve` child with a lowered `ulimit -n`, so that running
 * out of them takes a few hundred sockets rather than twenty thousand. Slow admin clients must not
 * take what the protocol port needs; running out must be logged once per burst; and limits that
 * cannot all be met must be said at startup.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { RawClient, waitFor } from '../helpers/server-harness.js';
import { startServe, type ServeChild } from '../helpers/serve-child.js';

const OPEN_FILES_LIMIT = 200;

/** Sockets that connect and then just sit there, or send `firstBytes` and one more header line every 100 ms. */
class SocketCrowd {
  readonly sockets: net.Socket[] = [];
  connected = 0;
  closed = 0;

  constructor(t: TestContext, port: number, count: number, firstBytes?: string) {
    for (let i = 0; i < count; i++) {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      socket.once('connect', () => {
        this.connected++;
        if (firstBytes !== undefined) socket.write(firstBytes);
      });
      socket.once('close', () => this.closed++);
      this.sockets.push(socket);
    }
    const trickle =
      firstBytes === undefined
        ? undefined
        : setInterval(() => {
            for (const socket of this.sockets) if (!socket.destroyed) socket.write('X-Slow: yes\r\n');
          }, 100);
    t.after(() => {
      clearInterval(trickle);
      this.destroy();
    });
  }

  get open(): number {
    return this.sockets.length - this.closed;
  }

  /** Resolves once every socket has connected or failed to. */
  async settled(): Promise<void> {
    await waitFor(() => this.connected + this.closed >= this.sockets.length, 20_000, 'every socket to connect');
  }

  destroy(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

function adminPortOf(child: ServeChild): number {
  const line = child.logs.find((entry) => typeof entry.adminAddress === 'object' && entry.adminAddress !== null);
  const port = (line?.adminAddress as { port?: unknown } | undefined)?.port;
  assert.equal(typeof port, 'number', 'the listening line names the admin port');
  return port as number;
}

/** A GET on a connection of its own: the status and body, or the error if the connection ends first. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.once('error', reject);
  });
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

test('slow admin clients past the admin limit take neither the protocol port nor /healthz', async (t) => {
  const child = await startServe(t, ['--in-memory', '--admin-port', '0'], { openFilesLimit: OPEN_FILES_LIMIT });
  const adminPort = adminPortOf(child);
  const crowd = new SocketCrowd(t, adminPort, 2 * OPEN_FILES_LIMIT, 'GET /healthz HTTP/1.1\r\nHost: admin\r\n');
  await crowd.settled();
  // the default admin limit is 100: the server holds that many and closes the rest
  await waitFor(() => crowd.open <= 100, 20_000, 'the admin port to hold no more than its limit');

  const health = await get(adminPort, '/healthz');
  assert.equal(health.status, 200);
  const client = await RawClient.connect(t, child.port);
  assert.deepEqual(await client.exchange('INDEX|served|', 'QUERY|served|'), ['OK', 'OK']);
  const metrics = (await get(adminPort, '/metrics')).body;
  assert.ok(metricValue(metrics, 'package_indexer_admin_connections_limited_total{reason="evicted"}') >= OPEN_FILES_LIMIT);
  const limitWarnings = child.logs.filter((line) => line.level === 40 && line.limit === 100);
  assert.equal(limitWarnings.length, 1, 'reaching the admin limit is logged once');
});

test('running out of file descriptors is logged once, with its cause, and its end with the count', async (t) => {
  const child = await startServe(t, ['--in-memory', '--admin-port', '0', '--connection-limit', '1000'], { openFilesLimit: OPEN_FILES_LIMIT });
  const adminPort = adminPortOf(child);
  const failing = (): Array<Record<string, unknown>> => child.logs.filter((line) => line.level === 50 && line.code === 'EMFILE');
  // the read side's thread opens files while it starts; once it answers, the descriptors in use hold still
  assert.equal((await get(adminPort, '/v1/stats')).status, 200);
  const crowd = new SocketCrowd(t, child.port, 2 * OPEN_FILES_LIMIT);
  await crowd.settled();
  await waitFor(() => failing().length > 0, 20_000, 'the failed accepts to be logged');
  // more connections into the same burst: each is closed unanswered, none is logged again
  const more = new SocketCrowd(t, child.port, 50);
  await more.settled();
  await waitFor(() => more.closed === 50, 20_000, 'the server to close the connections it cannot take');
  assert.equal(failing().length, 1);

  crowd.destroy();
  more.destroy();
  await waitFor(() => child.logs.some((line) => typeof line.failures === 'number'), 20_000, 'the end of the burst to be logged');
  const ended = child.logs.find((line) => typeof line.failures === 'number');
  assert.ok((ended?.failures as number) >= 1);
  assert.equal(failing().length, 1);
  const metrics = (await get(adminPort, '/metrics')).body;
  assert.equal(metricValue(metrics, 'package_indexer_accept_failures_total'), ended?.failures);
});

test('limits that need more file descriptors than the process may open are said in one warning at startup', async (t) => {
  const warnings = (child: ServeChild): Array<Record<string, unknown>> =>
    child.logs.filter((line) => line.level === 40 && typeof line.descriptorsNeeded === 'number');
  const tooMany = await startServe(t, ['--in-memory', '--admin-port', '0'], { openFilesLimit: OPEN_FILES_LIMIT });
  assert.equal(warnings(tooMany).length, 1);
  assert.equal(warnings(tooMany)[0]?.descriptorLimit, OPEN_FILES_LIMIT);
  assert.ok((warnings(tooMany)[0]?.descriptorsNeeded as number) > 10_000);

  const fitting = await startServe(
    t,
    ['--in-memory', '--admin-port', '0', '--connection-limit', '50', '--waiting-limit', '10', '--admin-connection-limit', '10'],
    { openFilesLimit: OPEN_FILES_LIMIT },
  );
  assert.equal(warnings(fitting).length, 0);
});
