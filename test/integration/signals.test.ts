/**
 * What each signal does to a running `serve`, as README "Signals" says: SIGTERM and SIGINT shut it
 * down gracefully; SIGHUP, SIGUSR1 and SIGUSR2 are logged and ignored, and SIGUSR1 does not open
 * Node's inspector. Each child gets its own inspector port, so that a stray inspector would be seen
 * there and not be confused with another process's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, isConnectionRefused, waitFor } from '../helpers/server-harness.js';
import { closedPort } from '../helpers/run-cli.js';
import { startServe } from '../helpers/serve-child.js';

for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) {
  test(`${signal} is logged and ignored: the server answers on and no inspector opens`, { timeout: 20_000 }, async (t) => {
    const inspectorPort = await closedPort();
    const serve = await startServe(t, ['--in-memory'], { nodeArgs: [`--inspect-port=127.0.0.1:${inspectorPort}`] });
    const client = await RawClient.connect(t, serve.port);
    assert.deepEqual(await client.exchange('INDEX|a|'), ['OK']);

    serve.kill(signal);
    await waitFor(() => serve.logs.some((line) => line['signal'] === signal), 10_000, `a log line about ${signal}`);
    serve.kill(signal);
    await waitFor(() => serve.logs.filter((line) => line['signal'] === signal).length === 2, 10_000, `a line for the second ${signal}`);

    assert.deepEqual(await client.exchange('QUERY|a|'), ['OK']);
    assert.ok(await isConnectionRefused(inspectorPort), 'the inspector port stays closed');
    serve.kill('SIGTERM');
    const result = await serve.finished;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stderr.includes('Debugger listening'), result.stderr);
  });
}

test('SIGINT shuts the server down gracefully, as SIGTERM does', { timeout: 20_000 }, async (t) => {
  const serve = await startServe(t, ['--in-memory']);
  serve.kill('SIGINT');
  const result = await serve.finished;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(serve.logs.some((line) => line['msg'] === 'shutting down' && line['signal'] === 'SIGINT'));
  assert.ok(serve.logs.some((line) => line['msg'] === 'stopped'));
});
