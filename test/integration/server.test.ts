/**
 * The server over real sockets on port 0: framing under any segmentation, ordering, over-long
 * lines, half-close, the connection limit, timeouts, graceful shutdown and slow readers.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { GatedBackend, RawClient, isConnectionRefused, listenThroughHandle, metricValue, startTestServer, waitFor } from '../helpers/server-harness.js';

interface Script {
  readonly lines: string[];
  readonly expected: string[];
}

/**
 * Lines whose replies depend on their order: a chain p0 <- p1 <- … indexed, a remove that must
 * fail, a malformed line, then the chain removed from the top down.
 */
function chainScript(prefix: string, length: number): Script {
  const lines: string[] = [];
  const expected: string[] = [];
  const add = (line: string, reply: string): void => {
    lines.push(line);
    expected.push(reply);
  };
  for (let i = 0; i < length; i++) add(`INDEX|${prefix}${i}|${i > 0 ? `${prefix}${i - 1}` : ''}`, 'OK');
  add(`REMOVE|${prefix}0|`, 'FAIL');
  add(`INDEX|${prefix}x|${prefix}0,,${prefix}1`, 'ERROR');
  for (let i = length - 1; i >= 0; i--) {
    add(`REMOVE|${prefix}${i}|`, 'OK');
    add(`QUERY|${prefix}${i}|`, 'FAIL');
  }
  return { lines, expected };
}

function wire(lines: readonly string[], terminator = '\n'): string {
  return lines.map((line) => `${line}${terminator}`).join('');
}

describe('the server answering lines', () => {
  test('[P-LINE-6] answers malformed lines with ERROR and keeps the connection usable', async (t) => {
    const { port } = await startTestServer(t);
    const client = await RawClient.connect(t, port);
    const bad = ['BLINDEX|x|', 'index|a|', 'INDEX|a', 'INDEX|a|b|c', '', 'INDEX|a b|', 'QUERY|a|b', 'INDEX|a|a', 'QUERY|☃|', 'INDEX|a|b,,c'];
    assert.deepEqual(
      await client.exchange(...bad),
      bad.map(() => 'ERROR'),
    );
    assert.deepEqual(await client.exchange('INDEX|a|', 'QUERY|a|'), ['OK', 'OK']);
    assert.equal(client.isClosed, false);
  });

  test('[P-LINE-5] answers many pipelined lines sent in one write, in order', async (t) => {
    const { port } = await startTestServer(t);
    const client = await RawClient.connect(t, port);
    const { lines, expected } = chainScript('p', 2_000);
    client.send(wire(lines));
    assert.deepEqual(await client.readLines(lines.length), expected);
  });

  test('[P-LINE-5] [P-LINE-2] answers lines sent one byte per write, with \\n or \\r\\n', async (t) => {
    const { port } = await startTestServer(t);
    const client = await RawClient.connect(t, port);
    await client.sendByteByByte('INDEX|a|\r\nINDEX|b|a\nQUERY|b|\r\nREMOVE|a|\nbad\r\n');
    assert.deepEqual(await client.readLines(5), ['OK', 'OK', 'OK', 'FAIL', 'ERROR']);
  });

  test('answers interleaved clients over one shared index, each in its own order', async (t) => {
    const { port } = await startTestServer(t);
    const alice = await RawClient.connect(t, port);
    const bob = await RawClient.connect(t, port);
    assert.deepEqual(await alice.exchange('INDEX|base|'), ['OK']);
    assert.deepEqual(await bob.exchange('INDEX|app|base'), ['OK']);
    assert.deepEqual(await alice.exchange('REMOVE|base|'), ['FAIL']);
    assert.deepEqual(await bob.exchange('REMOVE|app|'), ['OK']);
    assert.deepEqual(await alice.exchange('REMOVE|base|', 'QUERY|app|'), ['OK', 'FAIL']);
  });

  test('[P-LINE-5] answers clients pipelining at the same time, each in its own order', async (t) => {
    const { port } = await startTestServer(t);
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.connect(t, port)));
    const scripts = clients.map((_, k) => chainScript(`c${k}-`, 300));
    clients.forEach((client, k) => client.send(wire(scripts[k]?.lines ?? [])));
    const replies = await Promise.all(clients.map((client, k) => client.readLines(scripts[k]?.lines.length ?? 0)));
    replies.forEach((got, k) => assert.deepEqual(got, scripts[k]?.expected, `client ${k}`));
  });

  test('a client that half-closes after sending still gets every reply, then the server closes', async (t) => {
    const { port } = await startTestServer(t);
    const client = await RawClient.connect(t, port);
    const { lines, expected } = chainScript('h', 200);
    client.send(wire(lines));
    client.end();
    assert.deepEqual(await client.readLines(lines.length), expected);
    await client.waitForClose();
  });

  test('[P-LINE-1] a half-close after an unfinished line answers the whole lines and closes', async (t) => {
    const { port } = await startTestServer(t);
    const client = await RawClient.connect(t, port);
    client.send('INDEX|a|\nQUERY|a|');
    client.end();
    assert.deepEqual(await client.readLines(1), ['OK']);
    await client.waitForClose();
    assert.equal(client.pendingLines, 0);
  });

  test('a client that half-closes while its lines are with the store still gets every reply', async (t) => {
    const backend = new GatedBackend();
    await backend.open();
    const { server } = await startTestServer(t, { backend });
    const { port, serverSockets } = await listenThroughHandle(t, server);
    const client = await RawClient.connect(t, port);
    client.send(wire(['INDEX|a|', 'QUERY|a|']));
    await backend.waitForBatches(1);
    client.end();
    await waitFor(() => serverSockets[0]?.readableEnded === true, 5_000, 'the server to read the half-close');
    assert.equal(serverSockets[0]?.writableEnded, false, 'the server ended its side before answering');
    backend.openGate();
    assert.deepEqual(await client.readLines(2), ['OK', 'OK']);
    await client.waitForClose();
  });
});

