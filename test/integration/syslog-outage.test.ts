/**
 * A syslog receiver that is down never blocks or stops the server: with nothing listening on the
 * UDP port, the TCP connection refused, the unix socket missing, or the TCP peer closing, `serve`
 * answers protocol commands and stops cleanly on SIGTERM; stderr says where records are dropped;
 * a TCP receiver that comes back gets the records logged after it returns. A datagram unix socket
 * (what /dev/log is on Linux), which Node.js cannot connect to, is refused at startup.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { serveUntilExit, startServe } from '../helpers/serve-child.js';
import { RawClient, waitFor } from '../helpers/server-harness.js';
import { tcpReceiver, udpReceiver } from '../helpers/syslog-receiver.js';

/** What an uncaught error or a stalled log transport (thread-stream's flush timeout) prints. */
const CRASH_TRACE = /Error:|took too long|^\s+at /m;

/** A destination where nothing listens: a receiver's address, closed again. */
async function closedDestination(t: TestContext, kind: 'udp' | 'tcp' | 'unix'): Promise<string> {
  if (kind === 'unix') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pi-syslog-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    return `unix://${path.join(dir, 'missing.sock')}`;
  }
  const receiver = kind === 'udp' ? await udpReceiver(t) : await tcpReceiver(t);
  await receiver.close();
  return receiver.destination;
}

describe('serve with a syslog receiver that is down', () => {
  const cases = [
    ['nothing listens on the UDP port', 'udp', false],
    ['the TCP connection is refused', 'tcp', true],
    ['the unix socket is missing', 'unix', true],
  ] as const;
  for (const [name, kind, warns] of cases) {
    test(`answers commands and stops cleanly on SIGTERM when ${name}`, { timeout: 30_000 }, async (t) => {
      const destination = await closedDestination(t, kind);
      const serve = await startServe(t, ['--in-memory', '--log-destination', destination]);
      const client = await RawClient.connect(t, serve.port);
      assert.deepEqual(await client.exchange('INDEX|a|', 'INDEX|b|a', 'QUERY|b|', 'REMOVE|a|'), ['OK', 'OK', 'OK', 'FAIL']);
      if (warns) await waitFor(() => serve.stderr().includes(`cannot send logs to ${destination}`), 10_000, 'the warning on stderr');

      serve.kill('SIGTERM');
      const result = await serve.finished;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.signal, null);
      assert.doesNotMatch(result.stderr, CRASH_TRACE);
      // UDP is sent unconnected: a closed port is not noticed
      if (!warns) assert.equal(result.stderr, '');
    });
  }

  test('reconnects to a TCP receiver that closed the connection and came back', { timeout: 40_000 }, async (t) => {
    const first = await tcpReceiver(t);
    const serve = await startServe(t, ['--in-memory', '--log-destination', first.destination]);
    await first.waitForMessage('package-indexer listening');
    await first.close();
    await waitFor(() => serve.stderr().includes(`cannot send logs to ${first.destination}`), 10_000, 'the warning on stderr');
    const client = await RawClient.connect(t, serve.port);
    assert.deepEqual(await client.exchange('INDEX|a|', 'QUERY|a|'), ['OK', 'OK']);

    const port = Number(new URL(first.destination).port);
    const second = await tcpReceiver(t, port);
    await waitFor(() => second.connections > 0, 20_000, 'the reconnection');
    await waitFor(() => serve.stderr().includes(`sending logs to ${first.destination} again`), 10_000, 'the recovery on stderr');
    serve.kill('SIGTERM');
    const result = await serve.finished;
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, CRASH_TRACE);
    await second.waitForMessage('stopped');
    assert.deepEqual(second.malformed, []);
  });
});

const PYTHON_DATAGRAM_SOCKET = [
  'import socket, sys, time',
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.bind(sys.argv[1])',
  'print("ready", flush=True)',
  'time.sleep(60)',
].join('\n');

const hasPython = spawnSync('python3', ['--version']).status === 0;

test('serve refuses a datagram unix socket at startup with exit status 2, saying why', {
  skip: hasPython ? false : 'python3 is needed to bind a datagram unix socket',
  timeout: 30_000,
}, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pi-syslog-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'dev-log');
  const holder = spawn('python3', ['-c', PYTHON_DATAGRAM_SOCKET, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => holder.kill('SIGKILL'));
  let said = '';
  holder.stdout.setEncoding('utf8').on('data', (text: string) => (said += text));
  await waitFor(() => said.includes('ready'), 10_000, 'the datagram socket');

  const result = await serveUntilExit(t, ['--in-memory', '--log-destination', `unix://${socketPath}`]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--log-destination: .* is a datagram unix socket/);
});
