/**
 * How the server core takes in bytes: reading stops while a connection's queue is full behind a
 * slow store and goes on once the store answers; and any Duplex, not only a socket, is served,
 * parked under the connection limit and ended like one (node:stream duplexPair, Node 20.17 on).
 */
import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import { describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GatedBackend, RawClient, metricValue, startTestServer, waitFor } from '../helpers/server-harness.js';

describe('the server reading under backpressure', () => {
  test('stops reading a connection whose queue fills behind a slow store, and reads on once the store answers', async (t) => {
    const backend = new GatedBackend();
    await backend.open();
    const { port, metrics } = await startTestServer(t, { backend });
    const received = (): Promise<number> => metricValue(metrics, 'package_indexer_received_bytes_total');
    const client = await RawClient.connect(t, port);
    client.send('QUERY|a|\n');
    await backend.waitForBatches(1);
    // every later line queues behind the held one; a server that kept reading would take them all
    const chunk = Buffer.from('QUERY|a|\n'.repeat(7_000));
    let sentBytes = 0;
    while (client.socket.writableLength < 1024 * 1024 && sentBytes < 64 * 1024 * 1024) {
      client.send(chunk);
      sentBytes += chunk.length;
      await nextTurn();
    }
    // our write buffer backs up only once the kernel's buffers are full: the server stopped reading
    assert.ok(client.socket.writableLength >= 1024 * 1024, `the server read all of ${sentBytes} bytes`);
    const readWhileHeld = await received();
    assert.ok(readWhileHeld < 1024 * 1024, `the server read ${readWhileHeld} of ${sentBytes} bytes while its store held the first line`);
    assert.equal(backend.batches, 1);
    t.diagnostic(`the server read ${readWhileHeld} of the ${sentBytes} bytes sent before the kernel's buffers filled`);

    backend.openGate();
    await waitFor(() => backend.batches > 1, 5_000, 'the queued lines to reach the store');
    const readAfterRelease = await received();
    assert.ok(readAfterRelease >= readWhileHeld);
    await client.readLines(2);
    await waitFor(() => client.socket.writableLength < 1024 * 1024, 10_000, 'the server to read on');
  });
});

describe('the server core over any Duplex', () => {
  test('answers lines from a Duplex pair in order and ends it after the peer half-closes', async (t) => {
    const { server } = await startTestServer(t);
    const [client, serverSide] = duplexPair();
    t.after(() => client.destroy());
    server.handle(serverSide);
    let received = '';
    let ended = false;
    client.setEncoding('latin1');
    client.on('data', (text: string) => (received += text));
    client.on('end', () => (ended = true));
    client.write('INDEX|a|\nINDEX|b|a\nREMOVE|a|\nbad\nQUERY|');
    client.write('b|\n');
    await waitFor(() => received.split('\n').length > 5, 5_000, 'five replies');
    assert.equal(received, 'OK\nOK\nFAIL\nERROR\nOK\n');
    assert.equal(server.activeConnections, 1);
    client.end();
    await waitFor(() => ended, 5_000, 'the server to end its side');
    await waitFor(() => server.activeConnections === 0, 5_000, 'the connection to be released');
  });

  test('parks a Duplex beyond the connection limit and serves it once a slot frees', async (t) => {
    const { server } = await startTestServer(t, { connectionLimit: 1, waitingLimit: 1 });
    const [first, firstServerSide] = duplexPair();
    const [second, secondServerSide] = duplexPair();
    t.after(() => {
      first.destroy();
      second.destroy();
    });
    server.handle(firstServerSide);
    server.handle(secondServerSide);
    assert.deepEqual([server.activeConnections, server.waitingConnections], [1, 1]);
    let received = '';
    second.setEncoding('latin1');
    second.on('data', (text: string) => (received += text));
    second.write('QUERY|a|\n');
    // a Duplex pair finishes a side only once the other side has read to its end
    first.resume();
    first.end();
    await waitFor(() => received === 'FAIL\n', 5_000, 'the parked Duplex to be answered');
    assert.deepEqual([server.activeConnections, server.waitingConnections], [1, 0]);
  });
});