describe('the server with over-long lines', () => {
  test('[P-LINE-4] answers a line over a small cap with one ERROR, then serves the connection', async (t) => {
    const { port } = await startTestServer(t, { maxLineBytes: 64 });
    const client = await RawClient.connect(t, port);
    const atCap = `INDEX|${'a'.repeat(57)}|`;
    assert.equal(atCap.length, 64);
    assert.deepEqual(await client.exchange(atCap, `${atCap}b`, `QUERY|${'q'.repeat(500)}|`, 'QUERY|x|'), ['OK', 'ERROR', 'ERROR', 'FAIL']);
    // replies come in order: a stray second ERROR for a long line would come before this one
    assert.deepEqual(await client.exchange('QUERY|y|'), ['FAIL']);
    assert.equal(client.pendingLines, 0);
  });

  test('[P-LINE-4] answers a multi-megabyte line sent in chunks with one ERROR, as soon as the cap is passed', async (t) => {
    const { port } = await startTestServer(t);
    const client = await RawClient.connect(t, port);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    await client.write('INDEX|');
    await client.write(chunk);
    await client.write(chunk);
    assert.deepEqual(await client.readLines(1), ['ERROR']);
    for (let i = 0; i < 64; i++) await client.write(chunk);
    await client.write('|dep\nQUERY|zz|\n');
    assert.deepEqual(await client.readLines(1), ['FAIL']);
    assert.deepEqual(await client.exchange('INDEX|zz|'), ['OK']);
    assert.equal(client.pendingLines, 0);
  });
});

describe('the server under its connection limit', () => {
  test('parks a connection beyond the limit until a slot frees, and closes one beyond the waiting limit', async (t) => {
    const { port, server, metrics } = await startTestServer(t, { connectionLimit: 2, waitingLimit: 1 });
    const first = await RawClient.connect(t, port);
    const second = await RawClient.connect(t, port);
    assert.deepEqual(await first.exchange('INDEX|a|'), ['OK']);
    assert.deepEqual(await second.exchange('QUERY|a|'), ['OK']);

    const third = await RawClient.connect(t, port);
    third.send('QUERY|a|\n');
    await waitFor(() => server.waitingConnections === 1, 5_000, 'the third connection to wait');
    const fourth = await RawClient.connect(t, port);
    await fourth.waitForClose();
    assert.equal(await metricValue(metrics, 'package_indexer_connections_refused_total'), 1);
    assert.equal(third.pendingLines, 0);
    assert.equal(third.isClosed, false);

    first.socket.destroy();
    assert.deepEqual(await third.readLines(1), ['OK']);
    assert.equal(server.waitingConnections, 0);
    assert.equal(server.activeConnections, 2);
    assert.deepEqual(await second.exchange('QUERY|a|'), ['OK']);
  });

  test('frees the waiting place of a parked client that leaves without sending anything', async (t) => {
    const { port, server } = await startTestServer(t, { connectionLimit: 1, waitingLimit: 1 });
    const active = await RawClient.connect(t, port);
    assert.deepEqual(await active.exchange('INDEX|a|'), ['OK']);
    const quitter = await RawClient.connect(t, port);
    await waitFor(() => server.waitingConnections === 1, 5_000, 'the second connection to wait');
    quitter.socket.destroy();
    await waitFor(() => server.waitingConnections === 0, 5_000, 'the waiting place to be freed');

    const patient = await RawClient.connect(t, port);
    patient.send('QUERY|a|\n');
    await waitFor(() => server.waitingConnections === 1, 5_000, 'the third connection to wait');
    active.end();
    assert.deepEqual(await patient.readLines(1), ['OK']);
  });

  test('serves a parked client that sent its lines and half-closed once a slot frees', async (t) => {
    const { server } = await startTestServer(t, { connectionLimit: 1, waitingLimit: 1 });
    const { port, serverSockets } = await listenThroughHandle(t, server);
    const active = await RawClient.connect(t, port);
    assert.deepEqual(await active.exchange('INDEX|a|'), ['OK']);
    const waiting = await RawClient.connect(t, port);
    const lines = 'QUERY|a|\nINDEX|b|a\n';
    waiting.send(lines);
    waiting.end();
    await waitFor(() => server.waitingConnections === 1, 5_000, 'the second connection to wait');
    // the parked socket is not read, but it buffers: once its lines are there, so is its end
    await waitFor(() => serverSockets[1]?.readableLength === lines.length, 5_000, 'the parked lines to reach the server');
    assert.equal(server.waitingConnections, 1);
    assert.equal(serverSockets[1]?.destroyed, false);
    active.end();
    assert.deepEqual(await waiting.readLines(2), ['OK', 'OK']);
    await waiting.waitForClose();
  });
});

describe('the server timeouts', () => {
  test('closes a connection that stays idle for the idle timeout', async (t) => {
    const { port, server } = await startTestServer(t, { idleTimeoutMs: 150 });
    const client = await RawClient.connect(t, port);
    assert.deepEqual(await client.exchange('QUERY|a|'), ['FAIL']);
    await client.waitForClose(5_000);
    await waitFor(() => server.activeConnections === 0, 5_000, 'the connection to be released');
  });

  test('keeps a connection with steady traffic open past the idle timeout', async (t) => {
    // a line every 50 ms for twice the timeout: only a stall of most of a second could close it
    const idleTimeoutMs = 1_000;
    const { port } = await startTestServer(t, { idleTimeoutMs });
    const client = await RawClient.connect(t, port);
    const startedAt = Date.now();
    while (Date.now() - startedAt < 2 * idleTimeoutMs) {
      assert.deepEqual(await client.exchange('QUERY|a|'), ['FAIL']);
      await delay(50);
    }
    assert.equal(client.isClosed, false);
    await client.waitForClose(5_000);
  });

  test('disconnects a peer that never reads after the drain timeout and stays healthy', async (t) => {
    const { port, server, metrics } = await startTestServer(t, { drainTimeoutMs: 100 });
    const reader = await RawClient.connect(t, port);
    const hog = await RawClient.connect(t, port);
    hog.pauseReading();
    // empty lines: one byte each, answered with six, so the replies pile up quickly
    const chunk = Buffer.alloc(64 * 1024, '\n');
    let sentBytes = 0;
    const deadline = Date.now() + 10_000;
    while (!hog.isClosed && sentBytes < 64 * 1024 * 1024 && Date.now() < deadline) {
      if (hog.socket.writableLength < 1024 * 1024) {
        hog.send(chunk);
        sentBytes += chunk.length;
      }
      await delay(5);
    }
    await hog.waitForClose(5_000);
    await waitFor(() => server.activeConnections === 1, 2_000, 'the slow reader to be released');
    assert.ok((await metricValue(metrics, 'package_indexer_connection_errors_total')) >= 1);
    assert.deepEqual(await reader.exchange('INDEX|a|', 'QUERY|a|'), ['OK', 'OK']);
    const fresh = await RawClient.connect(t, port);
    assert.deepEqual(await fresh.exchange('QUERY|a|'), ['OK']);
  });
});

describe('the server shutting down', () => {
  test('answers lines already read, closes idle connections, and refuses new ones', async (t) => {
    const backend = new GatedBackend();
    await backend.open();
    const { port, close } = await startTestServer(t, { backend });
    const busy = await RawClient.connect(t, port);
    const idle = await RawClient.connect(t, port);
    const { lines, expected } = chainScript('s', 20);
    busy.send(wire(lines));
    await backend.waitForBatches(1);

    const closing = close(5_000);
    assert.equal(await isConnectionRefused(port), true);
    await idle.waitForClose();
    assert.equal(busy.isClosed, false);
    assert.equal(busy.pendingLines, 0);

    backend.openGate();
    assert.deepEqual(await busy.readLines(lines.length), expected);
    await busy.waitForClose();
    await closing;
  });

  test('closes without waiting for its shutdown timeout when no connection is open', async (t) => {
    const { port, close } = await startTestServer(t);
    // a minute's timeout: a close that waited for it would miss the 10 s deadline by far
    const closing = close(60_000).then(() => 'closed');
    const deadline = delay(10_000, 'still closing', { ref: false });
    assert.equal(await Promise.race([closing, deadline]), 'closed');
    assert.equal(await isConnectionRefused(port), true);
  });
});
